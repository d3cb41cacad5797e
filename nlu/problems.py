"""Two problems in one message ("đèn đường hỏng và rác ngập hẻm"): the message is cut where
residents join complaints (";", a new line, a full stop, "và", "còn", "and", "also"), each
part is classified, and two or more parts that name different categories with confidence are
the problems found. Each goes to its own agency, so the resident or the operator is offered
to split the report. Parts naming the same category ("ổ gà và ổ voi") are one problem.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol

# Where complaints are joined; "và"/"and" only between words, "còn" only after a comma.
SPLIT_RE = re.compile(
    r"\s*(?:[;\n]+|\.\s+|,?\s+(?:và|va|and|also|plus)\s+|,\s*(?:còn|con|với lại)\s+)\s*",
    re.IGNORECASE,
)
MIN_PART = 8  # characters: shorter pieces ("và nữa") are not a complaint
MAX_PARTS = 4
MIN_CONFIDENCE = 0.6


class Answer(Protocol):
    """What is read of an NLU answer (nlu.client.NluResult)."""

    @property
    def category(self) -> str | None: ...
    @property
    def confidence(self) -> float: ...


def split(text: str, classify: Callable[[str], Answer | None]) -> list[tuple[str, str]]:
    """The problems of a message as (part, category), in order; [] when it names one."""
    parts = [p.strip(" ,.") for p in SPLIT_RE.split(text or "")]
    parts = [p for p in parts if len(p) >= MIN_PART][:MAX_PARTS]
    if len(parts) < 2:
        return []
    found: list[tuple[str, str]] = []
    for part in parts:
        answer = classify(part)
        if answer is None or not answer.category or answer.confidence < MIN_CONFIDENCE:
            continue
        if answer.category in {category for _, category in found}:
            continue  # the same problem said twice
        found.append((part, answer.category))
    return found if len(found) >= 2 else []

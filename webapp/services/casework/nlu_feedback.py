"""The learning loop: operators' category corrections as candidate training examples."""

from __future__ import annotations

from collections import defaultdict

import yaml
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import ReportEvent


def corrections() -> list[dict]:
    """Every correction kept so far: text, predicted and corrected category, when."""
    events = db.session.scalars(
        select(ReportEvent)
        .where(ReportEvent.kind == "category_correction")
        .order_by(ReportEvent.id)
    )
    return [
        {
            "id": e.id,
            "text": (e.data or {}).get("text", ""),
            "predicted": (e.data or {}).get("predicted"),
            "corrected": (e.data or {}).get("corrected"),
            "at": e.created_at.isoformat(),
        }
        for e in events
        if (e.data or {}).get("text") and (e.data or {}).get("corrected")
    ]


def to_rasa_yaml(items: list[dict]) -> str:
    """The corrections in Rasa's NLU training format, one intent block per category."""
    by_intent: dict[str, list[str]] = defaultdict(list)
    for item in items:
        text = " ".join(item["text"].split())
        if text not in by_intent[item["corrected"]]:
            by_intent[item["corrected"]].append(text)
    nlu = [
        {"intent": intent, "examples": "".join(f"- {t}\n" for t in texts)}
        for intent, texts in sorted(by_intent.items())
    ]

    class _Literal(str):
        pass

    def _literal(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")

    yaml.add_representer(_Literal, _literal, Dumper=yaml.SafeDumper)
    for block in nlu:
        block["examples"] = _Literal(block["examples"])
    header = "# Candidate examples from operators' corrections: review before adding to data/.\n"
    return header + yaml.safe_dump(
        {"version": "3.1", "nlu": nlu}, allow_unicode=True, sort_keys=False
    )

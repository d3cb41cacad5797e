"""Whether a candidate model may replace the serving one: on every evaluation set both were
scored on, neither macro-F1 nor the precision of automatic routing may drop by more than the
tolerance (NLU_PROMOTION_TOLERANCE, 0 by default: "not worse")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# The figures compared, with the words used in the reason.
COMPARED = (("macro_f1", "macro-F1"), ("routed_precision", "routed precision"))
SHOWN_DECIMALS = 3


@dataclass(frozen=True)
class Decision:
    """Promote or not, and why (one line per set and figure)."""

    promote: bool
    reasons: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The reason as stored in the model history."""
        verdict = "promoted" if self.promote else "refused"
        return f"{verdict}: " + "; ".join(self.reasons)


def compare(
    candidate: Mapping[str, Mapping], current: Mapping[str, Mapping], tolerance: float = 0.0
) -> Decision:
    """Compare the figures of each set (name → report_figures) of the two models."""
    shared = sorted(set(candidate) & set(current))
    if not shared:
        return Decision(False, ["no evaluation set scored for both models"])
    worse: list[str] = []
    kept: list[str] = []
    for name in shared:
        for key, label in COMPARED:
            new, old = candidate[name].get(key), current[name].get(key)
            if new is None or old is None:
                continue
            # Compared as the history shows them (3 decimals): a figure that reads the same
            # is not worse, and no reason says "0.952 → 0.952".
            new, old = round(new, SHOWN_DECIMALS), round(old, SHOWN_DECIMALS)
            line = f"{name} {label} {old:.3f} → {new:.3f}"
            (worse if new < old - tolerance else kept).append(line)
    if worse:
        return Decision(False, worse)
    return Decision(True, kept)

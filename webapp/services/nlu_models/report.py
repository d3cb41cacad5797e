"""The model history as text (`flask nlu history`)."""

from __future__ import annotations

from collections.abc import Sequence

from config.settings import VN_TZ
from webapp.models import NluModel


def _figure(sets: dict, name: str, key: str) -> str:
    value = (sets.get(name) or {}).get(key)
    return f"{value:.3f}" if isinstance(value, int | float) else "–"


def format_history(models: Sequence[NluModel]) -> str:
    """One block per model: header line, one figures line per evaluation set, the reason."""
    if not models:
        return "No model recorded yet: `flask nlu retrain --force` records the serving one."
    lines = []
    for model in models:
        when = model.created_at.astimezone(VN_TZ).strftime("%Y-%m-%d %H:%M")
        lines.append(
            f"#{model.id} {model.name} {model.state:8} {when}  examples learnt {model.examples}"
            + (f"  compared with #{model.compared_with_id}" if model.compared_with_id else "")
        )
        sets = (model.figures or {}).get("sets") or {}
        for name in sorted(sets):
            lines.append(
                f"    {name:12} macro-F1 {_figure(sets, name, 'macro_f1')}"
                f"  accuracy {_figure(sets, name, 'accuracy')}"
                f"  routed {_figure(sets, name, 'routed')}"
                f"  routed precision {_figure(sets, name, 'routed_precision')}"
                f"  ECE {_figure(sets, name, 'calibration_error')}"
            )
        if model.reason:
            lines.append(f"    {model.reason}")
    return "\n".join(lines)

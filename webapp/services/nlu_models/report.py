"""The model history as text (`flask nlu history`) and as rows for the back office."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from config.settings import VN_TZ
from webapp.models import NluModel
from webapp.services.nlu_models.promotion import wrong_share


def _figure(value: object) -> str:
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
            figures = sets[name] or {}
            lines.append(
                f"    {name:12} macro-F1 {_figure(figures.get('macro_f1'))}"
                f"  accuracy {_figure(figures.get('accuracy'))}"
                f"  routed {_figure(figures.get('routed'))}"
                f"  routed precision {_figure(figures.get('routed_precision'))}"
                f"  wrong {_figure(wrong_share(figures))}"
                f"  ECE {_figure(figures.get('calibration_error'))}"
            )
        if model.reason:
            lines.append(f"    {model.reason}")
    return "\n".join(lines)


@dataclass(frozen=True)
class SetFigures:
    """One evaluation set's figures of a model, as percentages."""

    name: str
    macro_f1: float | None
    routed: float | None
    routed_precision: float | None
    wrongly_routed: float | None


@dataclass(frozen=True)
class HistoryRow:
    """One model as the back office lists it."""

    id: int
    name: str
    state: str
    created_at: datetime
    examples: int
    compared_with_id: int | None
    sets: list[SetFigures]


def _percent(value: object) -> float | None:
    return round(float(value) * 100, 1) if isinstance(value, int | float) else None


def history_rows(models: Sequence[NluModel]) -> list[HistoryRow]:
    """The models with their figures per evaluation set (percentages, sets by name)."""
    rows = []
    for model in models:
        sets = (model.figures or {}).get("sets") or {}
        figures = [
            SetFigures(
                name,
                _percent(sets[name].get("macro_f1")),
                _percent(sets[name].get("routed")),
                _percent(sets[name].get("routed_precision")),
                _percent(wrong_share(sets[name])),
            )
            for name in sorted(sets)
        ]
        rows.append(
            HistoryRow(
                model.id,
                model.name,
                model.state,
                model.created_at,
                model.examples,
                model.compared_with_id,
                figures,
            )
        )
    return rows

"""Cross-validation figures: Rasa's k-fold predictions scored like a held-out file (the run
itself is Rasa's; here its output, as it writes it, is read back)."""

from __future__ import annotations

import json
import re

import pytest
from rasa_env import run_in_rasa_env

from nlu import crossval


def _row(text: str, gold: str, predicted: str, confidence: float) -> dict:
    return {
        "text": text,
        "intent": gold,
        "intent_prediction": {"name": predicted, "confidence": confidence},
    }


def test_category_examples_are_scored_and_a_chat_answer_is_triage(monkeypatch):
    rows = [
        _row("rác ngập hẻm", "waste", "waste", 0.9),
        _row("khói đen từ nhà máy", "pollution", "waste", 0.7),
        _row("đèn đường tắt", "street_lighting", "greet", 0.8),
        _row("xin chào", "greet", "greet", 0.99),  # a chat example: not in the scores
    ]
    monkeypatch.setattr(crossval, "predictions", lambda folds, seed: rows)
    report = crossval.crossval(5, threshold=0.6)
    assert report.total == 3
    assert report.per_class["waste"].precision == pytest.approx(0.5)
    assert report.per_class["street_lighting"].recall == 0.0
    chosen = next(r for r in report.routing if r.threshold == 0.6)
    assert chosen.routed == pytest.approx(2 / 3) and chosen.precision == pytest.approx(0.5)
    assert "greet" not in report.per_class


def test_the_command_prints_the_threshold_the_triage_budget_picks(app, monkeypatch):
    rows = [_row(f"rác số {n}", "waste", "waste", 0.9) for n in range(8)]
    rows += [
        _row("khói nhà máy", "pollution", "waste", 0.65),
        _row("ổ gà", "road_damage", "greet", 0.9),
    ]
    monkeypatch.setattr(crossval, "predictions", lambda folds, seed: rows)
    runner = app.test_cli_runner()
    # The configured budget (NLU_TRIAGE_BUDGET, 15 %) cannot leave the wrong answer to triage
    # besides the chat one; 20 % can, and the most precise threshold within it is picked.
    default = runner.invoke(args=["nlu", "crossval"]).output
    assert "for a triage budget of 15%: threshold 0.30, routed 90.0%" in default
    wider = runner.invoke(args=["nlu", "crossval", "--triage-budget", "0.2"]).output
    assert "for a triage budget of 20%: threshold 0.66, routed 80.0%" in wider
    assert "of which to the right category 100.0%" in wider


# Run after crossval.SEED_NUMPY, the very line that starts Rasa's command line in
# `flask nlu crossval`: the folds Rasa's cross-validation would draw.
FOLDS_PROBE = """
import json
from rasa.nlu.test import generate_folds
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
data = TrainingData([Message(data={"text": f"m{i}", "intent": "ab"[i % 2]}) for i in range(40)])
folds = generate_folds(4, data)
print(json.dumps([[m.get("text") for m in test.intent_examples] for _, test in folds]))
"""


def test_a_seed_draws_the_same_folds_every_time():
    """Rasa draws its folds from numpy's global random state: seeded, they repeat."""

    def folds(seed: int) -> list[list[str]]:
        out = run_in_rasa_env("-c", crossval.SEED_NUMPY + FOLDS_PROBE, str(seed))
        return json.loads(out.strip().splitlines()[-1])

    first, again, other = folds(0), folds(0), folds(1)
    assert first == again and first != other
    assert sorted(text for fold in first for text in fold) == sorted(f"m{i}" for i in range(40))


def test_the_seeded_command_line_is_rasas():
    out = run_in_rasa_env("-c", crossval.SEEDED_RASA, "7", "--version")
    assert re.search(r"Rasa Version\s*:\s*3\.6\.", out), out

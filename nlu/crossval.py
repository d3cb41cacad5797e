"""Cross-validated figures on the training data (`nlu/data`): Rasa's own k-fold run
(`rasa test nlu --cross-validation`, each fold trained on the others), its predictions read
back and scored like a held-out file (nlu.evaluation: macro-F1 over the 16 categories, the
routing table, the calibration error). A chat intent predicted for a report is a miss that
goes to triage, as in the intake.

Rasa shuffles the examples into folds from numpy's global random state and takes no seed, so
two runs differ by a few tenths of a point; `rasa` is started here behind a seeded numpy
(SEEDED_RASA), so that a seed gives the same folds, and the same figures, every time.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from nlu import manage
from nlu.evaluation import Report, evaluate
from nlu.intents import CATEGORY_CODES, is_category

# `python -c SEEDED_RASA SEED rasa-arguments…`: Rasa's command line after numpy.random.seed.
SEED_NUMPY = "import sys, numpy; numpy.random.seed(int(sys.argv.pop(1))); sys.argv[0] = 'rasa'\n"
SEEDED_RASA = SEED_NUMPY + "from rasa.__main__ import main; main()"


def predictions(folds: int, seed: int = 0) -> list[dict]:
    """Every training example with the prediction of the model that did not see it."""
    python = manage.env_python(manage.ensure_env())
    with tempfile.TemporaryDirectory(prefix="nlu-cv-") as out:
        command = [python, "-c", SEEDED_RASA, str(seed), "test", "nlu"]
        command += ["--nlu", "data", "--config", "config.yml"]
        command += ["--cross-validation", "--folds", str(folds), "--out", out, "--successes"]
        manage._run(command, cwd=manage.NLU_DIR, env=manage.rasa_environ())
        rows = []
        for name in ("intent_successes.json", "intent_errors.json"):
            path = Path(out) / name
            if path.is_file():
                rows += json.loads(path.read_text(encoding="utf-8"))
    return rows


def crossval(
    folds: int = 5,
    threshold: float | None = None,
    triage_budget: float | None = None,
    seed: int = 0,
) -> Report:
    """The k-fold figures of the report categories (chat examples left out of the scores);
    with `triage_budget`, the threshold that budget picks (nlu.evaluation.budget_threshold)."""
    rows = [r for r in predictions(folds, seed) if is_category(r.get("intent"))]
    predicted = [r["intent_prediction"]["name"] for r in rows]
    return evaluate(
        [r["intent"] for r in rows],
        [p if is_category(p) else None for p in predicted],
        labels=CATEGORY_CODES,
        texts=[r["text"] for r in rows],
        confidences=[float(r["intent_prediction"].get("confidence") or 0.0) for r in rows],
        threshold=threshold,
        triage_budget=triage_budget,
    )

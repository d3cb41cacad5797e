"""Training examples written with diacritics also train as typed without them
(nlu/components/normalizer.py, `augment_unaccented`), grouped with their original so the
classifier's calibration folds never split the two. Runs the components in the Rasa
environment (Python 3.10), as the server does."""

from __future__ import annotations

import json
import textwrap

import pytest
from rasa_env import run_in_rasa_env

SCRIPT = textwrap.dedent(
    """
    import json
    import numpy as np
    import scipy.sparse
    from rasa.shared.nlu.constants import INTENT, TEXT
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData
    from nlu.components import ORIGIN
    from nlu.components.linear_classifier import TfidfLogRegClassifier
    from nlu.components.normalizer import TextNormalizer

    def data():
        return TrainingData([
            Message(data={TEXT: "Đèn đường hỏng cả tuần", INTENT: "street_lighting"}),
            Message(data={TEXT: "den duong hong roi", INTENT: "street_lighting"}),
            Message(data={TEXT: "the street light is off", INTENT: "street_lighting"}),
            Message(data={TEXT: "Rác ngập hẻm", INTENT: "waste"}),
        ])

    out = {}
    for flag in (False, True):
        trained = TextNormalizer({"mode": "both", "augment_unaccented": flag})
        result = trained.process_training_data(data())
        out[str(flag)] = [
            [m.get(TEXT), m.get(INTENT), m.get(ORIGIN)] for m in result.training_examples
        ]
        out[str(flag) + "_intents"] = sorted(m.get(INTENT) for m in result.intent_examples)

    # Calibration folds keep a group together: 30 examples of class a, 12 of b, 6 of c, each
    # with its copy (two rows, one group).
    from nlu.components.linear_classifier import calibration_folds
    labels = np.array(["a"] * 60 + ["b"] * 24 + ["c"] * 12)
    groups = np.repeat(np.arange(48), 2)
    split = calibration_folds(labels, groups, 3, 42)
    out["folds"] = [
        {
            "shared_groups": len(set(groups[train]) & set(groups[test])),
            "train_classes": sorted(set(labels[train])),
            "test_share_a": float(np.mean(labels[test] == "a")),
            "test_size": len(test),
        }
        for train, test in split
    ]
    rng = np.random.default_rng(0)
    features = rng.random((96, 6)) * 0.5
    for column, label in enumerate("abc"):
        features[labels == label, column] += 1.0
    clf = TfidfLogRegClassifier({"model": "svm", "tfidf": False}, None, None)
    out["temperature"] = clf._fit_temperature(scipy.sparse.csr_matrix(features), labels, groups)
    print(json.dumps(out, ensure_ascii=False))
    """
)


@pytest.fixture(scope="module")
def components_run() -> dict:
    return json.loads(run_in_rasa_env("-c", SCRIPT).strip().splitlines()[-1])


def test_without_the_option_no_copy_is_made(components_run):
    rows = components_run["False"]
    assert len(rows) == 4
    assert rows[0][0].startswith("đèn đường hỏng cả tuần")  # normalised, both forms
    assert all(origin is None for _, _, origin in rows)


def test_each_accented_example_gets_one_bare_copy_in_its_group(components_run):
    rows = components_run["True"]
    originals, copies = rows[:4], rows[4:]
    # Only the two examples written with diacritics are copied (bare text has one form);
    # English and bare ones are not.
    assert [text for text, _, _ in copies] == [
        "den duong hong ca tuan",
        "rac ngap hem",
    ]
    assert [intent for _, intent, _ in copies] == ["street_lighting", "waste"]
    assert copies[0][2] == originals[0][2] is not None
    assert copies[1][2] == originals[3][2] != copies[0][2]
    assert originals[1][2] is None and originals[2][2] is None
    # The copies are intent examples the classifier trains on.
    assert components_run["True_intents"].count("street_lighting") == 4


def test_calibration_folds_keep_copies_together_and_stay_stratified(components_run):
    folds = components_run["folds"]
    assert len(folds) == 3
    assert sum(fold["test_size"] for fold in folds) == 96
    for fold in folds:
        assert fold["shared_groups"] == 0  # no example on one side and its copy on the other
        assert fold["train_classes"] == ["a", "b", "c"]
        assert abs(fold["test_share_a"] - 60 / 96) < 0.07


def test_the_temperature_is_fitted_not_the_fallback(components_run):
    # 1.0 is what an unfittable calibration returns; separable classes need a bolder one.
    assert components_run["temperature"] != 1.0
    assert 0.05 <= components_run["temperature"] < 1.0

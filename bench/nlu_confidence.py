"""Which confidence leaves the wrong answers to triage? And do per-class offsets help?

Routing sends a category to its agency when its confidence reaches the threshold; the rest
waits for an operator. What matters is how the confidence ranks the wrong answers: the lower,
the fewer of them a threshold routes. On two shuffled 5-fold splits of nlu/data, with the
pipeline's features (bench/nlu_variants.py), this prints the precision among routed answers
when 80, 85 and 88 % of all examples are routed, for:

- the served one: the linear SVM's scores through a softmax whose temperature is fitted on
  out-of-fold scores of the training part (nlu/components/linear_classifier.py);
- the SVM's margin (best minus second score);
- a logistic regression calibrated the same way;
- the average of the two calibrated probabilities;
- the SVM, its confidence zeroed when the two disagree.

Then per-class offsets added to the SVM's scores, fitted (coordinate ascent) to maximise
macro-F1 on half of the out-of-fold scores and scored on the other half, both ways round.
The held-out split and the dev set are never read. About 9 minutes on 2 cores:
    ~/.cache/phananh/rasa-env-*/bin/python bench/nlu_confidence.py
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from nlu_variants import CATEGORY_CODES, features, training_data
from scipy.special import log_softmax
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

SHARES = (0.80, 0.85, 0.88)
TEMPERATURES = np.exp(np.linspace(np.log(0.05), np.log(5.0), 120))


def svm() -> LinearSVC:
    return LinearSVC(C=1.0, max_iter=5000)


def logreg() -> LogisticRegression:
    return LogisticRegression(C=20, max_iter=3000)


def calibrated(make: Callable[[], Any], train_x: Any, train_y: np.ndarray, test_x: Any):
    """Probabilities of a model whose softmax temperature fits 3-fold out-of-fold scores."""
    classes = np.unique(train_y)
    scores = np.zeros((len(train_y), len(classes)))
    for fit, held in StratifiedKFold(3, shuffle=True, random_state=42).split(train_x, train_y):
        scores[held] = make().fit(train_x[fit], train_y[fit]).decision_function(train_x[held])
    gold = np.searchsorted(classes, train_y)
    rows = np.arange(len(gold))

    def loss(t: float) -> float:
        return -log_softmax(scores / t, axis=1)[rows, gold].mean()

    temperature = min(TEMPERATURES, key=loss)
    model = make().fit(train_x, train_y)
    raw = model.decision_function(test_x)
    return classes, raw, np.exp(log_softmax(raw / temperature, axis=1))


def confidences(texts: list[str], labels: np.ndarray, seed: int) -> dict[str, tuple]:
    """Out-of-fold (prediction, confidence) by definition, and the SVM's raw scores."""
    out: dict[str, tuple] = {}
    raw_scores = np.zeros((len(labels), len(np.unique(labels))))
    for train, test in StratifiedKFold(5, shuffle=True, random_state=seed).split(texts, labels):
        train_x, test_x = features([texts[i] for i in train], [texts[i] for i in test], (2, 4))
        classes, raw, p_svm = calibrated(svm, train_x, labels[train], test_x)
        _, _, p_lr = calibrated(logreg, train_x, labels[train], test_x)
        raw_scores[test] = raw
        average = (p_svm + p_lr) / 2
        agree = p_svm.argmax(1) == p_lr.argmax(1)
        top = np.sort(raw, 1)
        for name, probabilities, confidence in (
            ("SVM, calibrated (served)", p_svm, p_svm.max(1)),
            ("SVM margin", raw, top[:, -1] - top[:, -2]),
            ("logistic regression, calibrated", p_lr, p_lr.max(1)),
            ("average of the two", average, average.max(1)),
            ("SVM, zero when the two disagree", p_svm, np.where(agree, p_svm.max(1), 0.0)),
        ):
            predicted, conf = out.setdefault(
                name, (np.empty(len(labels), dtype=object), np.zeros(len(labels)))
            )
            predicted[test] = classes[probabilities.argmax(1)]
            conf[test] = confidence
    out["raw"] = (raw_scores,)
    return out


def precision_at(labels: np.ndarray, predicted: np.ndarray, conf: np.ndarray, share: float):
    ranked = np.where(np.isin(predicted, CATEGORY_CODES), conf, -np.inf)
    threshold = np.sort(ranked)[::-1][int(share * len(labels)) - 1]
    routed = ranked >= threshold
    return float((predicted[routed] == labels[routed]).mean())


def macro_f1(labels: np.ndarray, scores: np.ndarray, classes: np.ndarray, offsets: np.ndarray):
    predicted = classes[(scores + offsets).argmax(1)]
    return f1_score(labels, predicted, labels=CATEGORY_CODES, average="macro")


def fit_offsets(labels: np.ndarray, scores: np.ndarray, classes: np.ndarray) -> np.ndarray:
    offsets = np.zeros(len(classes))
    for _ in range(3):
        for j in range(len(classes)):
            best = (macro_f1(labels, scores, classes, offsets), offsets[j])
            for value in np.linspace(-0.4, 0.4, 17):
                trial = offsets.copy()
                trial[j] = value
                best = max(best, (macro_f1(labels, scores, classes, trial), value))
            offsets[j] = best[1]
    return offsets


def main() -> None:
    texts, labels = training_data()
    runs = [confidences(texts, labels, seed) for seed in (0, 1)]
    print("precision among routed when " + " / ".join(f"{s:.0%}" for s in SHARES) + " are routed")
    for name in (key for key in runs[0] if key != "raw"):
        figures = np.mean(
            [[precision_at(labels, *run[name], share) for share in SHARES] for run in runs], 0
        )
        print(f"  {name:34s} " + " / ".join(f"{f:.1%}" for f in figures))
    scores, classes = runs[0]["raw"][0], np.unique(labels)
    print("per-class offsets fitted on one half, macro-F1 before → after:")
    halves = StratifiedKFold(2, shuffle=True, random_state=7).split(texts, labels)
    for fit, other in halves:
        offsets = fit_offsets(labels[fit], scores[fit], classes)
        zero = np.zeros(len(classes))
        print(
            f"  fitted half {macro_f1(labels[fit], scores[fit], classes, zero):.4f} → "
            f"{macro_f1(labels[fit], scores[fit], classes, offsets):.4f}; other half "
            f"{macro_f1(labels[other], scores[other], classes, zero):.4f} → "
            f"{macro_f1(labels[other], scores[other], classes, offsets):.4f}"
        )


if __name__ == "__main__":
    main()

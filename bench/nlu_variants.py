"""Is anything left to tune in the NLU's linear model? Variants next to the pipeline as it is.

The pipeline's features (TF-IDF word 1-2-grams + char_wb 2-4-grams of
`nlu.normalize.model_text`, as nlu/components/tfidf_featurizer.py builds them) and its linear
SVM (C=1), scored by macro-F1 over the 16 categories on 5-fold stratified cross-validation of
the training data (nlu/data/*.yml), repeated with two shuffles; then the same with one thing
changed: the char n-gram range, C, balanced class weights, or an ensemble of the SVM with a
logistic regression (standardised scores summed). The held-out split (nlu/heldout/) and the
dev set are never read here: this chooses nothing on them.

Run it with a Python that has scikit-learn, e.g. the Rasa environment `make run` builds:
    ~/.cache/phananh/rasa-env-*/bin/python bench/nlu_variants.py
Each variant takes under a minute on 2 cores.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from nlu.intents import CATEGORY_CODES  # noqa: E402
from nlu.normalize import model_text  # noqa: E402
from nlu.training_data import examples  # noqa: E402

VARIANTS: dict[str, dict[str, Any]] = {
    "pipeline (char 2-4, C=1)": {},
    "char 2-5": {"char": (2, 5)},
    "char 1-5": {"char": (1, 5)},
    "C=0.5": {"C": 0.5},
    "C=2": {"C": 2.0},
    "balanced class weights": {"class_weight": "balanced"},
    "SVM + logistic regression": {"ensemble": True},
}


def training_data() -> tuple[list[str], np.ndarray]:
    """Every example of nlu/data (entity markup removed), normalised as the pipeline does."""
    rows = examples()
    return [model_text(text, "both") for text, _ in rows], np.array([i for _, i in rows])


def features(train: list[str], test: list[str], char: tuple[int, int]) -> tuple[Any, Any]:
    vectorizers = [
        TfidfVectorizer(token_pattern=r"(?u)\b\w+\b", ngram_range=(1, 2), sublinear_tf=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=char, sublinear_tf=True),
    ]
    fitted = sp.hstack([v.fit_transform(train) for v in vectorizers]).tocsr()
    return fitted, sp.hstack([v.transform(test) for v in vectorizers]).tocsr()


def _standardised(scores: np.ndarray) -> np.ndarray:
    return (scores - scores.mean(1, keepdims=True)) / scores.std(1, keepdims=True)


def predict(train_x: Any, train_y: np.ndarray, test_x: Any, options: dict[str, Any]) -> Any:
    svm = LinearSVC(C=options.get("C", 1.0), class_weight=options.get("class_weight"))
    svm.set_params(max_iter=5000).fit(train_x, train_y)
    if not options.get("ensemble"):
        return svm.predict(test_x)
    logreg = LogisticRegression(C=20, max_iter=3000).fit(train_x, train_y)
    summed = _standardised(svm.decision_function(test_x))
    summed += _standardised(logreg.predict_log_proba(test_x))
    return svm.classes_[summed.argmax(1)]


def cross_validated(texts: list[str], labels: np.ndarray, options: dict[str, Any]) -> float:
    """Mean macro-F1 (16 categories) of two shuffled 5-fold runs."""
    scores = []
    for seed in (0, 1):
        predicted = np.empty(len(labels), dtype=object)
        folds = StratifiedKFold(5, shuffle=True, random_state=seed)
        for train, test in folds.split(texts, labels):
            train_x, test_x = features(
                [texts[i] for i in train], [texts[i] for i in test], options.get("char", (2, 4))
            )
            predicted[test] = predict(train_x, labels[train], test_x, options)
        scores.append(f1_score(labels, predicted, labels=CATEGORY_CODES, average="macro"))
    return float(np.mean(scores))


def main() -> None:
    texts, labels = training_data()
    print(f"{len(texts)} training examples; macro-F1, 2 × 5-fold CV", flush=True)
    baseline = None
    for name, options in VARIANTS.items():
        score = cross_validated(texts, labels, options)
        baseline = score if baseline is None else baseline
        print(f"{name:32s} {score:.4f}  ({score - baseline:+.4f})", flush=True)


if __name__ == "__main__":
    main()

"""Is anything left to tune in the NLU's linear model? Variants next to the pipeline as it is.

The pipeline's features (TF-IDF word 1-2-grams + char_wb 2-4-grams of
`nlu.normalize.model_text`, as nlu/components/tfidf_featurizer.py builds them) and its linear
SVM (C=1), scored on 5-fold stratified cross-validation of the training data (nlu/data/*.yml),
repeated with shuffles (`--seeds`, default 0 1): macro-F1 over the 16 categories and the
precision among the 85 % of category answers with the widest margin (what routing at a
threshold keeps). Then the same with one thing changed: the char n-gram range, C, balanced class
weights, an ensemble of the SVM with a logistic regression (standardised scores summed), or
with an NBSVM (bench/nbsvm.py). The held-out
split (nlu/heldout/) and the dev set are never read here: this chooses nothing on them.

Run it with a Python that has scikit-learn, e.g. the Rasa environment `make run` builds:
    ~/.cache/phananh/rasa-env-*/bin/python bench/nlu_variants.py [--seeds 2 3 4] [NAME…]
Each variant takes under a minute on 2 cores (the NBSVM about two).
"""

from __future__ import annotations

import argparse
import collections
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
from nbsvm import SvmNbSvm  # noqa: E402

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
    "SVM + NBSVM": {"nbsvm": True},
}
ROUTED_SHARE = 0.85


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


def scores(train_x: Any, train_y: np.ndarray, test_x: Any, options: dict[str, Any]):
    """(classes, a score per test example and class) of the variant trained on the train part."""
    if options.get("nbsvm"):
        model = SvmNbSvm(C=options.get("C", 1.0)).fit(train_x, train_y)
        return model.classes_, model.decision_function(test_x)
    svm = LinearSVC(C=options.get("C", 1.0), class_weight=options.get("class_weight"))
    svm.set_params(max_iter=5000).fit(train_x, train_y)
    if not options.get("ensemble"):
        return svm.classes_, svm.decision_function(test_x)
    logreg = LogisticRegression(C=20, max_iter=3000).fit(train_x, train_y)
    summed = _standardised(svm.decision_function(test_x))
    summed += _standardised(logreg.predict_log_proba(test_x))
    return svm.classes_, summed


def out_of_fold(texts: list[str], labels: np.ndarray, options: dict[str, Any], seed: int):
    """Out-of-fold predictions and margins (best score minus the next) of one 5-fold run."""
    predicted = np.empty(len(labels), dtype=object)
    margin = np.zeros(len(labels))
    for train, test in StratifiedKFold(5, shuffle=True, random_state=seed).split(texts, labels):
        train_x, test_x = features(
            [texts[i] for i in train], [texts[i] for i in test], options.get("char", (2, 4))
        )
        classes, scored = scores(train_x, labels[train], test_x, options)
        predicted[test] = classes[scored.argmax(1)]
        top = np.sort(scored, 1)
        margin[test] = top[:, -1] - top[:, -2]
    return predicted, margin


def summary(labels: np.ndarray, runs: list[tuple[np.ndarray, np.ndarray]]) -> str:
    """Mean macro-F1, precision among the ROUTED_SHARE surest answers, the weakest classes."""
    macro, precision, per_class = [], [], collections.defaultdict(list)
    for predicted, margin in runs:
        macro.append(f1_score(labels, predicted, labels=CATEGORY_CODES, average="macro"))
        f1s = f1_score(labels, predicted, labels=CATEGORY_CODES, average=None)
        for code, f1 in zip(CATEGORY_CODES, f1s, strict=True):
            per_class[code].append(f1)
        category = np.isin(predicted, CATEGORY_CODES)
        kept = category & (margin >= np.quantile(margin[category], 1 - ROUTED_SHARE))
        precision.append(float((predicted[kept] == labels[kept]).mean()))
    weakest = sorted(per_class.items(), key=lambda item: np.mean(item[1]))[:6]
    return (
        f"macro-F1 {np.mean(macro):.4f}  precision of the top {ROUTED_SHARE:.0%} "
        f"{np.mean(precision):.4f}  weakest: "
        + ", ".join(f"{code} {np.mean(values):.3f}" for code, values in weakest)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="variants to run (default: all)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args()
    texts, labels = training_data()
    print(f"{len(texts)} training examples; {len(args.seeds)} × 5-fold CV", flush=True)
    for name, options in VARIANTS.items():
        if args.names and name not in args.names:
            continue
        runs = [out_of_fold(texts, labels, options, seed) for seed in args.seeds]
        print(f"{name:36s} {summary(labels, runs)}", flush=True)


if __name__ == "__main__":
    main()

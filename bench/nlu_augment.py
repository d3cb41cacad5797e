"""Does training on unaccented copies help residents who type without diacritics?

About a third of residents type Vietnamese without diacritics. The pipeline already appends a
diacritic-free copy of every text (`mode: both`), but a message typed bare only matches the
bare half of what the model learnt. `augment_unaccented` (nlu/components/normalizer.py) also
trains every example written with diacritics once without them. This measures it on paired
5-fold CV of the training data (the same folds with and without, two shuffles; only the
training folds are augmented): the pipeline's features and linear SVM (bench/nlu_variants.py),
scored on

- every example as written;
- the examples written with diacritics, typed bare (a new message typed without them: its
  accented original is in the scored fold, never in training);
- the examples written bare in Vietnamese, and the English ones (English has no diacritics,
  and takes no copies).

Printed: macro-F1, precision among the 85 % of category answers with the widest margin, the
weakest classes. The held-out split and the dev set are never read. Under a minute on 2 cores:
    ~/.cache/phananh/rasa-env-*/bin/python bench/nlu_augment.py
"""

from __future__ import annotations

import importlib

import numpy as np
from nlu_variants import features, summary
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

# nlu_variants put the project on sys.path.
normalize = importlib.import_module("nlu.normalize")
training_data = importlib.import_module("nlu.training_data")

SEEDS = (0, 1)


def fold_predictions(
    raw: list[str], labels: np.ndarray, bare: list[str], accented: np.ndarray, augment, seed
):
    """Out-of-fold (prediction, margin) of each example as written and typed bare."""
    model_text = normalize.model_text
    out = {key: (np.empty(len(raw), dtype=object), np.zeros(len(raw))) for key in ("as", "bare")}
    for train, test in StratifiedKFold(5, shuffle=True, random_state=seed).split(raw, labels):
        texts, train_labels = [model_text(raw[i]) for i in train], labels[train]
        if augment:
            copied = [i for i in train if accented[i]]
            texts = texts + [model_text(bare[i]) for i in copied]
            train_labels = np.concatenate([train_labels, labels[copied]])
        # One model a fold scores both forms of the fold's examples.
        scored = [model_text(raw[i]) for i in test] + [model_text(bare[i]) for i in test]
        train_x, test_x = features(texts, scored, (2, 4))
        model = LinearSVC(C=1.0, max_iter=5000).fit(train_x, train_labels)
        scores = model.decision_function(test_x)
        classes, top = np.unique(train_labels), np.sort(scores, 1)
        for key, rows in (("as", slice(0, len(test))), ("bare", slice(len(test), None))):
            out[key][0][test] = classes[scores[rows].argmax(1)]
            out[key][1][test] = top[rows, -1] - top[rows, -2]
    return out


def main() -> None:
    raw, intents, english = [], [], []
    for path in sorted(training_data.DATA_DIR.glob("*.yml")):
        for text, intent in training_data.file_examples(path):
            raw.append(text)
            intents.append(intent)
            english.append(training_data.is_english_file(path))
    labels, is_english = np.array(intents), np.array(english)
    bare = [normalize.strip_diacritics(text) for text in raw]
    accented = np.array([b != t for b, t in zip(bare, raw, strict=True)])
    subsets = (
        ("every example as written", "as", np.ones(len(raw), dtype=bool)),
        ("written with diacritics, typed bare", "bare", accented),
        ("written with diacritics, as written", "as", accented),
        ("Vietnamese written bare", "as", ~accented & ~is_english),
        ("English", "as", is_english),
    )
    print(
        f"{len(raw)} examples ({accented.sum()} with diacritics, {is_english.sum()} English); "
        f"{len(SEEDS)} × 5-fold CV, the same folds with and without the copies"
    )
    for augment in (False, True):
        runs = [fold_predictions(raw, labels, bare, accented, augment, seed) for seed in SEEDS]
        print("with unaccented copies" if augment else "without", flush=True)
        for title, key, mask in subsets:
            part = [(run[key][0][mask], run[key][1][mask]) for run in runs]
            print(f"  {title:38s} {summary(labels[mask], part)}", flush=True)


if __name__ == "__main__":
    main()

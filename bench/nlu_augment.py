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
weakest classes. The held-out split and the dev set are never read. About 4 minutes on 2 cores:
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


def fold_predictions(raw: list[str], labels: np.ndarray, bare: list[str], augment: bool, seed):
    """Out-of-fold (prediction, margin) of each example as written and typed bare."""
    model_text = normalize.model_text
    accented = np.array([b != t for b, t in zip(bare, raw, strict=True)])
    out = {key: (np.empty(len(raw), dtype=object), np.zeros(len(raw))) for key in ("as", "bare")}
    for train, test in StratifiedKFold(5, shuffle=True, random_state=seed).split(raw, labels):
        texts, train_labels = [model_text(raw[i]) for i in train], labels[train]
        if augment:
            copied = [i for i in train if accented[i]]
            texts = texts + [model_text(bare[i]) for i in copied]
            train_labels = np.concatenate([train_labels, labels[copied]])
        for key, source in (("as", raw), ("bare", bare)):
            train_x, test_x = features(texts, [model_text(source[i]) for i in test], (2, 4))
            scores = (
                LinearSVC(C=1.0, max_iter=5000).fit(train_x, train_labels).decision_function(test_x)
            )
            out[key][0][test] = np.unique(train_labels)[scores.argmax(1)]
            top = np.sort(scores, 1)
            out[key][1][test] = top[:, -1] - top[:, -2]
    return out


def main() -> None:
    rows = training_data.examples()
    raw, labels = [text for text, _ in rows], np.array([intent for _, intent in rows])
    bare = [normalize.strip_diacritics(text) for text in raw]
    accented = np.array([b != t for b, t in zip(bare, raw, strict=True)])
    english_texts = {
        text
        for path in training_data.DATA_DIR.glob("*.yml")
        if training_data.is_english_file(path)
        for text, _ in training_data.file_examples(path)
    }
    english = np.array([text in english_texts for text in raw])
    subsets = (
        ("every example as written", "as", np.ones(len(raw), dtype=bool)),
        ("written with diacritics, typed bare", "bare", accented),
        ("written with diacritics, as written", "as", accented),
        ("Vietnamese written bare", "as", ~accented & ~english),
        ("English", "as", english),
    )
    print(
        f"{len(raw)} examples ({accented.sum()} with diacritics, {english.sum()} English); "
        f"{len(SEEDS)} × 5-fold CV, the same folds with and without the copies"
    )
    for augment in (False, True):
        runs = [fold_predictions(raw, labels, bare, augment, seed) for seed in SEEDS]
        print("with unaccented copies" if augment else "without", flush=True)
        for title, key, mask in subsets:
            part = [(run[key][0][mask], run[key][1][mask]) for run in runs]
            print(f"  {title:38s} {summary(labels[mask], part)}", flush=True)


if __name__ == "__main__":
    main()

"""Does a new file of training examples help? Paired cross-validation on the older examples.

Each of two shuffled 5-fold splits of the older examples (every nlu/data/*.yml except the new
files) is scored twice: by the pipeline's features and linear SVM (bench/nlu_variants.py)
trained on the older training part alone, and on it plus every example of the new files. Only
older examples are scored, so the new ones cannot flatter themselves; the same folds make the
two figures comparable. Printed: macro-F1 over the 16 categories, the precision among the 85 %
of category answers with the widest margin (what routing at a threshold keeps), and the six
weakest categories. The held-out split and the dev set are never read. This is how steps 6–9
of the README's "NLU (Rasa)" were chosen:
    ~/.cache/phananh/rasa-env-*/bin/python bench/nlu_new_data.py nlu/data/boundaries4.yml
(a file outside nlu/data can be tried before it is added). About 20 s on 2 cores. With
`--also FILE` (an older file, e.g. nlu/data/en.yml), the figures of that file's examples alone
follow, from the same runs: how step 10's English examples were chosen.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
from nlu_variants import features, model_text, summary
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

# nlu_variants put the project on sys.path.
training_data = importlib.import_module("nlu.training_data")

SEEDS = (0, 1)


def load(paths: list[Path]) -> tuple[list[str], np.ndarray]:
    rows = [row for path in paths for row in training_data.file_examples(path)]
    return [model_text(text, "both") for text, _ in rows], np.array([i for _, i in rows])


def scored(old: tuple[list[str], np.ndarray], new: tuple[list[str], np.ndarray] | None, seed: int):
    """Out-of-fold predictions and margins of the older examples."""
    texts, labels = old
    predicted = np.empty(len(labels), dtype=object)
    margin = np.zeros(len(labels))
    for train, test in StratifiedKFold(5, shuffle=True, random_state=seed).split(texts, labels):
        train_texts, train_labels = [texts[i] for i in train], labels[train]
        if new is not None:
            train_texts, train_labels = train_texts + new[0], np.concatenate([train_labels, new[1]])
        train_x, test_x = features(train_texts, [texts[i] for i in test], (2, 4))
        model = LinearSVC(C=1.0, max_iter=5000).fit(train_x, train_labels)
        scores = model.decision_function(test_x)
        classes = np.unique(train_labels)
        predicted[test] = classes[scores.argmax(1)]
        top = np.sort(scores, 1)
        margin[test] = top[:, -1] - top[:, -2]
    return predicted, margin


def main() -> None:
    args = sys.argv[1:]
    also = None
    if "--also" in args:
        at = args.index("--also")
        also, args = Path(args[at + 1]).resolve(), args[:at] + args[at + 2 :]
    new_paths = [Path(arg).resolve() for arg in args]
    if not new_paths:
        sys.exit("usage: nlu_new_data.py NEW.yml [NEW.yml…] [--also OLDER.yml]")
    older = [
        path
        for path in sorted(training_data.DATA_DIR.glob("*.yml"))
        if path.resolve() not in new_paths
    ]
    per_file = [load([path]) for path in older]
    old = ([t for texts, _ in per_file for t in texts], np.concatenate([y for _, y in per_file]))
    new = load(new_paths)
    # Which older examples come from `also`.
    mine = np.concatenate(
        [np.full(len(y), p.resolve() == also) for p, (_, y) in zip(older, per_file, strict=True)]
    )
    print(f"{len(old[1])} older examples, {len(new[1])} new; 2 × 5-fold CV, older ones scored")
    for label, extra in (("without", None), ("with", new)):
        runs = [scored(old, extra, seed) for seed in SEEDS]
        print(f"{label:8s} {summary(old[1], runs)}", flush=True)
        if also is not None:
            part = [(predicted[mine], margin[mine]) for predicted, margin in runs]
            print(f"{'':8s} {also.name} only: {summary(old[1][mine], part)}", flush=True)


if __name__ == "__main__":
    main()

"""Does a word segmenter or a pre-trained representation beat the current NLU features?

Compares, with the same linear SVM (C=1) as the pipeline (nlu/config.yml, model: svm):
  base      the pipeline's features: TF-IDF word 1-2-grams + char_wb 2-4-grams of the
            normalised text followed by its diacritic-free copy (nlu.normalize.model_text)
  pyvi      base + TF-IDF of pyvi's word segmentation (ViTokenizer ships its CRF model)
  wordllama base + WordLlama's 256-d embeddings (the only registry package found that ships
            multilingual weights in its wheel; the others download from Hugging Face)
on 5-fold cross-validation of the training data (nlu/data) and on the dev set, with the
extra cost per message and the memory the representation adds. The held-out split
(nlu/heldout/) is never read here: it is not used to choose.

Run it outside the app (it needs scikit-learn, which the app's environment does not have):
    python3.10 -m venv /tmp/nlu-exp
    /tmp/nlu-exp/bin/pip install scikit-learn scipy pyyaml pyvi==0.1.1 wordllama==0.4.0.post1
    /tmp/nlu-exp/bin/python bench/nlu_representations.py ../shared/nlu/dev.jsonl
A variant whose package is missing is skipped.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from nlu.intents import CATEGORY_CODES  # noqa: E402
from nlu.normalize import model_text  # noqa: E402
from nlu.training_data import examples  # noqa: E402


def training_examples() -> list[tuple[str, str]]:
    """(text, intent) of every example in nlu/data/*.yml, entity markup removed."""
    return examples()


def _rss_mb() -> float:
    """Resident memory now (Linux), in MB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


def extra_features(variant: str):
    """A function texts -> extra feature matrix (fitted on the training texts), or None."""
    if variant == "pyvi":
        from pyvi import ViTokenizer

        def segment(text: str) -> str:
            return ViTokenizer.tokenize(model_text(text, "plain"))

        vec = TfidfVectorizer(token_pattern=r"\S+", sublinear_tf=True, preprocessor=segment)
        return vec.fit_transform, vec.transform
    if variant == "wordllama":
        import shutil
        import tempfile

        import wordllama
        from wordllama import WordLlama

        # Its wheel ships the tokenizer in tokenizers/ but looks for it in tokenizer/ (0.4.0),
        # then tries Hugging Face; its cache directory takes the shipped file.
        package = Path(wordllama.__file__).parent
        cache = Path(tempfile.mkdtemp(prefix="wordllama-"))
        shutil.copytree(package / "tokenizers", cache / "tokenizers")
        model = WordLlama.load(cache_dir=cache, disable_download=True)

        def embed(texts):
            return csr_matrix(model.embed(list(texts)))

        return embed, embed
    return None


def fit_predict(variant: str, train, test) -> tuple[np.ndarray, float]:
    """Predictions for `test` and the extra feature time per test message (ms)."""
    vecs = [
        TfidfVectorizer(ngram_range=(1, 2), token_pattern=r"\S+", sublinear_tf=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True),
    ]
    tr = [model_text(t, "both") for t, _ in train]
    te = [model_text(t, "both") for t, _ in test]
    x_train = [v.fit_transform(tr) for v in vecs]
    x_test = [v.transform(te) for v in vecs]
    extra_ms = 0.0
    extra = extra_features(variant)
    if extra is not None:
        fit, transform = extra
        x_train.append(fit([t for t, _ in train]))
        started = time.perf_counter()
        x_test.append(transform([t for t, _ in test]))
        extra_ms = (time.perf_counter() - started) * 1000 / max(len(test), 1)
    clf = LinearSVC(C=1)
    clf.fit(hstack(x_train).tocsr(), [y for _, y in train])
    return clf.predict(hstack(x_test).tocsr()), extra_ms


def macro_f1(gold, predicted) -> float:
    labels = sorted(set(gold) & set(CATEGORY_CODES))
    return float(f1_score(gold, predicted, labels=labels, average="macro"))


def main(argv: list[str]) -> int:
    dev_path = Path(argv[1]) if len(argv) > 1 else ROOT.parent / "shared" / "nlu" / "dev.jsonl"
    train = training_examples()
    dev = [(r["text"], r["category"]) for r in map(json.loads, dev_path.open(encoding="utf-8"))]
    labels = np.array([y for _, y in train])
    print(f"{len(train)} training examples, {len(dev)} dev messages ({dev_path})")
    print(f"{'variant':10} {'CV macro-F1':>11} {'dev macro-F1':>12} {'+ms/msg':>8} {'+MB':>6}")
    for variant in ("base", "pyvi", "wordllama"):
        before = _rss_mb()
        try:
            extra_features(variant)
        except ImportError as exc:
            print(f"{variant:10} skipped ({exc.name} not installed)")
            continue
        added_mb = _rss_mb() - before
        predicted = np.empty(len(train), dtype=object)
        folds = StratifiedKFold(5, shuffle=True, random_state=0).split(train, labels)
        for fit_index, test_index in folds:
            predicted[test_index], _ = fit_predict(
                variant, [train[i] for i in fit_index], [train[i] for i in test_index]
            )
        dev_predicted, extra_ms = fit_predict(variant, train, dev)
        print(
            f"{variant:10} {macro_f1(list(labels), list(predicted)):11.3f} "
            f"{macro_f1([y for _, y in dev], list(dev_predicted)):12.3f} "
            f"{extra_ms:8.2f} {added_mb:6.0f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))

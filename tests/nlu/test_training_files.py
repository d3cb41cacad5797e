"""nlu/data's files as the benchmarks and the learning simulation read them."""

from __future__ import annotations

from pathlib import Path

from nlu import training_data


def test_english_files_go_by_their_name():
    names = ["en.yml", "en2.yml", "en3.yml", "en13.yml", "entities.yml", "env.yml", "nlu.yml"]
    english = [name for name in names if training_data.is_english_file(Path(name))]
    assert english == ["en.yml", "en2.yml", "en3.yml", "en13.yml"]


def test_the_english_files_of_nlu_data_hold_english():
    files = [p for p in training_data.DATA_DIR.glob("*.yml") if training_data.is_english_file(p)]
    assert len(files) >= 3
    for path in files:
        texts = [text for text, _ in training_data.file_examples(path)]
        # Vietnamese letters with diacritics (đ, ư, ơ, ạ…) are rare in English examples.
        marked = [t for t in texts if any(c in t.lower() for c in "đươạảấầẩẫậắằẳẵặẹẻẽếềểễệ")]
        assert len(marked) < 0.05 * len(texts), path.name

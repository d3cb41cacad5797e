"""The training examples of nlu/data (Rasa's YAML) read as plain text, outside Rasa: for the
generator of closings.yml, the NLU benchmarks and the no-leak test."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

DATA_DIR = Path(__file__).resolve().parent / "data"
# The English examples live in files named en.yml, en2.yml, en3.yml…; the rest is Vietnamese.
ENGLISH_NAME = re.compile(r"en\d*\.yml")
# Entity markup, "[Hải Châu](ward)" or "[Hải Châu]{...}": the text keeps the words only.
MARKUP = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


def file_examples(path: Path) -> list[tuple[str, str]]:
    """(text, intent) of every example of one file, entity markup removed."""
    rows = []
    for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu") or []:
        if "intent" not in block:
            continue
        for line in (block.get("examples") or "").splitlines():
            if line.startswith("- "):
                rows.append((MARKUP.sub(r"\1", line[2:]).strip(), block["intent"]))
    return rows


def examples(data_dir: Path = DATA_DIR) -> list[tuple[str, str]]:
    """(text, intent) of every example in `data_dir`/*.yml, files in name order."""
    return [row for path in sorted(data_dir.glob("*.yml")) for row in file_examples(path)]


def is_english_file(path: Path) -> bool:
    """Whether a file of nlu/data holds English examples (by the naming rule above)."""
    return ENGLISH_NAME.fullmatch(path.name) is not None

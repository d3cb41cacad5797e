"""The sets the model is measured on never leak into its training data: no training example
equals (after normalisation) a message of the held-out split or of the dev set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nlu import training_data
from nlu.normalize import model_text

NLU = Path(__file__).resolve().parents[2] / "nlu"
DEV = NLU.parent.parent / "shared" / "nlu" / "dev.jsonl"


def _key(text: str) -> str:
    return " ".join(model_text(text, "plain").split())


def _training() -> dict[str, str]:
    return {
        _key(text): f"{path.name}: {text}"
        for path in sorted((NLU / "data").glob("*.yml"))
        for text, _intent in training_data.file_examples(path)
    }


HELDOUT = sorted(f"heldout/{p.name}" for p in (NLU / "heldout").glob("*.jsonl"))


def test_every_heldout_set_is_checked():
    assert {
        "heldout/vi.jsonl",
        "heldout/vi2.jsonl",
        "heldout/vi3.jsonl",
        "heldout/vi4.jsonl",
        "heldout/en.jsonl",
    } <= set(HELDOUT)


@pytest.mark.parametrize("name", [*HELDOUT, "dev"])
def test_no_evaluation_message_is_a_training_example(name):
    path = DEV if name == "dev" else NLU / name
    if not path.exists():
        pytest.skip(f"{path} is not on this machine")
    training = _training()
    assert len(training) > 2000
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    leaked = [training[_key(r["text"])] for r in rows if _key(r["text"]) in training]
    assert leaked == []

"""The learning loop on real Rasa: corrections for a confused pair make the pair better on
held-out text and the candidate is promoted; corrections that teach the wrong thing make a
worse candidate, which is refused while the better model keeps serving.

The confusion is made, not found: the base training data keeps only a few Vietnamese
`pollution` examples, so smoke and smells are read as `waste`; operators then "correct"
reports whose texts are the removed examples. The held-out split (nlu/heldout/*.jsonl) is
only scored: the pair is read on its first Vietnamese file, and promotion is decided on all
its files together ("heldout") and the dev set.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from nlu import manage, training_data
from tests.factories import AssignedReportFactory
from webapp.extensions import db
from webapp.services.casework import workflow
from webapp.services.nlu_models import registry, retrain
from webapp.services.nlu_models.report import format_history

pytestmark = pytest.mark.rasa
KEPT = 5  # pollution examples left in the weakened base data


def _weakened(tmp_path: Path) -> tuple[Path, list[str], list[str]]:
    """A copy of nlu/data with most Vietnamese pollution examples removed; (dir, removed, waste).

    Every Vietnamese file loses its pollution examples but the first KEPT of nlu.yml (the
    English ones stay), so the base model confuses smoke and smells with garbage.
    """
    data = tmp_path / "data"
    shutil.copytree(manage.NLU_DIR / "data", data)
    removed: list[str] = []
    waste: list[str] = []
    for path in sorted(data.glob("*.yml")):
        if training_data.is_english_file(path):
            continue
        blocks = yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]
        keep = KEPT if path.name == "nlu.yml" else 0
        lines = ['version: "3.1"', "nlu:"]
        for block in blocks:
            raw = block["examples"].splitlines()
            examples = [line[2:] for line in raw if line.startswith("- ")]
            if block["intent"] == "pollution":
                removed += examples[keep:]
                examples = examples[:keep]
            if block["intent"] == "waste":
                waste += examples
            if not examples:
                continue
            lines += [f"- intent: {block['intent']}", "  examples: |"]
            lines += [f"    - {text}" for text in examples]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return data, removed, waste


def _correct(texts: list[str], predicted: str, corrected: str) -> None:
    report = AssignedReportFactory()
    for text in texts:
        plain = text.replace("[", "").replace("]", "")  # entity markup is not resident text
        workflow.record_event(
            report,
            "category_correction",
            data={"text": plain, "predicted": predicted, "corrected": corrected},
        )
    db.session.commit()


def _pair(model) -> float:
    per_class = model.figures["sets"]["heldout_vi"]["per_class"]
    return (per_class["pollution"] + per_class["waste"]) / 2


def test_corrections_improve_a_confused_pair_and_a_bad_lesson_is_refused(
    ctx, app, tmp_path, monkeypatch
):
    try:
        manage.find_python310()
    except manage.NluSetupError as exc:
        pytest.skip(str(exc))
    monkeypatch.setenv("PHANANH_CURRENT_MODEL", str(tmp_path / "current.json"))
    app.config.update(NLU_RETRAIN_MIN_EXAMPLES=10, NLU_RELOAD_URLS="http://127.0.0.1:9")
    data, removed, waste = _weakened(tmp_path)
    assert len(removed) >= 40

    _correct(removed, "waste", "pollution")
    learnt = retrain.run(data_dir=data)
    baseline = registry.history()[-1]
    assert learnt.status == "promoted", learnt.detail
    assert (
        learnt.candidate.figures["sets"]["heldout_vi"]["per_class"]["pollution"]
        > (baseline.figures["sets"]["heldout_vi"]["per_class"]["pollution"])
    )
    assert _pair(learnt.candidate) > _pair(baseline)
    print(  # shown with -s: the figures the README quotes
        f"mean F1 of pollution and waste on held-out: baseline {_pair(baseline):.3f}, "
        f"with corrections {_pair(learnt.candidate):.3f}; {learnt.detail}"
    )
    assert learnt.reloads == {"http://127.0.0.1:9": "unreachable (ConnectError)"}

    # Operators who "correct" every garbage report to street lighting teach a worse model.
    _correct(waste, "waste", "street_lighting")
    taught = retrain.run(data_dir=data)
    assert taught.status == "refused", taught.detail
    assert "heldout macro-F1" in taught.detail  # the held-out split as a whole
    assert registry.current().id == learnt.candidate.id
    assert manage.current_model() == Path(learnt.candidate.path)
    print(format_history(registry.history()))  # `flask nlu history`, shown with -s

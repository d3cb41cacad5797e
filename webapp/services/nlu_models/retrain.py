"""The learning loop's job (nightly on the beat, or `flask nlu retrain`): when enough new
corrections exist, train a candidate on the training data plus every correction, score it and
the serving model on the same evaluation files, and promote it only if it is not worse on the
held-out split (as a whole) and the dev set (webapp/services/nlu_models/promotion.py).

Corrections whose text is in an evaluation file are left out of the candidate's training data,
so the held-out figures stay held out.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from flask import current_app

from config.settings import ROOT
from nlu import candidates, manage
from nlu.intents import CATEGORY_CODES
from webapp.extensions import db
from webapp.infra import heartbeats
from webapp.models import NluModel
from webapp.models.types import utcnow
from webapp.services.casework import nlu_feedback
from webapp.services.nlu_models import promotion, registry

log = logging.getLogger(__name__)

# Every held-out file (nlu/heldout/*.jsonl), named heldout_<file>.
HELDOUT = {
    f"{promotion.SPLIT_FILE_PREFIX}{path.stem}": path
    for path in sorted((ROOT / "nlu" / "heldout").glob("*.jsonl"))
}
DEV = ROOT.parent / "shared" / "nlu" / "dev.jsonl"
# One run at a time, whichever machine starts it (the beat's, `flask nlu retrain`); a run that
# dies leaves the lease to run out.
LEASE = "nlu-retrain"
LEASE_TTL = timedelta(hours=2)


@dataclass
class Outcome:
    """What one run did: skipped (and why), or the candidate and the decision."""

    status: str  # skipped | promoted | refused
    detail: str
    candidate: NluModel | None = None
    reloads: dict[str, str] = field(default_factory=dict)


def evaluation_files() -> dict[str, Path]:
    """NLU_EVAL_FILES ("name=path,…"), else the held-out split and the dev set if present."""
    configured = current_app.config.get("NLU_EVAL_FILES") or ""
    if configured:
        pairs = (item.split("=", 1) for item in configured.split(",") if "=" in item)
        return {name.strip(): Path(path.strip()) for name, path in pairs}
    files = {name: path for name, path in HELDOUT.items() if path.is_file()}
    if DEV.is_file():
        files["dev"] = DEV
    return files


def _key(text: str) -> str:
    return " ".join(text.casefold().split())


def _evaluation_texts(files: dict[str, Path]) -> set[str]:
    return {_key(row["text"]) for path in files.values() for row in manage.load_jsonl(path)}


def training_examples(items: list[dict], excluded: set[str]) -> dict[str, list[str]]:
    """Corrections as examples by category: report categories only, evaluation texts out."""
    examples: dict[str, list[str]] = defaultdict(list)
    for item in items:
        if item["corrected"] in CATEGORY_CODES and _key(item["text"]) not in excluded:
            examples[item["corrected"]].append(item["text"])
    return dict(examples)


def split_names(files: dict[str, Path]) -> list[str]:
    """The files pooled into the held-out split as a whole: those named heldout_…, when there
    are several and no file is itself named promotion.SPLIT (that one is then a file as any)."""
    names = [name for name in files if name.startswith(promotion.SPLIT_FILE_PREFIX)]
    return names if len(names) > 1 and promotion.SPLIT not in files else []


def scored_sets(files: dict[str, Path]) -> dict[str, Path | tuple[Path, ...]]:
    """The evaluation files, and the held-out split as a whole (split_names scored together,
    named promotion.SPLIT) when there is one."""
    sets: dict[str, Path | tuple[Path, ...]] = dict(files)
    pooled = split_names(files)
    if pooled:
        sets[promotion.SPLIT] = tuple(files[name] for name in pooled)
    return sets


def _figures(model: Path, files: dict[str, Path]) -> dict:
    threshold = float(current_app.config["NLU_CONFIDENCE_THRESHOLD"])
    reports = candidates.score(model, scored_sets(files), threshold=threshold)
    return {
        "digest": candidates.digest_files(files),
        "threshold": threshold,
        "split": split_names(files),
        "sets": {name: candidates.report_figures(r) for name, r in reports.items()},
    }


def _serving(data_dir: Path | None, files: dict[str, Path]) -> NluModel:
    """The serving model with figures on the current evaluation files at the configured
    threshold (scored again when either, or the sets made of them, changed, so both models
    are read the same way)."""
    model = registry.current()
    if model is None or not Path(model.path).is_file():
        base = manage.train() if data_dir is None else candidates.train_candidate({}, data_dir)
        model = registry.record_baseline(base)
    # The digest covers the files' names and texts, so with the split it fixes the sets scored.
    wanted = (
        candidates.digest_files(files),
        float(current_app.config["NLU_CONFIDENCE_THRESHOLD"]),
        split_names(files),
    )
    kept = model.figures or {}
    if (kept.get("digest"), kept.get("threshold"), kept.get("split", [])) != wanted:
        model.figures = _figures(Path(model.path), files)
    db.session.commit()
    return model


def run(
    *, force: bool = False, min_examples: int | None = None, data_dir: Path | None = None
) -> Outcome:
    """One pass of the loop (`data_dir`: the base training data, default nlu/data)."""
    holder = uuid.uuid4().hex
    if not heartbeats.hold_lease(LEASE, holder, LEASE_TTL):
        return Outcome("skipped", "another retrain is running")
    try:
        return _run(force, min_examples, data_dir)
    finally:
        db.session.rollback()
        heartbeats.release_lease(LEASE, holder)


def _run(force: bool, min_examples: int | None, data_dir: Path | None) -> Outcome:
    items = nlu_feedback.corrections()
    last = registry.latest()
    seen = last.corrections_upto if last else 0
    fresh = [item for item in items if item["id"] > seen]
    needed = min_examples
    if needed is None:
        needed = int(current_app.config["NLU_RETRAIN_MIN_EXAMPLES"])
    if not force and len(fresh) < needed:
        return Outcome("skipped", f"{len(fresh)} new corrections, {needed} needed")
    files = evaluation_files()
    if not files:
        return Outcome("skipped", "no evaluation file: set NLU_EVAL_FILES")
    examples = training_examples(items, _evaluation_texts(files))
    name = candidates.candidate_name(examples, data_dir)
    if registry.by_name(name) is not None:
        return Outcome("skipped", f"{name} was already trained on these corrections")
    serving = _serving(data_dir, files)
    path = candidates.train_candidate(examples, data_dir)
    figures = _figures(path, files)
    candidate = NluModel(
        name=name,
        path=str(path),
        base_hash=manage.training_hash(),
        state="refused",
        examples=sum(len(texts) for texts in examples.values()),
        corrections_upto=max((item["id"] for item in items), default=0),
        figures=figures,
        compared_with_id=serving.id,
    )
    decision = promotion.compare(
        promotion.judged(figures),
        promotion.judged(serving.figures or {}),
        float(current_app.config["NLU_PROMOTION_TOLERANCE"]),
        float(current_app.config["NLU_TRIAGE_BUDGET"]),
    )
    candidate.reason, candidate.decided_at = decision.text, utcnow()
    db.session.add(candidate)
    if decision.promote:
        registry.promote(candidate, serving)
    db.session.commit()
    reloads = registry.publish(candidate) if decision.promote else {}
    status = "promoted" if decision.promote else "refused"
    log.info("nlu candidate %s %s (%s)", name, status, decision.text)
    return Outcome(status, decision.text, candidate, reloads)

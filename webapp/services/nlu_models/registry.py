"""The model history: which model serves, the figures each was scored with, and promotion
(the pointer the Rasa servers start from, and a reload of the running replicas)."""

from __future__ import annotations

from pathlib import Path

from flask import current_app
from sqlalchemy import select

from nlu import candidates, manage
from webapp.extensions import db
from webapp.models import NluModel
from webapp.models.types import utcnow


def current() -> NluModel | None:
    """The serving model of the current training inputs (None after a deploy with new data,
    until the baseline is recorded again)."""
    return db.session.scalar(
        select(NluModel)
        .where(NluModel.state == "current", NluModel.base_hash == manage.training_hash())
        .order_by(NluModel.id.desc())
        .limit(1)
    )


def latest() -> NluModel | None:
    """The last model recorded, whatever became of it."""
    return db.session.scalar(select(NluModel).order_by(NluModel.id.desc()).limit(1))


def history(limit: int = 50) -> list[NluModel]:
    """The most recent models first."""
    return list(db.session.scalars(select(NluModel).order_by(NluModel.id.desc()).limit(limit)))


def by_name(name: str) -> NluModel | None:
    """The model trained from exactly these inputs, if any."""
    return db.session.scalar(select(NluModel).where(NluModel.name == name))


def record_baseline(path: Path) -> NluModel:
    """The model of the training data alone, serving until a candidate beats it. Models of
    older training inputs are retired: they are not comparable any more."""
    for old in db.session.scalars(select(NluModel).where(NluModel.state == "current")):
        old.state = "retired"
    model = by_name(path.name.removesuffix(".tar.gz"))
    if model is None:
        model = NluModel(name=path.name.removesuffix(".tar.gz"), examples=0, corrections_upto=0)
        db.session.add(model)
    model.path, model.base_hash, model.state = str(path), manage.training_hash(), "current"
    model.reason = model.reason or "baseline: the training data alone"
    model.decided_at = utcnow()
    db.session.flush()
    return model


def reload_urls() -> list[str]:
    """The Rasa replicas to tell about a promoted model."""
    configured = current_app.config.get("NLU_RELOAD_URLS") or current_app.config["RASA_URL"]
    return [url.strip() for url in configured.split(",") if url.strip()]


def promote(model: NluModel, previous: NluModel | None) -> None:
    """Make `model` the serving one in the history (commit, then `publish`)."""
    if previous is not None:
        previous.state = "retired"
    model.state = "current"
    db.session.flush()


def publish(model: NluModel) -> dict[str, str]:
    """Point new Rasa servers at the model and have the running replicas load it; their
    answers (a replica that missed it loads the pointer when it restarts)."""
    manage.set_current_model(Path(model.path))
    return candidates.reload(reload_urls(), Path(model.path))

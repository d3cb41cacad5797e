"""The NLU models the learning loop trained: which one serves, and the figures behind each
decision (webapp.services.nlu_models)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import Model
from webapp.models.types import JSONType, UTCDateTime, utcnow

# current: serves now (one at a time); retired: served before; refused: worse than the model
# it was compared with; failed: could not be trained or scored.
NLU_MODEL_STATES = ("current", "retired", "refused", "failed")


class NluModel(Model):
    """One trained model: its file, what it learnt from, its figures and the decision."""

    __tablename__ = "nlu_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    path: Mapped[str] = mapped_column(String(500))
    # The hash of nlu/'s training inputs it was built on (a deploy with new data starts over).
    base_hash: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(20), index=True)
    # Examples learnt from operators' corrections, and the last correction event included.
    examples: Mapped[int] = mapped_column(Integer, default=0)
    corrections_upto: Mapped[int] = mapped_column(Integer, default=0)
    # {"digest": <evaluation files>, "threshold": 0.82, "split": ["heldout_en", …],
    #  "sets": {"heldout": {...}, "heldout_en": {...}, …, "dev": {...}}} ("heldout": the files
    #  of "split" scored together; webapp/services/nlu_models/promotion.py)
    figures: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    compared_with_id: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

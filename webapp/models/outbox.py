"""The outbox: every message to a resident or an agency is a row delivered by a task."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import Model
from webapp.models.types import JSONType, TimestampMixin, UTCDateTime


class OutboxStatus(StrEnum):
    """Delivery bookkeeping, kept apart from the report's public status."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # will be retried at next_attempt_at
    DEAD = "dead"  # gave up


class OutboxMessage(TimestampMixin, Model):
    """A message waiting to be (or already) delivered on one channel."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique per logical message so that a retried producer never sends twice.
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"), index=True)
    recipient_kind: Mapped[str] = mapped_column(String(20))  # resident | agency | ioc
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(10), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

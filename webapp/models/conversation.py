"""Messenger bots: dialog state, photos of a report being written, events received, tokens,
and residents following a report they did not file."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import Model
from webapp.models.report import Report
from webapp.models.resident import ResidentIdentity
from webapp.models.types import JSONType, TimestampMixin, UTCDateTime, utcnow


class Conversation(TimestampMixin, Model):
    """Where one messenger user stands in the dialog; any bot process can continue it."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(30), default="idle")
    # The report being written and the choices last offered (for typed answers).
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    photos: Mapped[list[ConversationPhoto]] = relationship(
        back_populates="conversation",
        order_by="ConversationPhoto.position",
        cascade="all, delete-orphan",
    )


class ConversationPhoto(Model):
    """A photo sent during the dialog, kept in the database until the report is submitted."""

    __tablename__ = "conversation_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    filename: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    conversation: Mapped[Conversation] = relationship(back_populates="photos")


class InboundEvent(Model):
    """An update received from a messenger, keyed by its id there: each is handled once."""

    __tablename__ = "inbound_events"
    __table_args__ = (UniqueConstraint("channel", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | done
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MessengerToken(Model):
    """The current access/refresh token pair of a messenger account (Zalo OA)."""

    __tablename__ = "messenger_tokens"

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    access_token: Mapped[str] = mapped_column(String(2000))
    # Zalo's refresh token works once: it is always saved together with the access token.
    refresh_token: Mapped[str | None] = mapped_column(String(2000))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ReportFollower(Model):
    """A resident who follows someone else's report instead of filing a duplicate."""

    __tablename__ = "report_followers"
    __table_args__ = (UniqueConstraint("report_id", "identity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    identity_id: Mapped[int] = mapped_column(
        ForeignKey("resident_identities.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[Report] = relationship()
    identity: Mapped[ResidentIdentity] = relationship()

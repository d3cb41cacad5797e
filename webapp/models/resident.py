"""Residents and their identities per channel, kept apart from what agencies see."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.types import TimestampMixin


class Channel(StrEnum):
    """Where a report came from, and where answers go back."""

    WEB = "web"
    TELEGRAM = "telegram"
    ZALO = "zalo"
    HOTLINE = "hotline"
    API = "api"


class Resident(TimestampMixin, db.Model):
    """A person who reports; personal data is visible to the IOC only."""

    __tablename__ = "residents"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40), index=True)
    email: Mapped[str | None] = mapped_column(String(200), index=True)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)

    identities: Mapped[list[ResidentIdentity]] = relationship(back_populates="resident")


class ResidentIdentity(TimestampMixin, db.Model):
    """One address of a resident on one channel (Telegram user id, Zalo user id, phone, e-mail)."""

    __tablename__ = "resident_identities"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str | None] = mapped_column(String(200))

    resident: Mapped[Resident] = relationship(back_populates="identities")

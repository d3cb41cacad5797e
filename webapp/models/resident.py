"""Residents and their identities per channel, kept apart from what agencies see."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import Model
from webapp.models.types import TimestampMixin, UTCDateTime, utcnow


class Channel(StrEnum):
    """Where a report came from, and where answers go back."""

    WEB = "web"
    TELEGRAM = "telegram"
    ZALO = "zalo"
    HOTLINE = "hotline"
    API = "api"
    OPEN311 = "open311"


class Resident(TimestampMixin, Model):
    """A person who reports; personal data is visible to the IOC only.

    A phone or e-mail typed on the web, the API or by a hotline operator is a claim, not a key:
    it never selects an existing resident. The e-mail receives notifications only once
    `email_confirmed_at` is set (the resident followed the link sent to it); the phone is kept
    for the IOC to call back until it is verified.
    """

    __tablename__ = "residents"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40), index=True)
    email: Mapped[str | None] = mapped_column(String(200), index=True)
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    phone_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)

    identities: Mapped[list[ResidentIdentity]] = relationship(back_populates="resident")


class ResidentIdentity(TimestampMixin, Model):
    """One address of a resident on one channel (Telegram user id, Zalo user id, phone, e-mail)."""

    __tablename__ = "resident_identities"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str | None] = mapped_column(String(200))

    resident: Mapped[Resident] = relationship(back_populates="identities")


class IntakeBlock(Model):
    """A lock on a verified identity or a client address: intake from it is refused.

    Only keyed hashes are stored (webapp.services.intake.blocks); address locks expire, because a
    mobile carrier's address is shared by many residents.
    """

    __tablename__ = "intake_blocks"
    __table_args__ = (UniqueConstraint("kind", "key_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # address | email | phone
    key_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ContactCode(Model):
    """A one-time code sent to a phone (SMS or ZNS) or an e-mail to prove the resident holds it.

    Only a keyed hash of the code is stored; the address is kept until the code is used or
    void (then the row is deleted by the nightly retention run).
    """

    __tablename__ = "contact_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20))  # verify | follow | data
    kind: Mapped[str] = mapped_column(String(10))  # phone | email
    address: Mapped[str | None] = mapped_column(String(200))
    report_id: Mapped[int | None] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), index=True
    )
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

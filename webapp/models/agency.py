"""Agencies that handle reports, the units they serve, and their hierarchy."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import Model, db
from webapp.models.geo import AdminUnit
from webapp.models.types import TimestampMixin, UTCDateTime

# Where an agency receives its reports (webapp.services.partners.delivery); the first is the
# default.
DELIVERY_MODES = ("backoffice", "open311", "webhook")

agency_units = Table(
    "agency_units",
    db.metadata,
    Column("agency_id", ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_code", ForeignKey("admin_units.code", ondelete="CASCADE"), primary_key=True),
)


class Agency(TimestampMixin, Model):
    """A body that handles reports: a ward committee, a department, a utility company."""

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30), default="department")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Where new reports go (webapp.services.partners.delivery): the back office (default), the
    # agency's own Open311 server, or a signed webhook; its address and key or secret.
    delivery: Mapped[str] = mapped_column(
        String(20), default="backoffice", server_default="backoffice"
    )
    delivery_url: Mapped[str | None] = mapped_column(String(300))
    delivery_secret: Mapped[str | None] = mapped_column(String(200))
    delivery_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    parent: Mapped[Agency | None] = relationship(remote_side="Agency.id", back_populates="children")
    children: Mapped[list[Agency]] = relationship(back_populates="parent")
    units: Mapped[list[AdminUnit]] = relationship(secondary=agency_units)

    def descendant_ids(self) -> set[int]:
        """This agency's id and those of every sub-agency."""
        ids, stack = set(), [self]
        while stack:
            agency = stack.pop()
            if agency.id not in ids:
                ids.add(agency.id)
                stack.extend(agency.children)
        return ids

    def __repr__(self) -> str:
        return f"<Agency {self.code}>"

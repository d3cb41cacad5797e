"""The audit trail of administrative changes, the log of who looked at a resident's identity,
and background export jobs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import Model
from webapp.models.types import JSONType, UTCDateTime, utcnow
from webapp.models.user import User


class AuditEntry(Model):
    """One change made in the administration pages: who, what, before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))  # create | update | delete
    entity: Mapped[str] = mapped_column(String(40), index=True)
    entity_id: Mapped[str] = mapped_column(String(60))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    actor: Mapped[User | None] = relationship()


class IdentityView(Model):
    """One look by a staff member at a resident's identity (name, phone, e-mail, messenger id).

    Kept apart from the audit trail of changes: one row is written for every page that shows
    an identity, and so many reads would crowd the changes out of that trail. The report's
    code is kept even if the report is deleted, so the log still answers "who looked at whom".
    """

    __tablename__ = "identity_views"
    __table_args__ = (Index("ix_identity_views_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))  # ix_identity_views_user_created
    report_id: Mapped[int | None] = mapped_column(
        ForeignKey("reports.id", ondelete="SET NULL"), index=True
    )
    report_code: Mapped[str | None] = mapped_column(String(20))
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL"), index=True
    )
    context: Mapped[str] = mapped_column(String(20))  # where it was shown: report_page, ...
    fields: Mapped[list[str] | None] = mapped_column(JSONType)  # name, phone, email, messenger
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    user: Mapped[User] = relationship()


class ExportStatus(StrEnum):
    """Where a background export is: waiting, being written, ready, failed, or its file gone."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    EXPIRED = "expired"


class ExportJob(Model):
    """A CSV or Excel export generated in the background; downloaded when done."""

    __tablename__ = "export_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # reports | kpi | weekly
    fmt: Mapped[str] = mapped_column(String(5))  # csv | xlsx
    params: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(10), default=ExportStatus.PENDING)
    file_name: Mapped[str | None] = mapped_column(String(200))
    row_count: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

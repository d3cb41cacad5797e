"""The notes on a report that residents may read: replies and status notes made public."""

from __future__ import annotations

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Report, ReportEvent


def latest(report: Report) -> str | None:
    """The latest public reply or status note (never an internal note); None if none."""
    event = db.session.scalar(
        select(ReportEvent)
        .where(
            ReportEvent.report_id == report.id,
            ReportEvent.public.is_(True),
            ReportEvent.kind.in_(["reply", "status"]),
            ReportEvent.note.is_not(None),
        )
        .order_by(ReportEvent.id.desc())
        .limit(1)
    )
    return event.note if event else None

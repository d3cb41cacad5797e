"""The nightly retention run: what the notice promises about how long data is kept.

RETENTION_IDENTITY_MONTHS after a report is closed (closed, rejected or merged as a
duplicate), its resident's identity and contact leave it; RETENTION_PHOTO_MONTHS after, its
original photos are deleted (the public copies stay). One-time codes go once used or void.
Each run is one line of the audit trail.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, delete, func, or_, select

from webapp.extensions import db
from webapp.models import AuditEntry, ContactCode, Report, ReportStatus
from webapp.models.types import utcnow
from webapp.services.privacy import erasure

FINISHED = (ReportStatus.CLOSED.value, ReportStatus.REJECTED.value, ReportStatus.DUPLICATE.value)
BATCH = 500


@dataclass
class RetentionRun:
    """What one run removed."""

    identities_removed: int = 0
    originals_removed: int = 0
    codes_removed: int = 0


def months_before(now: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (clamped to the month's end)."""
    index = now.year * 12 + now.month - 1 - months
    year, month = divmod(index, 12)
    day = min(now.day, calendar.monthrange(year, month + 1)[1])
    return now.replace(year=year, month=month + 1, day=day)


def _finished_before(cutoff: datetime) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    ended = func.coalesce(Report.closed_at, Report.updated_at)
    return Report.status.in_(FINISHED), ended < cutoff


def _each(apply: Callable[[Report], object], *where: ColumnElement[bool]) -> int:
    """Apply to every report the conditions select, BATCH at a time, committing each batch
    (`apply` must make a report fall out of the selection)."""
    done = 0
    while True:
        reports = db.session.scalars(select(Report).where(*where).limit(BATCH)).all()
        for report in reports:
            apply(report)
        done += len(reports)
        db.session.commit()
        if len(reports) < BATCH:
            return done


def run(now: datetime | None = None) -> RetentionRun:
    """Apply the retention periods to every report past them; commits in batches."""
    now = now or utcnow()
    cfg = current_app.config
    result = RetentionRun()
    identity_cutoff = months_before(now, int(cfg["RETENTION_IDENTITY_MONTHS"]))
    photo_cutoff = months_before(now, int(cfg["RETENTION_PHOTO_MONTHS"]))
    result.identities_removed = _each(
        erasure.detach_report,
        *_finished_before(identity_cutoff),
        Report.personal_data_removed_at.is_(None),
        or_(Report.resident_id.is_not(None), Report.identity_id.is_not(None)),
    )
    result.originals_removed = _each(
        erasure.drop_originals,
        *_finished_before(photo_cutoff),
        Report.originals_removed_at.is_(None),
    )
    stale = now - timedelta(days=1)
    spent = or_(ContactCode.used_at.is_not(None), ContactCode.expires_at < now)
    removed = db.session.execute(delete(ContactCode).where(spent, ContactCode.created_at < stale))
    result.codes_removed = int(getattr(removed, "rowcount", 0) or 0)
    db.session.add(
        AuditEntry(
            actor_id=None,
            action="retention",
            entity="residents",
            entity_id="*",
            after={
                "identities_removed": result.identities_removed,
                "originals_removed": result.originals_removed,
                "codes_removed": result.codes_removed,
            },
        )
    )
    db.session.commit()
    return result

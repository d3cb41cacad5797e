"""Classification and routing of a stored report (run by the classify task)."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Report, ReportStatus
from webapp.models.types import utcnow
from webapp.services import queue

log = logging.getLogger(__name__)


def classify_and_route(report_id: int) -> str:
    """Classify, place and route one report; returns what happened."""
    report = db.session.get(Report, report_id)
    if report is None:
        return "missing"
    if report.status != ReportStatus.RECEIVED:
        return "already-done"
    # The NLU step arrives with the NLU issue; until then reports wait in `received`.
    return "waiting"


def requeue_unclassified(older_than: timedelta = timedelta(minutes=2), limit: int = 500) -> int:
    """Queue again every report stuck in `received`; returns how many were queued."""
    cutoff = utcnow() - older_than
    ids = db.session.scalars(
        select(Report.id)
        .where(Report.status == ReportStatus.RECEIVED, Report.created_at < cutoff)
        .order_by(Report.id)
        .limit(limit)
    ).all()
    return sum(queue.enqueue("workers.tasks.classify_report", rid) for rid in ids)

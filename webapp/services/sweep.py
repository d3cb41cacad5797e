"""The periodic sweep: reminders, escalations, unclassified reports, outbox retries.

Idempotent and safe with several workers: rows are claimed with FOR UPDATE SKIP LOCKED
(on PostgreSQL), and each reminder or escalation stamps the report and writes an event
in the same transaction, so none is sent twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Agency, Report, ReportStatus, Role, User
from webapp.models.types import utcnow
from webapp.services import outbox, queue, workflow

log = logging.getLogger(__name__)
# Statuses in which the agency holds the report and the clock runs.
CLOCK_RUNNING = (
    ReportStatus.ASSIGNED,
    ReportStatus.IN_PROGRESS,
    ReportStatus.REOPENED,
    ReportStatus.TRANSFERRED,
)
LOCAL_FMT = "%H:%M %d/%m/%Y"


@dataclass
class SweepResult:
    """What one run of the sweep did."""

    reminded: int = 0
    escalated: int = 0
    requeued: int = 0
    retried: int = 0
    details: list[str] = field(default_factory=list)


def _claim(stmt, limit: int) -> list[Report]:
    return list(db.session.scalars(stmt.limit(limit).with_for_update(skip_locked=True)))


def _when(value: datetime | None) -> str:
    from webapp.services.notifications import LOCAL_TZ

    return value.astimezone(LOCAL_TZ).strftime(LOCAL_FMT) if value else ""


def _agency_leads(agency: Agency | None) -> list[str]:
    if agency is None:
        return []
    leads = db.session.scalars(
        select(User.email).where(
            User.agency_id == agency.id, User.role == Role.AGENCY_LEAD, User.active
        )
    )
    return [*leads, *([agency.email] if agency.email else [])]


def _remind(now: datetime, batch: int) -> int:
    reports = _claim(
        select(Report)
        .where(
            Report.remind_at <= now,
            Report.reminded_at.is_(None),
            Report.status.in_(CLOCK_RUNNING),
            Report.waiting_since.is_(None),
        )
        .order_by(Report.remind_at),
        batch,
    )
    for report in reports:
        report.reminded_at = now
        workflow.record_event(
            report, "reminder", note=f"Sắp đến hạn xử lý ({_when(report.due_at)}).", public=False
        )
        if report.agency and report.agency.email:
            outbox.add_message(
                dedupe_key=f"reminder:{report.id}:{report.due_at.isoformat()}",
                recipient_kind="agency",
                channel="email",
                address=report.agency.email,
                report_id=report.id,
                subject=f"[{report.code}] Nhắc hạn xử lý: {_when(report.due_at)}",
                body=(
                    f"Phản ánh {report.code} sắp đến hạn xử lý ({_when(report.due_at)}).\n"
                    f"{report.description}"
                ),
            )
    db.session.commit()
    return len(reports)


def _escalate(now: datetime, batch: int) -> int:
    reports = _claim(
        select(Report)
        .where(
            Report.due_at <= now,
            Report.escalated_at.is_(None),
            Report.status.in_(CLOCK_RUNNING),
            Report.waiting_since.is_(None),
        )
        .order_by(Report.due_at),
        batch,
    )
    ioc = current_app.config.get("IOC_EMAIL") or None
    for report in reports:
        report.escalated_at = now
        report.overdue = True
        workflow.record_event(
            report,
            "escalation",
            note=f"Quá hạn xử lý (hạn {_when(report.due_at)}); đã báo lãnh đạo và IOC.",
            public=False,
        )
        recipients = {*_agency_leads(report.agency), *([ioc] if ioc else [])}
        for address in sorted(recipients):
            outbox.add_message(
                dedupe_key=f"escalation:{report.id}:{report.due_at.isoformat()}:{address}",
                recipient_kind="agency" if address != ioc else "ioc",
                channel="email",
                address=address,
                report_id=report.id,
                subject=f"[{report.code}] QUÁ HẠN xử lý",
                body=(
                    f"Phản ánh {report.code} của "
                    f"{report.agency.name if report.agency else 'chưa rõ cơ quan'} "
                    f"đã quá hạn xử lý ({_when(report.due_at)}).\n{report.description}"
                ),
            )
    db.session.commit()
    return len(reports)


def run_sweep(now: datetime | None = None, *, requeue: bool = True) -> SweepResult:
    """One pass over everything the clock has made due."""
    now = now or utcnow()
    batch = current_app.config["SWEEP_BATCH"]
    result = SweepResult()
    while (n := _remind(now, batch)) > 0:
        result.reminded += n
        if n < batch:
            break
    while (n := _escalate(now, batch)) > 0:
        result.escalated += n
        if n < batch:
            break
    if requeue:
        from webapp.services.classification import requeue_unclassified

        after = timedelta(seconds=current_app.config["REQUEUE_AFTER_SECONDS"])
        result.requeued = requeue_unclassified(older_than=after)
        ids = outbox.due_for_retry(now, batch)
        result.retried = sum(queue.enqueue(outbox.DELIVER_TASK, mid) for mid in ids)
    log.info("sweep: %s", result)
    return result

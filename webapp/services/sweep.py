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
from sqlalchemy.orm import selectinload

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
    stmt = stmt.options(selectinload(Report.agency)).limit(limit)
    return list(db.session.scalars(stmt.with_for_update(skip_locked=True, of=Report)))


def _when(value: datetime | None) -> str:
    from webapp.services.notifications import LOCAL_TZ

    return value.astimezone(LOCAL_TZ).strftime(LOCAL_FMT) if value else ""


def _agency_leads() -> dict[int, list[str]]:
    """E-mail addresses to escalate to, per agency: its active leads, then its own address."""
    leads: dict[int, list[str]] = {}
    rows = db.session.execute(
        select(User.agency_id, User.email).where(User.role == Role.AGENCY_LEAD, User.active)
    )
    for agency_id, email in rows:
        leads.setdefault(agency_id, []).append(email)
    for agency_id, email in db.session.execute(select(Agency.id, Agency.email)):
        if email:
            leads.setdefault(agency_id, []).append(email)
    return leads


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
    outbox.preload_keys([f"reminder:{r.id}:{r.due_at.isoformat()}" for r in reports])
    with db.session.no_autoflush:
        _remind_each(reports, now)
    db.session.commit()
    return len(reports)


def _remind_each(reports: list[Report], now: datetime) -> None:
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
    leads = _agency_leads() if reports else {}
    recipients_of = {
        r.id: sorted({*leads.get(r.agency_id, []), *([ioc] if ioc else [])}) for r in reports
    }
    outbox.preload_keys(
        [
            f"escalation:{r.id}:{r.due_at.isoformat()}:{address}"
            for r in reports
            for address in recipients_of[r.id]
        ]
    )
    with db.session.no_autoflush:
        _escalate_each(reports, now, recipients_of, ioc)
    db.session.commit()
    return len(reports)


def _escalate_each(
    reports: list[Report], now: datetime, recipients_of: dict[int, list[str]], ioc: str | None
) -> None:
    for report in reports:
        report.escalated_at = now
        report.overdue = True
        workflow.record_event(
            report,
            "escalation",
            note=f"Quá hạn xử lý (hạn {_when(report.due_at)}); đã báo lãnh đạo và IOC.",
            public=False,
        )
        for address in recipients_of[report.id]:
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

"""The periodic sweep: reminders, escalations, unclassified reports, outbox retries.

Idempotent and safe with several workers: rows are claimed with FOR UPDATE SKIP LOCKED
(on PostgreSQL), and each reminder or escalation stamps the report and writes an event
in the same transaction, so none is sent twice. A batch is set-based: one claim, one
UPDATE of the stamps, one INSERT of the events and one of the e-mails, whatever its size.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Row, select, update
from sqlalchemy.orm import QueryableAttribute

from webapp.extensions import db
from webapp.infra import queue
from webapp.models import Agency, Report, ReportStatus, Role, User
from webapp.models.types import utcnow
from webapp.services.casework import workflow
from webapp.services.messaging import outbox

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


def _claim(
    *criteria: ColumnElement[bool], order: QueryableAttribute[Any], limit: int
) -> list[Row[Any]]:
    """Lock up to `limit` due reports (skipping rows another sweep holds): the columns needed."""
    stmt = (
        select(Report.id, Report.code, Report.due_at, Report.agency_id, Report.description)
        .where(
            *criteria,
            Report.status.in_(CLOCK_RUNNING),
            Report.waiting_since.is_(None),
        )
        .order_by(order)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Report)
    )
    return list(db.session.execute(stmt))


def _when(value: datetime | None) -> str:
    from webapp.services.messaging.notifications import LOCAL_TZ

    return value.astimezone(LOCAL_TZ).strftime(LOCAL_FMT) if value else ""


def _escalation_addresses(agencies: dict[int, tuple[str, str | None]]) -> dict[int, list[str]]:
    """Whom to escalate to, per agency of the batch: its active leads, then its own address."""
    addresses: dict[int, list[str]] = {}
    rows = db.session.execute(
        select(User.agency_id, User.email).where(
            User.role == Role.AGENCY_LEAD, User.active, User.agency_id.in_(agencies)
        )
    )
    for agency_id, email in rows:
        addresses.setdefault(agency_id, []).append(email)
    for agency_id, (_name, email) in agencies.items():
        if email:
            addresses.setdefault(agency_id, []).append(email)
    return addresses


def _agencies(rows: list[Row]) -> dict[int, tuple[str, str | None]]:
    """Name and e-mail of the agencies of the claimed reports, in one query."""
    ids = {r.agency_id for r in rows if r.agency_id is not None}
    if not ids:
        return {}
    found = db.session.execute(
        select(Agency.id, Agency.name, Agency.email).where(Agency.id.in_(ids))
    )
    return {agency_id: (name, email) for agency_id, name, email in found}


def _stamp(ids: list[int], **values: Any) -> None:
    """Stamp the claimed reports in one UPDATE."""
    db.session.execute(
        update(Report).where(Report.id.in_(ids)).values(updated_at=utcnow(), **values),
        execution_options={"synchronize_session": "fetch"},
    )


def _remind(now: datetime, batch: int) -> int:
    rows = _claim(
        Report.remind_at <= now, Report.reminded_at.is_(None), order=Report.remind_at, limit=batch
    )
    if not rows:
        db.session.commit()
        return 0
    _stamp([r.id for r in rows], reminded_at=now)
    workflow.record_internal_events(
        "reminder",
        [(r.id, f"Sắp đến hạn xử lý ({_when(r.due_at)}).") for r in rows],
    )
    agencies = _agencies(rows)
    messages = []
    for r in rows:
        _name, email = agencies.get(r.agency_id, (None, None))
        if email:
            messages.append(
                {
                    "dedupe_key": f"reminder:{r.id}:{r.due_at.isoformat()}",
                    "recipient_kind": "agency",
                    "channel": "email",
                    "address": email,
                    "report_id": r.id,
                    "subject": f"[{r.code}] Nhắc hạn xử lý: {_when(r.due_at)}",
                    "body": (
                        f"Phản ánh {r.code} sắp đến hạn xử lý ({_when(r.due_at)}).\n{r.description}"
                    ),
                }
            )
    outbox.add_messages(messages)
    db.session.commit()
    return len(rows)


def _escalate(now: datetime, batch: int) -> int:
    rows = _claim(
        Report.due_at <= now, Report.escalated_at.is_(None), order=Report.due_at, limit=batch
    )
    if not rows:
        db.session.commit()
        return 0
    _stamp([r.id for r in rows], escalated_at=now, overdue=True)
    workflow.record_internal_events(
        "escalation",
        [(r.id, f"Quá hạn xử lý (hạn {_when(r.due_at)}); đã báo lãnh đạo và IOC.") for r in rows],
    )
    ioc = current_app.config.get("IOC_EMAIL") or None
    agencies = _agencies(rows)
    leads = _escalation_addresses(agencies)
    messages = []
    for r in rows:
        name = agencies.get(r.agency_id, ("chưa rõ cơ quan", None))[0]
        for address in sorted({*leads.get(r.agency_id, []), *([ioc] if ioc else [])}):
            messages.append(
                {
                    "dedupe_key": f"escalation:{r.id}:{r.due_at.isoformat()}:{address}",
                    "recipient_kind": "ioc" if address == ioc else "agency",
                    "channel": "email",
                    "address": address,
                    "report_id": r.id,
                    "subject": f"[{r.code}] QUÁ HẠN xử lý",
                    "body": (
                        f"Phản ánh {r.code} của {name} đã quá hạn xử lý "
                        f"({_when(r.due_at)}).\n{r.description}"
                    ),
                }
            )
    outbox.add_messages(messages)
    db.session.commit()
    return len(rows)


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
        from webapp.services.casework.classification import requeue_unclassified

        after = timedelta(seconds=current_app.config["REQUEUE_AFTER_SECONDS"])
        result.requeued = requeue_unclassified(older_than=after)
        ids = outbox.due_for_retry(now, batch)
        result.retried = sum(queue.enqueue(outbox.DELIVER_TASK, mid) for mid in ids)
    log.info("sweep: %s", result)
    return result

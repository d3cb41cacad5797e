"""The IOC's hand on a report's deadline: its urgency class, and the extensions an agency
asks for. The overdue and escalation history is never rewritten."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l

from webapp.errors import PermissionDenied, ValidationError
from webapp.extensions import db
from webapp.models import Category, Report, ReportEvent, ReportStatus, User
from webapp.models.types import utcnow
from webapp.permissions import Action, require
from webapp.services.casework import action_text, workflow
from webapp.services.sla import calendar, deadlines

S = ReportStatus
URGENCIES = ("urgent", "normal", "complex")
MAX_EXTENSION_DAYS = 30  # working days one request may ask for (params.MAX_EXTENSION_DAYS)
# Where the agency holds the report and its clock runs: the only time more time makes sense.
EXTENDABLE = frozenset({S.ASSIGNED, S.IN_PROGRESS, S.REOPENED})


def _assigned_at(report: Report) -> datetime:
    """When the agency holding the report received it (its deadline counts from then)."""
    return next(
        (
            e.created_at
            for e in reversed(report.events)
            if e.kind == "status" and e.to_status == S.ASSIGNED
        ),
        utcnow(),
    )


def _reclassified_due(report: Report, old: str | None, new: str) -> datetime | None:
    """The deadline under the new urgency, keeping the time already granted.

    The SLA of the new class counts from the assignment, as the first deadline did; the
    working time added to the old deadline since (the clock paused for the resident's
    answer, an approved extension) is added to the new one.
    """
    category = report.category or (
        db.session.get(Category, report.category_code) if report.category_code else None
    )
    if category is None:
        return None
    cal = deadlines.working_calendar()
    start = _assigned_at(report)
    new_sla = calendar.due_at(category, new, start, cal)
    if report.due_at is None:
        return new_sla
    granted = cal.working_seconds_between(calendar.due_at(category, old, start, cal), report.due_at)
    return cal.add_working_seconds(new_sla, granted) if granted > 0 else new_sla


def change_urgency(user: User, report: Report, urgency: str, reason: str) -> None:
    """The IOC reclassifies the report (urgent/normal/complex) with a reason.

    The deadline follows the new class, but the past stays: the overdue and escalation
    stamps are never cleared, and a report already past its deadline keeps that deadline
    when the new class would give a later one (it stays on the overdue list; more time for
    a late report is an extension, asked by the agency, decided by the IOC and counted as
    such). An earlier deadline always applies.
    """
    require(user, Action.CHANGE_URGENCY, report)
    if urgency not in URGENCIES:
        raise ValidationError(_l("Mức độ không hợp lệ."), field="urgency")
    if urgency == report.urgency:
        raise ValidationError(_l("Mức độ không thay đổi."), field="urgency")
    note = action_text.required(reason, "reason", _l("lý do"))
    now = utcnow()
    old, old_due = report.urgency, report.due_at
    was_overdue = (
        report.overdue
        or report.escalated_at is not None
        or (old_due is not None and old_due <= now)
    )
    kept = False
    if report.agency_id is not None and report.is_open:
        new_due = _reclassified_due(report, old, urgency)
        if was_overdue and old_due is not None and (new_due is None or new_due > old_due):
            kept = True
        elif new_due is not None:
            report.due_at = new_due
            report.original_due_at = report.original_due_at or new_due
            if report.reminded_at is None:
                cal = deadlines.working_calendar()
                start = _assigned_at(report)
                total = max(cal.working_seconds_between(start, new_due), 0.0)
                share = current_app.config["REMINDER_AT_FRACTION"]
                report.remind_at = cal.add_working_seconds(start, total * share)
    report.urgency = urgency
    workflow.record_event(
        report,
        "urgency",
        actor=user,
        note=note,
        data={
            "from": old,
            "to": urgency,
            "due_before": _iso(old_due),
            "due_after": _iso(report.due_at),
            "was_overdue": was_overdue,
            "deadline_kept": kept,
        },
    )
    db.session.commit()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _open_extension_request(report: Report) -> ReportEvent | None:
    """The event of the extension request waiting for a decision, if any."""
    if report.extension_status != "requested":
        return None
    return next((e for e in reversed(report.events) if e.kind == "extension_request"), None)


def request_extension(user: User, report: Report, days: int, reason: str) -> None:
    """The agency asks the IOC for more working days; nothing moves until the IOC decides.

    One request at a time (a waiting request cannot be replaced under the IOC's eyes), of
    1 to MAX_EXTENSION_DAYS working days, while the agency holds the report.
    """
    require(user, Action.REQUEST_EXTENSION, report)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_EXTENSION_DAYS:
        raise ValidationError(
            _l("Số ngày gia hạn từ 1 đến %(days)s ngày làm việc.", days=MAX_EXTENSION_DAYS),
            field="days",
        )
    if report.extension_status == "requested":
        raise ValidationError(
            _l("Đã có một yêu cầu gia hạn đang chờ IOC quyết định."),
        )
    if report.due_at is None or report.status not in EXTENDABLE:
        raise ValidationError(
            _l("Chỉ xin gia hạn khi phản ánh đang được xử lý và có hạn xử lý."),
        )
    reason = action_text.required(reason, "reason", _l("lý do gia hạn"))
    cal = deadlines.working_calendar()
    report.extension_status = "requested"
    report.extension_reason = reason
    # What the IOC is asked to approve (shown to it); due_at moves only on its decision.
    report.extension_until = cal.add_working_days(report.due_at, days)
    workflow.record_event(
        report,
        "extension_request",
        actor=user,
        note=reason,
        data={"days": days, "due_at": _iso(report.due_at), "until": _iso(report.extension_until)},
    )
    db.session.commit()


def decide_extension(user: User, report: Report, approve: bool, note: str | None = None) -> None:
    """The IOC approves (the deadline moves) or refuses an extension; never its requester.

    The approved days count from the deadline as it is at the decision (it may have moved
    since the request, e.g. while waiting for the resident). The report keeps its overdue
    mark; only the sweep's escalation stamp is reset, so a new deadline missed is escalated
    again (the escalation event stays in the history).
    """
    require(user, Action.DECIDE_EXTENSION, report)
    request = _open_extension_request(report)
    if report.extension_status != "requested":
        raise ValidationError(_l("Không có yêu cầu gia hạn."))
    if request is not None and request.actor_id == user.id:
        raise PermissionDenied(
            _l("Người xin gia hạn không thể tự quyết định yêu cầu của mình."),
        )
    report.extension_status = "approved" if approve else "refused"
    data: dict[str, Any] = {"approved": approve}
    if approve:
        days = (request.data or {}).get("days") if request is not None else None
        if isinstance(days, int) and report.due_at is not None:
            report.extension_until = deadlines.working_calendar().add_working_days(
                report.due_at, days
            )
        report.original_due_at = report.original_due_at or report.due_at
        data["due_before"] = _iso(report.due_at)
        report.due_at = report.extension_until or report.due_at
        report.reminded_at = None
        report.remind_at = None
        if report.escalated_at is not None and report.due_at and report.due_at > utcnow():
            data["escalated_at"] = _iso(report.escalated_at)
            report.escalated_at = None
    data["due_at"] = _iso(report.due_at)
    workflow.record_event(report, "extension_decision", actor=user, note=note, data=data)
    db.session.commit()

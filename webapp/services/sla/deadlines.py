"""Deadlines: the SLA hook that sets `due_at` in working time, and the reminder moment."""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from webapp.extensions import db
from webapp.models import Category, Report
from webapp.services.sla import calendar


def working_calendar() -> calendar.WorkingCalendar:
    """The province's working calendar (holidays, office hours), loaded once per app."""
    cal = current_app.extensions.get("working_calendar")
    if cal is None:
        cal = current_app.extensions["working_calendar"] = calendar.load_calendar()
    return cal


def due_for(report: Report, start: datetime) -> datetime | None:
    """When the report must be handled, from its category's SLA and urgency."""
    category = report.category or (
        db.session.get(Category, report.category_code) if report.category_code else None
    )
    if category is None:
        return None
    return calendar.due_at(category, report.urgency, start, working_calendar())


def set_deadline(report: Report, start: datetime) -> None:
    """Set due_at and the reminder moment (a share of the working time, e.g. 75 %)."""
    report.due_at = due_for(report, start)
    report.original_due_at = report.original_due_at or report.due_at
    report.reminded_at = report.escalated_at = None
    report.overdue = False
    if report.due_at is None:
        report.remind_at = None
        return
    cal = working_calendar()
    total = max(cal.working_seconds_between(start, report.due_at), 0.0)
    share = current_app.config["REMINDER_AT_FRACTION"]
    report.remind_at = cal.add_working_seconds(start, total * share)

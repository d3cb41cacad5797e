"""Deadlines: the SLA hook that sets `due_at` in working time."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app

from webapp.extensions import db
from webapp.models import Category, Report


def working_calendar():
    """The province's working calendar (holidays, office hours), loaded once per app."""
    from webapp.services import calendar

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
    try:
        from webapp.services import calendar
    except ImportError:  # pragma: no cover - calendar arrives with the deadlines issue
        return start + timedelta(days=category.sla_normal_days)
    return calendar.due_at(category, report.urgency, start, working_calendar())

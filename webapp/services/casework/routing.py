"""Routing: category × commune/ward → agency, most specific rule first."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, or_, select

from webapp.extensions import db
from webapp.models import Agency, Category, Report, ReportEvent, ReportStatus, RoutingRule, User
from webapp.models.types import utcnow
from webapp.services.casework import workflow
from webapp.services.sla import deadlines


def route(category_code: str | None, unit_code: str | None) -> Agency | None:
    """The agency for a category in a unit: exact rule, then province-wide, then fallback."""
    specificity = case(
        (RoutingRule.category_code.is_not(None) & RoutingRule.unit_code.is_not(None), 0),
        (RoutingRule.category_code.is_not(None), 1),
        (RoutingRule.unit_code.is_not(None), 2),
        else_=3,
    )
    rule = db.session.scalar(
        select(RoutingRule)
        .join(RoutingRule.agency)
        .where(
            RoutingRule.active,
            Agency.active,
            or_(RoutingRule.category_code == category_code, RoutingRule.category_code.is_(None)),
            or_(RoutingRule.unit_code == unit_code, RoutingRule.unit_code.is_(None)),
        )
        .order_by(specificity, RoutingRule.priority, RoutingRule.id)
        .limit(1)
    )
    return rule.agency if rule else None


def assign(
    report: Report,
    agency: Agency,
    *,
    actor: User | None = None,
    actor_label: str | None = None,
    note: str | None = None,
) -> ReportEvent:
    """Give the report to an agency, set its deadline, and move it to `assigned`."""
    report.agency = agency
    category = report.category or db.session.get(Category, report.category_code)
    report.urgency = report.urgency or (category.default_urgency if category else None)
    deadlines.set_deadline(report, utcnow())
    return workflow.transition(
        report,
        ReportStatus.ASSIGNED,
        actor=actor,
        actor_label=actor_label,
        note=note,
        data={"agency": agency.code, "due_at": _iso(report.due_at)},
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None

"""Routing: category × commune/ward → agency, most specific rule first."""

from __future__ import annotations

from sqlalchemy import case, or_, select

from webapp.extensions import db
from webapp.models import Agency, RoutingRule


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

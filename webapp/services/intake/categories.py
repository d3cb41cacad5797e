"""The categories a resident chooses from: the active ones, and the one shown for a report."""

from __future__ import annotations

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Category, Report


def active_names() -> dict[str, str]:
    """The active categories in display order: code → Vietnamese name."""
    rows = db.session.scalars(
        select(Category).where(Category.active).order_by(Category.sort_order, Category.code)
    )
    return {c.code: c.name_vi for c in rows}


def shown_name(report: Report) -> str | None:
    """The name of the report's category, else of the one suggested for it; None if neither."""
    category = report.category or db.session.get(
        Category, report.category_hint or report.category_code or ""
    )
    return category.name_vi if category else None

"""The categories a resident chooses from: the active ones, and the one shown for a report."""

from __future__ import annotations

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Category, Report


def active_names(locale: str = "vi") -> dict[str, str]:
    """The active categories in display order: code → name in `locale`."""
    rows = db.session.scalars(
        select(Category).where(Category.active).order_by(Category.sort_order, Category.code)
    )
    return {c.code: c.label(locale) for c in rows}


def shown_name(report: Report, locale: str = "vi") -> str | None:
    """The name of the report's category, else of the one suggested for it; None if neither."""
    category = report.category or db.session.get(
        Category, report.category_hint or report.category_code or ""
    )
    return category.label(locale) if category else None

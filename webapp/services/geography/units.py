"""Administrative units by code: the names residents are shown."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import AdminUnit


def full_name(code: str | None) -> str | None:
    """The unit's full name ("Phường Hải Châu"); None for no code or an unknown one."""
    unit = db.session.get(AdminUnit, code) if code else None
    return unit.full_name if unit else None


def province_name() -> str | None:
    """The full name of the province this instance serves; None before it is imported."""
    return full_name(current_app.config["PROVINCE_CODE"])


def wards(province: str | None = None) -> list[AdminUnit]:
    """The communes and wards (of `province`, else all), by name."""
    stmt = select(AdminUnit).where(AdminUnit.level == "ward")
    if province is not None:
        stmt = stmt.where(AdminUnit.parent_code == province)
    return list(db.session.scalars(stmt.order_by(AdminUnit.name, AdminUnit.code)))

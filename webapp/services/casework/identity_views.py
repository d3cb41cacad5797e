"""The resident's identity as shown to IOC roles, and the log of every such view."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from webapp.errors import PermissionDenied
from webapp.extensions import db
from webapp.models import Report, Role, User
from webapp.models.audit import IdentityView
from webapp.permissions import Action, require

if TYPE_CHECKING:
    from webapp.services.ioc.queries import Page


@dataclass(frozen=True)
class IdentityCard:
    """The resident's identity as shown to the IOC on a report."""

    name: str | None
    phone: str | None
    phone_verified: bool
    email: str | None
    email_confirmed: bool
    channel: str | None
    external_id: str | None
    locked: bool

    @property
    def fields(self) -> list[str]:
        """Which kinds of personal data the card shows."""
        shown = (
            ("name", self.name),
            ("phone", self.phone),
            ("email", self.email),
            ("messenger", self.external_id),
        )
        return [kind for kind, value in shown if value]


def identity_card(user: User, report: Report, context: str = "report_page") -> IdentityCard | None:
    """The resident's identity for a user allowed to see it; every look is recorded.

    Returns None for an anonymous report. The record (who, when, which report and resident,
    which fields) is committed before the identity is handed out.
    """
    require(user, Action.VIEW_IDENTITY, report)
    resident, identity = report.resident, report.identity
    if resident is None and identity is None:
        return None
    card = IdentityCard(
        name=(resident.display_name if resident else None)
        or (identity.display_name if identity else None),
        phone=resident.phone if resident else None,
        phone_verified=bool(resident and resident.phone_verified_at),
        email=resident.email if resident else None,
        email_confirmed=bool(resident and resident.email_confirmed_at),
        channel=identity.channel if identity else None,
        external_id=identity.external_id if identity else None,
        locked=bool(resident and resident.locked),
    )
    if card.fields:
        db.session.add(
            IdentityView(
                user_id=user.id,
                report_id=report.id,
                report_code=report.code,
                resident_id=resident.id if resident else None,
                context=context,
                fields=card.fields,
            )
        )
        db.session.commit()
    return card


@dataclass
class IdentityViewFilter:
    """The filters of the identity-view log: whose looks, and from/to which local day."""

    user_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None


def identity_view_log(
    viewer: User, f: IdentityViewFilter, page: int = 1, per_page: int = 50
) -> Page:
    """One page of the identity-view log, newest first; for administrators only."""
    from webapp.services.ioc import queries

    if viewer.role_enum is not Role.ADMIN:
        raise PermissionDenied(_l("Chỉ dành cho quản trị viên."))
    stmt = select(IdentityView)
    if f.user_id:
        stmt = stmt.where(IdentityView.user_id == f.user_id)
    if f.date_from:
        start = datetime.combine(f.date_from, time(), queries.LOCAL_TZ)
        stmt = stmt.where(IdentityView.created_at >= start)
    if f.date_to:
        end = datetime.combine(f.date_to + timedelta(days=1), time(), queries.LOCAL_TZ)
        stmt = stmt.where(IdentityView.created_at < end)
    stmt = stmt.order_by(IdentityView.created_at.desc(), IdentityView.id.desc())
    return queries.paginate(stmt, page, per_page)


def identity_viewers() -> list[User]:
    """Accounts that may see identities (the IOC roles), for the log's filter."""
    roles = [r.value for r in Role if r.is_ioc]
    return list(db.session.scalars(select(User).where(User.role.in_(roles)).order_by(User.name)))

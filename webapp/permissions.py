"""Who may see and do what. One module, checked at the service boundary, tested on its own.

Agency roles see only their agency's reports (a lead also those of sub-agencies) and never
the resident's identity; IOC roles see the whole province; only operators and admins act
on triage, transfers and moderation.

Deadlines belong to the IOC: an agency asks for more time (REQUEST_EXTENSION, agency roles
only) and the IOC decides (DECIDE_EXTENSION) or reclassifies (CHANGE_URGENCY); no agency
role can move its own deadline.
"""

from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, false, or_, select

from webapp.errors import NotFound, PermissionDenied
from webapp.extensions import db
from webapp.models import Agency, Report, ReportEvent, ReportStatus, Role, User


class Action(StrEnum):
    """Everything a back-office user can do to a report."""

    VIEW = "view"
    ACCEPT = "accept"
    ASSIGN_PERSON = "assign_person"
    REPLY = "reply"
    REQUEST_INFO = "request_info"
    RESOLVE = "resolve"
    TRANSFER = "transfer"
    CONFIRM_TRANSFER = "confirm_transfer"
    REJECT = "reject"
    MARK_DUPLICATE = "mark_duplicate"
    REQUEST_EXTENSION = "request_extension"
    DECIDE_EXTENSION = "decide_extension"
    NOTE = "note"
    CHANGE_URGENCY = "change_urgency"
    TRIAGE = "triage"
    MODERATE = "moderate"
    VIEW_IDENTITY = "view_identity"


AGENCY_WORK = frozenset(
    {
        Action.VIEW,
        Action.ACCEPT,
        Action.REPLY,
        Action.REQUEST_INFO,
        Action.RESOLVE,
        Action.TRANSFER,
        Action.CONFIRM_TRANSFER,
        Action.REJECT,
        Action.MARK_DUPLICATE,
        Action.REQUEST_EXTENSION,
        Action.NOTE,
    }
)
LEAD_ONLY = frozenset({Action.ASSIGN_PERSON})
# Asked by the agency that holds the report, never by the IOC that decides on it.
AGENCY_ONLY = frozenset({Action.REQUEST_EXTENSION})
OPERATOR_WORK = frozenset(
    {
        Action.VIEW,
        Action.TRIAGE,
        Action.CONFIRM_TRANSFER,
        Action.DECIDE_EXTENSION,
        Action.CHANGE_URGENCY,
        Action.MODERATE,
        Action.VIEW_IDENTITY,
        Action.NOTE,
        Action.REJECT,
        Action.MARK_DUPLICATE,
        Action.REPLY,
    }
)


def agency_scope(user: User) -> set[int]:
    """Ids of the agencies whose reports the user handles (empty for IOC roles)."""
    if user.agency is None or user.role_enum.is_ioc:
        return set()
    if user.role_enum is Role.AGENCY_LEAD:
        return user.agency.descendant_ids()
    return {user.agency.id}


def _pending_transfer(report: Report) -> ReportEvent | None:
    """The event of the transfer waiting for confirmation, if any."""
    if report.status != ReportStatus.TRANSFERRED:
        return None
    for event in reversed(report.events):
        if event.kind == "status" and event.to_status == ReportStatus.TRANSFERRED:
            return event
    return None


def _pending_transfer_target(report: Report) -> int | None:
    event = _pending_transfer(report)
    return (event.data or {}).get("to_agency_id") if event is not None else None


def can_see(user: User, report: Report) -> bool:
    """Whether the report is visible to the user at all."""
    if not user.is_authenticated or not user.active:
        return False
    if user.role_enum.is_ioc:
        return True
    scope = agency_scope(user)
    return report.agency_id in scope or _pending_transfer_target(report) in scope


def can(user: User, action: Action | str, report: Report | None = None) -> bool:
    """Whether the user may perform the action (on this report, when given)."""
    action = Action(action)
    if not user.is_authenticated or not user.active:
        return False
    role = user.role_enum
    if report is not None and not can_see(user, report):
        return False
    pending = _pending_transfer(report) if report is not None else None
    pending_target = (pending.data or {}).get("to_agency_id") if pending is not None else None
    if action is Action.CONFIRM_TRANSFER and report is not None:
        if pending_target is None:
            return False  # nothing to confirm
        if pending is not None and pending.actor_id == user.id:
            return False  # a transfer (and the new deadline it brings) is never self-confirmed
    if role is Role.ADMIN:
        return action not in AGENCY_ONLY
    if role is Role.IOC_VIEWER:
        return action in (Action.VIEW, Action.VIEW_IDENTITY)
    if role is Role.IOC_OPERATOR:
        return action in OPERATOR_WORK
    allowed = AGENCY_WORK | (LEAD_ONLY if role is Role.AGENCY_LEAD else frozenset())
    if action not in allowed:
        return False
    if report is None:
        return True
    if action is Action.CONFIRM_TRANSFER:
        return pending_target in agency_scope(user)
    # While a transfer waits, only the receiving side (or the IOC) acts on it.
    if pending_target is not None:
        return action is Action.VIEW
    return report.agency_id in agency_scope(user)


def require(user: User, action: Action | str, report: Report) -> None:
    """Raise NotFound when the report is invisible (no URL guessing), else PermissionDenied."""
    if not can_see(user, report):
        raise NotFound(_l("Không tìm thấy phản ánh."))
    if not can(user, action, report):
        raise PermissionDenied(_l("Bạn không có quyền thực hiện thao tác này."))


def visible_reports(user: User) -> Select:
    """A query of the reports the user may see (to be filtered and paginated)."""
    stmt = select(Report)
    if not user.is_authenticated or not user.active:
        return stmt.where(false())
    if user.role_enum.is_ioc:
        return stmt
    scope = agency_scope(user)
    if not scope:
        return stmt.where(false())
    # Transfers waiting for this agency's confirmation are visible to it too.
    incoming = (
        select(ReportEvent.report_id)
        .where(
            ReportEvent.kind == "status",
            ReportEvent.to_status == ReportStatus.TRANSFERRED,
            ReportEvent.data["to_agency_id"].as_integer().in_(scope),
        )
        .scalar_subquery()
    )
    return stmt.where(
        or_(
            Report.agency_id.in_(scope),
            (Report.status == ReportStatus.TRANSFERRED) & Report.id.in_(incoming),
        )
    )


def assignable_agencies() -> list[Agency]:
    """Agencies a report can be given to (active, not groups)."""
    return list(
        db.session.scalars(
            select(Agency).where(Agency.active, Agency.kind != "group").order_by(Agency.name)
        )
    )

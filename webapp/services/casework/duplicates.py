"""Reports about the same thing: closing one as a duplicate of another, and the reports
near one, shown within what the user may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from webapp.errors import NotFound, ValidationError
from webapp.extensions import db
from webapp.models import Report, ReportStatus, User
from webapp.models.types import utcnow
from webapp.permissions import Action, can_see, require
from webapp.services.casework import workflow
from webapp.services.intake import reports

S = ReportStatus


def find_original(user: User, code: str) -> Report:
    """The report a duplicate would point to, by its code, among those the user may see.

    An unknown code and a report the user may not see get the same answer: the form must not
    tell an agency which codes exist elsewhere.
    """
    try:
        original = reports.get_by_code(code)
    except NotFound:
        original = None
    if original is None or not can_see(user, original):
        raise _no_original()
    return original


def _no_original() -> ValidationError:
    return ValidationError(
        _l("Không tìm thấy phản ánh gốc có mã này."),
        field="original",
    )


def _duplicate_root(original: Report) -> tuple[Report, set[int]]:
    """Follow the chain of reports closed as duplicates to the one still standing."""
    node, chain = original, {original.id}
    while node.status == S.DUPLICATE and node.duplicate_of_id is not None:
        parent = db.session.get(Report, node.duplicate_of_id)
        if parent is None or parent.id in chain:
            raise ValidationError(_l("Chuỗi phản ánh trùng bị vòng lặp."), field="original")
        node = parent
        chain.add(node.id)
    return node, chain


def mark_duplicate(user: User, report: Report, original: Report) -> None:
    """Close as a duplicate; the resident follows the original.

    The original must be visible to the user and, for an agency, its own agency's report
    (across agencies only the IOC decides); a report closed as a duplicate stands for the
    report it points to, and a chain may never come back to this report.
    """
    require(user, Action.MARK_DUPLICATE, report)
    if original.id == report.id:
        raise ValidationError(_l("Không thể trùng với chính nó."))
    root, chain = _duplicate_root(original)
    if report.id in chain:
        raise ValidationError(
            _l("Phản ánh gốc đã được đánh dấu trùng với phản ánh này."),
            field="original",
        )
    for target in {original, root}:
        if not can_see(user, target):
            raise _no_original()
        if target.agency_id != report.agency_id and not user.role_enum.is_ioc:
            raise ValidationError(
                _l("Chỉ IOC mới đánh dấu trùng với phản ánh của cơ quan khác."),
                field="original",
            )
    original = root
    report.duplicate_of_id = original.id
    # The resident follows the original from now on and hears its news.
    if report.identity is not None:
        from webapp.services.intake import followers

        followers.follow(
            original,
            report.identity.channel,
            report.identity.external_id,
            report.identity.display_name,
        )
    workflow.transition(
        report,
        S.DUPLICATE,
        actor=user,
        note=f"Trùng với phản ánh {original.code}.",
        data={"original": original.code},
    )
    db.session.commit()


def _near(report: Report, radius_m: float, days: int) -> list[Report]:
    """Reports close to this one (same H3 neighbourhood, then exact distance), nearest first."""
    if report.lat is None or report.lon is None:
        return []
    from webapp.services.geography.geo_index import distance_m

    here = (report.lat, report.lon)

    since = utcnow() - timedelta(days=days)
    candidates = db.session.scalars(
        select(Report)
        .where(
            Report.id != report.id,
            Report.h3_r6 == report.h3_r6,
            Report.created_at >= since,
            Report.lat.is_not(None),
        )
        .limit(500)
    ).all()
    distance = {
        r.id: distance_m(here, (r.lat, r.lon))
        for r in candidates
        if r.lat is not None and r.lon is not None
    }
    return sorted(
        (r for r in candidates if r.id in distance and distance[r.id] <= radius_m),
        key=lambda r: distance[r.id],
    )


@dataclass(frozen=True)
class Nearby:
    """What a user may be shown of the reports near one report."""

    reports: list[Report]  # those the user may see: code, text, status
    others: int  # those of other agencies: a count only


def nearby_for(
    user: User, report: Report, radius_m: float = 300, days: int = 30, limit: int = 10
) -> Nearby:
    """Nearby reports the user may see, and how many others (other agencies') are near.

    An agency learns that other agencies have reports close by, never their code, text or
    status; IOC roles see them all.
    """
    near = _near(report, radius_m, days)
    visible = [r for r in near if can_see(user, r)]
    return Nearby(visible[:limit], len(near) - len(visible))

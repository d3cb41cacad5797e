"""Following a report: a resident who finds their problem already reported nearby follows
that report instead of filing a duplicate, and gets the same news as its author."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from webapp.errors import ValidationError
from webapp.extensions import db
from webapp.models import OPEN_STATUSES, Report, ReportFollower, Resident, ResidentIdentity
from webapp.services.geography.geo_index import distance_m

METRES_PER_DEGREE = 111_320.0


@dataclass(frozen=True)
class NearbyReport:
    """An open report close to a point, with its distance."""

    report: Report
    distance_m: float


def nearby(
    lat: float,
    lon: float,
    *,
    radius_m: float,
    categories: Iterable[str] | None = None,
    limit: int = 3,
) -> list[NearbyReport]:
    """Open reports within radius_m of the point, in the given likely categories, nearest first.

    A report not classified yet counts by the category its author confirmed in the bot.
    """
    dlat = radius_m / METRES_PER_DEGREE
    dlon = radius_m / (METRES_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
    stmt = select(Report).where(
        Report.status.in_([s.value for s in OPEN_STATUSES]),
        Report.code.is_not(None),
        Report.lat.between(lat - dlat, lat + dlat),
        Report.lon.between(lon - dlon, lon + dlon),
    )
    codes = list(categories or [])
    if codes:
        stmt = stmt.where(
            or_(
                Report.category_code.in_(codes),
                Report.category_code.is_(None) & Report.category_hint.in_(codes),
            )
        )
    found = []
    for report in db.session.scalars(stmt.limit(200)):
        if report.lat is None or report.lon is None:  # the query asked for both
            continue
        distance = distance_m((lat, lon), (report.lat, report.lon))
        if distance <= radius_m:
            found.append(NearbyReport(report, distance))
    found.sort(key=lambda item: item.distance_m)
    return found[:limit]


def identity_for(
    channel: str, external_id: str, display_name: str | None = None
) -> ResidentIdentity:
    """The resident identity of a messenger user, created on first use."""
    identity = db.session.scalar(
        select(ResidentIdentity).filter_by(channel=channel, external_id=external_id)
    )
    if identity is None:
        resident = Resident(display_name=display_name)
        identity = ResidentIdentity(
            resident=resident, channel=channel, external_id=external_id, display_name=display_name
        )
        db.session.add_all([resident, identity])
        db.session.flush()
    return identity


def is_author(report: Report, identity: ResidentIdentity) -> bool:
    """Whether this identity (or another identity of the same resident) filed the report."""
    if report.identity_id is not None and report.identity_id == identity.id:
        return True
    return report.resident_id is not None and report.resident_id == identity.resident_id


def follow(report: Report, channel: str, external_id: str, display_name: str | None = None) -> bool:
    """Follow a report; False when already following it or its author (nothing to do)."""
    if not report.is_open:
        raise ValidationError(
            _l("Phản ánh %(code)s đã kết thúc xử lý, không thể theo dõi thêm.", code=report.code),
        )
    identity = identity_for(channel, external_id, display_name)
    if is_author(report, identity):
        return False
    exists = db.session.scalar(
        select(ReportFollower.id).filter_by(report_id=report.id, identity_id=identity.id)
    )
    if exists:
        return False
    db.session.add(ReportFollower(report=report, identity=identity))
    return True


def follower_identities(report: Report) -> list[ResidentIdentity]:
    """Identities following the report (its author excluded), in the order they joined."""
    identities = db.session.scalars(
        select(ResidentIdentity)
        .join(ReportFollower, ReportFollower.identity_id == ResidentIdentity.id)
        .where(ReportFollower.report_id == report.id)
        .order_by(ReportFollower.id)
    )
    return [i for i in identities if not is_author(report, i)]


def reports_of(channel: str, external_id: str, limit: int = 10) -> list[tuple[Report, bool]]:
    """A messenger user's own reports and the ones they follow, newest first: (report, own)."""
    identity = db.session.scalar(
        select(ResidentIdentity).filter_by(channel=channel, external_id=external_id)
    )
    if identity is None:
        return []
    own = select(Report.id).where(Report.resident_id == identity.resident_id)
    followed = select(ReportFollower.report_id).where(ReportFollower.identity_id == identity.id)
    reports = db.session.scalars(
        select(Report)
        .where(Report.code.is_not(None), or_(Report.id.in_(own), Report.id.in_(followed)))
        .order_by(Report.created_at.desc(), Report.id.desc())
        .limit(limit)
    )
    return [(r, r.resident_id == identity.resident_id) for r in reports]

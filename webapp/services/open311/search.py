"""GET requests: the spec's filters and defaults.

`service_request_id` (comma-separated, at most MAX_IDS) overrides the others; otherwise
`service_code` (comma-separated), `status` (open, closed), and `start_date`/`end_date` (W3C
datetimes): by default the last 90 days, and never a span longer than 90 days. At most
MAX_REQUESTS, newest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.errors import ValidationError
from webapp.extensions import db
from webapp.models import OPEN_STATUSES, Report
from webapp.models.types import utcnow

SPAN = timedelta(days=90)
MAX_IDS = 200
MAX_REQUESTS = 1000
OPEN = [s.value for s in OPEN_STATUSES]


@dataclass(frozen=True)
class RequestQuery:
    """The filters of one GET requests."""

    ids: list[str]
    codes: list[str]
    statuses: list[str]
    start: datetime
    end: datetime


def _list(value: str | None, limit: int = 50) -> list[str]:
    items = [v.strip() for v in (value or "").split(",") if v.strip()]
    return [v[:40] for v in items[:limit]]


def _moment(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip()[:40])
    except ValueError:
        raise ValidationError(
            _l("%(name)s phải là thời điểm dạng W3C, ví dụ 2026-12-01T00:00:00Z.", name=name),
            field=name,
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse(args: Any) -> RequestQuery:
    """The filters from the query string; ValidationError (400) on a bad one."""
    start = _moment(args.get("start_date"), "start_date")
    end = _moment(args.get("end_date"), "end_date")
    if start is None:
        end = end or utcnow()
        start = end - SPAN
    elif end is None:
        end = start + SPAN
    if end < start or end - start > SPAN:
        raise ValidationError(
            _l("Khoảng thời gian phải từ start_date đến end_date, không quá 90 ngày."),
            field="start_date",
        )
    statuses = _list(args.get("status"))
    if any(s not in ("open", "closed") for s in statuses):
        raise ValidationError(_l("status chỉ nhận open hoặc closed."), field="status")
    return RequestQuery(
        ids=_list(args.get("service_request_id"), MAX_IDS),
        codes=_list(args.get("service_code")),
        statuses=statuses,
        start=start,
        end=end,
    )


def find(query: RequestQuery) -> list[Report]:
    """The reports the filters select, newest first."""
    stmt = select(Report).where(Report.code.is_not(None))
    if query.ids:
        stmt = stmt.where(Report.code.in_([i.upper() for i in query.ids]))
    else:
        stmt = stmt.where(Report.created_at >= query.start, Report.created_at <= query.end)
        if query.codes:
            stmt = stmt.where(Report.category_code.in_(query.codes))
        if query.statuses == ["open"]:
            stmt = stmt.where(Report.status.in_(OPEN))
        elif query.statuses == ["closed"]:
            stmt = stmt.where(Report.status.not_in(OPEN))
    stmt = (
        stmt.order_by(Report.created_at.desc(), Report.id.desc())
        .limit(MAX_REQUESTS)
        # What each request's view reads, in one query per relation, not one per report.
        .options(*(selectinload(r) for r in (Report.category, Report.agency, Report.unit)))
        .options(selectinload(Report.photos), selectinload(Report.events))
    )
    return list(db.session.scalars(stmt))

"""Filtered, sorted, paginated report lists for the back office (and exports later)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, or_, select

from webapp.extensions import db
from webapp.models import OPEN_STATUSES, Report
from webapp.models.types import utcnow
from webapp.services.gazetteer import fold

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DUE_SOON = timedelta(hours=24)


@dataclass
class ReportFilter:
    """What a list asks for; every field optional."""

    status: str | None = None
    category: str | None = None
    unit: str | None = None
    agency_id: int | None = None
    due: str | None = None  # soon | overdue
    date_from: date | None = None
    date_to: date | None = None
    q: str | None = None
    sort: str = "due"  # due | new | old

    @classmethod
    def from_args(cls, args) -> ReportFilter:
        """Build from request arguments, ignoring what does not parse."""

        def _date(name: str) -> date | None:
            try:
                return date.fromisoformat(args.get(name, ""))
            except ValueError:
                return None

        agency = args.get("agency", "")
        return cls(
            status=args.get("status") or None,
            category=args.get("category") or None,
            unit=args.get("unit") or None,
            agency_id=int(agency) if agency.isdigit() else None,
            due=args.get("due") if args.get("due") in ("soon", "overdue") else None,
            date_from=_date("from"),
            date_to=_date("to"),
            q=(args.get("q") or "").strip() or None,
            sort=args.get("sort") if args.get("sort") in ("due", "new", "old") else "due",
        )


def apply(stmt: Select, f: ReportFilter) -> Select:
    """Apply the filter and the sort order to a report query."""
    now = utcnow()
    if f.status == "open":
        stmt = stmt.where(Report.status.in_(OPEN_STATUSES))
    elif f.status:
        stmt = stmt.where(Report.status == f.status)
    if f.category:
        stmt = stmt.where(Report.category_code == f.category)
    if f.unit:
        stmt = stmt.where(Report.unit_code == f.unit)
    if f.agency_id:
        stmt = stmt.where(Report.agency_id == f.agency_id)
    if f.due == "overdue":
        stmt = stmt.where(Report.due_at < now, Report.status.in_(OPEN_STATUSES))
    elif f.due == "soon":
        stmt = stmt.where(
            Report.due_at >= now, Report.due_at < now + DUE_SOON, Report.status.in_(OPEN_STATUSES)
        )
    if f.date_from:
        stmt = stmt.where(Report.created_at >= datetime.combine(f.date_from, time(), LOCAL_TZ))
    if f.date_to:
        end = datetime.combine(f.date_to + timedelta(days=1), time(), LOCAL_TZ)
        stmt = stmt.where(Report.created_at < end)
    if f.q:
        # "duong" finds "đường": the text is stored folded (no diacritics, lower case).
        needle = fold(f.q)
        stmt = stmt.where(
            or_(Report.search_text.contains(needle), Report.code == f.q.upper().strip())
        )
    if f.sort == "new":
        stmt = stmt.order_by(Report.created_at.desc())
    elif f.sort == "old":
        stmt = stmt.order_by(Report.created_at)
    else:
        stmt = stmt.order_by(Report.due_at.is_(None), Report.due_at, Report.created_at)
    return stmt


@dataclass
class Page:
    """One page of results."""

    items: list[Report]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """Number of pages."""
        return max(1, -(-self.total // self.per_page))


def paginate(stmt: Select, page: int = 1, per_page: int = 25) -> Page:
    """Run the query for one page."""
    page = max(page, 1)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = list(db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)))
    return Page(items, total or 0, page, per_page)


def sla_badge(report: Report, now: datetime | None = None) -> str:
    """on_time | due_soon | overdue | none (for the queue's colour badges)."""
    if report.due_at is None or not report.is_open:
        return "none"
    now = now or utcnow()
    if report.due_at < now:
        return "overdue"
    if report.due_at < now + DUE_SOON:
        return "due_soon"
    return "on_time"

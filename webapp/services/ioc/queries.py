"""Filtered, sorted, paginated report lists for the back office (and exports later)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import h3
from sqlalchemy import ColumnElement, Select, and_, func, not_, or_, select

from config.settings import VN_TZ
from webapp.extensions import db
from webapp.infra.text import fold
from webapp.models import OPEN_STATUSES, Category, Report
from webapp.models.types import utcnow
from webapp.services.geography import units
from webapp.services.geography.geo_index import CELL_RESOLUTIONS
from webapp.services.intake.serializers import STATUS_LABELS

LOCAL_TZ = VN_TZ
DUE_SOON = timedelta(hours=24)
# What became of a report, for the KPI figures and the lists behind them (see `outcome_clause`).
OUTCOMES = ("resolved", "on_time", "late", "late_extension", "no_deadline")
# The dates a filter or a period may name: far enough from date.min/max that the day after,
# the week and the month of any of them never overflow.
DATE_MIN = date(2000, 1, 1)
DATE_MAX = date(2100, 12, 31)
MAX_ID = 2**31 - 1  # an INTEGER primary key
# C0 control characters other than tab and newlines (and DEL): never part of honest text, and
# PostgreSQL refuses NUL in a string.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DIGITS = re.compile(r"[0-9]{1,10}")
_H3_CELL = re.compile(r"[0-9a-f]{15}")
_TEXT_MAX = 500


def parse_date(value: object) -> date | None:
    """A YYYY-MM-DD date from DATE_MIN to DATE_MAX; None for anything else."""
    if isinstance(value, date) and not isinstance(value, datetime):
        day = value
    elif isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    return day if DATE_MIN <= day <= DATE_MAX else None


def parse_id(value: object) -> int | None:
    """A positive INTEGER key written in ASCII digits ("²", "1e3", " 1", "-1": None)."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if isinstance(text, str) and _DIGITS.fullmatch(text) and 1 <= int(text) <= MAX_ID:
        return int(text)
    return None


def _clean(value: object, choices: tuple[str, ...] | None = None) -> str | None:
    """A short text without control characters (and among the choices, if given), or None."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > _TEXT_MAX or CONTROL_CHARS.search(value):
        return None
    return value if choices is None or value in choices else None


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
    outcome: str | None = None  # one of OUTCOMES
    cell: str | None = None  # an H3 cell of resolution 6, 8 or 10 (a heatmap cell)

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> ReportFilter:
        """Build from request arguments (or a stored dict), ignoring what does not parse.

        The pages parse their query strings with `webapp.blueprints.params`; this stays safe on
        its own for the stored arguments of background exports.
        """
        cell = (_clean(args.get("cell")) or "").lower()
        return cls(
            status=_clean(args.get("status")),
            category=_clean(args.get("category")),
            unit=_clean(args.get("unit")),
            agency_id=parse_id(args.get("agency")),
            due=_clean(args.get("due"), ("soon", "overdue")),
            date_from=parse_date(args.get("from")),
            date_to=parse_date(args.get("to")),
            q=_clean(args.get("q")),
            sort=_clean(args.get("sort"), ("due", "new", "old")) or "due",
            outcome=_clean(args.get("outcome"), OUTCOMES),
            cell=cell if valid_cell(cell) else None,
        )

    def to_args(self) -> dict[str, str]:
        """The request arguments that give this filter back (for links to /bo/ and exports)."""
        values = {
            "status": self.status,
            "category": self.category,
            "unit": self.unit,
            "agency": str(self.agency_id) if self.agency_id else None,
            "due": self.due,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "q": self.q,
            "outcome": self.outcome,
            "cell": self.cell,
        }
        return {k: v for k, v in values.items() if v}


def valid_cell(cell: str) -> bool:
    """Whether the text is an H3 cell of a stored resolution (6, 8 or 10)."""
    if not isinstance(cell, str) or not _H3_CELL.fullmatch(cell):
        return False
    try:
        return h3.is_valid_cell(cell) and h3.get_resolution(cell) in CELL_RESOLUTIONS
    except (ValueError, TypeError, OverflowError):  # h3 raises on malformed strings
        return False


def deadline_expr() -> ColumnElement:
    """The first deadline a report was given (an approved extension moves only due_at)."""
    return func.coalesce(Report.original_due_at, Report.due_at)


def outcome_clause(outcome: str) -> ColumnElement[bool]:
    """Resolved reports by outcome, measured against the first deadline.

    on_time: resolved_at <= original_due_at; late_extension: later than that, but by the
    deadline of an approved extension (due_at); late: every other resolution after the first
    deadline; no_deadline: resolved without ever having had one (not in the on-time rate).
    """
    resolved = Report.resolved_at.is_not(None)
    deadline = deadline_expr()
    if outcome == "resolved":
        return resolved
    if outcome == "no_deadline":
        return and_(resolved, deadline.is_(None))
    if outcome == "on_time":
        return and_(resolved, deadline.is_not(None), Report.resolved_at <= deadline)
    extended = and_(
        func.coalesce(Report.extension_status, "") == "approved",
        Report.resolved_at <= func.coalesce(Report.due_at, deadline),
    )
    after_first = and_(resolved, deadline.is_not(None), Report.resolved_at > deadline)
    if outcome == "late_extension":
        return and_(after_first, extended)
    if outcome == "late":
        return and_(after_first, not_(extended))
    raise ValueError(f"unknown outcome {outcome!r}")


def overdue_clause(now: datetime | None = None) -> ColumnElement[bool]:
    """Still open and past its (possibly extended) deadline."""
    return and_(Report.due_at < (now or utcnow()), Report.status.in_(OPEN_STATUSES))


def cell_clause(cell: str) -> ColumnElement[bool]:
    """Reports whose stored H3 cell of the cell's resolution is that cell."""
    return getattr(Report, f"h3_r{h3.get_resolution(cell)}") == cell


def apply(stmt: Select, f: ReportFilter) -> Select:
    """Apply the filter and the sort order to a report query."""
    stmt = where(stmt, f)
    if f.sort == "new":
        stmt = stmt.order_by(Report.created_at.desc())
    elif f.sort == "old":
        stmt = stmt.order_by(Report.created_at)
    else:
        stmt = stmt.order_by(Report.due_at.is_(None), Report.due_at, Report.created_at)
    return stmt


def where(stmt: Select, f: ReportFilter, now: datetime | None = None) -> Select:
    """Apply the filter only (no order): also for aggregates over the same reports."""
    now = now or utcnow()
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
        stmt = stmt.where(overdue_clause(now))
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
    if f.outcome:
        stmt = stmt.where(outcome_clause(f.outcome))
    if f.cell:
        stmt = stmt.where(cell_clause(f.cell))
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


def filter_choices() -> dict[str, Any]:
    """What the report filters offer: categories, communes/wards, statuses (with labels)."""
    return {
        "categories": db.session.scalars(select(Category).order_by(Category.sort_order)).all(),
        "units": units.wards(),
        "statuses": STATUS_LABELS,
    }

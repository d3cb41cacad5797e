"""KPIs of report handling: per agency, category and ward, weekly trends, public ranking.

Every figure is computed over the reports *received in the period* (created_at in it, local
time), with the same `ReportFilter` the back-office list uses, so each figure links to the list
of exactly the reports behind it (`Kpi.link_args`):

- received: all of them; resolved: resolved_at set; open: still in an open status;
- overdue: open and past their (possibly extended) deadline, now;
- on time / late / late with an approved extension: see `queries.outcome_clause`;
- on-time rate: on time / (on time + late + late with extension + overdue), so a unit cannot
  improve its rate by leaving reports overdue instead of resolving them late;
- medians of the time to first response and to resolution (percentile_cont on PostgreSQL,
  computed in Python on SQLite), and the average satisfaction rating (1–5).
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import QueryableAttribute

from webapp.extensions import db
from webapp.infra import i18n
from webapp.models import OPEN_STATUSES, AdminUnit, Agency, Category, Report
from webapp.models.types import utcnow
from webapp.services.ioc import queries, rollup
from webapp.services.ioc.queries import LOCAL_TZ, ReportFilter
from webapp.services.ioc.rollup import kpi as rollup_kpi

DIMENSIONS = ("agency", "category", "unit")
# The figure → the extra list arguments that select the reports behind it.
FIGURES: dict[str, dict[str, str]] = {
    "received": {},
    "resolved": {"outcome": "resolved"},
    "open": {"status": "open"},
    "overdue": {"due": "overdue"},
    "on_time": {"outcome": "on_time"},
    "late": {"outcome": "late"},
    "late_extension": {"outcome": "late_extension"},
    "no_deadline": {"outcome": "no_deadline"},
}
FIGURE_QUERIES = {name: urlencode(args) for name, args in FIGURES.items()}
UNKNOWN_LABELS = {
    "agency": _l("Chưa giao cơ quan"),
    "category": _l("Chưa phân loại"),
    "unit": _l("Chưa xác định xã/phường"),
}
_MONTH = re.compile(r"([0-9]{4})-([0-9]{1,2})")


def local_today(now: datetime | None = None) -> date:
    """Today's date in Vietnam."""
    return (now or utcnow()).astimezone(LOCAL_TZ).date()


@dataclass(frozen=True)
class Period:
    """Days from `start` to `end`, both included, in local time."""

    start: date
    end: date

    @classmethod
    def month_of(cls, day: date) -> Period:
        """The calendar month holding the day."""
        first = day.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return cls(first, following - timedelta(days=1))

    @classmethod
    def week_of(cls, day: date) -> Period:
        """The Monday-to-Sunday week holding the day."""
        monday = day - timedelta(days=day.weekday())
        return cls(monday, monday + timedelta(days=6))

    @classmethod
    def last_week(cls, now: datetime | None = None) -> Period:
        """The last full week before the current one (for the weekly summary)."""
        return cls.week_of(local_today(now) - timedelta(days=7))

    @classmethod
    def between(cls, start: date | None, end: date | None, now: datetime | None = None) -> Period:
        """From start to end (swapped if reversed); by default the current month up to today.

        The dates must already be checked (`queries.parse_date`: 2000-2100).
        """
        today = local_today(now)
        start = start or today.replace(day=1)
        end = end or max(today, start)
        if end < start:
            start, end = end, start
        return cls(start, end)

    @classmethod
    def from_args(cls, args: Mapping[str, Any], now: datetime | None = None) -> Period:
        """?from=&to= (ISO dates from 2000 to 2100; anything else is ignored)."""
        return cls.between(
            queries.parse_date(args.get("from")), queries.parse_date(args.get("to")), now
        )

    def to_args(self) -> dict[str, str]:
        """The list arguments of the period."""
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}

    def filter(self, base: ReportFilter | None = None) -> ReportFilter:
        """The base filter restricted to the reports received in the period."""
        return replace(base or ReportFilter(), date_from=self.start, date_to=self.end)


@dataclass
class Kpi:
    """The figures of one row (an agency, a category, a ward, a week, or the total)."""

    key: Any
    label: str
    received: int = 0
    resolved: int = 0
    open: int = 0
    overdue: int = 0
    on_time: int = 0
    late: int = 0
    late_extension: int = 0
    no_deadline: int = 0
    rating_avg: float | None = None
    rating_count: int = 0
    median_first_response_s: float | None = None
    median_resolution_s: float | None = None
    # The list arguments selecting this row's reports (period included); None: no list.
    args: dict[str, str] | None = field(default_factory=dict)
    _query: str | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def measured(self) -> int:
        """Reports that count in the on-time rate."""
        return self.on_time + self.late + self.late_extension + self.overdue

    @property
    def on_time_rate(self) -> float | None:
        """Share of measured reports resolved by their first deadline (None: nothing measured)."""
        return self.on_time / self.measured if self.measured else None

    def link_args(self, figure: str) -> dict[str, str] | None:
        """The list arguments of the reports behind one figure (None: no list for this row)."""
        if self.args is None:
            return None
        return {**self.args, **FIGURES[figure]}

    def link_query(self, figure: str) -> str | None:
        """link_args as the list's query string ("?…"): one page links ~1,600 figures, so
        the row's part is encoded once and the figure's part is a constant."""
        if self.args is None:
            return None
        if self.args.keys() & FIGURES[figure].keys():  # the figure's own value wins
            return f"?{urlencode({**self.args, **FIGURES[figure]})}"
        if self._query is None:
            self._query = urlencode(self.args)
        parts = [part for part in (self._query, FIGURE_QUERIES[figure]) if part]
        return "?" + "&".join(parts) if parts else ""


def _count(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _aggregates(now: datetime) -> list:
    return [
        func.count().label("received"),
        _count(queries.outcome_clause("resolved")).label("resolved"),
        _count(Report.status.in_(OPEN_STATUSES)).label("open"),
        _count(queries.overdue_clause(now)).label("overdue"),
        _count(queries.outcome_clause("on_time")).label("on_time"),
        _count(queries.outcome_clause("late")).label("late"),
        _count(queries.outcome_clause("late_extension")).label("late_extension"),
        _count(queries.outcome_clause("no_deadline")).label("no_deadline"),
        func.avg(Report.rating).label("rating_avg"),
        func.count(Report.rating).label("rating_count"),
    ]


def _is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _seconds_between(
    later: QueryableAttribute[datetime | None], earlier: QueryableAttribute[datetime]
) -> ColumnElement[Any]:
    return func.extract("epoch", later - earlier)


def _median_columns() -> list:
    return [
        func.percentile_cont(0.5)
        .within_group(_seconds_between(Report.first_response_at, Report.created_at))
        .label("median_first_response_s"),
        func.percentile_cont(0.5)
        .within_group(_seconds_between(Report.resolved_at, Report.created_at))
        .label("median_resolution_s"),
    ]


def _python_medians(
    key_expr: ColumnElement[Any] | QueryableAttribute[Any] | None, f: ReportFilter, now: datetime
) -> dict[Any, tuple]:
    """Medians per key computed in Python (SQLite has no percentile_cont)."""
    keyed = [key_expr] if key_expr is not None else []
    stmt = select(*keyed, Report.created_at, Report.first_response_at, Report.resolved_at).where(
        (Report.first_response_at.is_not(None)) | (Report.resolved_at.is_not(None))
    )
    first: dict[Any, list[float]] = defaultdict(list)
    resolution: dict[Any, list[float]] = defaultdict(list)
    for row in db.session.execute(queries.where(stmt, f, now)):
        key = row[0] if keyed else None
        created, responded, resolved = row[-3:]
        if responded is not None:
            first[key].append((responded - created).total_seconds())
        if resolved is not None:
            resolution[key].append((resolved - created).total_seconds())
    keys = set(first) | set(resolution)
    return {
        k: (
            statistics.median(first[k]) if first[k] else None,
            statistics.median(resolution[k]) if resolution[k] else None,
        )
        for k in keys
    }


def _grouped(
    key_expr: ColumnElement[Any] | QueryableAttribute[Any] | None, f: ReportFilter, now: datetime
) -> dict[Any, dict[str, Any]]:
    """One aggregate row per key (GROUP BY in the database); key_expr None: one row in all."""
    postgres = _is_postgres()
    columns = [*_aggregates(now)]
    if postgres:
        columns += _median_columns()
    if key_expr is not None:
        stmt = queries.where(select(key_expr.label("key"), *columns), f, now).group_by(key_expr)
        rows = {row.key: dict(row._mapping) for row in db.session.execute(stmt)}
    else:
        row = db.session.execute(queries.where(select(*columns), f, now)).one()
        rows = {None: dict(row._mapping)} if row.received else {}
    if not postgres and rows:
        for key, (first, resolution) in _python_medians(key_expr, f, now).items():
            if key in rows:
                rows[key]["median_first_response_s"] = first
                rows[key]["median_resolution_s"] = resolution
    return rows


def _from_rollup(f: ReportFilter, now: datetime) -> bool:
    """Whether the figures of f come from the rollup: a bare period, the rollup in use, and
    it knows what is overdue at `now`."""
    return rollup_kpi.supports(f) and rollup.in_use() and rollup.knows_overdue(now)


def _kpi(key: Any, label: str, values: dict[str, Any], args: dict[str, str] | None) -> Kpi:
    rating = values.get("rating_avg")
    medians = (values.get("median_first_response_s"), values.get("median_resolution_s"))
    return Kpi(
        key=key,
        label=label,
        received=int(values["received"]),
        resolved=int(values["resolved"]),
        open=int(values["open"]),
        overdue=int(values["overdue"]),
        on_time=int(values["on_time"]),
        late=int(values["late"]),
        late_extension=int(values["late_extension"]),
        no_deadline=int(values["no_deadline"]),
        rating_avg=round(float(rating), 2) if rating is not None else None,
        rating_count=int(values["rating_count"]),
        median_first_response_s=float(medians[0]) if medians[0] is not None else None,
        median_resolution_s=float(medians[1]) if medians[1] is not None else None,
        args=args,
    )


def labels(by: str, locale: str = "vi") -> dict[Any, str]:
    """Names of the agencies, categories or units, by key."""
    if by == "agency":
        english = locale.startswith("en")
        return {
            agency_id: (name_en or name) if english else name
            for agency_id, name, name_en in db.session.execute(
                select(Agency.id, Agency.name, Agency.name_en)
            )
        }
    if by == "category":
        return {c.code: c.label(locale) for c in db.session.scalars(select(Category))}
    # Names only: the units' rows carry their boundaries.
    return dict(db.session.execute(select(AdminUnit.code, AdminUnit.full_name)).tuples().all())


def _unknown(by: str, locale: str) -> str:
    return i18n.in_language(UNKNOWN_LABELS[by], locale)


def _key_column(by: str) -> QueryableAttribute[Any]:
    return {"agency": Report.agency_id, "category": Report.category_code, "unit": Report.unit_code}[
        by
    ]


def totals(
    period: Period,
    base: ReportFilter | None = None,
    *,
    now: datetime | None = None,
    locale: str = "vi",
) -> Kpi:
    """The figures of every report received in the period (with the base filter)."""
    now = now or utcnow()
    f = period.filter(base)
    rows = rollup_kpi.grouped(None, f, now) if _from_rollup(f, now) else _grouped(None, f, now)
    values = next(iter(rows.values()), None)
    label = i18n.in_language(_l("Toàn tỉnh"), locale)
    if values is None:
        return Kpi(key=None, label=label, args=f.to_args())
    return _kpi(None, label, values, f.to_args())


def table(
    period: Period,
    by: str,
    base: ReportFilter | None = None,
    *,
    now: datetime | None = None,
    locale: str = "vi",
) -> list[Kpi]:
    """One row per agency, category or ward with reports in the period, most reports first."""
    if by not in DIMENSIONS:
        raise ValueError(f"unknown dimension {by!r}")
    now = now or utcnow()
    f = period.filter(base)
    from_rollup = _from_rollup(f, now)
    rows = rollup_kpi.grouped(by, f, now) if from_rollup else _grouped(_key_column(by), f, now)
    names = labels(by, locale)
    result = []
    for key, values in rows.items():
        if key is None:
            # The list cannot select "no agency/category/ward": the row has no link.
            result.append(_kpi(None, _unknown(by, locale), values, None))
        else:
            args = {**f.to_args(), by: str(key)}
            result.append(_kpi(key, names.get(key, str(key)), values, args))
    result.sort(key=lambda k: (-k.received, k.key is None, k.label))
    return result


@dataclass
class Week:
    """The figures of the reports received in one week of the period."""

    start: date
    end: date
    kpi: Kpi


def _week_expr() -> ColumnElement[Any]:
    if _is_postgres():
        return func.date_trunc("week", func.timezone(str(LOCAL_TZ), Report.created_at))
    # SQLite stores UTC; Vietnam is UTC+7 all year. "weekday 0" moves on to Sunday, -6 days
    # goes back to that week's Monday.
    return func.date(Report.created_at, "+7 hours", "weekday 0", "-6 days")


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def trend(
    period: Period,
    base: ReportFilter | None = None,
    *,
    now: datetime | None = None,
    locale: str = "vi",
) -> list[Week]:
    """Weekly figures (Monday to Sunday, clipped to the period), weeks without reports included."""
    now = now or utcnow()
    f = period.filter(base)
    if _from_rollup(f, now):
        rows = rollup_kpi.weekly(f, now)
    else:
        rows = {_as_date(k): v for k, v in _grouped(_week_expr(), f, now).items()}
    weeks = []
    monday = period.start - timedelta(days=period.start.weekday())
    while monday <= period.end:
        start, end = max(monday, period.start), min(monday + timedelta(days=6), period.end)
        args = {**replace(f, date_from=start, date_to=end).to_args()}
        label = start.strftime("%d/%m")
        values = rows.get(monday)
        kpi = _kpi(monday, label, values, args) if values else Kpi(monday, label, args=args)
        weeks.append(Week(start, end, kpi))
        monday += timedelta(days=7)
    return weeks


def agency_ranking(period: Period, *, now: datetime | None = None, locale: str = "vi") -> list[Kpi]:
    """Agencies by on-time rate over the period, best first; those with nothing measured last."""
    rows = [k for k in table(period, "agency", now=now, locale=locale) if k.key is not None]
    return sorted(
        rows,
        key=lambda k: (
            k.on_time_rate is None,
            -(k.on_time_rate or 0.0),
            -k.measured,
            k.label,
        ),
    )


@dataclass
class OverdueUnit:
    """An agency with reports open past their deadline, now."""

    agency_id: int
    name: str
    overdue: int
    oldest_due_at: datetime
    days_overdue: int  # of its oldest overdue report, in calendar days


def overdue_agencies(*, now: datetime | None = None, locale: str = "vi") -> list[OverdueUnit]:
    """Every agency with overdue reports (whenever received), most overdue first."""
    now = now or utcnow()
    stmt = (
        select(Report.agency_id, func.count(), func.min(Report.due_at))
        .where(queries.overdue_clause(now), Report.agency_id.is_not(None))
        .group_by(Report.agency_id)
    )
    names = labels("agency", locale)
    result = [
        OverdueUnit(
            agency_id=agency_id,
            name=names.get(agency_id, str(agency_id)),
            overdue=int(count),
            oldest_due_at=oldest,
            days_overdue=max((now - oldest).days, 0),
        )
        for agency_id, count, oldest in db.session.execute(stmt)
    ]
    result.sort(key=lambda u: (-u.overdue, -u.days_overdue, u.name))
    return result


def month_from_arg(value: str | None, now: datetime | None = None) -> Period:
    """The month of "YYYY-MM" from 2000 to 2100 (the current month for anything else)."""
    match = _MONTH.fullmatch(value) if isinstance(value, str) else None
    if match:
        year, month = int(match[1]), int(match[2])
        if queries.DATE_MIN.year <= year <= queries.DATE_MAX.year and 1 <= month <= 12:
            return Period.month_of(date(year, month, 1))
    return Period.month_of(local_today(now))


def public_summary(period: Period, *, now: datetime | None = None, locale: str = "vi") -> dict:
    """What the transparency page publishes: names of agencies and counts, nothing else."""
    now = now or utcnow()
    ranking = agency_ranking(period, now=now, locale=locale)
    return {
        "period": {"from": period.start.isoformat(), "to": period.end.isoformat()},
        "ranking": [
            {
                "rank": n,
                "agency": k.label,
                "received": k.received,
                "resolved": k.resolved,
                "on_time": k.on_time,
                "late": k.late,
                "late_extension": k.late_extension,
                "overdue": k.overdue,
                "on_time_rate": round(k.on_time_rate, 4) if k.on_time_rate is not None else None,
            }
            for n, k in enumerate(ranking, 1)
        ],
        "overdue_units": [
            {"agency": u.name, "overdue": u.overdue, "days_overdue": u.days_overdue}
            for u in overdue_agencies(now=now, locale=locale)
        ],
        "updated_at": now.isoformat(timespec="seconds"),
    }

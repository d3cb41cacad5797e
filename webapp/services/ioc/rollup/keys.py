"""What one report counts for in the rollup: its facts, and the rows of each table they add to.

The same functions serve the session's deltas (a report's old facts -1, its new facts +1) and
the rebuild on SQLite; the rebuild on PostgreSQL computes the same keys in SQL (rebuild.py),
and the tests hold the two to each other.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, false, literal_column, or_

from config.settings import VN_TZ
from webapp.models import OPEN_STATUSES
from webapp.models.rollup import TIME_BUCKETS
from webapp.services.ioc.queries import DATE_MAX, DATE_MIN

# Key values that stand for "none" (keys hold no NULL).
ALL_TIME = date(1970, 1, 1)  # the period of the all-time grain
PAST = date(1970, 1, 1)  # due: an open report's deadline already past when the row was written
NO_DUE = date(9999, 12, 31)  # due: not open, or no deadline (never overdue)
# cache_versions row: the day (ordinal) up to which PAST may hold deadlines (see events.py).
HORIZON = "report_rollup_past"
# session.info: what the views read of the rollup in the transaction (events.py clears it).
MEMO = "rollup_reads"
CELL_GRAINS = ("a", "m", "w", "d")
KPI_GRAINS = ("m", "w", "d")
DIMS = ("all", "agency", "category", "unit")
KINDS = ("f", "r")  # time to first response, time to resolution
OPEN = frozenset(str(s) for s in OPEN_STATUSES)
# Histogram buckets: bucket i holds times t with THRESHOLDS_MS[i-1] <= t < THRESHOLDS_MS[i];
# 1 minute to 180 days in 62 steps of ×1.2227, below and above in the first and last bucket.
RATIO = (180 * 86400 * 1000 / 60_000) ** (1 / (TIME_BUCKETS - 2))
THRESHOLDS_MS: tuple[int, ...] = tuple(round(60_000 * RATIO**i) for i in range(TIME_BUCKETS - 1))
# The report columns the facts are made of (database names; the ORM attribute of status: _status).
COLUMNS = (
    "created_at", "status", "category_code", "agency_id", "unit_code", "h3_r6", "due_at",
    "original_due_at", "resolved_at", "extension_status", "first_response_at", "rating",
)  # fmt: skip
_MS = timedelta(milliseconds=1)


def local_day(moment: datetime) -> date:
    """The day in Vietnam of an aware datetime."""
    return moment.astimezone(VN_TZ).date()


def period_of(grain: str, day: date) -> date:
    """The first day of the grain's period holding the day."""
    if grain == "d":
        return day
    if grain == "w":
        return day - timedelta(days=day.weekday())
    if grain == "m":
        return day.replace(day=1)
    return ALL_TIME


def bucket(ms: int) -> int:
    """The histogram bucket of a time in milliseconds."""
    return bisect_right(THRESHOLDS_MS, ms)


def outcome(v: Mapping[str, Any]) -> str:
    """'' if unresolved, else on_time, late, late_extension or no_deadline (as outcome_clause)."""
    resolved = v["resolved_at"]
    if resolved is None:
        return ""
    deadline = v["original_due_at"] or v["due_at"]
    if deadline is None:
        return "no_deadline"
    if resolved <= deadline:
        return "on_time"
    extended_until = v["due_at"] or deadline
    if (v["extension_status"] or "") == "approved" and resolved <= extended_until:
        return "late_extension"
    return "late"


@dataclass(frozen=True)
class Fact:
    """One report as the rollup sees it."""

    day: date
    h3_r6: str
    status: str
    category: str
    agency: str
    unit: str
    open: bool
    resolved: bool
    outcome: str
    due: date
    rating: int | None
    first_ms: int | None
    resolve_ms: int | None

    def dim_key(self, dim: str) -> str:
        """The key of the report in a KPI dimension ('' for none)."""
        return {"all": "", "agency": self.agency, "category": self.category, "unit": self.unit}[dim]


def fact(v: Mapping[str, Any], today: date) -> Fact:
    """The facts of a report from its column values; `today` (local) decides PAST."""
    created = v["created_at"]
    is_open = v["status"] in OPEN
    due = NO_DUE
    if is_open and v["due_at"] is not None:
        due = local_day(v["due_at"])
        due = PAST if due < today else due
    first, resolved = v["first_response_at"], v["resolved_at"]
    return Fact(
        day=local_day(created),
        h3_r6=v["h3_r6"] or "",
        status=v["status"],
        category=v["category_code"] or "",
        agency="" if v["agency_id"] is None else str(v["agency_id"]),
        unit=v["unit_code"] or "",
        open=is_open,
        resolved=resolved is not None,
        outcome=outcome(v),
        due=due,
        rating=v["rating"],
        first_ms=None if first is None else (first - created) // _MS,
        resolve_ms=None if resolved is None else (resolved - created) // _MS,
    )


class Deltas:
    """Changes to the three tables, summed by key (zeros dropped when turned into rows), for
    facts made on `today`; `folded`: some open report's deadline went into PAST."""

    def __init__(self, today: date) -> None:
        self.today = today
        self.folded = False
        self.cells: dict[tuple, int] = defaultdict(int)
        self.counts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
        self.times: dict[tuple, dict[int, list[int]]] = defaultdict(
            lambda: defaultdict(lambda: [0, 0])
        )

    def fact(self, values: Mapping[str, Any]) -> Fact:
        """The facts of a report's column values, as of `today`."""
        made = fact(values, self.today)
        self.folded |= made.due == PAST
        return made

    def add(self, f: Fact, sign: int) -> None:
        """Count the report (+1) or take it out (-1) in every row it belongs to."""
        if f.h3_r6:
            for grain in CELL_GRAINS:
                key = (grain, period_of(grain, f.day), f.status, f.category, f.h3_r6)
                self.cells[(*key, f.resolved, f.due)] += sign
        rated = f.rating is not None
        for grain in KPI_GRAINS:
            period = period_of(grain, f.day)
            for dim in DIMS:
                head = (dim, grain, period, f.dim_key(dim))
                row = self.counts[(*head, f.open, f.outcome, f.due)]
                row[0] += sign
                row[1] += sign * (f.rating or 0)
                row[2] += sign * rated
                for kind, ms in (("f", f.first_ms), ("r", f.resolve_ms)):
                    if ms is not None:
                        cell = self.times[(*head, kind)][bucket(ms)]
                        cell[0] += sign
                        cell[1] += sign * ms

    def cell_rows(self) -> list[dict[str, Any]]:
        """Rows of report_cell_counts, in key order (upserts lock rows in one order)."""
        names = ("grain", "period", "status", "category_code", "h3_r6", "resolved", "due")
        return [dict(zip(names, k, strict=True), n=n) for k, n in sorted(self.cells.items()) if n]

    def count_rows(self) -> list[dict[str, Any]]:
        """Rows of report_kpi_counts, in key order."""
        names = ("dim", "grain", "period", "key", "open", "outcome", "due")
        return [
            dict(zip(names, k, strict=True), n=v[0], rating_sum=v[1], rating_n=v[2])
            for k, v in sorted(self.counts.items())
            if any(v)
        ]

    def time_rows(self) -> list[dict[str, Any]]:
        """Rows of report_kpi_times (every bucket column given), in key order."""
        names = ("dim", "grain", "period", "key", "kind")
        rows = []
        for k, buckets in sorted(self.times.items()):
            if not any(any(v) for v in buckets.values()):
                continue
            row: dict[str, Any] = dict(zip(names, k, strict=True))
            for i in range(TIME_BUCKETS):
                row[f"n_{i}"], row[f"s_{i}"] = buckets.get(i, (None, None))
            rows.append(row)
        return rows


def spans(start: date, end: date, grains: tuple[str, ...]) -> Iterator[tuple[str, date, date]]:
    """(grain, first period, last period) covering the days start..end exactly, fewest rows:
    whole months, then whole weeks, then days."""
    if start > end:
        return
    parts = [(start, end)]
    if "m" in grains:
        first = start if start.day == 1 else _next_month(start)
        last_end = end
        if _next_month(end) - timedelta(days=1) != end:
            last_end = end.replace(day=1) - timedelta(days=1)
        if first <= last_end:
            yield "m", first, last_end.replace(day=1)
            parts = [(start, first - timedelta(days=1)), (last_end + timedelta(days=1), end)]
    for a, b in parts:
        if a > b:
            continue
        monday = a + timedelta(days=(7 - a.weekday()) % 7)
        sunday = b - timedelta(days=(b.weekday() + 1) % 7)
        if "w" in grains and monday <= sunday:
            yield "w", monday, sunday - timedelta(days=6)
            if a < monday:
                yield "d", a, monday - timedelta(days=1)
            if sunday < b:
                yield "d", sunday + timedelta(days=1), b
        else:
            yield "d", a, b


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def period_clause(
    table: Any, start: date | None, end: date | None, grains: tuple[str, ...]
) -> ColumnElement[bool]:
    """The rows of the days start..end (None: unbounded); with no bounds the all-time grain.

    Grains are written out, not bound: a plan prepared for one shape stays right for any dates.
    """
    if start is None and end is None and "a" in grains:
        return table.c.grain == literal_column("'a'")
    chosen = tuple(g for g in grains if g != "a")
    parts = [
        and_(table.c.grain == literal_column(f"'{grain}'"), table.c.period.between(first, last))
        for grain, first, last in spans(start or DATE_MIN, end or DATE_MAX, chosen)
    ]
    return or_(*parts) if parts else false()

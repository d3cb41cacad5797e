"""The KPI figures from the rollup: per agency, category, ward or all together, and per week.

Counts are exact: received, resolved and their outcomes, open, ratings; overdue as for the
heatmap (deadline days before today from the rollup, today's past deadlines from the reports).
The medians are estimated from the time histograms: each bucket (×1.22 wide) holds a count and
a sum, so a median is exact when the one or two middle times are alone in their buckets, and
otherwise off by less than the bucket's width: about 1 % (at most 3–4 %) with a few dozen
times, under 0.3 % with thousands (tests/ioc/test_rollup.py).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from itertools import accumulate
from typing import Any

from sqlalchemy import Date, cast, func, select, text

from config.settings import TIMEZONE
from webapp.extensions import db
from webapp.models import Report
from webapp.models.rollup import TIME_BUCKETS
from webapp.services.ioc import queries
from webapp.services.ioc.queries import DATE_MAX, DATE_MIN, LOCAL_TZ, ReportFilter
from webapp.services.ioc.rollup.keys import (
    DIMS,
    KPI_GRAINS,
    MEMO,
    OPEN,
    RATIO,
    THRESHOLDS_MS,
    local_day,
    spans,
)

OUTCOMES = ("on_time", "late", "late_extension", "no_deadline")
COUNTS = ("received", "resolved", "open", "overdue", *OUTCOMES, "rating_sum", "rating_n")
BUCKET_RATIO = RATIO  # a bucket's upper bound over its lower one
KEY_COLUMN = {
    "agency": Report.agency_id,
    "category": Report.category_code,
    "unit": Report.unit_code,
}


def supports(f: ReportFilter) -> bool:
    """Whether the rollup holds the filter: a period (both ends) and nothing else."""
    bare = replace(f, date_from=None, date_to=None, sort="due")
    return f.date_from is not None and f.date_to is not None and bare == ReportFilter()


# {period}: the spans of the days asked for, grains written out (a plan prepared for one
# shape of spans stays right for any dates).
_COUNTS_SQL = (
    "SELECT dim, {group} AS g, sum(n), sum(CASE WHEN outcome <> '' THEN n ELSE 0 END), "
    'sum(CASE WHEN "open" THEN n ELSE 0 END), '
    'sum(CASE WHEN "open" AND due < :today THEN n ELSE 0 END), '
    + ", ".join(f"sum(CASE WHEN outcome = '{o}' THEN n ELSE 0 END)" for o in OUTCOMES)
    + ", sum(rating_sum), sum(rating_n) FROM report_kpi_counts "
    "WHERE dim IN ({dims}) AND ({period}) GROUP BY 1, 2"
)
_TIMES_SQL = (
    "SELECT dim, {group} AS g, kind, "
    + ", ".join(f"sum(n_{i})" for i in range(TIME_BUCKETS))
    + ", "
    + ", ".join(f"CAST(sum(s_{i}) AS BIGINT)" for i in range(TIME_BUCKETS))
    + " FROM report_kpi_times WHERE dim IN ({dims}) AND ({period}) GROUP BY 1, 2, 3"
)


def _period(start: date, end: date, daily: bool) -> tuple[str, dict[str, Any]]:
    """The condition on (grain, period) of the days start..end (daily: days only), and its
    parameters."""
    found = [("d", start, end)] if daily else list(spans(start, end, KPI_GRAINS))
    parts, params = [], {}
    for i, (grain, first, last) in enumerate(found):
        parts.append(f"(grain = '{grain}' AND period BETWEEN :a{i} AND :b{i})")
        params.update({f"a{i}": first, f"b{i}": last})
    return " OR ".join(parts) or "1 = 0", params


def _sums(start: date, end: date, daily: bool, today: date) -> dict[str, tuple[list, list]]:
    """(count rows, time rows) of every dimension (daily: of all, by day) for the days
    start..end: read once in a transaction, for the page's several tables (the session
    forgets them at a flush and at the transaction's end: events.py)."""
    memo = db.session.info.setdefault(MEMO, {})
    key = ("kpi", start, end, daily, today)
    if key not in memo:
        dims = ("all",) if daily else DIMS
        period, params = _period(start, end, daily)
        sql = {
            "group": '"period"' if daily else '"key"',
            "dims": ", ".join(f"'{d}'" for d in dims),
            "period": period,
        }
        found: dict[str, tuple[list, list]] = {d: ([], []) for d in dims}
        for index, template in enumerate((_COUNTS_SQL, _TIMES_SQL)):
            stmt = text(template.format(**sql))
            typed = stmt.columns(g=Date) if daily else stmt
            for row in db.session.execute(typed, {**params, "today": today}):
                found[row[0]][index].append(row[1:])
        memo[key] = found
    return memo[key]


def _received_day() -> Any:
    """The local day a report was received, in SQL (Vietnam keeps UTC+7 all year)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone(TIMEZONE, Report.created_at), Date)
    return func.date(Report.created_at, "+7 hours")


# Today's deadlines are counted once in a transaction for the moments up to this long after
# the first asked for (the page's tables ask a few milliseconds apart).
_AHEAD = timedelta(minutes=10)


def _tally(rows: Any, counts: dict[str, Counter]) -> None:
    """Add (day received, agency, category, ward, reports) rows to the counts per dimension."""
    for day, *keys, n in rows:
        counts["day"][day if isinstance(day, date) else date.fromisoformat(day)] += n
        counts["all"][""] += n
        for dim, value in zip(KEY_COLUMN, keys, strict=True):
            counts[dim][_text(value)] += n


def _overdue_today(f: ReportFilter, now: datetime) -> dict[str, Counter]:
    """The open reports of the period whose deadline fell today before `now`, counted per
    key of each dimension and per day received ("day"). Those due before the first moment
    asked are counted in the database (at ten million reports: thousands), the few due in
    the _AHEAD after it are kept one by one."""
    start = datetime.combine(local_day(now), time(), LOCAL_TZ)
    memo = db.session.info.setdefault(MEMO, {})
    key = ("due_today", f.date_from, f.date_to, start)
    first, base, soon = memo.get(key, (None, {}, []))
    if first is None or not first <= now <= first + _AHEAD:
        first, day, keys = now, _received_day(), list(KEY_COLUMN.values())
        due = (Report.status.in_(sorted(OPEN)), Report.due_at >= start)
        counted = select(day, *keys, func.count()).where(*due, Report.due_at < first)
        base = {name: Counter() for name in ("day", "all", *KEY_COLUMN)}
        _tally(db.session.execute(queries.where(counted, f, now).group_by(day, *keys)), base)
        listed = select(Report.due_at, day, *keys).where(
            *due, Report.due_at >= first, Report.due_at < first + _AHEAD
        )
        soon = list(db.session.execute(queries.where(listed, f, now)))
        memo[key] = (first, base, soon)
    counts = {name: Counter(found) for name, found in base.items()}
    _tally(((*row[1:], 1) for row in soon if row[0] < now), counts)
    return counts


def _gather(
    dim: str, f: ReportFilter, now: datetime, daily: bool, key: Callable[[Any], Any]
) -> dict[Any, dict[str, Any]]:
    """Figures per key(group): the group is the dimension's key, or with `daily` the day."""
    today = local_day(now)
    start, end = f.date_from or DATE_MIN, f.date_to or DATE_MAX  # both given (supports)
    figures: dict[Any, dict[str, Any]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    hist: dict[tuple[Any, str], list[int]] = {}
    counts, times = _sums(start, end, daily, today)[dim]
    for row in counts:
        values = figures[key(row[0])]
        for name, number in zip(COUNTS, row[1:], strict=True):
            values[name] += number or 0
    for row in times:
        group, found = (key(row[0]), row[1]), [v or 0 for v in row[2:]]
        held = hist.get(group)  # several days of one week (daily)
        hist[group] = found if held is None else [a + b for a, b in zip(held, found, strict=True)]
    for value, late in _overdue_today(f, now)["day" if daily else dim].items():
        figures[key(value)]["overdue"] += late
    result = {}
    for k, values in figures.items():
        if values["received"] <= 0:
            continue
        n = values["rating_n"]
        first, resolution = hist.get((k, "f")), hist.get((k, "r"))
        result[k] = {
            **{name: values[name] for name in COUNTS[:-2]},
            "rating_avg": values["rating_sum"] / n if n else None,
            "rating_count": n,
            "median_first_response_s": median(first) if first else None,
            "median_resolution_s": median(resolution) if resolution else None,
        }
    return result


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def grouped(by: str | None, f: ReportFilter, now: datetime) -> dict[Any, dict[str, Any]]:
    """What stats._grouped gives: figures per agency id, category or ward code (None: none),
    or with by=None one row in all (key None), for the reports received in f's period."""
    if by is None:
        return _gather("all", f, now, False, lambda _k: None)
    if by == "agency":
        return _gather(by, f, now, False, lambda k: int(k) if k else None)
    return _gather(by, f, now, False, lambda k: k or None)


def weekly(f: ReportFilter, now: datetime) -> dict[date, dict[str, Any]]:
    """Figures per week (its Monday) of the period, from the days received."""
    return _gather("all", f, now, True, lambda d: d - timedelta(days=d.weekday()))


def median(hist: list[int]) -> float | None:
    """The median time in seconds (as percentile_cont(0.5)) estimated from a histogram: counts
    then sums (ms) of the buckets."""
    counts, sums = hist[:TIME_BUCKETS], hist[TIME_BUCKETS:]
    below = list(accumulate(counts))  # times in the buckets up to each
    total = below[-1]
    if total <= 0:
        return None
    if total % 2:
        return _nth(counts, sums, below, (total + 1) // 2) / 1000
    return (
        _nth(counts, sums, below, total // 2) + _nth(counts, sums, below, total // 2 + 1)
    ) / 2000


def _nth(counts: list[int], sums: list[int], below: list[int], k: int) -> float:
    """The k-th smallest time (ms) from the bucket holding it: with one or two values (or in
    the open first and last buckets) taken as evenly spread around their mean, as widely as
    the bucket allows, so that one value is its mean; with more, from the straight-line
    density across the bucket that has their mean."""
    i = bisect_left(below, k)
    n, seen = counts[i], below[i - 1] if i else 0
    mean, rank = sums[i] / n, k - seen
    low = THRESHOLDS_MS[i - 1] if i > 0 else min(0.0, mean)
    high = THRESHOLDS_MS[i] if i < len(THRESHOLDS_MS) else float("inf")
    if n <= 2 or i == 0 or i == len(THRESHOLDS_MS):
        half = max(0.0, min(mean - low, high - mean))
        return mean + half * (2 * rank - n - 1) / n
    width = high - low
    # density 1 + slope·(u - 1/2) over u in [0, 1) has mean 1/2 + slope/12
    slope = max(-2.0, min(2.0, 12 * ((mean - low) / width - 0.5)))
    share = (rank - 0.5) / n
    if abs(slope) < 1e-9:
        return low + width * share
    a, b = slope / 2, 1 - slope / 2
    return low + width * (math.sqrt(b * b + 4 * a * share) - b) / (2 * a)

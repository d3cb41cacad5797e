"""The heatmap's province view (r6 cells, no viewport limit) from the rollup.

It answers every filter it holds: status (or open), category, the days received (from/to),
resolved, overdue, and the public map's hidden statuses. A ward, an agency, a text search, a
cell, another outcome or "due soon" is left to the reports' indexes (`supports`).

Overdue is open and past the deadline *now*: the rollup knows each open report's deadline
day, so the days before today are summed there and today's deadlines already past are counted
from the reports (few: ix_reports_status_due_at).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Select, func, select

from webapp.extensions import db
from webapp.models import Report, ReportCellCount
from webapp.services.ioc import queries, rollup
from webapp.services.ioc.queries import LOCAL_TZ, ReportFilter
from webapp.services.ioc.rollup.keys import CELL_GRAINS, OPEN, local_day, period_clause

_T = ReportCellCount.__table__


def supports(f: ReportFilter, resolution: int, limited: bool, now: datetime) -> bool:
    """Whether the rollup holds the view: the province's r6 cells, filters it keeps (and
    overdue only as of today or later: `knows_overdue`), the rollup in use."""
    return (
        resolution == 6
        and not limited
        and not (f.q or f.unit or f.agency_id or f.cell)
        and f.outcome in (None, "resolved")
        and f.due in (None, "overdue")
        and rollup.in_use()
        and (f.due != "overdue" or rollup.knows_overdue(now))
    )


def _statuses(stmt: Select, f: ReportFilter, hidden: tuple[str, ...]) -> Select:
    if f.status == "open" or f.due == "overdue":
        stmt = stmt.where(_T.c.status.in_(sorted(OPEN)))
    if f.status and f.status != "open":
        stmt = stmt.where(_T.c.status == f.status)
    if hidden:
        stmt = stmt.where(_T.c.status.not_in(hidden))
    return stmt


def cells(f: ReportFilter, hidden: tuple[str, ...], now: datetime) -> list[tuple[str, int]]:
    """(r6 cell, reports) of the filter, without the `hidden` statuses (the public map): what
    the reports' GROUP BY h3_r6 gives."""
    today = local_day(now)
    total = func.sum(_T.c.n)
    stmt = select(_T.c.h3_r6, total).where(period_clause(_T, f.date_from, f.date_to, CELL_GRAINS))
    stmt = _statuses(stmt, f, hidden)
    if f.category:
        stmt = stmt.where(_T.c.category_code == f.category)
    if f.outcome == "resolved":
        stmt = stmt.where(_T.c.resolved.is_(True))
    if f.due == "overdue":
        stmt = stmt.where(_T.c.due < today)
    counts: Counter[str] = Counter(
        {cell: int(n) for cell, n in db.session.execute(stmt.group_by(_T.c.h3_r6))}
    )
    if f.due == "overdue":
        counts.update({cell: int(n) for cell, n in _due_today(f, hidden, now, today)})
    return sorted((cell, n) for cell, n in counts.items() if n > 0)


def _due_today(f: ReportFilter, hidden: tuple[str, ...], now: datetime, today: date) -> Any:
    """Open reports whose deadline fell today before `now`, per cell (from the reports)."""
    start = datetime.combine(today, time(), LOCAL_TZ)
    stmt = select(Report.h3_r6, func.count()).where(
        Report.h3_r6.is_not(None),
        Report.status.in_(sorted(OPEN)),
        Report.due_at >= start,
        Report.due_at < now,
    )
    stmt = queries.where(stmt, replace(f, due=None), now)
    if hidden:
        stmt = stmt.where(Report.status.not_in(hidden))
    return db.session.execute(stmt.group_by(Report.h3_r6))

"""Rebuilding the rollup from the reports, in one transaction.

The rollup tables are locked against writes first (EXCLUSIVE: reads go on and see the old
counts until the commit). A transaction that changes a report while the rebuild runs waits at
its own upsert and adds its delta on top of counts that did not yet hold its change, so
nothing is counted twice or lost; intake waits for the rebuild (about a minute per 5 million
reports on 2 CPUs).

On PostgreSQL the counts are made in SQL (the same keys as keys.py: the tests hold them to
each other); elsewhere (SQLite) every report goes through keys.py.
"""

from __future__ import annotations

from sqlalchemy import Connection, delete, func, select, text

from config.settings import TIMEZONE
from webapp.extensions import db
from webapp.infra import versions
from webapp.models import Report, ReportCellCount, ReportKpiCount, ReportKpiTime
from webapp.models.rollup import TIME_BUCKETS
from webapp.models.types import utcnow
from webapp.services.ioc.rollup import MARKER, events
from webapp.services.ioc.rollup.keys import (
    ALL_TIME,
    COLUMNS,
    DIMS,
    NO_DUE,
    OPEN,
    PAST,
    THRESHOLDS_MS,
    Deltas,
    local_day,
)

TABLES = (ReportCellCount.__table__, ReportKpiCount.__table__, ReportKpiTime.__table__)
_KEY = {"all": "''", "agency": "agency", "category": "category", "unit": "unit"}
_PERIOD = {"w": "date_trunc('week', period)::date", "m": "date_trunc('month', period)::date"}


def rebuild(python: bool = False) -> dict[str, int]:
    """Replace the rollup by counts made from the reports, bump its version (the caller
    commits); the rows of each table. `python`: through keys.py on PostgreSQL too."""
    conn = db.session.connection()
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        names = ", ".join(t.name for t in TABLES)
        conn.exec_driver_sql(f"LOCK TABLE {names} IN EXCLUSIVE MODE")
    for table in TABLES:
        conn.execute(delete(table))
    if postgres and not python:
        _sql(conn)
        events.raise_horizon(conn, local_day(utcnow()))
    else:
        _python(conn)
    versions.bump(MARKER)
    return {t.name: conn.scalar(select(func.count()).select_from(t)) or 0 for t in TABLES}


def _python(conn: Connection) -> None:
    deltas = Deltas(local_day(utcnow()))
    table = Report.__table__
    stmt = select(*(table.c[name] for name in COLUMNS))
    for row in conn.execute(stmt.execution_options(yield_per=5000)):
        deltas.add(deltas.fact(dict(row._mapping)), +1)
    events.apply(conn, deltas)


def _facts_sql() -> str:
    local = "(r.{} AT TIME ZONE :tz)::date"
    opened = "r.status = ANY(:open)"
    deadline = "coalesce(r.original_due_at, r.due_at)"
    return f"""
CREATE TEMP TABLE rollup_facts ON COMMIT DROP AS
SELECT {local.format("created_at")} AS day, coalesce(r.h3_r6, '') AS h3_r6, r.status,
  coalesce(r.category_code, '') AS category, coalesce(r.agency_id::text, '') AS agency,
  coalesce(r.unit_code, '') AS unit, {opened} AS open, r.resolved_at IS NOT NULL AS resolved,
  CASE WHEN r.resolved_at IS NULL THEN ''
    WHEN {deadline} IS NULL THEN 'no_deadline'
    WHEN r.resolved_at <= {deadline} THEN 'on_time'
    WHEN coalesce(r.extension_status, '') = 'approved'
      AND r.resolved_at <= coalesce(r.due_at, r.original_due_at) THEN 'late_extension'
    ELSE 'late' END AS outcome,
  CASE WHEN {opened} AND r.due_at IS NOT NULL THEN
    CASE WHEN {local.format("due_at")} < :today THEN :past ELSE {local.format("due_at")} END
    ELSE :no_due END AS due,
  count(*) AS n, coalesce(sum(r.rating), 0) AS rating_sum, count(r.rating) AS rating_n
FROM reports r GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10"""


def _times_sql() -> str:
    parts = []
    for kind, column in (("f", "first_response_at"), ("r", "resolved_at")):
        parts.append(
            f"SELECT (created_at AT TIME ZONE :tz)::date AS day, "
            "coalesce(agency_id::text, '') AS agency, coalesce(category_code, '') AS category, "
            f"coalesce(unit_code, '') AS unit, '{kind}' AS kind, "
            f"floor(extract(epoch FROM {column} - created_at) * 1000)::bigint AS ms "
            f"FROM reports WHERE {column} IS NOT NULL"
        )
    return (
        "CREATE TEMP TABLE rollup_times ON COMMIT DROP AS "
        "SELECT day, agency, category, unit, kind, width_bucket(ms, :thresholds) AS b, "
        f"count(*) AS n, sum(ms) AS s FROM ({' UNION ALL '.join(parts)}) t "
        "GROUP BY 1, 2, 3, 4, 5, 6"
    )


def _sql(conn: Connection) -> None:
    params = {
        "tz": TIMEZONE, "open": sorted(OPEN), "today": local_day(utcnow()), "past": PAST,
        "no_due": NO_DUE, "thresholds": list(THRESHOLDS_MS), "all_time": ALL_TIME,
    }  # fmt: skip
    conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")  # sums in memory, not sorted on disk
    conn.execute(text(_facts_sql()), params)
    conn.execute(text(_times_sql()), params)
    cell_key = "h3_r6, status, category_code, resolved, due"
    conn.execute(
        text(
            f"INSERT INTO report_cell_counts (grain, period, {cell_key}, n) "
            "SELECT 'd', day, h3_r6, status, category, resolved, due, sum(n) FROM rollup_facts "
            "WHERE h3_r6 <> '' GROUP BY 2, 3, 4, 5, 6, 7"
        )
    )
    for grain, period in (*_PERIOD.items(), ("a", ":all_time")):
        conn.execute(
            text(
                f"INSERT INTO report_cell_counts (grain, period, {cell_key}, n) "
                f"SELECT '{grain}', {period}, {cell_key}, sum(n) FROM report_cell_counts "
                "WHERE grain = 'd' GROUP BY 2, 3, 4, 5, 6, 7"
            ),
            params,
        )
    count_key = "key, open, outcome, due"
    sums = ", ".join(f"sum(n_{i}), sum(s_{i})" for i in range(TIME_BUCKETS))
    columns = ", ".join(f"n_{i}, s_{i}" for i in range(TIME_BUCKETS))
    by_bucket = ", ".join(
        f"sum(CASE WHEN b = {i} THEN n END), sum(CASE WHEN b = {i} THEN s END)"
        for i in range(TIME_BUCKETS)
    )
    for dim in DIMS:
        conn.execute(
            text(
                f"INSERT INTO report_kpi_counts (dim, grain, period, {count_key}, n, rating_sum, "
                f"rating_n) SELECT '{dim}', 'd', day, {_KEY[dim]}, open, outcome, due, sum(n), "
                "sum(rating_sum), sum(rating_n) FROM rollup_facts GROUP BY 3, 4, 5, 6, 7"
            )
        )
        conn.execute(
            text(
                f"INSERT INTO report_kpi_times (dim, grain, period, key, kind, {columns}) "
                f"SELECT '{dim}', 'd', day, {_KEY[dim]}, kind, {by_bucket} FROM rollup_times "
                "GROUP BY 3, 4, 5"
            )
        )
    for grain, period in _PERIOD.items():
        conn.execute(
            text(
                f"INSERT INTO report_kpi_counts (dim, grain, period, {count_key}, n, rating_sum, "
                f"rating_n) SELECT dim, '{grain}', {period}, {count_key}, sum(n), "
                "sum(rating_sum), sum(rating_n) FROM report_kpi_counts WHERE grain = 'd' "
                "GROUP BY 1, 3, 4, 5, 6, 7"
            )
        )
        conn.execute(
            text(
                f"INSERT INTO report_kpi_times (dim, grain, period, key, kind, {columns}) "
                f"SELECT dim, '{grain}', {period}, key, kind, {sums} FROM report_kpi_times "
                "WHERE grain = 'd' GROUP BY 1, 3, 4, 5"
            )
        )
    conn.exec_driver_sql("DROP TABLE rollup_facts, rollup_times")

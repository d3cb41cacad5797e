"""The one COPY loader of the benchmarks: secondary indexes and foreign keys of `reports` off,
COPY, rebuilt from their own definitions and checked, VACUUM (ANALYZE), then the IOC rollup
rebuilt from the loaded rows (`synthetic` draws the rows)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from typing import Any

from harness import log

ROLLUP_TABLES = ("report_cell_counts", "report_kpi_counts", "report_kpi_times")


def rebuild_rollup(app) -> tuple[float, dict[str, int]]:
    """`flask ioc rollup-rebuild` in the app: (seconds, rows per table)."""
    from webapp.extensions import db
    from webapp.services.ioc.rollup.rebuild import rebuild

    t0 = time.perf_counter()
    with app.app_context():
        rows = rebuild()
        db.session.commit()
        db.session.remove()
    seconds = round(time.perf_counter() - t0, 1)
    log(f"rollup rebuilt in {seconds} s: {rows}")
    return seconds, rows


def same_ddl(ddl: str) -> str:
    """An index definition without casts, brackets and spaces: PostgreSQL rewrites
    `status IN (…)` once more each time it reads its own output back."""
    return re.sub(r"::[a-z ]+(\[\])?|[()\s]", "", ddl)


def copy_reports(
    database_url: str, columns: str, lines: Iterable[str], app: Any = None
) -> dict[str, Any]:
    """COPY the rows into `reports` with its secondary indexes and foreign keys off, rebuild
    them from their own definitions (stop if the rebuilt set differs), then VACUUM ANALYZE.

    Building an index once is much faster than updating it a million times. When the rows
    carry their ids, the id sequence is moved past them. COPY bypasses the session that keeps
    the report rollup: with the `app`, the rollup is rebuilt (`flask ioc rollup-rebuild`).
    """
    import psycopg

    dsn = database_url.replace("postgresql+psycopg://", "postgresql://")
    timings: dict[str, Any] = {}
    with psycopg.connect(dsn) as conn:
        conn.execute("SET maintenance_work_mem = '256MB'")
        indexes = conn.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i "
            "WHERE i.tablename = 'reports' AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname) ORDER BY 1"
        ).fetchall()
        fkeys = conn.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'reports'::regclass AND contype = 'f' ORDER BY 1"
        ).fetchall()
        for name, _ in fkeys:
            conn.execute(f'ALTER TABLE reports DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        conn.commit()

        t0, count, buf = time.perf_counter(), 0, []
        with conn.cursor().copy(f"COPY reports ({columns}) FROM STDIN") as copy:
            for count, line in enumerate(lines, 1):
                buf.append(line)
                if len(buf) == 5000:
                    copy.write("".join(buf))
                    buf.clear()
                if count % 200_000 == 0:
                    log(f"  {count:,} rows copied ({time.perf_counter() - t0:.0f} s)")
            copy.write("".join(buf))
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('reports', 'id'), "
            "(SELECT coalesce(max(id), 0) + 1 FROM reports), false)"
        )
        conn.commit()
        timings["rows"], timings["copy_s"] = count, round(time.perf_counter() - t0, 1)
        log(f"COPY {count:,} reports in {timings['copy_s']} s; rebuilding indexes")

        t0 = time.perf_counter()
        for _, ddl in indexes:
            conn.execute(ddl)
        for name, ddl in fkeys:
            conn.execute(f'ALTER TABLE reports ADD CONSTRAINT "{name}" {ddl}')
        conn.commit()
        timings["indexes_s"] = round(time.perf_counter() - t0, 1)
        after = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'reports' "
            "AND indexname = ANY(%s) ORDER BY 1",
            ([n for n, _ in indexes],),
        ).fetchall()
        differ = {(n, same_ddl(d)) for n, d in after} ^ {(n, same_ddl(d)) for n, d in indexes}
        if differ:
            raise SystemExit(f"rebuilt index definitions differ: {sorted(differ)}")
        log(
            f"{len(indexes)} indexes, {len(fkeys)} foreign keys rebuilt in {timings['indexes_s']} s"
        )

        conn.commit()
        if app is not None:
            timings["rollup_s"], timings["rollup_rows"] = rebuild_rollup(app)
        conn.autocommit = True
        t0 = time.perf_counter()
        conn.execute("VACUUM (ANALYZE) reports")
        if app is not None:
            conn.execute(f"VACUUM (ANALYZE) {', '.join(ROLLUP_TABLES)}")
        conn.execute("ANALYZE")
        timings["vacuum_analyze_s"] = round(time.perf_counter() - t0, 1)
        log(f"VACUUM (ANALYZE) in {timings['vacuum_analyze_s']} s")
    return timings

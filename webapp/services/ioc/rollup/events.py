"""Keeping the rollup in step: session events turn every write of a report into deltas, upserted
in the same transaction.

- A flush: before it, the reports it deletes, or changes in a column the rollup reads (or in
  the relationship the flush copies into one), are read from the database (one SELECT: what
  is stored, whatever the ORM has loaded); after it, those are read again (one SELECT) and
  the new reports taken as the INSERT wrote them. -1 for each old key, +1 for each new one,
  summed by key, then one INSERT … ON CONFLICT DO UPDATE per table that changes (rows in key
  order, so concurrent transactions lock them in one order). Intake: two upserts.
- A bulk UPDATE (of a column the rollup reads) or DELETE of reports through the session: the
  rows it touches are read before, and for an UPDATE after, in the same way.
- TRUNCATE reports empties the rollup (a trigger, migration 0015). Anything else that writes
  reports behind the session's back (COPY, psql) must be followed by `flask ioc rollup-rebuild`.
"""

from __future__ import annotations

import functools
from datetime import date
from typing import Any

from sqlalchemy import Connection, Table, TextClause, event, inspect, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import ORMExecuteState, Session

from webapp.models import CacheVersion, Report, ReportCellCount, ReportKpiCount, ReportKpiTime
from webapp.models.types import utcnow
from webapp.services.ioc.rollup.keys import COLUMNS, HORIZON, MEMO, Deltas, local_day

_OLD = "rollup_before"  # session.info: {report id: its columns before the flush}
# Every transaction that writes the rollup takes this lock first, until it ends. They wait for
# each other anyway on the day's province row; taking the same lock first makes the order of
# the rows they touch over several flushes irrelevant (two intakes deadlocked without it).
ROLLUP_LOCK = 0x726F6C6C7570  # "rollup"
_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
ROLLUP_TABLES: dict[str, Table] = {
    t.name: t
    for t in (ReportCellCount.__table__, ReportKpiCount.__table__, ReportKpiTime.__table__)
}
_TABLE = Report.__table__
_SELECTED = [_TABLE.c[name] for name in COLUMNS]
# Report attributes behind COLUMNS (status is _status), and those whose change moves one
# (agency_id moves with agency…).
_ATTRS = tuple("_status" if name == "status" else name for name in COLUMNS)
_WATCHED = (*_ATTRS, "agency", "category", "unit")
_listening = False


def listen() -> None:
    """Install the session events (once per process: they are global to SQLAlchemy)."""
    global _listening
    if _listening:
        return
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", _bulk)
    event.listen(Session, "after_transaction_end", _forget)
    _listening = True


def _forget(session: Session, *_args: Any) -> None:
    """Drop what views read of the rollup (kpi.py): it may have changed."""
    session.info.pop(MEMO, None)


def _read(conn: Connection, where: Any, parameters: Any = None) -> dict[int, dict[str, Any]]:
    """The rollup's columns of the reports matching `where`, by id."""
    stmt = select(_TABLE.c.id, *_SELECTED).where(where)
    return {row.id: dict(row._mapping) for row in conn.execute(stmt, parameters or {})}


def _changed(report: Report) -> bool:
    """Whether the flush changes what the rollup reads of the report (a column, or a
    relationship whose key the flush will copy into one)."""
    attrs = inspect(report).attrs
    return any(attrs[name].history.has_changes() for name in _WATCHED)


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    ids = [obj.id for obj in session.deleted if isinstance(obj, Report)]
    ids += [obj.id for obj in session.dirty if isinstance(obj, Report) and _changed(obj)]
    session.info[_OLD] = _read(session.connection(), _TABLE.c.id.in_(ids)) if ids else {}


def _inserted(report: Report) -> dict[str, Any] | None:
    """A new report's columns as the flush wrote them (None: one may hold a server default)."""
    written = inspect(report).dict
    values = {}
    for name, attr in zip(COLUMNS, _ATTRS, strict=True):
        if attr in written:
            values[name] = written[attr]
        elif _TABLE.c[name].server_default is None:
            values[name] = None  # left out of the INSERT: NULL
        else:
            return None
    return values


def _after_flush(session: Session, _context: Any) -> None:
    _forget(session)
    old: dict[int, dict[str, Any]] = session.info.pop(_OLD, {})
    now: dict[int, dict[str, Any]] = {}
    unread = list(old)
    for obj in session.new:
        if isinstance(obj, Report):
            values = _inserted(obj)
            if values is None:
                unread.append(obj.id)
            else:
                now[obj.id] = values
    if unread:
        now.update(_read(session.connection(), _TABLE.c.id.in_(unread)))
    if old or now:
        apply(session.connection(), changes(old, now))


def changes(before: dict[int, dict[str, Any]], after: dict[int, dict[str, Any]]) -> Deltas:
    """-1 for each report's old facts, +1 for its new ones (absent: none), where they differ."""
    deltas = Deltas(local_day(utcnow()))
    for report_id in before.keys() | after.keys():
        old = deltas.fact(before[report_id]) if report_id in before else None
        new = deltas.fact(after[report_id]) if report_id in after else None
        if old != new:
            if old is not None:
                deltas.add(old, -1)
            if new is not None:
                deltas.add(new, +1)
    return deltas


def _touches(stmt: Any) -> bool:
    """Whether a bulk UPDATE sets a column the rollup reads (unknown: assume it does)."""
    values = getattr(stmt, "_values", None)
    if not values:
        return True
    names = {getattr(k, "key", getattr(k, "name", k)) for k in values}
    return bool(names & {*COLUMNS, "_status"})


def _bulk(state: ORMExecuteState) -> Any:
    if not (state.is_update or state.is_delete):
        return None
    stmt: Any = state.statement
    if getattr(getattr(stmt, "table", None), "name", None) != _TABLE.name:
        return None
    if state.is_update and not _touches(stmt):
        return None
    if isinstance(state.parameters, list):
        raise NotImplementedError("executemany UPDATE/DELETE of reports bypasses the rollup")
    conn = state.session.connection()
    where = stmt.whereclause if stmt.whereclause is not None else _TABLE.c.id.is_not(None)
    before = _read(conn, where, state.parameters)
    result = state.invoke_statement() if state.is_update else None
    after = _read(conn, _TABLE.c.id.in_(before)) if state.is_update and before else {}
    deltas = changes(before, after)
    apply(conn, deltas)
    return result


def _upsert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(_upsert_sql(table.name), rows)


@functools.cache
def _upsert_sql(name: str) -> TextClause:
    """INSERT … ON CONFLICT DO UPDATE adding the deltas (PostgreSQL and SQLite say it alike).

    Written once as text: SQLAlchemy's on_conflict construct is not in its statement cache,
    and compiling it twice per report was a tenth of intake's CPU."""
    table = ROLLUP_TABLES[name]
    columns = [c.name for c in table.columns]
    keys = [c.name for c in table.primary_key.columns]
    added = ", ".join(
        f"{c} = coalesce({name}.{c} + excluded.{c}, {name}.{c}, excluded.{c})"
        for c in columns
        if c not in keys
    )
    return text(
        f"INSERT INTO {name} ({', '.join(columns)}) "
        f"VALUES ({', '.join(':' + c for c in columns)}) "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {added}"
    )


def apply(conn: Connection, deltas: Deltas) -> None:
    """Upsert the deltas: one statement per table that changes (and the PAST horizon)."""
    tables = (
        (ReportCellCount.__table__, deltas.cell_rows()),
        (ReportKpiCount.__table__, deltas.count_rows()),
        (ReportKpiTime.__table__, deltas.time_rows()),
    )
    if conn.dialect.name == "postgresql" and any(rows for _table, rows in tables):
        conn.execute(_LOCK, {"key": ROLLUP_LOCK})
    for table, rows in tables:
        _upsert(conn, table, rows)
    if deltas.folded:
        raise_horizon(conn, deltas.today)


def raise_horizon(conn: Connection, today: date) -> None:
    """Record that PAST may now hold deadlines up to the day before `today`: overdue counts
    asked for an earlier moment cannot come from the rollup (they read the reports). Locks
    the row only when it moves (once a day)."""
    table = CacheVersion.__table__
    day = today.toordinal()
    moved = update(table).where(table.c.name == HORIZON, table.c.version < day)
    if conn.execute(moved.values(version=day)).rowcount == 0:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        conn.execute(
            dialect.insert(table)
            .values(name=HORIZON, version=day)
            .on_conflict_do_nothing(index_elements=["name"])
        )

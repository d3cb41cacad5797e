"""Many rows in one statement, for the few writers that make hundreds at once (the sweep).

On PostgreSQL the values travel as one array per column and the server unnests them: a
thousand rows cost one short statement, not a thousand parameter sets for the driver to parse
and the server to execute one by one. SQLite (the embedded default) gets an executemany.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Table, bindparam, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.schema import CallableColumnDefault, ScalarElementColumnDefault

from webapp.extensions import db


def _with_defaults(table: Table, rows: Sequence[dict[str, Any]]) -> tuple[list[str], list[dict]]:
    """The rows completed with the columns' Python-side defaults, and their column names."""
    given = set(rows[0])
    defaults = {}
    for column in table.columns:
        default = column.default
        if column.name in given or default is None or column.primary_key:
            continue
        if isinstance(default, ScalarElementColumnDefault):  # default.is_scalar
            defaults[column.name] = default.arg
        elif isinstance(default, CallableColumnDefault):  # default.is_callable
            # One moment for the whole statement. No execution context: SQLAlchemy's wrapper
            # of a no-argument default (utcnow) ignores it.
            defaults[column.name] = default.arg(None)  # type: ignore[arg-type]
    return [*rows[0], *defaults], [{**row, **defaults} for row in rows]


def insert_rows(
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    skip_conflicts_on: str | None = None,
    returning: str | None = None,
) -> list[Any]:
    """INSERT every row (all with the same keys) in one statement; RETURNING `returning`.

    `skip_conflicts_on`: a unique column; rows whose value is already stored are skipped
    (and return nothing).
    """
    if not rows:
        return []
    names, rows = _with_defaults(table, rows)
    session = db.session
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql":
        stmt = sqlite.insert(table)
        if skip_conflicts_on:
            stmt = stmt.on_conflict_do_nothing(index_elements=[skip_conflicts_on])
        if returning:
            return list(session.scalars(stmt.returning(table.c[returning]), rows))
        session.execute(stmt, rows)
        return []
    arrays, params = [], {}
    for n, name in enumerate(names):
        column = table.c[name]
        pg_type = column.type.compile(dialect=dialect)
        arrays.append(f"CAST(:a{n} AS {pg_type}[])")
        params[f"a{n}"] = [_bind(column, row[name], dialect) for row in rows]
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) SELECT * FROM unnest({', '.join(arrays)})"
    if skip_conflicts_on:
        sql += f" ON CONFLICT ({skip_conflicts_on}) DO NOTHING"
    if returning:
        sql += f" RETURNING {returning}"
    unnest = text(sql).bindparams(*(bindparam(k) for k in params))
    result = session.execute(unnest, params)
    return list(result.scalars()) if returning else []


def _bind(column: Column[Any], value: Any, dialect: Dialect) -> Any:
    """The value as the column's type would send it (UTC datetimes, JSON as text)."""
    if value is None:
        return None
    processor = column.type.bind_processor(dialect)
    return processor(value) if processor else value


def insert_ignore(
    model: Any, conflict: list[str], values: dict[str, Any], returning: str = "id"
) -> Any:
    """INSERT … ON CONFLICT DO NOTHING RETURNING `returning`: the new row's value, or None
    when a row with the same `conflict` columns existed."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        pg = (
            postgresql.insert(model)
            .values(**values)
            .on_conflict_do_nothing(index_elements=conflict)
        )
        return db.session.scalar(pg.returning(getattr(model, returning)))
    if dialect == "sqlite":
        lite = sqlite.insert(model).values(**values).on_conflict_do_nothing(index_elements=conflict)
        return db.session.scalar(lite.returning(getattr(model, returning)))
    raise RuntimeError(f"unsupported database {dialect}")  # pragma: no cover

"""What one intake report sends: SQL statements by kind and Celery messages, counted.

Only counts (no timing), so it can stay on while intake is timed; `sweep_1m.py` keeps its own
meter, which also times the statements.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


def statement_label(statement: str) -> str:
    """'INSERT reports', 'SELECT users', 'SELECT nextval', 'SELECT reports FOR UPDATE'…"""
    verb = statement.lstrip().split(None, 1)[0].upper()
    if verb == "SELECT":
        table = re.search(r"\bFROM\s+(\w+)", statement) or re.match(r"\s*SELECT\s+(\w+)", statement)
        label = f"SELECT {table.group(1) if table else '?'}"
        return f"{label} FOR UPDATE" if "FOR UPDATE" in statement else label
    table = re.search(r"^\s*(?:INSERT INTO|UPDATE|DELETE FROM)\s+(\w+)", statement, re.I)
    return f"{verb} {table.group(1)}" if table else verb


@dataclass
class StatementCounter:
    """SQL statements (by `statement_label`) and broker sends counted while `on`.

    The pool's pre-ping (`pool_pre_ping`) runs on the DBAPI connection, below the engine's
    events, so it is not among the statements.
    """

    on: bool = False
    statements: dict[str, int] = field(default_factory=dict)
    sends: int = 0

    def per_item(self, items: int) -> dict[str, Any]:
        """The counts divided by `items`, most frequent statement first."""
        ordered = sorted(self.statements.items(), key=lambda kv: (-kv[1], kv[0]))
        return {
            "sql": round(sum(self.statements.values()) / items, 2) if items else None,
            "sql_by_statement": {k: round(n / items, 2) for k, n in ordered} if items else {},
            "broker_sends": round(self.sends / items, 2) if items else None,
        }


def count_statements(app, counter: StatementCounter) -> None:
    """Count the app's SQL statements and Celery sends into `counter` while it is on."""
    from sqlalchemy import event

    from webapp.extensions import db

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def _count(_conn, _cursor, statement, *_args):
        if counter.on:
            label = statement_label(statement)
            counter.statements[label] = counter.statements.get(label, 0) + 1

    celery = app.extensions["celery"]
    send_task = celery.send_task

    def counted_send_task(*args, **kwargs):
        if counter.on:
            counter.sends += 1
        return send_task(*args, **kwargs)

    celery.send_task = counted_send_task

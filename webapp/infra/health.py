"""Health of the parts the app depends on."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import text

from webapp.extensions import db


def check() -> dict[str, str]:
    """'ok' or 'down' for the database and the broker."""
    state = {"database": "ok", "broker": "ok"}
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        db.session.rollback()
        state["database"] = "down"
    try:
        conn = current_app.extensions["celery"].connection_for_write()
        try:
            conn.ensure_connection(max_retries=1, timeout=2)
        finally:
            conn.release()
    except Exception:
        state["broker"] = "down"
    state["status"] = "ok" if state["database"] == state["broker"] == "ok" else "degraded"
    return state

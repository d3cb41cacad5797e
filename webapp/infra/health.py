"""Health of every part the service depends on, as `/healthz` shows it.

Each part is "ok" or says what is wrong: the database and the broker ("down"), the NLU
server ("down"), the workers (none wrote a heartbeat lately: "down"), the scheduler (no sweep
for BEAT_LATE_SECONDS: "late"), the outbox (OUTBOX_BACKLOG_LIMIT messages or more due and
undelivered: "backlog"). The whole is "ok" or "degraded"; only a database that is down makes
the app itself unable to take reports (`/healthz` then answers 503).
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Any

import httpx
from flask import current_app
from sqlalchemy import text

from webapp.extensions import db
from webapp.infra import heartbeats
from webapp.models.types import utcnow
from webapp.services.messaging import outbox

UNKNOWN = "unknown"
_lock = threading.Lock()


def _database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except Exception:
        db.session.rollback()
        return "down"


def _broker() -> str:
    try:
        conn = current_app.extensions["celery"].connection_for_write()
        try:
            conn.ensure_connection(max_retries=1, timeout=2)
        finally:
            conn.release()
    except Exception:
        return "down"
    return "ok"


def _nlu() -> str:
    try:
        answer = httpx.get(current_app.config["RASA_URL"].rstrip("/") + "/", timeout=1.5)
    except httpx.HTTPError:
        return "down"
    return "ok" if answer.status_code == 200 else "down"


def _liveness(now: datetime, details: dict[str, Any]) -> dict[str, str]:
    """Workers, beat and outbox from their heartbeats and rows; fills `details`."""
    cfg = current_app.config
    gone = now - timedelta(seconds=cfg["WORKER_GONE_SECONDS"])
    seen = heartbeats.workers_seen(gone)
    workers = sorted(h.name.removeprefix(heartbeats.WORKER_PREFIX) for h in seen)
    sweep = heartbeats.last(heartbeats.SWEEP)
    age = (now - sweep.seen_at).total_seconds() if sweep else None
    backlog = outbox.backlog(now)
    details.update(
        workers=workers,
        last_sweep_age_s=round(age, 1) if age is not None else None,
        last_sweep=sweep.info if sweep else None,
        outbox_backlog=backlog,
    )
    return {
        "workers": "ok" if workers else "down",
        "beat": "ok" if age is not None and age <= cfg["BEAT_LATE_SECONDS"] else "late",
        "outbox": "ok" if backlog < cfg["OUTBOX_BACKLOG_LIMIT"] else "backlog",
    }


def cached_check() -> dict[str, Any]:
    """`check()`, reused for HEALTH_CACHE_SECONDS: what /healthz and /metrics answer, so a
    client asking ten thousand times costs the dependencies one probe per interval."""
    ttl = float(current_app.config["HEALTH_CACHE_SECONDS"])
    with _lock:
        taken_at, state = current_app.extensions.get("health", (0.0, None))
        if state is None or time.monotonic() - taken_at >= ttl:
            state = check()
            current_app.extensions["health"] = (time.monotonic(), state)
    return state


def check(now: datetime | None = None) -> dict[str, Any]:
    """Every part's state, the overall status, and the figures behind them (`details`)."""
    now = now or utcnow()
    state: dict[str, Any] = {"database": _database(), "broker": _broker(), "nlu": _nlu()}
    details: dict[str, Any] = {}
    try:
        if state["database"] != "ok":
            raise LookupError("no database")
        state.update(_liveness(now, details))
    except Exception:  # no database, or not migrated yet: say so rather than fail
        db.session.rollback()
        state.update(workers=UNKNOWN, beat=UNKNOWN, outbox=UNKNOWN)
    state["status"] = "ok" if all(v == "ok" for v in state.values()) else "degraded"
    state["details"] = details
    return state

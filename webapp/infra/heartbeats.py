"""Signs of life kept in the database, so that any process can tell whether the others run.

- Each worker writes `worker:<hostname>` every HEARTBEAT_SECONDS (`workers.heartbeat`).
- The sweep writes `sweep` when a pass ends (its duration and counts): its age is the beat's
  health, since only the scheduler starts sweeps.
- `beat-leader` is a lease: of several beats, only the one holding it sends the schedule
  (`workers.leader`); when it dies the lease runs out and a standby takes it.
- `claim_run` lets a periodic job run at most once per interval whoever asks.

Written by hand because the choices off the shelf each tie the app to one server (redbeat to
Redis, advisory locks to PostgreSQL) while the embedded default runs on SQLite: two atomic
statements (insert-if-missing, then a guarded UPDATE) work on both.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, or_, select, update

from webapp.extensions import db
from webapp.infra import bulk
from webapp.models import Heartbeat
from webapp.models.types import utcnow

SWEEP = "sweep"
BEAT_LEADER = "beat-leader"
WORKER_PREFIX = "worker:"
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _ensure(name: str) -> None:
    bulk.insert_ignore(Heartbeat, ["name"], {"name": name, "seen_at": _EPOCH}, returning="name")


def beat(name: str, info: dict[str, Any] | None = None, now: datetime | None = None) -> None:
    """Record that `name` is alive now (committed)."""
    now = now or utcnow()
    _ensure(name)
    db.session.execute(
        update(Heartbeat).where(Heartbeat.name == name).values(seen_at=now, info=info)
    )
    db.session.commit()


def _take(name: str, condition: ColumnElement[bool], **values: Any) -> bool:
    """Set `values` on the row `name` if `condition` holds; True for the one caller it did."""
    _ensure(name)
    result = db.session.execute(
        update(Heartbeat).where(Heartbeat.name == name, condition).values(**values)
    )
    db.session.commit()
    return cast(CursorResult[Any], result).rowcount == 1


def claim_run(name: str, every: timedelta, now: datetime | None = None) -> bool:
    """True for the one caller that may run `name` now: none ran it in the last `every`."""
    now = now or utcnow()
    return _take(name, Heartbeat.seen_at <= now - every, seen_at=now)


def hold_lease(name: str, holder: str, ttl: timedelta, now: datetime | None = None) -> bool:
    """Take or renew the lease `name` for `holder`; False while another holds it."""
    now = now or utcnow()
    free_or_ours = or_(
        Heartbeat.holder == holder,
        Heartbeat.holder.is_(None),
        Heartbeat.expires_at.is_(None),
        Heartbeat.expires_at < now,
    )
    return _take(name, free_or_ours, holder=holder, expires_at=now + ttl, seen_at=now)


def release_lease(name: str, holder: str) -> None:
    """Give the lease up at once (a clean shutdown), so a standby need not wait it out."""
    db.session.execute(
        update(Heartbeat)
        .where(Heartbeat.name == name, Heartbeat.holder == holder)
        .values(holder=None, expires_at=None)
    )
    db.session.commit()


def last(name: str) -> Heartbeat | None:
    """The heartbeat `name`, if it was ever written."""
    row = db.session.get(Heartbeat, name)
    return row if row is not None and row.seen_at > _EPOCH else None


def workers_seen(since: datetime) -> list[Heartbeat]:
    """The workers that wrote a heartbeat after `since`."""
    return list(
        db.session.scalars(
            select(Heartbeat).where(
                Heartbeat.name.startswith(WORKER_PREFIX), Heartbeat.seen_at >= since
            )
        )
    )

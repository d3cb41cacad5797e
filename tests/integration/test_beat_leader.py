"""Two real beats, one real worker: one sweep at a time, the standby takes over when the leader
is killed, and a scheduler that is gone shows on /healthz as degraded."""

from __future__ import annotations

import pytest

from tests.support.processes import Beat, Worker, wait_until, worker_env
from webapp.extensions import db
from webapp.infra import health, heartbeats
from webapp.models import Heartbeat
from webapp.models.types import utcnow

pytestmark = pytest.mark.integration

# A minute compressed into seconds: sweep every 2 s, lease 6 s, beat late after 10 s.
TIMING = {
    "SWEEP_SECONDS": "2",
    "SWEEP_MIN_INTERVAL_SECONDS": "1.5",
    "BEAT_LEASE_SECONDS": "6",
    "HEARTBEAT_SECONDS": "2",
}


def _sweep_age() -> float | None:
    db.session.remove()
    last = heartbeats.last(heartbeats.SWEEP)
    return None if last is None else (utcnow() - last.seen_at).total_seconds()


def test_one_leader_sends_the_sweep_the_standby_takes_over_and_a_dead_beat_is_seen(
    app, app_config, tmp_path, monkeypatch
):
    env = worker_env(app_config, **TIMING)
    with app.app_context():
        db.session.query(Heartbeat).delete()
        db.session.commit()
    worker = Worker(env, concurrency=1, log=tmp_path / "worker.log").start()
    beats = [Beat(env, tmp_path, "a").start(), Beat(env, tmp_path, "b").start()]
    try:
        with app.app_context():
            assert wait_until(lambda: (_sweep_age() or 99) < 5, 90), "no sweep ran"
            assert wait_until(lambda: sum(b.sent for b in beats) >= 4, 30)
            leaders = [b for b in beats if b.sent]
            assert len(leaders) == 1, "both beats sent the sweep"
            leader, standby = leaders[0], next(b for b in beats if b is not leaders[0])

            leader.kill9()
            before = standby.sent
            # The lease (6 s) runs out, the standby takes it and sends the next sweeps.
            assert wait_until(lambda: standby.sent >= before + 2, 30), "no takeover"
            assert wait_until(lambda: (_sweep_age() or 99) < 5, 20)
            db.session.remove()
            lease = db.session.get(Heartbeat, heartbeats.BEAT_LEADER)
            assert lease is not None and lease.holder and str(standby.proc.pid) in lease.holder

            standby.kill9()
            monkeypatch.setitem(app.config, "BEAT_LATE_SECONDS", 8)
            assert wait_until(lambda: health.check()["beat"] == "late", 30)
            state = health.check()
            assert state["status"] == "degraded" and state["workers"] == "ok", state
    finally:
        for b in beats:
            b.kill9()
        worker.stop()

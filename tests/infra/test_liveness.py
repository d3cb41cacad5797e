"""Heartbeats, the scheduler's lease, the once-a-minute sweep, and what /healthz makes of them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import SubmittedReportFactory
from webapp.extensions import db
from webapp.infra import health, heartbeats
from webapp.models import Heartbeat, OutboxMessage, OutboxStatus
from webapp.models.types import utcnow


@pytest.fixture(autouse=True)
def _no_heartbeats(ctx):
    db.session.query(Heartbeat).delete()
    db.session.commit()
    yield
    db.session.query(Heartbeat).delete()
    db.session.commit()


def test_a_periodic_job_runs_once_per_interval_whoever_asks(ctx):
    now = utcnow()
    every = timedelta(seconds=50)
    assert heartbeats.claim_run("job", every, now)
    assert not heartbeats.claim_run("job", every, now + timedelta(seconds=10))
    assert heartbeats.claim_run("job", every, now + timedelta(seconds=51))


def test_one_lease_holder_and_a_standby_that_takes_over_when_it_runs_out(ctx):
    now, ttl = utcnow(), timedelta(seconds=30)
    assert heartbeats.hold_lease("lead", "a", ttl, now)
    assert not heartbeats.hold_lease("lead", "b", ttl, now + timedelta(seconds=5))
    assert heartbeats.hold_lease("lead", "a", ttl, now + timedelta(seconds=20)), "renewed"
    assert not heartbeats.hold_lease("lead", "b", ttl, now + timedelta(seconds=45))
    assert heartbeats.hold_lease("lead", "b", ttl, now + timedelta(seconds=51)), "a went quiet"
    assert not heartbeats.hold_lease("lead", "a", ttl, now + timedelta(seconds=52))
    heartbeats.release_lease("lead", "b")
    assert heartbeats.hold_lease("lead", "a", ttl, now + timedelta(seconds=53)), "released"


def test_the_sweep_task_runs_once_a_minute_and_leaves_its_heartbeat(ctx):
    from workers.tasks import sweep

    first = sweep.run()
    assert "skipped" not in first
    assert sweep.run() == {"skipped": True}, "a second beat's sweep within the minute"
    last = heartbeats.last(heartbeats.SWEEP)
    assert last is not None and last.info["duration_s"] >= 0
    assert set(first) <= set(last.info)


def _alive(now=None) -> None:
    now = now or utcnow()
    heartbeats.beat("worker:w1@host", {"pid": 1}, now)
    heartbeats.beat(heartbeats.SWEEP, {"duration_s": 0.1}, now)


def test_healthz_is_ok_when_every_part_is(app, ctx, monkeypatch):
    monkeypatch.setattr(health, "_nlu", lambda: "ok")
    monkeypatch.setattr(health, "_broker", lambda: "ok")
    _alive()
    body = app.test_client().get("/healthz").get_json()
    assert body["status"] == "ok", body
    assert body["details"]["workers"] == ["w1@host"] and body["details"]["outbox_backlog"] == 0


def test_a_dead_beat_shows_as_late_within_two_minutes(app, ctx, monkeypatch):
    monkeypatch.setattr(health, "_nlu", lambda: "ok")
    monkeypatch.setattr(health, "_broker", lambda: "ok")
    now = utcnow()
    _alive(now - timedelta(seconds=121))
    heartbeats.beat("worker:w1@host", {}, now)
    state = health.check(now)
    assert (state["beat"], state["workers"], state["status"]) == ("late", "ok", "degraded")
    assert state["details"]["last_sweep_age_s"] >= 121
    assert health.check(now - timedelta(seconds=60))["beat"] == "ok"


def test_no_worker_nlu_down_and_an_outbox_backlog_are_each_named(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "RASA_URL", "http://127.0.0.1:9")  # nothing listens
    monkeypatch.setitem(app.config, "OUTBOX_BACKLOG_LIMIT", 1)
    now = utcnow()
    heartbeats.beat(heartbeats.SWEEP, {}, now)
    heartbeats.beat("worker:old@host", {}, now - timedelta(seconds=91))
    report = SubmittedReportFactory(contact=None)
    db.session.add(
        OutboxMessage(dedupe_key="x", recipient_kind="resident", channel="email",
                      address="a@x.vn", report_id=report.id, body="…",
                      status=OutboxStatus.FAILED, next_attempt_at=now - timedelta(minutes=1))
    )  # fmt: skip
    db.session.commit()
    state = health.check(now)
    assert (state["nlu"], state["workers"], state["outbox"]) == ("down", "down", "backlog")
    assert state["status"] == "degraded" and state["details"]["outbox_backlog"] >= 1
    assert app.test_client().get("/healthz").status_code == 200, "503 only without a database"


def _metrics(app, **headers) -> tuple[int, str]:
    response = app.test_client().get(
        "/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers=headers
    )
    return response.status_code, response.get_data(as_text=True)


def test_metrics_show_the_parts_the_reports_and_the_requests(app, ctx, monkeypatch):
    monkeypatch.setattr(health, "_nlu", lambda: "ok")
    now = utcnow()
    _alive(now - timedelta(seconds=200))  # the beat died three minutes ago
    heartbeats.beat("worker:w1@host", {}, now)
    SubmittedReportFactory()
    app.test_client().get("/healthz")
    status, text = _metrics(app)
    assert status == 200
    assert 'phananh_up{part="beat"} 0.0' in text and 'phananh_up{part="workers"} 1.0' in text
    assert 'phananh_up{part="database"} 1.0' in text
    assert "phananh_sweep_age_seconds 2" in text  # 200-odd seconds
    assert 'phananh_reports{status="' in text and "phananh_reports_overdue 0.0" in text
    assert "phananh_workers_alive 1.0" in text
    assert (
        'flask_http_request_duration_seconds_count{endpoint="public.healthz",method="GET"' in text
    )


def test_metrics_are_for_prometheus_only(app, ctx, monkeypatch):
    outside = app.test_client().get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert outside.status_code == 404
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "s3cret-token")
    assert _metrics(app)[0] == 404, "with a token, the loopback alone is not enough"
    assert _metrics(app, Authorization="Bearer wrong")[0] == 404
    assert _metrics(app, Authorization="Bearer s3cret-token")[0] == 200


def test_ten_thousand_health_checks_cost_one_probe_per_interval(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "HEALTH_CACHE_SECONDS", 60)
    app.extensions.pop("health", None)
    probes = []
    monkeypatch.setattr(health, "_nlu", lambda: probes.append(1) or "ok")
    client = app.test_client()
    try:
        answers = {client.get("/healthz").status_code for _ in range(300)}
        for _ in range(10_000):
            health.cached_check()
    finally:
        app.extensions.pop("health", None)
    assert answers == {200} and len(probes) == 1

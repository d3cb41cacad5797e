"""Celery tasks and NLU calls are counted wherever they run and shown on /metrics."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import ReportFactory
from tests.support.fake_nlu import FakeRasa
from webapp.extensions import db
from webapp.infra import work_stats


def _metrics(app) -> str:
    response = app.test_client().get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def figure(text: str, name: str, **labels: str) -> float:
    """One sample of the exposition (0 when absent)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0


TASK = "workers.tasks.classify_report"


@pytest.fixture
def fake_rasa(app):
    with FakeRasa() as rasa:
        saved = app.config["RASA_URL"]
        app.config["RASA_URL"] = rasa.url
        app.extensions.pop("nlu_client", None)
        yield rasa
        app.config["RASA_URL"] = saved
        app.extensions.pop("nlu_client", None)


def _task(app):
    """The task of this app's Celery (other tests build apps that become Celery's default)."""
    celery = app.extensions["celery"]
    celery.loader.import_default_modules()
    return celery.tasks[TASK]


def test_a_task_run_and_its_nlu_call_are_counted(app, fake_rasa):
    classify_report = _task(app)
    before = _metrics(app)
    with app.app_context():
        report = ReportFactory(description="Đèn đường tắt cả tuần", status="received")
        db.session.commit()
        report_id = report.id
    assert classify_report.apply(args=(report_id,)).get() == "triage:no_location"
    fake_rasa.available = False
    with app.app_context():
        report = ReportFactory(description="Rác chất đống", status="received")
        db.session.commit()
        down = report.id
    assert classify_report.apply(args=(down,)).get() == "nlu-down"
    after = _metrics(app)

    def grew(name: str, **labels: str) -> float:
        return figure(after, name, **labels) - figure(before, name, **labels)

    assert grew("phananh_celery_tasks_total", task=TASK, outcome="success") == 2
    assert grew("phananh_celery_task_seconds_count", task=TASK) == 2
    assert grew("phananh_celery_task_seconds_sum", task=TASK) > 0
    assert grew("phananh_nlu_calls_total", outcome="ok") == 1
    assert grew("phananh_nlu_calls_total", outcome="unavailable") == 1
    assert grew("phananh_nlu_latency_seconds_count") == 2
    assert grew("phananh_nlu_latency_seconds_bucket", le="+Inf") == 2


def test_a_failing_task_is_counted_as_a_failure(app, monkeypatch):
    classify_report = _task(app)

    def broken(report_id: int, client=None) -> str:
        raise RuntimeError("boom")

    monkeypatch.setattr("webapp.services.casework.classification.classify_and_route", broken)
    before = figure(_metrics(app), "phananh_celery_tasks_total", task=TASK, outcome="failure")
    result = classify_report.apply(args=(1,))
    assert result.failed()
    after = figure(_metrics(app), "phananh_celery_tasks_total", task=TASK, outcome="failure")
    assert after - before == 1


def test_without_redis_nothing_is_recorded_and_nothing_fails(app, monkeypatch):
    monkeypatch.setitem(app.extensions, "work_stats", None)
    work_stats.record_task(app, TASK, "success", 0.1)
    assert work_stats.read(app) == {}
    assert "phananh_celery_tasks_total" not in _metrics(app)


def test_a_redis_that_does_not_answer_fails_neither_the_task_nor_the_scrape(app, monkeypatch):
    import redis

    dead = redis.Redis(port=1, socket_timeout=0.2, socket_connect_timeout=0.2)
    monkeypatch.setitem(app.extensions, "work_stats", dead)
    work_stats.record_task(app, TASK, "success", 0.1)
    assert work_stats.read(app) == {}
    assert "phananh_up" in _metrics(app)

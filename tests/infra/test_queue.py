"""Task names live in one module; enqueue tells a broker outage from a misspelt name."""

from __future__ import annotations

import logging

import pytest

from webapp.infra import queue, task_names
from workers.schedule import BEAT_SCHEDULE


def test_every_task_name_is_registered_and_every_task_is_named(app):
    celery = app.extensions["celery"]
    celery.loader.import_default_modules()
    registered = {name for name in celery.tasks if not name.startswith("celery.")}
    assert registered == task_names.ALL
    assert {entry["task"] for entry in BEAT_SCHEDULE.values()} <= task_names.ALL


def test_a_misspelt_task_name_fails_loudly(app):
    with app.app_context(), pytest.raises(queue.UnknownTask, match="classify_reports"):
        queue.enqueue("workers.tasks.classify_reports", 1)


def test_a_broker_outage_is_logged_as_such_and_returns_false(app, monkeypatch, caplog):
    celery = app.extensions["celery"]

    def down(*args, **kwargs):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(celery, "send_task", down)
    with app.app_context(), caplog.at_level(logging.WARNING, logger="webapp.infra.queue"):
        assert queue.enqueue(task_names.CLASSIFY_REPORT, 42) is False
    assert "broker unavailable (ConnectionRefusedError)" in caplog.text
    assert "the sweep will retry" in caplog.text


def test_tasks_can_be_switched_off(app, monkeypatch):
    sent = []
    monkeypatch.setattr(app.extensions["celery"], "send_task", lambda *a, **k: sent.append(a))
    monkeypatch.setitem(app.config, "TASKS_ENABLED", False)
    with app.app_context():
        assert queue.enqueue(task_names.SWEEP) is False
    assert sent == []

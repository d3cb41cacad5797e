"""Each kind of work has its own queue: a worker that takes only intake classifies reports
while an export backlog waits untouched in its own queue."""

from __future__ import annotations

import pytest
import redis
from sqlalchemy import func, select

from tests.factories import SubmittedReportFactory
from tests.support.fake_nlu import FakeRasa
from tests.support.processes import Worker, wait_until, worker_env
from webapp.extensions import db
from webapp.infra import queue, task_names, work_stats
from webapp.models import Report, ReportStatus
from workers.celery_app import _queues

pytestmark = pytest.mark.integration
FINAL = (ReportStatus.ASSIGNED, ReportStatus.NEEDS_TRIAGE)


def test_every_task_is_routed_to_the_queue_of_its_kind(app):
    prefix = app.config["CELERY_QUEUE"]
    routes = app.extensions["celery"].conf.task_routes
    assert set(routes) == task_names.ALL
    assert routes[task_names.CLASSIFY_REPORT] == {"queue": f"{prefix}.intake"}
    assert routes[task_names.RUN_EXPORT] == {"queue": f"{prefix}.exports"}
    assert routes[task_names.DELIVER_MESSAGES] == {"queue": f"{prefix}.outbox"}
    assert routes[task_names.HANDLE_ZALO_EVENT] == {"queue": f"{prefix}.bot"}
    assert routes[task_names.SWEEP] == {"queue": f"{prefix}.sweep"}


def test_worker_queues_choose_kinds_and_refuse_unknown_ones(app, monkeypatch):
    monkeypatch.setitem(app.config, "WORKER_QUEUES", "intake, sweep")
    queues, _routes = _queues(app)
    prefix = app.config["CELERY_QUEUE"]
    assert [q.name for q in queues] == [f"{prefix}.intake", f"{prefix}.sweep"]
    monkeypatch.setitem(app.config, "WORKER_QUEUES", "")
    everything = [q.name for q in _queues(app)[0]]
    assert prefix in everything, "messages queued before the split must still drain"
    assert len(everything) == len(task_names.KINDS) + 1
    monkeypatch.setitem(app.config, "WORKER_QUEUES", "intake,exprots")
    with pytest.raises(ValueError, match="exprots"):
        _queues(app)


def _finished(ids: list[int]) -> int:
    db.session.remove()
    return db.session.scalar(
        select(func.count()).select_from(Report).where(Report.id.in_(ids), Report.status.in_(FINAL))
    )


def test_an_export_backlog_does_not_delay_classification(app, app_config, tmp_path):
    broker = redis.Redis.from_url(app_config["CELERY_BROKER_URL"])
    exports = task_names.queue_name(app_config["CELERY_QUEUE"], task_names.EXPORTS)
    with FakeRasa() as rasa, app.app_context():
        app.config["RASA_URL"] = rasa.url
        for job_id in range(900_001, 900_021):  # twenty export tasks nobody takes
            assert queue.enqueue(task_names.RUN_EXPORT, job_id)
        waiting = broker.llen(exports)
        assert waiting >= 20
        ids = [SubmittedReportFactory(description=f"Đèn đường tắt (số {i})").id for i in range(5)]
        counted = work_stats.read(app).get(f"task|{task_names.CLASSIFY_REPORT}|success", 0)
        env = worker_env(app_config, RASA_URL=rasa.url, WORKER_QUEUES="intake,sweep")
        worker = Worker(env, log=tmp_path / "worker.log").start()
        try:
            assert wait_until(lambda: _finished(ids) == len(ids), 90), (
                tmp_path / "worker.log"
            ).read_text(errors="replace")[-3000:]
        finally:
            worker.stop()
        assert broker.llen(exports) == waiting, "the intake worker took export work"
        # The worker's (prefork) children counted their runs where /metrics reads them.
        stats = work_stats.read(app)
        assert stats[f"task|{task_names.CLASSIFY_REPORT}|success"] - counted >= len(ids)
        assert stats["nlu|ok"] >= len(ids)
        broker.delete(exports)

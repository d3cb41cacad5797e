"""Real Redis, real worker processes: crashes and broker outages lose nothing, do nothing twice."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import SubmittedReportFactory
from tests.support.fake_nlu import FakeRasa
from tests.support.processes import RedisServer, Worker, wait_until, worker_env
from webapp.extensions import db
from webapp.models import Report, ReportEvent, ReportStatus
from webapp.services.intake.reports import ReportDraft, submit_report

pytestmark = pytest.mark.integration
FINAL = (ReportStatus.ASSIGNED, ReportStatus.NEEDS_TRIAGE)
TEXTS = ["Đèn đường tắt cả tuần", "Rác thải chất đống đầu kiệt", "Ổ gà lớn giữa đường"]


def _finished(ids: list[int]) -> int:
    db.session.remove()
    return db.session.scalar(
        select(func.count()).select_from(Report).where(Report.id.in_(ids), Report.status.in_(FINAL))
    )


def _assert_each_done_once(ids: list[int]) -> None:
    db.session.remove()
    rows = db.session.execute(
        select(ReportEvent.report_id, ReportEvent.to_status, func.count())
        .where(ReportEvent.report_id.in_(ids), ReportEvent.kind == "status")
        .group_by(ReportEvent.report_id, ReportEvent.to_status)
    ).all()
    for report_id, status, count in rows:
        assert count == 1, f"report {report_id} went to {status} {count} times"
    statuses = dict(
        db.session.execute(select(Report.id, Report.status).where(Report.id.in_(ids))).all()
    )
    assert len(statuses) == len(ids), "a report was lost"
    assert all(s in FINAL for s in statuses.values()), statuses


def test_kill_9_worker_mid_batch_then_restart_finishes_every_report_once(app, app_config, tmp_path):
    with FakeRasa(delay=0.05) as rasa:
        app.config["RASA_URL"] = rasa.url
        env = worker_env(app_config, RASA_URL=rasa.url, CELERY_VISIBILITY_TIMEOUT="5")
        with app.app_context():
            ids = [
                SubmittedReportFactory(description=f"{TEXTS[i % 3]} (số {i})").id
                for i in range(200)
            ]
            worker = Worker(env, concurrency=2, log=tmp_path / "worker.log").start()
            try:
                assert wait_until(lambda: _finished(ids) >= 20, 120), "worker never started"
                worker.kill9()
                done_at_kill = _finished(ids)
                assert done_at_kill < len(ids), "the batch finished before the crash"
                worker = Worker(env, concurrency=2, log=tmp_path / "worker.log").start()
                # Unacknowledged tasks come back after the visibility timeout; the sweep
                # re-enqueues anything still waiting.
                app.config["REQUEUE_AFTER_SECONDS"] = 0
                from webapp.services.sla.sweep import run_sweep

                def done() -> bool:
                    if _finished(ids) < len(ids):
                        run_sweep()
                        return False
                    return True

                assert wait_until(done, 240, interval=3), (_finished(ids), len(ids))
            finally:
                worker.stop()
                app.config["REQUEUE_AFTER_SECONDS"] = 60
            _assert_each_done_once(ids)


def _use_broker(celery, url: str) -> None:
    """Point the app's Celery at another broker, dropping pooled connections."""
    from kombu import pools

    celery.conf.broker_url = url
    pools.reset()  # closes and forgets every pooled connection, so new ones are made
    celery._pool = None
    celery.amqp._producer_pool = None


def test_broker_down_intake_still_stores_and_sweep_finishes_the_backlog(app, app_config, tmp_path):
    broker = RedisServer().start()
    old_broker = app.config["CELERY_BROKER_URL"]
    celery = app.extensions["celery"]
    with FakeRasa() as rasa:
        app.config["RASA_URL"] = rasa.url
        _use_broker(celery, broker.url)
        try:
            broker.stop()
            with app.app_context():
                results = [
                    submit_report(
                        ReportDraft(
                            channel="web", description=f"Rác thải ùn ứ số {i}", consent=True
                        )
                    )
                    for i in range(5)
                ]
                assert all(r.code and not r.queued for r in results)
                ids = [r.report_id for r in results]
                assert _finished(ids) == 0
                broker.start()
                _use_broker(celery, broker.url)
                env = worker_env(app_config, RASA_URL=rasa.url, CELERY_BROKER_URL=broker.url)
                worker = Worker(env, log=tmp_path / "worker.log").start()
                try:
                    app.config["REQUEUE_AFTER_SECONDS"] = 0
                    from webapp.services.sla.sweep import run_sweep

                    assert run_sweep().requeued == len(ids)
                    assert wait_until(lambda: _finished(ids) == len(ids), 120)
                finally:
                    worker.stop()
                    app.config["REQUEUE_AFTER_SECONDS"] = 60
                _assert_each_done_once(ids)
        finally:
            _use_broker(celery, old_broker)
            broker.stop()

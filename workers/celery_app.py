"""The Celery app, bound to a Flask app so every task runs inside an app context."""

from __future__ import annotations

import time
from typing import Any

from celery import Celery, Task
from celery.exceptions import Retry
from celery.signals import setup_logging, worker_process_init
from flask import Flask
from kombu import Exchange, Queue

from config.settings import TIMEZONE
from webapp.infra import logs, task_names, work_stats
from workers.schedule import BEAT_SCHEDULE


def _transport_options(url: str, visibility_timeout: int) -> dict:
    """Redis redelivers unacknowledged tasks after the visibility timeout; SQL needs nothing."""
    if url.startswith(("redis://", "rediss://")):
        return {"visibility_timeout": visibility_timeout, "max_retries": 1}
    return {}


def _schedule(app: Flask) -> dict:
    """The beat schedule, with the sweep's period from SWEEP_SECONDS."""
    sweep = {**BEAT_SCHEDULE["sweep"], "schedule": float(app.config["SWEEP_SECONDS"])}
    return {**BEAT_SCHEDULE, "sweep": sweep}


def _queues(app: Flask) -> tuple[list[Queue], dict[str, dict[str, str]]]:
    """The queues this process consumes (WORKER_QUEUES, or every kind and the pre-split
    queue, so messages sent before an upgrade still drain) and the route of every task."""
    prefix = app.config["CELERY_QUEUE"]
    wanted = [kind.strip() for kind in app.config["WORKER_QUEUES"].split(",") if kind.strip()]
    unknown = set(wanted) - set(task_names.KINDS)
    if unknown:
        raise ValueError(
            f"WORKER_QUEUES: unknown kinds {sorted(unknown)} (known: {task_names.KINDS})"
        )
    names = [task_names.queue_name(prefix, kind) for kind in wanted or task_names.KINDS]
    if not wanted:
        names.append(prefix)
    routes = {
        task: {"queue": task_names.queue_name(prefix, kind)}
        for task, kind in task_names.KIND_OF.items()
    }
    # The exchange Celery would create for a missing queue: a producer that does not consume
    # a queue still publishes where its consumers are bound.
    return [Queue(name, Exchange(name), routing_key=name) for name in names], routes


def _request_id(request: Any) -> str | None:
    """The id of the web request that enqueued this task (a message header), if any."""
    found = getattr(request, "request_id", None) or (request.headers or {}).get("request_id")
    return str(found) if found else None


def _forget_parent_connections(app: Flask) -> Any:
    """A prefork child must not share the parent's pooled database connections (the worker's
    heartbeat opens them in the parent): drop them, unclosed, as SQLAlchemy advises."""

    def forget(**_kwargs: Any) -> None:
        from webapp.extensions import db

        with app.app_context():
            db.engine.dispose(close=False)

    return forget


class FlaskCelery(Celery):
    """The Celery app with the Flask app it serves (for bootsteps and the scheduler)."""

    flask_app: Flask


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app from the Flask config and store it in app.extensions."""

    class FlaskTask(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            token = logs.set_id(_request_id(self.request))
            started, outcome = time.perf_counter(), "failure"
            try:
                with app.app_context():
                    result = self.run(*args, **kwargs)
                outcome = "success"
                return result
            except Retry:
                outcome = "retry"
                raise
            finally:
                work_stats.record_task(app, self.name, outcome, time.perf_counter() - started)
                logs.reset_id(token)

    celery = FlaskCelery(app.import_name, task_cls=FlaskTask)
    queues, routes = _queues(app)
    celery.conf.update(
        broker_url=app.config["CELERY_BROKER_URL"],
        task_ignore_result=True,
        result_backend=None,
        # A task is acknowledged only when done: a killed worker's task is redelivered.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_always_eager=app.config.get("CELERY_TASK_ALWAYS_EAGER", False),
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=2,
        broker_transport_options=_transport_options(
            app.config["CELERY_BROKER_URL"], app.config["CELERY_VISIBILITY_TIMEOUT"]
        ),
        task_default_queue=app.config["CELERY_QUEUE"],
        task_queues=queues,
        task_routes=routes,
        beat_schedule=_schedule(app),
        timezone=TIMEZONE,
        imports=("workers.tasks", "workers.export_tasks", "bot.tasks"),
    )
    celery.flask_app = app
    from workers.heartbeat import WorkerHeartbeat

    celery.steps["worker"].add(WorkerHeartbeat)
    worker_process_init.connect(_forget_parent_connections(app), weak=False)
    # Workers and beats log as the web does (LOG_FORMAT, request ids), not Celery's own way.
    setup_logging.connect(lambda **_kw: logs.configure(app.config["LOG_FORMAT"]), weak=False)
    celery.set_default()
    app.extensions["celery"] = celery
    return celery

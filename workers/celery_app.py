"""The Celery app, bound to a Flask app so every task runs inside an app context."""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from flask import Flask

from config.settings import TIMEZONE
from workers.schedule import BEAT_SCHEDULE


def _transport_options(url: str, visibility_timeout: int) -> dict:
    """Redis redelivers unacknowledged tasks after the visibility timeout; SQL needs nothing."""
    if url.startswith(("redis://", "rediss://")):
        return {"visibility_timeout": visibility_timeout, "max_retries": 1}
    return {}


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app from the Flask config and store it in app.extensions."""

    class FlaskTask(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery: Celery = Celery(app.import_name, task_cls=FlaskTask)
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
        task_default_queue=app.config.get("CELERY_QUEUE", "phananh"),
        beat_schedule=BEAT_SCHEDULE,
        timezone=TIMEZONE,
        imports=("workers.tasks", "workers.export_tasks", "bot.tasks"),
    )
    celery.set_default()
    app.extensions["celery"] = celery
    return celery

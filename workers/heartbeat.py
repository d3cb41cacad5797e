"""Each worker says it is alive: `worker:<hostname>` every HEARTBEAT_SECONDS, from the
worker's own timer (a Celery bootstep), so an idle worker is seen as alive and a dead one
as gone within a minute or two (`/healthz`, `/metrics`)."""

from __future__ import annotations

import logging
import os
from typing import Any

from celery import bootsteps

log = logging.getLogger(__name__)


class WorkerHeartbeat(bootsteps.StartStopStep):
    """Writes the worker's heartbeat row at start, then every HEARTBEAT_SECONDS."""

    requires = ("celery.worker.components:Timer",)

    def __init__(self, worker: Any, **kwargs: Any) -> None:
        super().__init__(worker, **kwargs)
        self.tref: Any = None

    def start(self, worker: Any) -> None:
        flask_app = worker.app.flask_app
        interval = float(flask_app.config["HEARTBEAT_SECONDS"])
        self.beat(worker)
        self.tref = worker.timer.call_repeatedly(interval, self.beat, (worker,), priority=10)

    def stop(self, worker: Any) -> None:
        if self.tref is not None:
            self.tref.cancel()

    def beat(self, worker: Any) -> None:
        from webapp.infra import heartbeats

        flask_app = worker.app.flask_app
        queues = sorted(q.name for q in worker.app.amqp.queues.consume_from.values())
        try:
            with flask_app.app_context():
                heartbeats.beat(
                    f"{heartbeats.WORKER_PREFIX}{worker.hostname}",
                    {"pid": os.getpid(), "queues": queues},
                )
        except Exception:  # the database may be down for a moment: say so, keep working
            log.warning("worker heartbeat not written", exc_info=True)

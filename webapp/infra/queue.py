"""Enqueueing tasks after commit without ever failing the caller when the broker is down."""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app

from webapp.infra import logs, task_names

log = logging.getLogger(__name__)


class UnknownTask(LookupError):
    """A task name that no worker registers: a bug to fix, not an outage to ride out."""


def enqueue(task_name: str, *args: Any, **options: Any) -> bool:
    """Send a task by name; False (logged as a broker outage) when the broker cannot take it.

    The periodic sweep picks up whatever could not be queued, so intake never fails on a
    broker outage. A name that is not in `webapp.infra.task_names` raises UnknownTask.
    """
    if task_name not in task_names.ALL:
        raise UnknownTask(f"no task is registered as {task_name!r} (webapp/infra/task_names.py)")
    if not current_app.config["TASKS_ENABLED"]:
        return False
    celery = current_app.extensions["celery"]
    if celery.conf.task_always_eager:
        celery.tasks[task_name].apply(args=args)
        return True
    request_id = logs.current_id()
    if request_id:  # the worker logs under the id of the request that asked
        options.setdefault("headers", {})["request_id"] = request_id
    try:
        celery.send_task(task_name, args=args, retry=False, **options)
    except Exception as error:  # the broker being down must never lose a stored report
        log.warning(
            "broker unavailable (%s): %s%r not queued; the sweep will retry",
            type(error).__name__,
            task_name,
            args,
        )
        return False
    return True

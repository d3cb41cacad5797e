"""Enqueueing tasks after commit without ever failing the caller when the broker is down."""

from __future__ import annotations

import logging

from flask import current_app

log = logging.getLogger(__name__)


def enqueue(task_name: str, *args, **options) -> bool:
    """Send a task by name; False (logged) when the broker cannot take it.

    The periodic sweep picks up whatever could not be queued, so intake never fails on this.
    """
    if not current_app.config.get("TASKS_ENABLED", True):
        return False
    celery = current_app.extensions["celery"]
    try:
        if celery.conf.task_always_eager:
            celery.tasks[task_name].apply(args=args)
        else:
            celery.send_task(task_name, args=args, retry=False, **options)
    except Exception:  # the broker being down must never lose a stored report
        log.warning("could not enqueue %s%r; the sweep will retry", task_name, args, exc_info=True)
        return False
    return True

"""Celery tasks of the bots: messenger events stored by the webhooks, handled off the request.

They take row ids, re-read the row, and return early when it was already handled.
"""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task

from webapp.infra import task_names as names

ZALO_TASK = names.HANDLE_ZALO_EVENT
TELEGRAM_TASK = names.HANDLE_TELEGRAM_UPDATE


@shared_task(name=ZALO_TASK, acks_late=True)
def handle_zalo_event(event_row_id: int) -> str:
    """Run the dialog on one Zalo event and send the replies."""
    from bot import zalo_adapter

    return zalo_adapter.handle_event(event_row_id)


@shared_task(name=TELEGRAM_TASK, acks_late=True)
def handle_telegram_update(event_row_id: int) -> str:
    """Run the Telegram handlers on one update received by the webhook."""
    from flask import current_app

    from bot import telegram_adapter

    # Flask types current_app as the Flask app, not the LocalProxy it is (Flask does the same).
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return telegram_adapter.handle_stored_update(app, event_row_id)


@shared_task(name=names.BOT_SWEEP)
def sweep() -> dict:
    """Queue again webhook events never handled (the broker was down); prune old rows."""
    from webapp.infra import queue
    from webapp.services.messaging import conversations

    tasks = {"zalo": ZALO_TASK, "telegram": TELEGRAM_TASK}
    pending = conversations.pending_events(older_than=timedelta(minutes=2))
    requeued = sum(queue.enqueue(tasks[channel], row_id) for row_id, channel in pending)
    events, drafts = conversations.prune()
    return {"requeued": requeued, "events_pruned": events, "drafts_pruned": drafts}

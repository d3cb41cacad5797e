"""The outbox: every message is a row first, delivered after commit, retried with backoff.

`init_app` installs the session hooks that queue new messages once their transaction commits.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import ColumnElement, event, func, or_, select
from sqlalchemy.orm import Session

from webapp.extensions import db
from webapp.infra import bulk, queue, task_names
from webapp.models import OutboxMessage, OutboxStatus
from webapp.models.types import utcnow
from webapp.services.messaging import fallback
from webapp.services.messaging.channels import Undeliverable, sender_for
from webapp.services.messaging.channels.tracking_page import TrackingPageSender

log = logging.getLogger(__name__)
DELIVER_TASK = task_names.DELIVER_MESSAGE
DELIVER_BATCH_TASK = task_names.DELIVER_MESSAGES
DELIVER_BATCH = 100
# Residents without a messenger or a confirmed e-mail read the news on the tracking page: their
# messages are the record that they were told, sent when written.
TRACKING_PAGE = TrackingPageSender.channel


def add_message(
    *,
    dedupe_key: str,
    recipient_kind: str,
    channel: str,
    address: str | None,
    body: str,
    subject: str | None = None,
    report_id: int | None = None,
    payload: dict[str, Any] | None = None,
    key_is_new: bool = False,
) -> OutboxMessage | None:
    """Add a message to the session unless one with the same key exists (exactly once).

    `key_is_new`: the key names a row this transaction created (its event, its report), so
    no stored message can hold it and the lookup is skipped; the transaction's own keys are
    still checked.
    """
    session = db.session
    pending_keys = session.info.setdefault("outbox_keys", set())
    if dedupe_key in pending_keys:
        return None
    if not key_is_new:
        with session.no_autoflush:  # a lookup must not flush the caller's pending rows
            exists = session.scalar(
                select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
            )
        if exists:
            return None
    message = OutboxMessage(
        dedupe_key=dedupe_key,
        recipient_kind=recipient_kind,
        channel=channel,
        address=address,
        subject=subject,
        body=body,
        report_id=report_id,
        payload=payload,
        status=OutboxStatus.PENDING,
    )
    if channel == TRACKING_PAGE:  # nothing to push: the page shows the event, no task to run
        message.status, message.attempts, message.sent_at = OutboxStatus.SENT, 1, utcnow()
    session.add(message)
    pending_keys.add(dedupe_key)
    return message


def add_messages(rows: list[dict[str, Any]]) -> list[int]:
    """Insert many messages in one statement; keys already stored are skipped (exactly once).

    Each row holds `add_message`'s arguments. The new ids are delivered after the commit, in
    batch tasks, like the messages added one by one.
    """
    if not rows:
        return []
    optional = {"subject": None, "report_id": None, "payload": None}
    ids = bulk.insert_rows(
        OutboxMessage.__table__,
        [{**optional, **row, "status": OutboxStatus.PENDING, "attempts": 0} for row in rows],
        skip_conflicts_on="dedupe_key",
        returning="id",
    )
    session = db.session
    session.info.setdefault("outbox_new_ids", []).extend(ids)
    return ids


def backoff(attempts: int) -> timedelta:
    """Wait before the next try: doubling from OUTBOX_BACKOFF_SECONDS, at most an hour."""
    base = current_app.config["OUTBOX_BACKOFF_SECONDS"]
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 3600))


def deliver(message_id: int) -> str:
    """Deliver one message if still due; records success or failure and never raises."""
    message = db.session.scalar(
        select(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.FAILED]),
        )
        .with_for_update(skip_locked=True)
    )
    if message is None:
        db.session.rollback()
        return "skip"
    try:
        if not fallback.within_budget(message.channel):  # spent since the row was written
            raise Undeliverable(f"{message.channel}: monthly budget spent")
        sender_for(message.channel).send(message)
    except Undeliverable as error:  # no retry on this channel: the resident's next way
        message.attempts += 1
        message.status = OutboxStatus.DEAD
        message.last_error = f"Undeliverable: {error}"[:2000]
        log.info("outbox %s via %s undeliverable: %s", message.id, message.channel, error)
        way = fallback.next_way(message)
        if way is not None:
            add_message(**way)
        db.session.commit()
        return "rerouted" if way is not None else "undeliverable"
    except Exception as error:  # a sender must never break the loop
        message.attempts += 1
        message.last_error = f"{type(error).__name__}: {error}"[:2000]
        if message.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
            message.status = OutboxStatus.DEAD
        else:
            message.status = OutboxStatus.FAILED
            message.next_attempt_at = utcnow() + backoff(message.attempts)
        log.warning("outbox %s via %s failed: %s", message.id, message.channel, error)
        db.session.commit()
        return "failed"
    message.attempts += 1
    message.status = OutboxStatus.SENT
    message.sent_at = utcnow()
    message.last_error = None
    db.session.commit()
    return "sent"


def _due(now: datetime) -> ColumnElement[bool]:
    """Failed messages whose next try is due, and pending ones not sent within two minutes."""
    return or_(
        (OutboxMessage.status == OutboxStatus.FAILED) & (OutboxMessage.next_attempt_at <= now),
        (OutboxMessage.status == OutboxStatus.PENDING)
        & (OutboxMessage.created_at <= now - timedelta(minutes=2)),
    )


def due_for_retry(now: datetime, limit: int) -> list[int]:
    """Failed messages whose next try is due, and pending ones that never got queued."""
    stmt = select(OutboxMessage.id).where(_due(now)).order_by(OutboxMessage.id).limit(limit)
    return list(db.session.scalars(stmt))


def backlog(now: datetime) -> int:
    """How many messages are due and undelivered (what the sweep would retry)."""
    count = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(_due(now)))
    return int(count or 0)


# -- Enqueue after commit ---------------------------------------------------------------
# Ids of new messages are captured after each flush and queued once the transaction has
# committed, so a worker never looks for a row that is not there yet.


def _collect_new_messages(session: Session, _ctx: object) -> None:
    # In after_flush, `session.new` still lists what this flush inserted, ids assigned.
    new_ids = session.info.setdefault("outbox_new_ids", [])
    new_ids.extend(
        obj.id
        for obj in session.new
        if isinstance(obj, OutboxMessage) and obj.status == OutboxStatus.PENDING
    )


def _enqueue_new_messages(session: Session) -> None:
    ids = session.info.pop("outbox_new_ids", [])
    session.info.pop("outbox_keys", None)
    if len(ids) == 1:
        queue.enqueue(DELIVER_TASK, ids[0])
    # Bursts (the sweep) go out as a few batch tasks rather than one task per message.
    for start in range(0, len(ids) if len(ids) > 1 else 0, DELIVER_BATCH):
        queue.enqueue(DELIVER_BATCH_TASK, ids[start : start + DELIVER_BATCH])


def _forget_new_messages(session: Session) -> None:
    session.info.pop("outbox_new_ids", None)
    session.info.pop("outbox_keys", None)


_SESSION_HOOKS = (
    ("after_flush", _collect_new_messages),
    ("after_commit", _enqueue_new_messages),
    ("after_rollback", _forget_new_messages),
)


def init_app(app: Flask) -> None:
    """Queue new messages after their transaction commits (hooks on every session, once)."""
    for name, hook in _SESSION_HOOKS:
        if not event.contains(Session, name, hook):
            event.listen(Session, name, hook)

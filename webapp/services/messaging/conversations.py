"""Messenger dialog state and received events, kept in the database.

Any bot process (the Telegram poller, a webhook task on any worker) can continue any
conversation: the row is locked for the length of one turn, so two messages of the same
person are handled one after the other. Every update received is recorded under its id on
the messenger, so that a replayed webhook or an update redelivered after a crash is
handled once.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from flask import current_app
from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm.attributes import flag_modified

from webapp.extensions import db
from webapp.infra import bulk, queue
from webapp.models import Conversation, ConversationPhoto, InboundEvent
from webapp.models.types import utcnow

IDLE = "idle"
# What a reset keeps of the data: the resident's choices, not the draft.
KEPT_ON_RESET = ("lang", "notice")
# Handled events are kept this long (Telegram redelivers for a day at most).
EVENTS_KEPT_DAYS = 30


def load(channel: str, user_id: str) -> tuple[Conversation, bool]:
    """The user's conversation, locked until commit; True when a stale draft was dropped."""
    now = utcnow()
    bulk.insert_ignore(
        Conversation,
        ["channel", "user_id"],
        {
            "channel": channel,
            "user_id": user_id,
            "state": IDLE,
            "data": {},
            "created_at": now,
            "updated_at": now,
        },
    )
    conversation = db.session.scalar(
        select(Conversation)
        .where(Conversation.channel == channel, Conversation.user_id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert conversation is not None
    ttl = timedelta(hours=current_app.config.get("BOT_DRAFT_TTL_HOURS", 24))
    expired = conversation.state != IDLE and conversation.updated_at < now - ttl
    if expired:
        reset(conversation)
    return conversation, expired


def save(conversation: Conversation, state: str, data: dict[str, Any]) -> None:
    """Set the state and data (JSON is replaced, not mutated, so the change is seen)."""
    conversation.state = state
    conversation.data = dict(data)
    conversation.updated_at = utcnow()
    flag_modified(conversation, "data")


def reset(conversation: Conversation) -> None:
    """Forget the draft and its photos (the chosen language stays)."""
    conversation.photos.clear()
    data = conversation.data or {}
    save(conversation, IDLE, {key: data[key] for key in KEPT_ON_RESET if key in data})


def language(channel: str, user_id: str, default: str = "vi") -> str:
    """The language a messenger user chose in the dialog (/english), else `default`."""
    data = db.session.scalar(
        select(Conversation.data).where(
            Conversation.channel == channel, Conversation.user_id == user_id
        )
    )
    return (data or {}).get("lang") or default


def add_photo(conversation: Conversation, data: bytes, filename: str | None) -> ConversationPhoto:
    """Keep a photo of the draft until it is submitted."""
    photo = ConversationPhoto(
        data=data, filename=(filename or "")[:200] or None, position=len(conversation.photos)
    )
    conversation.photos.append(photo)
    return photo


# -- Received events -----------------------------------------------------------------------


def record_inbound(channel: str, event_id: str, payload: dict[str, Any]) -> int | None:
    """Store an event the first time it is seen; its row id, or None for a replay."""
    return bulk.insert_ignore(
        InboundEvent,
        ["channel", "event_id"],
        {
            "channel": channel,
            "event_id": event_id[:100],
            "payload": payload,
            "status": "pending",
            "received_at": utcnow(),
        },
    )


def accept_inbound(channel: str, event_id: str, payload: dict[str, Any], task: str) -> bool:
    """Record a webhook event and queue its handling after commit; False for a replay."""
    row_id = record_inbound(channel, event_id, payload)
    db.session.commit()
    if row_id is None:
        return False
    queue.enqueue(task, row_id)
    return True


def claim(channel: str, event_id: str) -> InboundEvent | None:
    """The event row locked for handling (created if new); None when already handled."""
    record_inbound(channel, event_id, {})
    event = db.session.scalar(
        select(InboundEvent)
        .where(InboundEvent.channel == channel, InboundEvent.event_id == event_id[:100])
        .with_for_update()
    )
    if event is None or event.status == "done":
        db.session.rollback()
        return None
    return event


def claim_by_id(row_id: int) -> InboundEvent | None:
    """A stored event locked for handling; None when unknown or already handled."""
    event = db.session.scalar(
        select(InboundEvent).where(InboundEvent.id == row_id).with_for_update()
    )
    if event is None or event.status == "done":
        db.session.rollback()
        return None
    return event


def mark_done(event: InboundEvent) -> None:
    """Mark the event handled; committed together with the dialog's new state."""
    event.status = "done"
    event.handled_at = utcnow()


def pending_events(older_than: timedelta, limit: int = 200) -> list[tuple[int, str]]:
    """Events received but never handled (the broker was down): (row id, channel)."""
    cutoff = utcnow() - older_than
    rows = db.session.execute(
        select(InboundEvent.id, InboundEvent.channel)
        .where(InboundEvent.status == "pending", InboundEvent.received_at < cutoff)
        .order_by(InboundEvent.id)
        .limit(limit)
    )
    return [(row.id, row.channel) for row in rows]


def prune(limit: int = 500) -> tuple[int, int]:
    """Forget old handled events, and the photos of drafts abandoned past the TTL.

    An abandoned draft keeps its state: the resident's next message says it expired.
    Returns (events deleted, drafts whose photos were dropped).
    """
    now = utcnow()
    result = db.session.execute(
        delete(InboundEvent).where(
            InboundEvent.status == "done",
            InboundEvent.handled_at < now - timedelta(days=EVENTS_KEPT_DAYS),
        )
    )
    ttl = timedelta(hours=current_app.config.get("BOT_DRAFT_TTL_HOURS", 24))
    stale = db.session.scalars(
        select(Conversation)
        .where(Conversation.state != IDLE, Conversation.updated_at < now - ttl)
        .where(Conversation.photos.any())
        .limit(limit)
    ).all()
    for conversation in stale:
        conversation.photos.clear()
    db.session.commit()
    deleted = cast(CursorResult[Any], result).rowcount  # a DELETE's result
    return deleted or 0, len(stale)

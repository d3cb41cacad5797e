"""A messenger dialog turn as one transaction.

The update is claimed and the resident's conversation locked when the turn begins; the new
state and the update's mark are committed together, or rolled back together when a service
refuses, so a replayed or redelivered update counts once and a crash loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from webapp.extensions import db
from webapp.models import Conversation, InboundEvent
from webapp.services.messaging import conversations


@dataclass(frozen=True)
class Claimed:
    """What a turn holds: the locked conversation, whether its draft had expired (and was
    dropped), and the update being handled (None when the messenger gave no id)."""

    conversation: Conversation
    expired: bool
    event: InboundEvent | None


def claim(channel: str, user_id: str, event_key: str | None) -> Claimed | None:
    """Claim the update and lock the sender's conversation; None when already handled."""
    event = None
    if event_key is not None:
        event = conversations.claim(channel, event_key)
        if event is None:
            return None
    conversation, expired = conversations.load(channel, user_id)
    return Claimed(conversation, expired, event)


def record(claimed: Claimed, state: str, data: dict[str, Any]) -> None:
    """Write the dialog's new state and mark the update handled (both go with the commit)."""
    conversations.save(claimed.conversation, state, data)
    if claimed.event is not None:
        conversations.mark_done(claimed.event)


def commit() -> None:
    """End the turn: the state, the update's mark and any report filed, together."""
    db.session.commit()


def rollback() -> None:
    """Undo the turn (a service refused, or it failed): the update stays unhandled."""
    db.session.rollback()

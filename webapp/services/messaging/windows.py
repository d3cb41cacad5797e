"""The reply window of a messenger: when a free reply may still reach the resident.

Zalo lets an OA answer a resident for free with consultation messages only within
ZALO_WINDOW_HOURS (48) of the resident's last message, at most ZALO_WINDOW_MESSAGES (8)
times, and only when the call quotes that message's id. Each inbound message opens a new
window; each consultation message sent uses one place in it. Outside the window a status
update goes another way (`webapp.services.messaging.fallback`). Telegram has no window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.models import ChannelWindow
from webapp.models.types import utcnow


@dataclass(frozen=True)
class OpenWindow:
    """A window a reply may use: the message id to quote."""

    message_id: str
    closes_at: datetime
    left: int


def note_inbound(channel: str, address: str, message_id: str, at: datetime | None = None) -> None:
    """A resident's message arrived: it opens a new window (an older one never replaces it)."""
    at = at or utcnow()
    row = db.session.get(ChannelWindow, (channel, address), with_for_update=True)
    if row is None:
        try:
            with db.session.begin_nested():
                db.session.add(ChannelWindow(channel=channel, address=address,
                                             last_message_id=message_id, last_inbound_at=at,
                                             used=0))  # fmt: skip
            return
        except IntegrityError:  # the same resident's other message got there first
            row = db.session.get(ChannelWindow, (channel, address), with_for_update=True)
            if row is None:
                return
    if row.last_inbound_at <= at:
        row.last_message_id, row.last_inbound_at, row.used = message_id, at, 0


def open_window(channel: str, address: str, now: datetime | None = None) -> OpenWindow | None:
    """The window a free reply may use now, or None when it is closed or used up."""
    now = now or utcnow()
    row = db.session.get(ChannelWindow, (channel, address))
    if row is None:
        return None
    cfg = current_app.config
    closes_at = row.last_inbound_at + timedelta(hours=cfg["ZALO_WINDOW_HOURS"])
    left = cfg["ZALO_WINDOW_MESSAGES"] - row.used
    if now >= closes_at or left <= 0:
        return None
    return OpenWindow(row.last_message_id, closes_at, left)


def use(channel: str, address: str, message_id: str) -> None:
    """A reply quoting `message_id` was accepted: one place fewer in that window."""
    db.session.execute(
        update(ChannelWindow)
        .where(
            ChannelWindow.channel == channel,
            ChannelWindow.address == address,
            ChannelWindow.last_message_id == message_id,
        )
        .values(used=ChannelWindow.used + 1)
    )

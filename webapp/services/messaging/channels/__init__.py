"""Outbound channels: one sender class per channel behind one interface (`base.Sender`).

The registry is the explicit list below, installed on the app by `init_app`; the outbox picks
a message's sender with `sender_for(message.channel)`. A sender raises SendError (or any
exception) on failure; the outbox records it and retries.

- `email`: SMTP, with an export file attached when the message names one
- `tracking_page`: nothing to push, the resident reads the news on the tracking page
- `telegram`, `zalo`: the messengers' APIs, and the checks on their webhook calls
- `zalo_transaction`, `zns`, `sms`: the ways to a resident outside Zalo's free reply window
  (`webapp.services.messaging.fallback` chooses among them)
- `open311`, `webhook`: a report into an agency's own system (webapp.services.partners.delivery)
"""

from __future__ import annotations

from flask import Flask, current_app

from webapp.services.messaging.channels.agency_systems import Open311AgencySender, WebhookSender
from webapp.services.messaging.channels.base import Sender, SendError, Undeliverable
from webapp.services.messaging.channels.email import EmailSender
from webapp.services.messaging.channels.phone import SmsSender, ZnsSender
from webapp.services.messaging.channels.telegram import TelegramSender
from webapp.services.messaging.channels.tracking_page import TrackingPageSender
from webapp.services.messaging.channels.zalo import ZaloSender, ZaloTransactionSender

SENDERS: tuple[type[Sender], ...] = (
    EmailSender,
    TrackingPageSender,
    TelegramSender,
    ZaloSender,
    ZaloTransactionSender,
    ZnsSender,
    SmsSender,
    Open311AgencySender,
    WebhookSender,
)
EXTENSION_KEY = "messaging_channels"

__all__ = ["SENDERS", "SendError", "Sender", "Undeliverable", "init_app", "sender_for"]


def init_app(app: Flask) -> None:
    """Register the senders on the app under their channel names (safe to call twice)."""
    app.extensions[EXTENSION_KEY] = {cls.channel: cls for cls in SENDERS}


def sender_for(channel: str) -> Sender:
    """A sender instance for the channel, or SendError when none is registered."""
    registry = current_app.extensions.get(EXTENSION_KEY)
    if registry is None:
        raise RuntimeError("messaging channels are not set up: call channels.init_app(app)")
    try:
        return registry[channel]()
    except KeyError:
        raise SendError(f"no sender for channel {channel!r}") from None

"""Zalo OA adapter: webhook events in, `Incoming`; `Outgoing`, Zalo API v3 out (httpx).

The web app's `POST /webhooks/zalo` verifies and stores each event and queues
`bot.tasks.handle_zalo_event`, whose body is `handle_event` below. A pressed button comes
back as a text message carrying the button's payload after ZALO_BUTTON_PREFIX.
"""

from __future__ import annotations

import logging
from typing import Any

from flask_babel import lazy_gettext as _l

from bot.dialog import Dialog, Incoming, Outgoing
from webapp.extensions import db
from webapp.infra.i18n import in_language
from webapp.infra.storage import public_photo_url
from webapp.models import ChannelWindow, InboundEvent
from webapp.services.messaging import conversations, windows
from webapp.services.messaging.channels import SendError
from webapp.services.messaging.channels.base import download
from webapp.services.messaging.channels.zalo import (
    ZALO_BUTTON_PREFIX,
    ZaloApi,
    zalo_message,
    zalo_user_id,
)
from webapp.services.messaging.windows import OpenWindow

log = logging.getLogger(__name__)
CHANNEL = "zalo"
IMAGE_FAILED = _l("Không tải được ảnh bạn gửi. Bạn vui lòng gửi lại giúp mình nhé.")


def _attachment(message: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for item in message.get("attachments") or []:
        if isinstance(item, dict) and item.get("type") == kind:
            return item.get("payload") or {}
    return None


def to_incoming(event: dict[str, Any]) -> Incoming | None:
    """The dialog's view of a Zalo event; None for events the bot does not answer.

    An image is downloaded here (httpx); a failed download raises SendError.
    """
    user_id = zalo_user_id(event)
    if user_id is None:
        return None
    name = event.get("event_name")
    raw_message = event.get("message")
    message: dict[str, Any] = raw_message if isinstance(raw_message, dict) else {}
    if name == "user_send_text":
        text = str(message.get("text") or "")
        if text.startswith(ZALO_BUTTON_PREFIX):
            return Incoming(CHANNEL, user_id, button=text[len(ZALO_BUTTON_PREFIX) :])
        return Incoming(CHANNEL, user_id, text=text)
    if name == "user_send_image":
        image = _attachment(message, "image") or {}
        url = image.get("url") or image.get("thumbnail")
        if not url:
            return None
        caption = str(message.get("text") or "") or None
        return Incoming(CHANNEL, user_id, text=caption, photo=download(url), photo_name="zalo.jpg")
    if name == "user_send_location":
        coordinates = (_attachment(message, "location") or {}).get("coordinates") or {}
        try:
            point = (float(coordinates["latitude"]), float(coordinates["longitude"]))
        except (KeyError, TypeError, ValueError):
            return None
        return Incoming(CHANNEL, user_id, location=point)
    if name == "follow":
        return Incoming(CHANNEL, user_id, text="/start")
    return None


def send_reply(user_id: str, reply: Outgoing) -> None:
    """One reply as Zalo consultation message(s); buttons as template buttons."""
    image = public_photo_url(reply.photo_key) if reply.photo_key else None
    try:
        ZaloApi().send(user_id, reply.text, reply.button_rows(), image)
    finally:
        db.session.commit()  # the places of the window the replies used


def send_quoting(user_id: str, reply: Outgoing, window: OpenWindow) -> None:
    """One reply (text and buttons) quoting the message of a window no longer stored.

    The resident erased their data in this turn, the window's row with it: the replies
    quote the message they just sent, and nothing is written back about them.
    """
    quote = {"quote_message_id": window.message_id} if window.message_id else {}
    ZaloApi().post_message(
        "cs", user_id, {**zalo_message(reply.text, reply.button_rows()), **quote}
    )


def _finish_unanswered(event: InboundEvent) -> None:
    claimed = conversations.claim_by_id(event.id)
    if claimed is not None:
        conversations.mark_done(claimed)
        db.session.commit()


def handle_event(row_id: int, dialog: Dialog | None = None) -> str:
    """Handle one stored Zalo event (the Celery task's body): dialog turn, then replies."""
    event = db.session.get(InboundEvent, row_id)
    if event is None or event.status == "done":
        db.session.rollback()
        return "skip"
    payload, key = dict(event.payload or {}), event.event_id
    user_id = zalo_user_id(payload)
    message = payload.get("message")
    msg_id = message.get("msg_id") if isinstance(message, dict) else None
    if user_id and (msg_id or payload.get("event_name") == "follow"):
        # The resident wrote (or followed the OA): a new free reply window, in which replies
        # quote this message (a follow has no message to quote).
        windows.note_inbound(CHANNEL, user_id, str(msg_id or ""), event.received_at)
        db.session.commit()
    window = windows.open_window(CHANNEL, user_id) if user_id else None
    db.session.rollback()  # no transaction open while downloading
    try:
        incoming = to_incoming(payload)
    except SendError as error:
        log.warning("Zalo image of event %s: %s", row_id, error)
        _finish_unanswered(event)
        if user_id:
            language = conversations.language(CHANNEL, user_id)
            _safe_send(user_id, Outgoing(in_language(IMAGE_FAILED, language)))
        return "image-failed"
    if incoming is None:
        _finish_unanswered(event)
        return "ignored"
    replies = (dialog or Dialog()).handle(incoming, event_key=key)
    # A window open before the turn whose row is gone after it: the turn erased the resident
    # (/xoadulieu), and the confirmation must still reach them.
    erased = window is not None and not db.session.get(ChannelWindow, (CHANNEL, incoming.user_id))
    db.session.rollback()
    for reply in replies:
        _safe_send(incoming.user_id, reply, window if erased else None)
    return "handled" if replies else "skip"


def _safe_send(user_id: str, reply: Outgoing, erased_window: OpenWindow | None = None) -> None:
    try:
        if erased_window is not None:
            send_quoting(user_id, reply, erased_window)
        else:
            send_reply(user_id, reply)
    except SendError as error:  # the turn is committed; a reply lost is logged, not retried
        log.warning("Zalo reply to %s failed: %s", user_id, error)

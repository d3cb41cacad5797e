"""Telegram: the outbox sender, the few Bot API calls it needs, and the webhook's checks.

Messages may carry buttons (rows of {"label", "payload"}), shown as an inline keyboard, and a
stored photo ("photo_key"), uploaded with the text as its caption when it fits.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

import httpx
from flask import current_app

from webapp.infra import storage
from webapp.models import OutboxMessage
from webapp.services.messaging.channels.base import Buttons, Sender, SendError, http_timeout

TELEGRAM_TEXT_LIMIT = 4096
TELEGRAM_CAPTION_LIMIT = 1024


def telegram_file_base_url() -> str:
    """python-telegram-bot's base_file_url: set, or /file/bot on the API's host."""
    cfg = current_app.config
    if cfg["TELEGRAM_FILE_BASE_URL"]:
        return cfg["TELEGRAM_FILE_BASE_URL"]
    base = cfg["TELEGRAM_API_BASE_URL"]
    if base.endswith("/bot"):
        return base[: -len("bot")] + "file/bot"
    return base.rstrip("/") + "/file/bot"


def telegram_keyboard(buttons: Buttons | None) -> dict[str, Any] | None:
    """An inline keyboard for the Bot API from rows of {"label", "payload"}."""
    if not buttons:
        return None
    return {
        "inline_keyboard": [
            [{"text": b["label"], "callback_data": b["payload"]} for b in row] for row in buttons
        ]
    }


class TelegramApi:
    """The few Bot API calls the outbox needs, over plain httpx (no event loop in workers)."""

    def __init__(self) -> None:
        cfg = current_app.config
        if not cfg["TELEGRAM_BOT_TOKEN"]:
            raise SendError("TELEGRAM_BOT_TOKEN is not configured")
        self.base = f"{cfg['TELEGRAM_API_BASE_URL']}{cfg['TELEGRAM_BOT_TOKEN']}"

    def call(self, method: str, *, data: dict[str, Any], files: dict | None = None) -> dict:
        """Call a method; the result, or SendError with Telegram's description."""
        try:
            with httpx.Client(timeout=http_timeout()) as client:
                if files:
                    form = {
                        k: json.dumps(v) if isinstance(v, dict) else str(v) for k, v in data.items()
                    }
                    response = client.post(f"{self.base}/{method}", data=form, files=files)
                else:
                    response = client.post(f"{self.base}/{method}", json=data)
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise SendError(f"Telegram {method}: {error}") from error
        if not body.get("ok"):
            detail = f"{body.get('error_code')} {body.get('description')}"
            raise SendError(f"Telegram {method}: {detail}")
        return body.get("result") or {}

    def send(
        self, chat_id: str, text: str, buttons: Buttons | None = None, photo: bytes | None = None
    ) -> None:
        """A text (with buttons), or a photo with the text as caption when it fits."""
        markup = telegram_keyboard(buttons)
        if photo is not None:
            fits = len(text) <= TELEGRAM_CAPTION_LIMIT
            data: dict[str, Any] = {"chat_id": chat_id}
            if fits:
                data["caption"] = text
                if markup:
                    data["reply_markup"] = markup
            self.call("sendPhoto", data=data, files={"photo": ("ket-qua.jpg", photo, "image/jpeg")})
            if fits:
                return
        data = {"chat_id": chat_id, "text": text[:TELEGRAM_TEXT_LIMIT]}
        if markup:
            data["reply_markup"] = markup
        self.call("sendMessage", data=data)


class TelegramSender(Sender):
    """Messages to residents who reported on Telegram (private chat id = user id)."""

    channel = "telegram"

    def send(self, message: OutboxMessage) -> None:
        """sendMessage, or sendPhoto when the message carries a result photo."""
        if not message.address:
            raise SendError("no Telegram chat id")
        payload = message.payload or {}
        key = payload.get("photo_key")
        photo = storage.public_photo_bytes(key) if key else None
        TelegramApi().send(message.address, message.body, payload.get("buttons"), photo)


# -- The webhook -----------------------------------------------------------------------------


def telegram_event_key(update: dict[str, Any]) -> str:
    """A stable id of an update: chat and message id, or the button press's id.

    Unlike update_id (a sequence Telegram may restart), these never repeat, so a stored
    key never swallows a new message.
    """
    query = update.get("callback_query")
    if isinstance(query, dict) and query.get("id"):
        return f"cbq:{query['id']}"
    message = update.get("message")
    if isinstance(message, dict) and isinstance(message.get("chat"), dict):
        return f"msg:{message['chat'].get('id')}:{message.get('message_id')}"
    return f"upd:{update.get('update_id')}"


def telegram_secret_ok(header_value: str | None) -> bool:
    """Whether a webhook call carries our secret token (none configured: refuse all)."""
    secret = current_app.config["TELEGRAM_WEBHOOK_SECRET"]
    if not secret or not header_value:
        return False
    return hmac.compare_digest(header_value.encode(), secret.encode())

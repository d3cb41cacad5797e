"""Telegram and Zalo OA: the outbox senders, the Zalo API client and its token store,
and the checks that a webhook call really comes from the messenger.

Messages may carry buttons (rows of {"label", "payload"}) and a stored photo ("photo_key"):
Telegram shows inline buttons and uploads the photo; Zalo shows template buttons whose
payload comes back as a text message starting with ZALO_BUTTON_PREFIX, and fetches the
photo from its public address.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import timedelta
from typing import Any

import httpx
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.extensions import db
from webapp.models import MessengerToken, OutboxMessage
from webapp.models.types import utcnow
from webapp.services.messaging.senders import Sender, SendError, register

log = logging.getLogger(__name__)

Buttons = list[list[dict[str, str]]]

TELEGRAM_TEXT_LIMIT = 4096
TELEGRAM_CAPTION_LIMIT = 1024
ZALO_TEXT_LIMIT = 2000
ZALO_MAX_BUTTONS = 5
# Zalo sends a pressed button's payload back as a user_send_text message.
ZALO_BUTTON_PREFIX = "#"
# Zalo's "access token invalid" and "access token expired".
ZALO_TOKEN_ERRORS = frozenset({-216, -124})
DOWNLOAD_LIMIT = 25 * 1024 * 1024


def _timeout() -> float:
    return float(current_app.config.get("MESSENGER_TIMEOUT", 10.0))


def public_photo_url(key: str) -> str:
    """The public (metadata-free) copy of a stored photo, as a messenger can fetch it."""
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/anh/{key}/web.jpg"


def public_photo_bytes(key: str) -> bytes:
    """Bytes of the public copy of a stored photo."""
    from webapp.services.intake.reports import photo_store

    return photo_store().open_public(key, "web").read_bytes()


def download(url: str, *, limit: int = DOWNLOAD_LIMIT) -> bytes:
    """Fetch a file a messenger points to (an image the resident sent), up to `limit` bytes."""
    with (
        httpx.Client(timeout=_timeout(), follow_redirects=True) as client,
        client.stream("GET", url) as response,
    ):
        response.raise_for_status()
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise SendError(f"file at {url} is larger than {limit} bytes")
            chunks.append(chunk)
    return b"".join(chunks)


# -- Telegram --------------------------------------------------------------------------------


def telegram_file_base_url() -> str:
    """python-telegram-bot's base_file_url: set, or /file/bot on the API's host."""
    cfg = current_app.config
    if cfg.get("TELEGRAM_FILE_BASE_URL"):
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
        if not cfg.get("TELEGRAM_BOT_TOKEN"):
            raise SendError("TELEGRAM_BOT_TOKEN is not configured")
        self.base = f"{cfg['TELEGRAM_API_BASE_URL']}{cfg['TELEGRAM_BOT_TOKEN']}"

    def call(self, method: str, *, data: dict[str, Any], files: dict | None = None) -> dict:
        """Call a method; the result, or SendError with Telegram's description."""
        try:
            with httpx.Client(timeout=_timeout()) as client:
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


@register
class TelegramSender(Sender):
    """Messages to residents who reported on Telegram (private chat id = user id)."""

    channel = "telegram"

    def send(self, message: OutboxMessage) -> None:
        """sendMessage, or sendPhoto when the message carries a result photo."""
        if not message.address:
            raise SendError("no Telegram chat id")
        payload = message.payload or {}
        photo = public_photo_bytes(payload["photo_key"]) if payload.get("photo_key") else None
        TelegramApi().send(message.address, message.body, payload.get("buttons"), photo)


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
    secret = current_app.config.get("TELEGRAM_WEBHOOK_SECRET") or ""
    if not secret or not header_value:
        return False
    return hmac.compare_digest(header_value.encode(), secret.encode())


# -- Zalo OA ---------------------------------------------------------------------------------


class ZaloError(SendError):
    """Zalo answered with a non-zero error code (often with HTTP 200)."""

    def __init__(self, code: int | None, text: str):
        super().__init__(f"Zalo error {code}: {text}")
        self.code = code


def zalo_signature(raw_body: bytes, timestamp: str) -> str:
    """The X-ZEvent-Signature Zalo computes: mac= sha256(app_id + body + timestamp + OA key)."""
    cfg = current_app.config
    material = (
        cfg["ZALO_APP_ID"].encode()
        + raw_body
        + timestamp.encode()
        + cfg["ZALO_OA_SECRET_KEY"].encode()
    )
    return "mac=" + hashlib.sha256(material).hexdigest()


def zalo_signature_ok(raw_body: bytes, timestamp: Any, header_value: str | None) -> bool:
    """Constant-time check of a webhook call's signature (no OA key configured: refuse all)."""
    if not current_app.config.get("ZALO_OA_SECRET_KEY") or not header_value:
        return False
    if timestamp is None or isinstance(timestamp, bool | dict | list):
        return False
    expected = zalo_signature(raw_body, str(timestamp))
    return hmac.compare_digest(header_value.strip().encode(), expected.encode())


def zalo_user_id(event: dict[str, Any]) -> str | None:
    """Who an event is from: the sender of a message, the follower of a follow event."""
    for key in ("sender", "follower", "user"):
        value = event.get(key)
        if isinstance(value, dict) and value.get("id"):
            return str(value["id"])
    return None


def zalo_event_key(event: dict[str, Any]) -> str:
    """The message id of a user_send_* event; otherwise event name, user and time."""
    message = event.get("message")
    if isinstance(message, dict) and message.get("msg_id"):
        return f"msg:{message['msg_id']}"
    return f"{event.get('event_name')}:{zalo_user_id(event)}:{event.get('timestamp')}"


def zalo_message(text: str, buttons: Buttons | None = None, image_url: str | None = None) -> dict:
    """The `message` object of /v3.0/oa/message/cs: text, with buttons or with an image.

    More than five choices do not fit Zalo's buttons: they are listed as numbers to type.
    """
    flat = [b for row in buttons or [] for b in row]
    if image_url:
        return {
            "text": text[:ZALO_TEXT_LIMIT],
            "attachment": {
                "type": "template",
                "payload": {
                    "template_type": "media",
                    "elements": [{"media_type": "image", "url": image_url}],
                },
            },
        }
    if len(flat) > ZALO_MAX_BUTTONS:
        lines = "\n".join(f"{i}. {b['label']}" for i, b in enumerate(flat, 1))
        return {"text": f"{text}\n\n{lines}\n(Gõ số để chọn.)"[:ZALO_TEXT_LIMIT]}
    message: dict[str, Any] = {"text": text[:ZALO_TEXT_LIMIT]}
    if flat:
        message["attachment"] = {
            "type": "template",
            "payload": {
                "buttons": [
                    {
                        "title": b["label"][:100],
                        "type": "oa.query.hide",
                        "payload": ZALO_BUTTON_PREFIX + b["payload"],
                    }
                    for b in flat
                ]
            },
        }
    return message


def _token_session() -> Session:
    # Tokens are read and refreshed in their own transaction: a refreshed pair must be
    # saved even when the caller's transaction (an outbox row) is rolled back later.
    return Session(bind=db.engine, expire_on_commit=False)


def zalo_access_token() -> str:
    """The current Zalo access token (seeded from the settings on first use)."""
    cfg = current_app.config
    with _token_session() as session:
        row = session.get(MessengerToken, "zalo")
        if row is None:
            if not cfg.get("ZALO_ACCESS_TOKEN"):
                raise SendError("no Zalo access token: set ZALO_ACCESS_TOKEN")
            row = MessengerToken(
                channel="zalo",
                access_token=cfg["ZALO_ACCESS_TOKEN"],
                refresh_token=cfg.get("ZALO_REFRESH_TOKEN") or None,
            )
            session.add(row)
            session.commit()
        soon = row.expires_at is not None and row.expires_at <= utcnow() + timedelta(minutes=1)
        token = row.access_token
    return refresh_zalo_token(token) if soon else token


def store_zalo_tokens(access_token: str, refresh_token: str, expires_in: int = 0) -> None:
    """Save a new token pair (e.g. after authorising the OA again)."""
    with _token_session() as session:
        row = session.get(MessengerToken, "zalo", with_for_update=True)
        if row is None:
            row = MessengerToken(channel="zalo", access_token=access_token)
            session.add(row)
        row.access_token, row.refresh_token = access_token, refresh_token
        row.expires_at = utcnow() + timedelta(seconds=expires_in) if expires_in else None
        session.commit()


def refresh_zalo_token(failed_token: str) -> str:
    """Exchange the refresh token for a new pair, once, and save both together.

    The row is locked while Zalo answers: a second process that also saw the old token
    waits, then finds a newer token and uses it instead of spending the refresh token again.
    """
    cfg = current_app.config
    with _token_session() as session:
        row = session.scalar(
            select(MessengerToken).where(MessengerToken.channel == "zalo").with_for_update()
        )
        if row is None:
            raise SendError("no Zalo token to refresh")
        if row.access_token != failed_token:
            session.commit()
            return row.access_token
        if not row.refresh_token:
            raise SendError("Zalo access token rejected and no refresh token is stored")
        try:
            with httpx.Client(timeout=_timeout()) as client:
                response = client.post(
                    f"{cfg['ZALO_OAUTH_BASE_URL'].rstrip('/')}/v4/oa/access_token",
                    headers={"secret_key": cfg["ZALO_APP_SECRET"]},
                    data={
                        "refresh_token": row.refresh_token,
                        "app_id": cfg["ZALO_APP_ID"],
                        "grant_type": "refresh_token",
                    },
                )
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise SendError(f"Zalo token refresh: {error}") from error
        if not body.get("access_token") or not body.get("refresh_token"):
            raise ZaloError(body.get("error"), body.get("error_description") or str(body))
        row.access_token = body["access_token"]
        row.refresh_token = body["refresh_token"]
        expires_in = int(body.get("expires_in") or 0)
        row.expires_at = utcnow() + timedelta(seconds=expires_in) if expires_in else None
        session.commit()
        log.info("Zalo access token refreshed")
        return row.access_token


class ZaloApi:
    """Zalo OA API v3 over httpx: consultation messages with a token refreshed when rejected."""

    def _post_cs(self, token: str, body: dict) -> dict:
        url = f"{current_app.config['ZALO_API_BASE_URL'].rstrip('/')}/v3.0/oa/message/cs"
        try:
            with httpx.Client(timeout=_timeout()) as client:
                response = client.post(url, headers={"access_token": token}, json=body)
            answer = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise SendError(f"Zalo message/cs: {error}") from error
        if response.status_code != 200 and not answer.get("error"):
            raise ZaloError(None, f"HTTP {response.status_code}")
        return answer

    def send_message(self, user_id: str, message: dict) -> dict:
        """Send one message; Zalo's `data`, or ZaloError (refreshing the token once if needed)."""
        body = {"recipient": {"user_id": user_id}, "message": message}
        token = zalo_access_token()
        answer = self._post_cs(token, body)
        if answer.get("error") in ZALO_TOKEN_ERRORS:
            answer = self._post_cs(refresh_zalo_token(token), body)
        if answer.get("error", 0) != 0:
            raise ZaloError(answer.get("error"), answer.get("message") or "")
        return answer.get("data") or {}

    def send(
        self,
        user_id: str,
        text: str,
        buttons: Buttons | None = None,
        image_url: str | None = None,
        buttons_prompt: str | None = None,
    ) -> None:
        """A text with buttons; with an image, the image and its text, then the buttons.

        Zalo's image template carries no buttons: they follow in a second message, under
        `buttons_prompt`.
        """
        if image_url:
            self.send_message(user_id, zalo_message(text, image_url=image_url))
            if buttons:
                prompt = buttons_prompt or "Mời bạn chọn:"
                self.send_message(user_id, zalo_message(prompt, buttons))
            return
        self.send_message(user_id, zalo_message(text, buttons))


@register
class ZaloSender(Sender):
    """Messages to residents who reported on Zalo, through the OA's consultation messages."""

    channel = "zalo"

    def send(self, message: OutboxMessage) -> None:
        """One consultation message (two when a result photo comes with rating buttons)."""
        if not message.address:
            raise SendError("no Zalo user id")
        payload = message.payload or {}
        image = public_photo_url(payload["photo_key"]) if payload.get("photo_key") else None
        ZaloApi().send(
            message.address,
            message.body,
            payload.get("buttons"),
            image,
            buttons_prompt=payload.get("buttons_prompt"),
        )

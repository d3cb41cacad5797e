"""Zalo OA: the outbox sender, the API client and its token store, and the webhook's checks.

Free (consultation) messages reach a resident only inside the reply window of their last
message, quoting its id (`webapp.services.messaging.windows`); outside it the sender raises
`Undeliverable` and the outbox tries the next way (`ZaloTransactionSender`, ZNS, SMS).

Messages may carry buttons (rows of {"label", "payload"}), shown as template buttons whose
payload comes back as a text message starting with ZALO_BUTTON_PREFIX, and a stored photo
("photo_key"), which Zalo fetches from its public address.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import timedelta
from typing import Any

import httpx
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.extensions import db
from webapp.infra.storage import public_photo_url
from webapp.models import MessengerToken, OutboxMessage
from webapp.models.types import utcnow
from webapp.services.messaging import windows
from webapp.services.messaging.channels.base import (
    Buttons,
    Sender,
    SendError,
    Undeliverable,
    http_timeout,
)

log = logging.getLogger(__name__)

ZALO_TEXT_LIMIT = 2000
# Above buttons sent apart from their text (after an image), when no prompt was given.
CHOOSE = _l("Mời bạn chọn:")
ZALO_MAX_BUTTONS = 5
# Zalo sends a pressed button's payload back as a user_send_text message.
ZALO_BUTTON_PREFIX = "#"
# Zalo's "access token invalid" and "access token expired".
ZALO_TOKEN_ERRORS = frozenset({-216, -124})
# Zalo's refusals of a consultation message: no recent interaction, or the quota is spent.
ZALO_WINDOW_ERRORS = frozenset({-230, -231, -232})


class ZaloError(SendError):
    """Zalo answered with a non-zero error code (often with HTTP 200)."""

    def __init__(self, code: int | None, text: str):
        super().__init__(f"Zalo error {code}: {text}")
        self.code = code


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


# -- Tokens ----------------------------------------------------------------------------------


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
            if not cfg["ZALO_ACCESS_TOKEN"]:
                raise SendError("no Zalo access token: set ZALO_ACCESS_TOKEN")
            row = MessengerToken(
                channel="zalo",
                access_token=cfg["ZALO_ACCESS_TOKEN"],
                refresh_token=cfg["ZALO_REFRESH_TOKEN"] or None,
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
            with httpx.Client(timeout=http_timeout()) as client:
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


# -- Sending ---------------------------------------------------------------------------------


class ZaloApi:
    """Zalo OA API v3 over httpx: consultation messages inside the resident's window, and
    transaction messages; the token is refreshed once when rejected."""

    def _post(self, kind: str, token: str, body: dict) -> dict:
        base = current_app.config["ZALO_API_BASE_URL"].rstrip("/")
        try:
            with httpx.Client(timeout=http_timeout()) as client:
                response = client.post(
                    f"{base}/v3.0/oa/message/{kind}", headers={"access_token": token}, json=body
                )
            answer = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise SendError(f"Zalo message/{kind}: {error}") from error
        if response.status_code != 200 and not answer.get("error"):
            raise ZaloError(None, f"HTTP {response.status_code}")
        return answer

    def post_message(self, kind: str, user_id: str, message: dict) -> dict:
        """POST one message/<kind>; Zalo's `data`, or ZaloError (token refreshed once)."""
        body = {"recipient": {"user_id": user_id}, "message": message}
        token = zalo_access_token()
        answer = self._post(kind, token, body)
        if answer.get("error") in ZALO_TOKEN_ERRORS:
            answer = self._post(kind, refresh_zalo_token(token), body)
        code = answer.get("error", 0)
        if kind == "cs" and code in ZALO_WINDOW_ERRORS:
            raise Undeliverable(f"Zalo error {code}: {answer.get('message') or 'outside window'}")
        if code != 0:
            raise ZaloError(code, answer.get("message") or "")
        return answer.get("data") or {}

    def send_message(self, user_id: str, message: dict) -> dict:
        """One consultation message, quoting the resident's last message; Undeliverable when
        the window is closed or used up. The caller commits the window's count."""
        window = windows.open_window("zalo", user_id)
        if window is None:
            raise Undeliverable("outside the Zalo reply window (48 h, 8 messages)")
        quote = {"quote_message_id": window.message_id} if window.message_id else {}
        data = self.post_message("cs", user_id, {**message, **quote})
        windows.use("zalo", user_id, window.message_id)
        return data

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
                prompt = buttons_prompt or str(CHOOSE)
                self.send_message(user_id, zalo_message(prompt, buttons))
            return
        self.send_message(user_id, zalo_message(text, buttons))


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


class ZaloTransactionSender(Sender):
    """Status updates outside the window, as Zalo transaction (template) messages; only for
    an OA set up for them (ZALO_TRANSACTION_ENABLED: verified, with quota)."""

    channel = "zalo_transaction"

    def send(self, message: OutboxMessage) -> None:
        """One transaction message with the update and a button to the report's page."""
        if not current_app.config["ZALO_TRANSACTION_ENABLED"]:
            raise Undeliverable("the OA is not set up for transaction messages")
        if not message.address:
            raise Undeliverable("no Zalo user id")
        payload = message.payload or {}
        elements: list[dict[str, Any]] = [
            {"type": "header", "content": (message.subject or "")[:100], "align": "left"},
            {"type": "text", "content": message.body[:ZALO_TEXT_LIMIT], "align": "left"},
        ]
        template: dict[str, Any] = {
            "template_type": "transaction_event",
            "language": "VI" if payload.get("language", "vi") == "vi" else "EN",
            "elements": elements,
        }
        if payload.get("url"):
            template["buttons"] = [
                {"title": "Xem phản ánh", "type": "oa.open.url", "payload": {"url": payload["url"]}}
            ]
        attachment = {"type": "template", "payload": template}
        ZaloApi().post_message("transaction", message.address, {"attachment": attachment})


# -- The webhook -----------------------------------------------------------------------------


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
    if not current_app.config["ZALO_OA_SECRET_KEY"] or not header_value:
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

"""A fake Zalo OA on 127.0.0.1: consultation and transaction messages, ZNS, token refresh,
images to download.

Like Zalo, it reports errors with HTTP 200 and a non-zero `error`; an access token is
good until the test expires it, and a refresh token works exactly once. The helpers
build signed webhook events as Zalo sends them, and remember each user's last message: a
consultation message is refused (-230) unless it quotes that message's id within 48 hours of
it, at most 8 times, as Zalo does for an OA without proactive quota. Transaction messages
need `transaction_enabled` (a verified OA); ZNS messages need a registered template id and a
Vietnamese phone (84…) and are counted against `zns_quota`.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import time
from typing import Any

from tests.support.fake_telegram import LocalHttpServer, Request

APP_ID = "3608465249409039670"
APP_SECRET = "app-secret-for-tests"
OA_SECRET_KEY = "oa-secret-key-for-tests"
OA_ID = "388613280878808645"


class FakeZalo(LocalHttpServer):
    """openapi.zalo.me (message/cs), oauth.zaloapp.com (access_token) and an image host."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[dict[str, Any]] = []  # accepted message/cs bodies
        self.rejected: list[dict[str, Any]] = []  # message/cs calls answered with an error
        self.refreshes: list[dict[str, str]] = []
        self.images: dict[str, bytes] = {}
        self.valid_tokens = {"access-1"}
        self.refresh_tokens = {"refresh-1"}  # each accepted once
        self.fail_next: list[int] = []  # error codes for the next message/cs calls
        self._lock = threading.Lock()
        self._seq = itertools.count(2)
        self._msg_ids = itertools.count(1)
        self.last_inbound: dict[str, tuple[str, float, int]] = {}  # user → (msg id, time, used)
        self.enforce_window = True
        self.transaction_enabled = False
        self.transactions: list[dict[str, Any]] = []
        self.zns_templates: set[str] = set()
        self.zns: list[dict[str, Any]] = []
        self.zns_quota = 1000

    # -- what the test does -----------------------------------------------------------------

    def expire(self, token: str) -> None:
        """Zalo no longer accepts this access token."""
        self.valid_tokens.discard(token)

    def add_image(self, data: bytes) -> str:
        """Host an image as Zalo's CDN would; its URL."""
        name = f"img{len(self.images) + 1}.jpg"
        self.images[name] = data
        return f"{self.url}/cdn/{name}"

    def texts_to(self, user_id: str) -> list[str]:
        """Texts of the messages accepted for a user."""
        return [
            m["message"].get("text", "") for m in self.sent if m["recipient"]["user_id"] == user_id
        ]

    def last_to(self, user_id: str) -> dict[str, Any]:
        """The last message accepted for a user."""
        return next(
            m["message"] for m in reversed(self.sent) if m["recipient"]["user_id"] == user_id
        )

    @staticmethod
    def button_payloads(message: dict[str, Any]) -> dict[str, str]:
        """Title → payload of a message's template buttons."""
        payload = (message.get("attachment") or {}).get("payload") or {}
        return {b["title"]: b["payload"] for b in payload.get("buttons", [])}

    # -- events as Zalo posts them to the webhook ---------------------------------------------

    def _event(self, name: str, user_id: str, message: dict[str, Any]) -> dict[str, Any]:
        msg_id = f"msg{next(self._msg_ids):06d}"
        with self._lock:
            self.last_inbound[user_id] = (msg_id, time.time(), 0)
        return {
            "app_id": APP_ID,
            "user_id_by_app": f"app{user_id}",
            "event_name": name,
            "sender": {"id": user_id},
            "recipient": {"id": OA_ID},
            "message": {"msg_id": msg_id, **message},
            "timestamp": str(int(time.time() * 1000)),
        }

    def follow_event(self, user_id: str) -> dict[str, Any]:
        """follow: no message, but the OA may answer (without a quote)."""
        with self._lock:
            self.last_inbound[user_id] = ("", time.time(), 0)
        return {
            "app_id": APP_ID,
            "event_name": "follow",
            "follower": {"id": user_id},
            "timestamp": str(int(time.time() * 1000)),
        }

    def text_event(self, user_id: str, text: str) -> dict[str, Any]:
        """user_send_text (also how a pressed button's payload comes back)."""
        return self._event("user_send_text", user_id, {"text": text})

    def image_event(self, user_id: str, data: bytes) -> dict[str, Any]:
        """user_send_image with the image hosted here."""
        url = self.add_image(data)
        attachment = {"type": "image", "payload": {"thumbnail": url, "url": url}}
        return self._event("user_send_image", user_id, {"text": "", "attachments": [attachment]})

    def location_event(self, user_id: str, lat: float, lon: float) -> dict[str, Any]:
        """user_send_location (Zalo sends the coordinates as strings)."""
        coordinates = {"latitude": str(lat), "longitude": str(lon)}
        attachment = {"type": "location", "payload": {"coordinates": coordinates}}
        return self._event("user_send_location", user_id, {"attachments": [attachment]})

    @staticmethod
    def sign(raw: bytes, timestamp: str, secret: str = OA_SECRET_KEY) -> str:
        """X-ZEvent-Signature of a body."""
        digest = hashlib.sha256(APP_ID.encode() + raw + timestamp.encode() + secret.encode())
        return "mac=" + digest.hexdigest()

    def signed(self, event: dict[str, Any], secret: str = OA_SECRET_KEY) -> tuple[bytes, dict]:
        """The raw body and headers of a webhook call."""
        raw = json.dumps(event, ensure_ascii=False).encode()
        headers = {
            "X-ZEvent-Signature": self.sign(raw, event["timestamp"], secret),
            "Content-Type": "application/json",
        }
        return raw, headers

    # -- the API ----------------------------------------------------------------------------

    def route(self, request: Request):
        """Dispatch by path."""
        if request.path == "/v3.0/oa/message/cs" and request.method == "POST":
            return self._message_cs(request)
        if request.path == "/v3.0/oa/message/transaction" and request.method == "POST":
            return self._message_transaction(request)
        if request.path == "/message/template" and request.method == "POST":
            return self._zns(request)
        if request.path == "/v4/oa/access_token" and request.method == "POST":
            return self._access_token(request)
        if request.path.startswith("/cdn/") and request.path[5:] in self.images:
            return 200, {"Content-Type": "image/jpeg"}, self.images[request.path[5:]]
        return self.json({"error": 404, "message": "not found"}, 404)

    def _message_cs(self, request: Request):
        body = request.fields
        token = request.headers.get("access_token")
        with self._lock:
            if token not in self.valid_tokens:
                self.rejected.append(body)
                return self.json({"error": -216, "message": "Access token is invalid"})
            if self.fail_next:
                code = self.fail_next.pop(0)
                self.rejected.append(body)
                return self.json({"error": code, "message": "Zalo says no"})
            user = body["recipient"]["user_id"]
            refusal = self._outside_window(user, body["message"].get("quote_message_id"))
            if refusal:
                self.rejected.append(body)
                return self.json({"error": -230, "message": refusal})
            self.sent.append(body)
        return self.json(
            {"error": 0, "message": "Success", "data": {"message_id": "m1", "user_id": user}}
        )

    def _outside_window(self, user: str, quoted: str | None) -> str | None:
        """Why Zalo would refuse a consultation message now (None: it accepts it)."""
        if not self.enforce_window:
            return None
        last = self.last_inbound.get(user)
        if last is None:
            return "User has not interacted with the OA"
        msg_id, at, used = last
        if quoted != (msg_id or None):
            return "The message must quote the user's last message"
        if time.time() - at > 48 * 3600 or used >= 8:
            return "Outside the consultation window"
        self.last_inbound[user] = (msg_id, at, used + 1)
        return None

    def _message_transaction(self, request: Request):
        body = request.fields
        with self._lock:
            if request.headers.get("access_token") not in self.valid_tokens:
                return self.json({"error": -216, "message": "Access token is invalid"})
            if not self.transaction_enabled:
                return self.json({"error": -224, "message": "OA has no transaction quota"})
            self.transactions.append(body)
        return self.json({"error": 0, "message": "Success", "data": {"message_id": "t1"}})

    def _zns(self, request: Request):
        body = request.fields
        with self._lock:
            if request.headers.get("access_token") not in self.valid_tokens:
                return self.json({"error": -124, "message": "Access token is invalid"})
            if body.get("template_id") not in self.zns_templates:
                return self.json({"error": -1123, "message": "Template is not approved"})
            phone = str(body.get("phone") or "")
            if not (phone.startswith("84") and phone[2:].isdigit() and len(phone) == 11):
                return self.json({"error": -108, "message": "Phone number is invalid"})
            if len(self.zns) >= self.zns_quota:
                return self.json({"error": -1138, "message": "Out of daily quota"})
            self.zns.append(body)
        return self.json(
            {"error": 0, "message": "Success", "data": {"msg_id": f"z{len(self.zns)}"}}
        )

    def _access_token(self, request: Request):
        form = request.fields
        with self._lock:
            self.refreshes.append(dict(form))
            ok = (
                request.headers.get("secret_key") == APP_SECRET
                and form.get("app_id") == APP_ID
                and form.get("grant_type") == "refresh_token"
                and form.get("refresh_token") in self.refresh_tokens
            )
            if not ok:
                return self.json(
                    {
                        "error": -14014,
                        "error_name": "Invalid refresh token",
                        "error_description": "",
                    }
                )
            self.refresh_tokens.discard(form["refresh_token"])  # a refresh token works once
            n = next(self._seq)
            self.valid_tokens.add(f"access-{n}")
            self.refresh_tokens.add(f"refresh-{n}")
        return self.json(
            {"access_token": f"access-{n}", "refresh_token": f"refresh-{n}", "expires_in": "90000"}
        )

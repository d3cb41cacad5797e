"""An agency's own systems on 127.0.0.1: an Open311 server (as a council's would be) and a
webhook receiver written from the README alone.

The Open311 server takes `POST /requests.json` with its key (403 in the spec's error format
otherwise, 400 for an unknown service), answers `[{"service_request_id": "CS-<n>"}]`, and
serves `GET /servicerequestupdates.json?api_key&start_date&end_date` (FixMyStreet's
extension) from the updates the test adds.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import datetime
from typing import Any

from tests.support.fake_telegram import LocalHttpServer, Request

KEY = "agency-open311-key"
SECRET = "agency-webhook-secret-0123456789"
SERVICES = {"street_lighting", "waste", "trees", "road_damage", "other"}
REPLAY_WINDOW = 300  # seconds, as the README tells receivers


class FakeAgencyOpen311(LocalHttpServer):
    """The agency's server; `received` holds the posted forms, `updates` what it will report."""

    def __init__(self) -> None:
        super().__init__()
        self.received: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        self.pulls: list[dict[str, str]] = []

    def route(self, request: Request):
        """POST requests.json, GET servicerequestupdates.json."""
        key = request.fields.get("api_key") or request.query.get("api_key")
        if key != KEY:
            return self.json([{"code": 403, "description": "Invalid api_key"}], 403)
        if request.method == "POST" and request.path == "/requests.json":
            if request.fields.get("service_code") not in SERVICES:
                return self.json([{"code": 400, "description": "Unknown service_code"}], 400)
            self.received.append(dict(request.fields))
            return self.json([{"service_request_id": f"CS-{len(self.received)}"}], 201)
        if request.method == "GET" and request.path == "/servicerequestupdates.json":
            self.pulls.append(dict(request.query))
            start = datetime.fromisoformat(request.query["start_date"])
            return self.json(
                {
                    "service_request_updates": [
                        u
                        for u in self.updates
                        if datetime.fromisoformat(u["updated_datetime"]) >= start
                    ]
                }
            )
        return self.json([{"code": 404, "description": "Not found"}], 404)


class WebhookReceiver(LocalHttpServer):
    """Written from README "Open311 and partners" › "Webhook signature" only."""

    def __init__(self, secret: str = SECRET) -> None:
        super().__init__()
        self.secret = secret
        self.accepted: list[dict[str, Any]] = []
        self.refused: list[str] = []
        self.seen: set[str] = set()

    def route(self, request: Request):
        """Check the timestamp window, the signature, then a replayed delivery id."""
        timestamp = request.headers.get("X-Phananh-Timestamp") or ""
        signature = request.headers.get("X-Phananh-Signature") or ""
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > REPLAY_WINDOW:
            self.refused.append("stale")
            return self.json({"error": "stale"}, 400)
        expected = (
            "sha256="
            + hmac.new(
                self.secret.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256
            ).hexdigest()
        )
        if not hmac.compare_digest(expected, signature):
            self.refused.append("signature")
            return self.json({"error": "bad signature"}, 401)
        delivery = request.headers.get("X-Phananh-Delivery") or ""
        if delivery in self.seen:
            return self.json({"ok": True, "duplicate": True})
        self.seen.add(delivery)
        self.accepted.append(json.loads(request.body))
        return self.json({"ok": True})

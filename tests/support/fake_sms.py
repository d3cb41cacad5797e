"""A fake SMS brandname gateway on 127.0.0.1, shaped like the Vietnamese JSON gateways.

`POST /api/send` with a JSON body and an `Authorization` header; it answers
`{"code": "100", "id": …}` when it takes the message and `{"code": "99", …}` otherwise (bad
credentials, a number that is not Vietnamese, a body that is not JSON), always with HTTP 200
as those gateways do. Delivery reports are posted by the test (`delivery_report` gives the call).
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from tests.support.fake_telegram import LocalHttpServer, Request

AUTH = "Basic c21zOnNlY3JldA=="  # sms:secret


class FakeSmsGateway(LocalHttpServer):
    """The gateway; `sent` holds the accepted bodies."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[dict[str, Any]] = []
        self.refused: list[str] = []

    def route(self, request: Request):
        """Dispatch by path."""
        if request.path != "/api/send" or request.method != "POST":
            return self.json({"code": "404", "message": "not found"}, 404)
        if request.headers.get("Authorization") != AUTH:
            self.refused.append("auth")
            return self.json({"code": "99", "message": "Sai thông tin xác thực"})
        try:
            body = json.loads(request.body)
        except ValueError:
            self.refused.append("json")
            return self.json({"code": "99", "message": "Body is not JSON"})
        phone = str(body.get("to") or "")
        if not (phone.startswith("84") and phone[2:].isdigit() and len(phone) == 11):
            self.refused.append("phone")
            return self.json({"code": "99", "message": "Số điện thoại không hợp lệ"})
        self.sent.append(body)
        return self.json({"code": "100", "id": f"sms{len(self.sent)}"})

    @staticmethod
    def delivery_report(body: dict[str, Any], status: str = "DELIVERED") -> tuple[str, dict]:
        """The call the gateway makes to an accepted message's callback: (path?query, JSON)."""
        parsed = urllib.parse.urlsplit(body["callback"])
        return f"{parsed.path}?{parsed.query}", {"ref": body["ref"], "status": status}


@pytest.fixture
def sms(app: Flask) -> Iterator[FakeSmsGateway]:
    """The fake gateway on 127.0.0.1, configured as the app's SMS adapter (restored after)."""
    keys = ("SMS_URL", "SMS_AUTH_HEADER", "SMS_BRANDNAME", "SMS_SUCCESS_FIELD",
            "SMS_SUCCESS_VALUE", "SMS_DLR_TOKEN", "ZNS_TEMPLATES", "ZNS_API_BASE_URL",
            "ZALO_TRANSACTION_ENABLED", "MESSAGE_BUDGETS", "PUBLIC_BASE_URL")  # fmt: skip
    saved = {k: app.config[k] for k in keys}
    with FakeSmsGateway() as gateway:
        app.config.update(
            SMS_URL=f"{gateway.url}/api/send",
            SMS_AUTH_HEADER=f"Authorization: {AUTH}",
            SMS_BRANDNAME="UBND-DN",
            SMS_SUCCESS_FIELD="code",
            SMS_SUCCESS_VALUE="100",
            SMS_DLR_TOKEN="dlr-secret",
        )
        yield gateway
    app.config.update(saved)

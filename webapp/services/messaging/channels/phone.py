"""Messages to a resident's verified phone: ZNS template messages and SMS brandname.

ZNS (Zalo Notification Service) sends an approved template, by id, with its parameters, to a
phone number, through the OA's access token; each kind of update has its own template
(ZNS_TEMPLATES). SMS goes through one configurable HTTP adapter: a JSON body built from
SMS_BODY_TEMPLATE, an auth header, and a success field to check, which fits the Vietnamese
brandname gateways' JSON APIs (each differs only in these). It is written here because no
maintained Python client covers them; the gateway's delivery reports come back to
`POST /webhooks/sms/dlr?token=…` (`record_delivery_report`).

SMS text is sent without diacritics: GSM-7 carries 160 characters per part where Unicode
carries 70, and brandname gateways bill by part.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

import httpx
import phonenumbers
from flask import current_app

from webapp.extensions import db
from webapp.infra.text import ascii_name
from webapp.models import OutboxMessage, Report
from webapp.models.types import utcnow
from webapp.services.messaging.channels.base import Sender, SendError, Undeliverable, http_timeout
from webapp.services.messaging.channels.zalo import ZaloError, zalo_access_token
from webapp.services.messaging.fallback import template_data

SMS_PARTS = 3  # at most this many 153-character parts


def international(phone: str) -> str:
    """84xxxxxxxxx, as ZNS and the gateways want a Vietnamese number."""
    try:
        number = phonenumbers.parse(phone, "VN")
    except phonenumbers.NumberParseException as error:
        raise Undeliverable(f"not a phone number: {error}") from error
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164).lstrip("+")


def templates() -> dict[str, str]:
    """ZNS template id per kind of update, from ZNS_TEMPLATES."""
    pairs = (item.split("=", 1) for item in current_app.config["ZNS_TEMPLATES"].split(","))
    return {kind.strip(): tid.strip() for kind, tid in (p for p in pairs if len(p) == 2)}


def update_kind(message: OutboxMessage) -> str:
    """The kind of update a message carries: a status (resolved…), reply, info_request, code."""
    payload = message.payload or {}
    return str(payload.get("status") or payload.get("kind") or "")


class ZnsSender(Sender):
    """A ZNS template message with the report's code, its news and its page."""

    channel = "zns"

    def send(self, message: OutboxMessage) -> None:
        """POST /message/template; Undeliverable when no template fits this kind of update."""
        if not message.address:
            raise Undeliverable("no verified phone")
        template_id = templates().get(update_kind(message))
        if not template_id:
            raise Undeliverable(f"no ZNS template for {update_kind(message)!r}")
        payload = message.payload or {}
        data = payload.get("template_data") or _report_data(message)
        body = {
            "phone": international(message.address),
            "template_id": template_id,
            "template_data": data,
            "tracking_id": str(message.id),
        }
        base = current_app.config["ZNS_API_BASE_URL"].rstrip("/")
        try:
            with httpx.Client(timeout=http_timeout()) as client:
                response = client.post(
                    f"{base}/message/template",
                    headers={"access_token": zalo_access_token()},
                    json=body,
                )
            answer = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise SendError(f"ZNS: {error}") from error
        if answer.get("error", 0) != 0:
            raise ZaloError(answer.get("error"), answer.get("message") or "")


def _report_data(message: OutboxMessage) -> dict[str, str]:
    report = db.session.get(Report, message.report_id) if message.report_id else None
    if report is None:
        raise Undeliverable("a ZNS message needs its report or its template data")
    return template_data(report)


def sms_text(message: OutboxMessage) -> str:
    """The text without diacritics, cut to what SMS_PARTS parts carry."""
    text = ascii_name(message.body)
    limit = 160 if len(text) <= 160 else 153 * SMS_PARTS
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _field(answer: Any, path: str) -> Any:
    for part in path.split("."):
        answer = answer.get(part) if isinstance(answer, dict) else None
    return answer


class SmsSender(Sender):
    """An SMS through the configured brandname gateway."""

    channel = "sms"

    def send(self, message: OutboxMessage) -> None:
        """POST the filled-in template; SendError unless the gateway says it took it."""
        cfg = current_app.config
        if not cfg["SMS_URL"]:
            raise Undeliverable("no SMS gateway configured")
        if not message.address:
            raise Undeliverable("no verified phone")
        base = cfg.get("PUBLIC_BASE_URL", "").rstrip("/")
        values = {
            "phone": international(message.address),
            "text": sms_text(message),
            "brandname": cfg["SMS_BRANDNAME"],
            "id": str(message.id),
            "dlr_url": f"{base}/webhooks/sms/dlr?token={cfg['SMS_DLR_TOKEN']}",
        }
        body = cfg["SMS_BODY_TEMPLATE"]
        for name, value in values.items():  # JSON-escaped, so a quote cannot break the body
            body = body.replace("{" + name + "}", json.dumps(value)[1:-1])
        headers = {"Content-Type": "application/json"}
        if ":" in cfg["SMS_AUTH_HEADER"]:
            name, _, value = cfg["SMS_AUTH_HEADER"].partition(":")
            headers[name.strip()] = value.strip()
        try:
            with httpx.Client(timeout=http_timeout()) as client:
                response = client.post(cfg["SMS_URL"], content=body.encode(), headers=headers)
        except httpx.HTTPError as error:
            raise SendError(f"SMS gateway: {error}") from error
        if response.status_code >= 300:
            raise SendError(f"SMS gateway answered HTTP {response.status_code}")
        if cfg["SMS_SUCCESS_FIELD"]:
            try:
                found = _field(response.json(), cfg["SMS_SUCCESS_FIELD"])
            except ValueError as error:
                raise SendError("SMS gateway answered with a body that is not JSON") from error
            if str(found) != cfg["SMS_SUCCESS_VALUE"]:
                raise SendError(f"SMS gateway refused: {cfg['SMS_SUCCESS_FIELD']}={found!r}")


# Delivery reports: the gateway's word on whether the phone got the message.
SMS_DELIVERED = frozenset({"DELIVERED", "DELIVRD", "SUCCESS", "1"})


def sms_token_ok(given: str | None) -> bool:
    """Constant-time check of the delivery report's token (none configured: refuse all)."""
    expected = current_app.config["SMS_DLR_TOKEN"]
    return bool(expected and given) and hmac.compare_digest(str(given), expected)


def record_delivery_report(ref: Any, status: Any) -> bool:
    """Note a gateway's delivery report on its SMS outbox row; False for an unknown ref."""
    text = str(ref or "")
    if not (text.isascii() and text.isdigit() and len(text) <= 10 and int(text) < 2**31):
        return False  # not an outbox row's id
    if not isinstance(status, str | int) or isinstance(status, bool):
        return False
    message = db.session.get(OutboxMessage, int(text))
    if message is None or message.channel != "sms":
        return False
    delivered = str(status).upper() in SMS_DELIVERED
    message.payload = {
        **(message.payload or {}),
        "delivery": "delivered" if delivered else "not_delivered",
        "delivery_status": str(status)[:40],
        "delivery_at": utcnow().isoformat(),
    }
    db.session.commit()
    return True

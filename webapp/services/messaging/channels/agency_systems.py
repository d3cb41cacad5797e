"""Senders to agencies' own systems: their Open311 server, or a signed webhook.

Open311: `POST {url}/requests.json` with the agency's `api_key`, the category as
`service_code`, the report's text, point, address and answers (`attribute[...]`, plus
`attribute[phananh_code]`); the `service_request_id` it answers is kept on the report. A
webhook: the report as JSON (webapp.services.partners.delivery.report_document), signed.
A refusal (4xx) or an error answer is a SendError: the outbox retries with backoff.
"""

from __future__ import annotations

import httpx

from webapp.extensions import db
from webapp.models import Agency, OutboxMessage, Report
from webapp.models.types import utcnow
from webapp.services.messaging.channels.base import Sender, SendError, Undeliverable, http_timeout
from webapp.services.partners import delivery


def _parts(message: OutboxMessage) -> tuple[Report, Agency]:
    payload = message.payload or {}
    report = db.session.get(Report, message.report_id) if message.report_id else None
    agency = db.session.get(Agency, payload.get("agency_id") or 0)
    if report is None or agency is None or not agency.delivery_url:
        raise Undeliverable("the report or the agency's system is gone")
    return report, agency


class Open311AgencySender(Sender):
    """A new report into the agency's Open311 server."""

    channel = "open311"

    def send(self, message: OutboxMessage) -> None:
        """POST requests.json; the id it gives is kept on the report."""
        report, agency = _parts(message)
        form = {
            "api_key": agency.delivery_secret or "",
            "service_code": report.category_code or "other",
            "description": report.description,
            "address_string": report.address_text or "",
            "attribute[phananh_code]": report.code or "",
        }
        if report.lat is not None and report.lon is not None:
            form["lat"], form["long"] = str(report.lat), str(report.lon)
        for code, value in (report.attributes or {}).items():
            form[f"attribute[{code}]"] = str(value)
        url = f"{(agency.delivery_url or '').rstrip('/')}/requests.json"
        try:
            with httpx.Client(timeout=http_timeout()) as client:
                response = client.post(url, data=form)
            answer = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise SendError(f"open311 {agency.code}: {error}") from error
        first = answer[0] if isinstance(answer, list) and answer else {}
        external = first.get("service_request_id") if isinstance(first, dict) else None
        if response.status_code >= 300 or not external:
            raise SendError(f"open311 {agency.code}: {response.status_code} {answer!r:.300}")
        report.external_id, report.external_synced_at = str(external)[:100], utcnow()


class WebhookSender(Sender):
    """The report as signed JSON to the agency's webhook."""

    channel = "webhook"

    def send(self, message: OutboxMessage) -> None:
        """POST the document; any 2xx is taken."""
        report, agency = _parts(message)
        event = str((message.payload or {}).get("event") or "assigned")
        body, headers = delivery.signed_request(
            agency.delivery_secret or "", delivery.report_document(report, event)
        )
        headers["X-Phananh-Delivery"] = str(message.id)
        try:
            with httpx.Client(timeout=http_timeout()) as client:
                response = client.post(agency.delivery_url or "", content=body, headers=headers)
        except httpx.HTTPError as error:
            raise SendError(f"webhook {agency.code}: {error}") from error
        if not 200 <= response.status_code < 300:
            raise SendError(f"webhook {agency.code}: {response.status_code}")

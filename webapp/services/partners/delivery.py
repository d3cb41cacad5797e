"""Sending reports to an agency's own system, and its updates back.

Per agency (`agencies.delivery`): `backoffice` (default: staff work in /bo, the agency is
e-mailed), `open311` (a new report is POSTed to the agency's Open311 server with its key; its
updates are pulled back every few minutes with FixMyStreet's `servicerequestupdates`
extension and applied through the state machine, so the resident is told as usual), or
`webhook` (each new assignment and reopening is POSTed as JSON, signed with HMAC-SHA256 under
the agency's secret; README "Open311 and partners" is the receiver's guide). Both go through
the outbox: retried with backoff, every attempt visible.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from webapp.extensions import db
from webapp.infra import storage
from webapp.models import Agency, Report, ReportEvent, ReportStatus
from webapp.models.agency import DELIVERY_MODES
from webapp.models.types import utcnow
from webapp.services.casework import workflow
from webapp.services.intake import serializers
from webapp.services.messaging import outbox

log = logging.getLogger(__name__)
OWN_SYSTEMS = DELIVERY_MODES[1:]  # open311, webhook
SYSTEM_EVENTS = frozenset({"assigned", "reopened"})
SIGNATURE_HEADER = "X-Phananh-Signature"
TIMESTAMP_HEADER = "X-Phananh-Timestamp"
CLOSED = frozenset({"closed", "fixed", "resolved"})
WORKING = frozenset({"in_progress", "investigating", "action_scheduled"})
FIRST_SYNC = timedelta(days=1)


def write_messages(report: Report, event: ReportEvent, agency: Agency) -> bool:
    """The outbox row for an agency that works in its own system (False: back office)."""
    if agency.delivery not in OWN_SYSTEMS or not agency.delivery_url:
        return False
    if event.kind == "status" and event.to_status in SYSTEM_EVENTS:
        if agency.delivery == "open311" and report.external_id:
            return True  # already in the agency's system: its own workflow reopens it
        outbox.add_message(
            dedupe_key=f"evt:{event.id}:{agency.delivery}",
            recipient_kind="agency",
            channel=agency.delivery,
            address=agency.delivery_url,
            report_id=report.id,
            body="",
            payload={"agency_id": agency.id, "event": event.to_status, "event_id": event.id},
        )
    return True


def report_document(report: Report, event: str) -> dict[str, Any]:
    """What an agency's system receives about a report (never the resident's identity)."""
    return {
        "event": event,
        "code": report.code,
        "status": report.status,
        "category": report.category_code,
        "description": report.description,
        "lat": report.lat,
        "long": report.lon,
        "address": report.address_text,
        "unit": report.unit.full_name if report.unit else None,
        "created_at": report.created_at.isoformat() if report.created_at else None,
        "due_at": report.due_at.isoformat() if report.due_at else None,
        "attributes": report.attributes or {},
        "photos": [storage.public_photo_url(p.key) for p in report.public_photos],
        "back_office_url": serializers.absolute_url(f"/bo/r/{report.code}"),
    }


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=` and the hex HMAC-SHA256 of "<timestamp>.<body>" under the secret."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def signed_request(secret: str, document: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """The webhook's body and headers."""
    body = json.dumps(document, ensure_ascii=False, sort_keys=True).encode()
    timestamp = str(int(time.time()))
    return body, {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }


def _moment(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _updates(answer: Any) -> list[dict[str, Any]]:
    if isinstance(answer, dict):
        answer = answer.get("service_request_updates") or answer.get("request_updates") or []
    return [u for u in answer if isinstance(u, dict)] if isinstance(answer, list) else []


def sync_updates(agency: Agency, timeout: float = 10.0) -> int:
    """Pull the agency's updates since the last sync and apply them; the count applied."""
    now = utcnow()
    since = agency.delivery_synced_at or now - FIRST_SYNC
    params = {
        "api_key": agency.delivery_secret or "",
        "start_date": since.isoformat(),
        "end_date": now.isoformat(),
    }
    url = f"{(agency.delivery_url or '').rstrip('/')}/servicerequestupdates.json"
    with httpx.Client(timeout=timeout) as client:
        response = client.get(url, params=params)
    response.raise_for_status()
    applied = sum(_apply(agency, update) for update in _updates(response.json()))
    agency.delivery_synced_at = now
    db.session.commit()
    return applied


def _seen(report: Report, update_id: str) -> bool:
    return any((e.data or {}).get("external_update") == update_id for e in report.events)


def _apply(agency: Agency, update: dict[str, Any]) -> bool:
    external = str(update.get("service_request_id") or "")[:100]
    update_id = str(update.get("update_id") or "")[:100]
    report = db.session.scalar(
        select(Report).where(Report.external_id == external, Report.agency_id == agency.id)
    )
    if report is None or not update_id or _seen(report, update_id):
        return False
    status = str(update.get("status") or "").lower()
    note = str(update.get("description") or "").strip()[:2000] or None
    data = {"external_update": update_id, "external_status": status}
    label = f"agency:{agency.code}"[:40]
    report.external_synced_at = utcnow()
    handling = (ReportStatus.ASSIGNED.value, ReportStatus.REOPENED.value)
    if status in CLOSED and report.status in (*handling, ReportStatus.IN_PROGRESS.value):
        report.public_note = note
        workflow.transition(
            report, ReportStatus.RESOLVED, actor_label=label, note=note, public=True, data=data
        )
    elif status in WORKING and report.status in handling:
        workflow.transition(report, ReportStatus.IN_PROGRESS, actor_label=label, data=data)
    elif note:
        workflow.record_event(report, "reply", actor_label=label, note=note, public=True, data=data)
    else:
        workflow.record_event(report, "note", actor_label=label, public=False, data=data)
    return True


def sync_all() -> dict[str, int]:
    """Updates applied per agency code (-1: its system could not be read; one agency's outage
    does not stop the others, and it is tried again at the next run)."""
    applied: dict[str, int] = {}
    for agency in agencies_to_sync():
        code = agency.code
        try:
            applied[code] = sync_updates(agency)
        except (httpx.HTTPError, ValueError):
            db.session.rollback()
            log.warning("agency %s: updates not pulled", code, exc_info=True)
            applied[code] = -1
    return applied


def agencies_to_sync() -> list[Agency]:
    """Agencies whose updates are pulled."""
    return list(
        db.session.scalars(
            select(Agency).where(
                Agency.active, Agency.delivery == "open311", Agency.delivery_url.is_not(None)
            )
        )
    )

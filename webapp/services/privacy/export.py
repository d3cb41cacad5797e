"""A resident's copy of their data (JSON), and the audit trail of every request about it.

What is in it: the contact details and messenger accounts we hold, every report they sent
(their own words, place, photos' public addresses, consent version, status and public
history, rating), the reports they follow, and every message sent to them about those.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from webapp.extensions import db
from webapp.infra import storage
from webapp.models import AuditEntry, OutboxMessage, Report, ReportFollower, Resident
from webapp.models.types import utcnow
from webapp.services.intake import serializers


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def report_data(report: Report) -> dict[str, Any]:
    return {
        "code": report.code,
        "channel": report.channel,
        "created_at": _iso(report.created_at),
        "description": report.description,
        "address": report.address_text,
        "lat": report.lat,
        "lon": report.lon,
        "category": report.category_code,
        "status": report.status,
        "rating": report.rating,
        "consent_version": report.consent_version,
        "public_page": serializers.public_url(report),
        "photos": [storage.public_photo_url(p.key) for p in report.public_photos],
        "history": [
            {"at": _iso(e.created_at), "kind": e.kind, "status": e.to_status, "note": e.note}
            for e in report.events
            if e.public
        ],
    }


def _messages(report_ids: list[int], addresses: list[str]) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.recipient_kind == "resident",
            or_(
                OutboxMessage.report_id.in_(report_ids or [-1]),
                OutboxMessage.address.in_(addresses or [""]),
            ),
        )
        .order_by(OutboxMessage.id)
    )
    return [
        {
            "at": _iso(m.sent_at or m.created_at),
            "channel": m.channel,
            "status": m.status,
            "text": m.body,
        }
        for m in rows
    ]


def resident_data(resident: Resident) -> dict[str, Any]:
    """Everything held about the resident, as a JSON-ready dict."""
    identities = list(resident.identities)
    own = list(
        db.session.scalars(
            select(Report)
            .where(
                or_(
                    Report.resident_id == resident.id,
                    Report.identity_id.in_([i.id for i in identities] or [-1]),
                )
            )
            .order_by(Report.id)
        )
    )
    followed = list(
        db.session.scalars(
            select(Report)
            .join(ReportFollower, ReportFollower.report_id == Report.id)
            .where(ReportFollower.identity_id.in_([i.id for i in identities] or [-1]))
            .order_by(Report.id)
        )
    )
    addresses = [a for a in (resident.phone, resident.email) if a]
    addresses += [i.external_id for i in identities]
    return {
        "generated_at": utcnow().isoformat(),
        "contact": {
            "name": resident.display_name,
            "phone": resident.phone,
            "phone_verified_at": _iso(resident.phone_verified_at),
            "email": resident.email,
            "email_confirmed_at": _iso(resident.email_confirmed_at),
        },
        "accounts": [
            {"channel": i.channel, "id": i.external_id, "name": i.display_name} for i in identities
        ],
        "reports": [report_data(r) for r in own],
        "following": [{"code": r.code, "public_page": serializers.public_url(r)} for r in followed],
        "messages": _messages([r.id for r in own + followed], addresses),
    }


def report_only(report: Report) -> dict[str, Any]:
    """A report sent without any contact: the report and the messages about it."""
    return {
        "generated_at": utcnow().isoformat(),
        "reports": [report_data(report)],
        "messages": _messages([report.id], []),
    }


def audit(action: str, resident_id: int, channel: str, reports: list[str]) -> None:
    """One line of the audit trail for a resident's request (never their identifiers)."""
    db.session.add(
        AuditEntry(
            actor_id=None,
            action=action,
            entity="resident",
            entity_id=str(resident_id),
            after={"channel": channel, "reports": reports},
        )
    )

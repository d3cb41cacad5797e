"""What each audience may see of a report. The resident's identity is never in these views."""

from __future__ import annotations

from typing import Any

from flask import url_for

from webapp.models import Report, ReportEvent

STATUS_LABELS: dict[str, tuple[str, str]] = {
    "received": ("Đã tiếp nhận", "Received"),
    "classified": ("Đã phân loại", "Classified"),
    "needs_triage": ("Đang chờ điều phối", "Awaiting triage"),
    "assigned": ("Đã chuyển cơ quan xử lý", "Assigned to an agency"),
    "in_progress": ("Đang xử lý", "In progress"),
    "transferred": ("Đang chuyển cơ quan khác", "Being transferred"),
    "resolved": ("Đã xử lý xong", "Resolved"),
    "closed": ("Đã đóng", "Closed"),
    "rejected": ("Không tiếp nhận", "Rejected"),
    "duplicate": ("Trùng với phản ánh khác", "Duplicate"),
    "reopened": ("Đã mở lại", "Reopened"),
}

# Event kinds the public tracking page shows (status changes and public replies).
PUBLIC_EVENT_KINDS = frozenset({"status", "reply", "resolution"})


def status_label(status: str | None, locale: str = "vi") -> str:
    """The human label of a status."""
    vi, en = STATUS_LABELS.get(status or "", (status or "", status or ""))
    return en if locale.startswith("en") else vi


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def public_event(event: ReportEvent, locale: str = "vi") -> dict[str, Any]:
    """A history entry as the public may see it: no actor name, no internal data."""
    return {
        "kind": event.kind,
        "at": _iso(event.created_at),
        "status": event.to_status,
        "status_label": status_label(event.to_status, locale) if event.to_status else None,
        "note": event.note,
    }


def public_view(report: Report, locale: str = "vi") -> dict[str, Any]:
    """The tracking-page view of a report: no personal data, no private photos or notes."""
    category = report.category
    return {
        "code": report.code,
        "status": report.status,
        "status_label": status_label(report.status, locale),
        "channel": report.channel,
        "description": report.description,
        "category": category.code if category else None,
        "category_label": category.label(locale) if category else None,
        "agency": report.agency.name if report.agency else None,
        "unit": report.unit.full_name if report.unit else None,
        "lat": round(report.lat, 5) if report.lat is not None else None,
        "lon": round(report.lon, 5) if report.lon is not None else None,
        "address": report.address_text,
        "created_at": _iso(report.created_at),
        "updated_at": _iso(report.updated_at),
        "due_at": _iso(report.due_at),
        "resolved_at": _iso(report.resolved_at),
        "public_note": report.public_note,
        "photos": [
            {
                "web": url_for("public.photo", key=p.key, variant="web", _external=False),
                "thumb": url_for("public.photo", key=p.key, variant="thumb", _external=False),
                "kind": p.kind,
            }
            for p in report.public_photos
        ],
        "history": [
            public_event(e, locale)
            for e in report.events
            if e.public and e.kind in PUBLIC_EVENT_KINDS
        ],
        "tracking_url": url_for("public.track", code=report.code, _external=True),
    }

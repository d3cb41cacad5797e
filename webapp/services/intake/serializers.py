"""What each audience may see of a report. The resident's identity is never in these views."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import h3
from flask import current_app, url_for
from flask_babel import lazy_gettext as _l

from webapp.infra import i18n
from webapp.models import Report, ReportEvent
from webapp.services.intake.scrub import scrub

# status → its label (a lazy catalog text: it renders in the reader's language).
STATUS_LABELS: dict[str, Any] = {
    "received": _l("Đã tiếp nhận"),
    "classified": _l("Đã phân loại"),
    "needs_triage": _l("Đang chờ điều phối"),
    "assigned": _l("Đã chuyển cơ quan xử lý"),
    "in_progress": _l("Đang xử lý"),
    "transferred": _l("Đang chuyển cơ quan khác"),
    "resolved": _l("Đã xử lý xong"),
    "closed": _l("Đã đóng"),
    "rejected": _l("Không tiếp nhận"),
    "duplicate": _l("Trùng với phản ánh khác"),
    "reopened": _l("Đã mở lại"),
}

# Event kinds the public tracking page shows (status changes and public replies).
PUBLIC_EVENT_KINDS = frozenset({"status", "reply", "resolution"})


def status_label(status: str | None, locale: str = "vi") -> str:
    """The human label of a status, in `locale` (an unknown status is shown as it is)."""
    return i18n.in_language(STATUS_LABELS.get(status or "", status or ""), locale)


def _iso(value: datetime | None) -> str | None:
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


# Reports whose public view is their status only.
STATUS_ONLY = frozenset({"rejected"})
# The public point is the centre of the report's cell at this resolution, as on the public map.
PUBLIC_CELL_RESOLUTION = 8


def _scrubbed(text: str | None) -> str | None:
    return scrub(text) if text else text


def absolute_url(path: str) -> str:
    """An absolute URL from PUBLIC_BASE_URL only (never the request's Host header)."""
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}{path}"


# Paths of public.track and public.track_private: written out, so that workers without a
# request can build them (tests/api check they match the routes).
def public_url(report: Report) -> str:
    """The page of the public view (the code alone)."""
    return absolute_url(f"/theo-doi/{report.code}")


def tracking_url(report: Report) -> str:
    """The resident's own tracking link (the secret token)."""
    if not report.tracking_token:
        return public_url(report)
    return absolute_url(f"/t/{report.tracking_token}")


def _shown(report: Report) -> bool:
    """Whether the public view shows more than the status."""
    return report.status not in STATUS_ONLY and not report.public_hidden


def _sensitive(report: Report) -> bool:
    return bool(report.category and report.category.sensitive)


def photos_public(report: Report) -> bool:
    """Whether the report's photos may be served to anyone (not only through its link)."""
    return _shown(report) and not _sensitive(report)


def _photos(report: Report, token: str | None = None) -> list[dict[str, str]]:
    def link(key: str, variant: str) -> str:
        if token:
            return url_for("public.private_photo", token=token, key=key, variant=variant)
        return url_for("public.photo", key=key, variant=variant)

    return [
        {"web": link(p.key, "web"), "thumb": link(p.key, "thumb"), "kind": p.kind}
        for p in report.public_photos
    ]


def _coarse_point(report: Report) -> tuple[float | None, float | None]:
    cell = report.h3_r8
    if cell is None and report.lat is not None:
        cell = h3.latlng_to_cell(report.lat, report.lon, PUBLIC_CELL_RESOLUTION)
    if cell is None:
        return None, None
    lat, lon = h3.cell_to_latlng(cell)
    return round(lat, 4), round(lon, 4)


def _status_only(report: Report, locale: str) -> dict[str, Any]:
    return {
        "code": report.code,
        "status": report.status,
        "status_label": status_label(report.status, locale),
        "public": False,
        "created_at": _iso(report.created_at),
        "tracking_url": public_url(report),
    }


def _view(report: Report, locale: str) -> dict[str, Any]:
    """The facts every view of a shown report has (no text, point, photo or history yet)."""
    category = report.category
    return {
        "code": report.code,
        "status": report.status,
        "status_label": status_label(report.status, locale),
        "public": _shown(report),
        "sensitive": _sensitive(report),
        "channel": report.channel,
        "category": category.code if category else None,
        "category_label": category.label(locale) if category else None,
        "agency": report.agency.name if report.agency else None,
        "unit": report.unit.full_name if report.unit else None,
        "created_at": _iso(report.created_at),
        "updated_at": _iso(report.updated_at),
        "due_at": _iso(report.due_at),
        "resolved_at": _iso(report.resolved_at),
    }


def _history(
    report: Report, locale: str, note: Callable[[str | None], str | None] = lambda text: text
) -> list[dict[str, Any]]:
    return [
        {**public_event(e, locale), "note": note(e.note)}
        for e in report.events
        if e.public and e.kind in PUBLIC_EVENT_KINDS
    ]


def public_view(report: Report, locale: str = "vi") -> dict[str, Any]:
    """What anyone with the code may see: scrubbed text, a point no finer than the public map.

    Rejected and moderated-away reports show their status only; sensitive categories (public
    security, ...) show no text, photo or point finer than the ward. Never the resident.
    """
    if not _shown(report):
        return _status_only(report, locale)
    view = _view(report, locale)
    sensitive = view["sensitive"]
    lat, lon = (None, None) if sensitive else _coarse_point(report)
    return {
        **view,
        "description": None if sensitive else _scrubbed(report.description),
        "lat": lat,
        "lon": lon,
        "location_precision": None if lat is None else f"h3_r{PUBLIC_CELL_RESOLUTION}",
        "address": None,
        "public_note": _scrubbed(report.public_note),
        "photos": [] if sensitive else _photos(report),
        "history": _history(report, locale, _scrubbed),
        "tracking_url": public_url(report),
    }


def nearby_view(report: Report, locale: str = "vi") -> dict[str, Any] | None:
    """The few facts "already reported nearby" shows of a report (as its public page would),
    or None for one that is hidden, of a sensitive category or without text."""
    if not _shown(report) or _sensitive(report):
        return None
    description = _scrubbed(report.description)
    if description is None:
        return None
    category = report.category
    return {
        "code": report.code,
        "category_label": category.label(locale) if category else None,
        "status": report.status,
        "status_label": status_label(report.status, locale),
        "description": description,
        "tracking_url": public_url(report),
    }


def private_view(report: Report, locale: str = "vi") -> dict[str, Any]:
    """What the resident sees through the secret link: the whole report and its history."""
    return {
        **_view(report, locale),
        "description": report.description,
        "lat": round(report.lat, 6) if report.lat is not None else None,
        "lon": round(report.lon, 6) if report.lon is not None else None,
        "location_precision": "exact" if report.lat is not None else None,
        "address": report.address_text,
        "public_note": report.public_note,
        "photos": _photos(report, report.tracking_token),
        "history": _history(report, locale),
        "tracking_url": tracking_url(report),
        "public_url": public_url(report),
    }

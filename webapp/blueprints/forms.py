"""Turning an HTTP request (form, multipart or JSON) into a channel-neutral ReportDraft."""

from __future__ import annotations

from flask import Request

from webapp.errors import ValidationError
from webapp.services.reports import Contact, PhotoUpload, ReportDraft


def _float(value, field: str) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValidationError(
            "Tọa độ vị trí không hợp lệ.", "Invalid coordinates.", field=field
        ) from None


def _contact(data) -> Contact | None:
    raw = (data.get("contact") or "").strip()
    phone = (data.get("contact_phone") or "").strip()
    email = (data.get("contact_email") or "").strip()
    if raw and "@" in raw:
        email = email or raw
    elif raw:
        phone = phone or raw
    name = (data.get("contact_name") or "").strip()
    if not (phone or email or name):
        return None
    return Contact(name=name or None, phone=phone or None, email=email or None)


def draft_from_request(request: Request, channel: str) -> ReportDraft:
    """Parse description, lat/lon, address, photos and contact from the request."""
    data = request.get_json(silent=True) if request.is_json else request.form
    data = data or {}
    uploads = [
        PhotoUpload(data=f.read(), filename=f.filename)
        for f in request.files.getlist("photos")
        if f and (f.filename or f.content_length)
    ]
    uploads = [u for u in uploads if u.data]
    source = data.get("location_source")
    return ReportDraft(
        channel=channel,
        description=data.get("description") or "",
        photos=uploads,
        lat=_float(data.get("lat"), "lat"),
        lon=_float(data.get("lon"), "lon"),
        location_source=source if source in ("pin", "device") else None,
        address=data.get("address") or None,
        contact=_contact(data),
    )

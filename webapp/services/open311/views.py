"""What the Open311 endpoints say, as the GeoReport v2 specification names it.

Every report follows the public-view rules (webapp.services.intake.serializers.public_view):
scrubbed text, a point no finer than the public map, nothing for sensitive categories, public
photos only. A partner with the scope `agency:<id>` also reads that agency's reports' own text
and exact point (`private_fields`).
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import OPEN_STATUSES, Category, Report
from webapp.services.intake import questions, serializers

SPEC = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-03T00:00:00Z"


def open_or_closed(report: Report) -> str:
    """The spec's two statuses (the detailed one goes in status_notes)."""
    return "open" if report.status in OPEN_STATUSES else "closed"


def discovery(base: str) -> dict[str, Any]:
    """GET discovery: where the endpoint is and what it speaks."""
    return {
        "changeset": CHANGESET,
        "contact": current_app.config["PRIVACY_CONTACT"],
        "key_service": "Khóa API do quản trị viên cấp (flask partners add).",
        "endpoints": [
            {
                "specification": SPEC,
                "url": base,
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }


def categories() -> list[Category]:
    """Active categories in their order."""
    return list(
        db.session.scalars(select(Category).where(Category.active).order_by(Category.sort_order))
    )


def service(category: Category, locale: str) -> dict[str, Any]:
    """One category as a service."""
    return {
        "service_code": category.code,
        "service_name": category.label(locale),
        "description": category.description_vi or category.label(locale),
        "metadata": bool(category.questions),
        "type": "realtime",
        "keywords": "",
        "group": "",
    }


def definition(category: Category, locale: str) -> dict[str, Any]:
    """GET services/{code}: the category's questions as attributes."""
    attributes = []
    for order, question in enumerate(questions.of(category), start=1):
        attribute: dict[str, Any] = {
            "variable": True,
            "code": question.code,
            "datatype": question.datatype,
            "required": question.required,
            "datatype_description": "",
            "order": order,
            "description": question.label(locale),
        }
        if question.values:
            attribute["values"] = [
                {"key": key, "name": en if locale.startswith("en") else vi}
                for key, vi, en in question.values
            ]
        attributes.append(attribute)
    return {"service_code": category.code, "attributes": attributes}


def request_view(report: Report, locale: str, private_fields: bool = False) -> dict[str, Any]:
    """One report as a service request."""
    view = serializers.public_view(report, locale)
    notes = [view.get("status_label") or ""]
    if view.get("public_note"):
        notes.append(view["public_note"])
    description, lat, lon = view.get("description"), view.get("lat"), view.get("lon")
    if private_fields:
        description, lat, lon = report.description, report.lat, report.lon
    photos = view.get("photos") or []
    return {
        "service_request_id": report.code,
        "status": open_or_closed(report),
        "status_notes": " — ".join(n for n in notes if n),
        "service_name": view.get("category_label") or "",
        "service_code": report.category_code or "",
        "description": description or "",
        "agency_responsible": view.get("agency") or "",
        "service_notice": "",
        "requested_datetime": view.get("created_at"),
        "updated_datetime": view.get("updated_at"),
        "expected_datetime": view.get("due_at"),
        "address": view.get("unit") or "",
        "address_id": "",
        "zipcode": "",
        "lat": lat,
        "long": lon,
        "media_url": serializers.absolute_url(photos[0]["web"]) if photos else "",
    }

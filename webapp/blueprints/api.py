"""JSON API: submit a report and read its public view."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_babel import get_locale

from webapp.blueprints.forms import draft_from_request
from webapp.models import Channel
from webapp.services import reports, serializers

bp = Blueprint("api", __name__)


@bp.post("/reports")
def create_report():
    """Multipart or JSON: description, lat/lon or address, photos, optional contact → 201."""
    draft = draft_from_request(request, Channel.API)
    result = reports.submit_report(draft)
    body = serializers.public_view(reports.get_by_code(result.code), str(get_locale()))
    return jsonify(body), 201, {"Location": body["tracking_url"]}


@bp.get("/reports/<code>")
def get_report(code: str):
    """The public view of one report."""
    return jsonify(serializers.public_view(reports.get_by_code(code), str(get_locale())))


@bp.get("/units.geojson")
def units_geojson():
    """Ward boundaries of the province, simplified for drawing."""
    from webapp.services import boundaries

    return jsonify(boundaries.display_geojson())

"""JSON API: submit a report, read its public view, read one's own by the secret token.

Documented by the OpenAPI 3.1 document at `/api/v1/openapi.json` (webapp.blueprints.openapi)
and the docs page `/api/v1/docs/`.
"""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from webapp.blueprints import openapi, params
from webapp.blueprints.forms import draft_from_request
from webapp.infra.i18n import request_language
from webapp.models import Channel
from webapp.ratelimit import limit
from webapp.services.intake import followers, reports, serializers
from webapp.services.intake.serializers import absolute_url

bp = Blueprint("api", __name__)
PREFIX = "/api/v1"


@bp.post("/reports")
@limit("RATELIMIT_INTAKE_ADDRESS")
def create_report() -> ResponseReturnValue:
    """Multipart or JSON: description, lat/lon or address, photos, optional contact → 201."""
    draft = draft_from_request(request, Channel.API)
    result = reports.submit_report(draft)
    body = serializers.private_view(reports.get_by_code(result.code), request_language())
    return jsonify(body), 201, {"Location": absolute_url(f"{PREFIX}/reports/{result.code}")}


@bp.get("/reports/<code>")
@limit("RATELIMIT_LOOKUP")
def get_report(code: str) -> ResponseReturnValue:
    """The public view of one report."""
    return jsonify(serializers.public_view(reports.get_by_code(code), request_language()))


@bp.get("/track/<token>")
@limit("RATELIMIT_LOOKUP")
def track(token: str) -> ResponseReturnValue:
    """The whole report, for the holder of its tracking link."""
    view = serializers.private_view(reports.get_by_token(token), request_language())
    return jsonify(view), 200, {"Cache-Control": "private, no-store"}


@bp.get("/nearby")
@limit("RATELIMIT_PUBLIC_JSON")
def nearby_reports() -> ResponseReturnValue:
    """Open reports near a point, of the kind given (the web form's "already reported"), as
    the bots offer them: public views only (scrubbed text, the public map's coarse point), no
    distance, nothing of a sensitive category, at most five; limited per address."""
    args = params.parse(params.NearbyArgs, request.args)
    found = followers.nearby(
        args.lat,
        args.lon,
        radius_m=float(current_app.config["BOT_NEARBY_METERS"]),
        categories=[args.category] if args.category else None,
        limit=10,
    )
    views = [serializers.nearby_view(item.report, request_language()) for item in found]
    shown = [view for view in views if view is not None]
    return jsonify({"reports": shown[:5], "radius_m": current_app.config["BOT_NEARBY_METERS"]})


@bp.get("/units.geojson")
@limit("RATELIMIT_PUBLIC_JSON")
def units_geojson() -> ResponseReturnValue:
    """Ward boundaries of the province, simplified for drawing."""
    from webapp.services.geography import boundaries

    response = jsonify(boundaries.display_geojson())
    response.headers["Cache-Control"] = "public, max-age=3600"  # boundaries change yearly
    return response


@bp.get("/openapi.json")
def openapi_document() -> ResponseReturnValue:
    """The OpenAPI 3.1 document of this API."""
    return jsonify(openapi.document(absolute_url(PREFIX)))


def init_app(app: Flask) -> None:
    """Register the API and its docs page (swagger-ui from the package, no CDN)."""
    from flask_swagger_ui import get_swaggerui_blueprint

    from webapp.extensions import csrf

    app.register_blueprint(bp, url_prefix=PREFIX)
    csrf.exempt(bp)
    docs = get_swaggerui_blueprint(
        f"{PREFIX}/docs",
        f"{PREFIX}/openapi.json",
        config={"app_name": "Phản ánh hiện trường API"},
        blueprint_name="api_docs",
    )
    app.register_blueprint(docs)

"""Public pages: the report form, the tracking page, public photo copies, health."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale

from webapp.blueprints.forms import draft_from_request
from webapp.errors import DomainError
from webapp.extensions import db
from webapp.models import Category, Channel, Photo
from webapp.services import health, reports, serializers

bp = Blueprint("public", __name__)


def _categories():
    return db.session.scalars(
        db.select(Category).where(Category.active).order_by(Category.sort_order)
    ).all()


def _map_settings() -> dict:
    from webapp.services import heatmap, places

    return {
        "tile_url": current_app.config["MAP_TILE_URL"],
        "tile_attribution": current_app.config["MAP_TILE_ATTRIBUTION"],
        "bounds": heatmap.initial_bounds(),
        "approximate": places.places().approximate,
        "units_url": url_for("api.units_geojson"),
    }


@bp.get("/")
def index():
    """The mobile-first report form."""
    return render_template("public/index.html", map=_map_settings(), form={}, error=None)


@bp.post("/phan-anh")
def submit():
    """Submit the form; on error show it again with the message and the typed text kept."""
    try:
        result = reports.submit_report(draft_from_request(request, Channel.WEB))
    except DomainError as error:
        return (
            render_template(
                "public/index.html",
                map=_map_settings(),
                form=request.form,
                error=error.message(str(get_locale())),
            ),
            error.status_code,
        )
    return redirect(url_for("public.track", code=result.code, new=1))


@bp.get("/tra-cuu")
def lookup():
    """Find a report by the code typed in the lookup box."""
    code = (request.args.get("code") or "").strip().upper()
    if not code:
        return redirect(url_for("public.index"))
    return redirect(url_for("public.track", code=code))


@bp.get("/theo-doi/<code>")
def track(code: str):
    """The tracking page: status history and public replies, never personal data."""
    report = reports.get_by_code(code)
    view = serializers.public_view(report, str(get_locale()))
    return render_template(
        "public/track.html", report=view, new=bool(request.args.get("new")), map=_map_settings()
    )


@bp.get("/anh/<key>/<variant>.jpg")
def photo(key: str, variant: str):
    """A public copy (metadata stripped) of a photo that is not hidden."""
    if variant not in ("web", "thumb"):
        abort(404)
    item = db.session.scalar(db.select(Photo).where(Photo.key == key))
    if item is None or item.hidden:
        abort(404)
    path = reports.photo_store().open_public(key, variant)
    return send_file(path, mimetype="image/jpeg", max_age=3600)


@bp.get("/healthz")
def healthz():
    """Database and broker state; 503 only when the database is down (intake needs it)."""
    state = health.check()
    return jsonify(state), 200 if state["database"] == "ok" else 503

"""Public pages: the report form, the tracking page, public photo copies, health."""

from __future__ import annotations

from collections.abc import Sequence

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale

from webapp.blueprints.forms import draft_from_request
from webapp.errors import DomainError
from webapp.extensions import db
from webapp.infra import health, storage
from webapp.models import Category, Channel, Photo
from webapp.ratelimit import limit
from webapp.services.intake import contacts, questions, reports, serializers

bp = Blueprint("public", __name__)


def _categories() -> Sequence[Category]:
    return db.session.scalars(
        db.select(Category).where(Category.active).order_by(Category.sort_order)
    ).all()


def map_settings() -> dict:
    from webapp.services.geography import places
    from webapp.services.ioc import heatmap

    return {
        "tile_url": current_app.config["MAP_TILE_URL"],
        "tile_attribution": current_app.config["MAP_TILE_ATTRIBUTION"],
        "bounds": heatmap.initial_bounds(),
        "approximate": places.places().approximate,
        "units_url": url_for("api.units_geojson"),
    }


def _form_page(form: object, error: str | None) -> str:
    categories = _categories()
    return render_template(
        "public/index.html",
        map=map_settings(),
        form=form,
        error=error,
        categories=categories,
        questions={c.code: questions.of(c) for c in categories if c.questions},
    )


@bp.get("/")
def index() -> ResponseReturnValue:
    """The mobile-first report form."""
    return _form_page({}, None)


@bp.post("/phan-anh")
@limit("RATELIMIT_INTAKE_ADDRESS")
def submit() -> ResponseReturnValue:
    """Submit the form; on error show it again with the message and the typed text kept."""
    try:
        result = reports.submit_report(draft_from_request(request, Channel.WEB))
    except DomainError as error:
        return _form_page(request.form, error.message(str(get_locale()))), error.status_code
    return redirect(url_for("resident.track_private", token=result.tracking_token, new=1))


@bp.get("/tra-cuu")
@limit("RATELIMIT_LOOKUP")
def lookup() -> ResponseReturnValue:
    """Find a report by the code typed in the lookup box."""
    code = (request.args.get("code") or "").strip().upper()[:40]
    if not code:
        return redirect(url_for("public.index"))
    return redirect(url_for("public.track", code=code))


def private_response(response: Response) -> Response:
    """The secret link's page: never cached by others, never sent on as a Referer."""
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/theo-doi/<code>")
@limit("RATELIMIT_LOOKUP")
def track(code: str) -> ResponseReturnValue:
    """The public view of a report found by its code: scrubbed, coarse, never personal data."""
    report = reports.get_by_code(code)
    view = serializers.public_view(report, str(get_locale()))
    return render_template("public/track.html", report=view, new=False, map=map_settings())


@bp.get("/xac-nhan-email/<token>")
@limit("RATELIMIT_LOOKUP")
def confirm_email(token: str) -> ResponseReturnValue:
    """The link of the confirmation e-mail: from now on this e-mail receives the news."""
    contacts.confirm(token[:500])
    return private_response(
        current_app.make_response(render_template("public/email_confirmed.html"))
    )


@bp.get("/anh/<key>/<variant>.jpg")
@limit("RATELIMIT_PHOTOS")
def photo(key: str, variant: str) -> ResponseReturnValue:
    """A public copy (metadata stripped) of a photo that is not hidden."""
    if not storage.is_variant(variant) or len(key) > 64:
        abort(404)
    item = db.session.scalar(db.select(Photo).where(Photo.key == key))
    # Photos of sensitive, rejected or moderated-away reports only through the secret link.
    if item is None or item.hidden or not serializers.photos_public(item.report):
        abort(404)
    return storage.send_public_photo(key, variant, max_age=3600)


@bp.get("/t/<token>/anh/<key>/<variant>.jpg")
@limit("RATELIMIT_PHOTOS")
def private_photo(token: str, key: str, variant: str) -> ResponseReturnValue:
    """A public copy (metadata stripped) of a photo, for the resident's own page."""
    if not storage.is_variant(variant):
        abort(404)
    report = reports.get_by_token(token)
    if not any(p.key == key for p in report.public_photos):
        abort(404)
    return private_response(storage.send_public_photo(key, variant, max_age=0))


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Database and broker state; 503 only when the database is down (intake needs it)."""
    state = health.cached_check()
    return jsonify(state), 200 if state["database"] == "ok" else 503

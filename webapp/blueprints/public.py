"""Public pages: the report form, the tracking page, public photo copies, health."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence

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
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import generate_csrf

from webapp.blueprints.forms import draft_from_request
from webapp.errors import DomainError, ValidationError
from webapp.extensions import db
from webapp.infra import health, storage
from webapp.infra.i18n import request_language
from webapp.models import Category, Channel, Photo, Report
from webapp.ratelimit import limit
from webapp.services.intake import codes, contacts, followers, questions, reports, serializers
from webapp.services.messaging import fallback

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


def _form_page(form: Mapping[str, str], error: str | None, field: str | None = None) -> str:
    categories = _categories()
    return render_template(
        "public/index.html",
        map=map_settings(),
        form=form,
        error=error,
        error_field=field,
        # One key per submission: sent twice (a double tap, a retry), it is one report.
        client_key=form.get("client_key") or secrets.token_urlsafe(18),
        categories=categories,
        questions={c.code: questions.of(c) for c in categories if c.questions},
    )


@bp.get("/")
def index() -> ResponseReturnValue:
    """The mobile-first report form."""
    return _form_page({}, None)


# What the service worker keeps for the form to open offline (static files by their URL).
OFFLINE_ASSETS = (
    "css/app.css",
    "css/form.css",
    "js/photo-prep.js",
    "js/draft-store.js",
    "js/report-form.js",
    "vendor/leaflet/leaflet.css",
    "vendor/leaflet/leaflet.js",
    "vendor/leaflet/images/marker-icon.png",
    "vendor/leaflet/images/marker-shadow.png",
    "icons/icon-192.png",
)


@bp.get("/manifest.webmanifest")
def manifest() -> ResponseReturnValue:
    """The web app manifest: installable, opening on the form."""
    icon = "icons/icon-{0}.png"
    body = {
        "name": _("Phản ánh hiện trường"),
        "short_name": _("Phản ánh"),
        "description": _("Gửi phản ánh về các vấn đề ngoài đường phố tới cơ quan xử lý."),
        "lang": request_language(),
        "start_url": url_for("public.index"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#f4f6f8",
        "theme_color": "#c53030",
        "icons": [
            {
                "src": url_for("static", filename=icon.format(size)),
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": "any maskable",
            }
            for size in (192, 512)
        ],
    }
    response = jsonify(body)
    response.mimetype = "application/manifest+json"
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/sw.js")
def service_worker() -> ResponseReturnValue:
    """The service worker: the form and its files from the cache when the network is gone.

    Served from the root so that it may control the form's page; always revalidated.
    """
    assets = [url_for("static", filename=name) for name in OFFLINE_ASSETS]
    body = render_template(
        "public/sw.js",
        form_url=url_for("public.index"),
        units_url=url_for("api.units_geojson"),
        assets=assets,
        version=hashlib.sha256("\n".join(assets).encode()).hexdigest()[:12],
    )
    response = Response(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.post("/phan-anh")
@limit("RATELIMIT_INTAKE_ADDRESS")
def submit() -> ResponseReturnValue:
    """Submit the form; on error show it again with the message and the typed text kept.

    The form's script asks for JSON (Accept: application/json): the code and the private
    link (201, or 200 when the same submission was stored before), or the error and its
    field, as /api/v1 answers.
    """
    wants_json = request.accept_mimetypes.best == "application/json"
    try:
        result = reports.submit_report(draft_from_request(request, Channel.WEB))
    except DomainError as error:
        if wants_json:
            raise
        page = _form_page(request.form, error.message(request_language()), error.field)
        return page, error.status_code
    url = url_for("resident.track_private", token=result.tracking_token, new=1)
    if wants_json:
        answer = jsonify(code=result.code, url=url, replayed=result.replayed)
        return private_response(answer), 200 if result.replayed else 201
    return redirect(url)


@bp.get("/phan-anh/ma-bao-ve")
@limit("RATELIMIT_PUBLIC_JSON")
def form_token() -> ResponseReturnValue:
    """A fresh CSRF token for a draft kept on the phone and sent later (its page's token may
    belong to a session that has ended since)."""
    return private_response(jsonify(csrf_token=generate_csrf()))


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
    return _public_page(reports.get_by_code(code))


def _public_page(report: Report, status: int = 200, **follow: object) -> ResponseReturnValue:
    """The public view, with the form to follow the report while it is open."""
    view = serializers.public_view(report, request_language())
    page = render_template(
        "public/track.html",
        report=view,
        new=False,
        map=map_settings(),
        follow={"open": report.is_open, **follow},
    )
    return page, status


@bp.post("/theo-doi/<code>/nhan-tin")
@limit("RATELIMIT_RESIDENT_ACTION")
def follow_request(code: str) -> ResponseReturnValue:
    """Someone with the same problem asks for the report's news: a code to their e-mail or
    phone first (nobody subscribes a stranger's address)."""
    report = reports.get_by_code(code)
    contact = (request.form.get("contact") or "").strip()[:200]
    try:
        if not report.is_open:
            raise ValidationError(
                _l("Phản ánh %(code)s đã kết thúc xử lý, không thể theo dõi thêm.", code=code)
            )
        address = codes.parse_address(contact)
        codes.send("follow", address, report, request_language(), own=False)
    except DomainError as error:
        db.session.rollback()
        return _public_page(
            report, error.status_code, error=error.message(request_language()), contact=contact
        )
    db.session.commit()
    sent = _("Đã gửi mã xác minh tới %(to)s.", to=codes.masked(address.value))
    return _public_page(report, step="code", contact=address.value, done=sent)


@bp.post("/theo-doi/<code>/xac-nhan")
@limit("RATELIMIT_RESIDENT_ACTION")
def follow_confirm(code: str) -> ResponseReturnValue:
    """The code typed back: that e-mail or phone now gets the report's news."""
    report = reports.get_by_code(code)
    contact = (request.form.get("contact") or "").strip()[:200]
    try:
        address = codes.check(
            "follow", report, request.form.get("code", ""), codes.parse_address(contact)
        )
    except DomainError as error:
        db.session.commit()  # a wrong guess counts
        return _public_page(
            report,
            error.status_code,
            error=error.message(request_language()),
            step="code",
            contact=contact,
        )
    channel = "email" if address.kind == "email" else fallback.first_phone_channel() or "sms"
    followers.follow(report, channel, address.value)
    db.session.commit()
    done = _(
        "Từ nay bạn sẽ nhận thông báo về phản ánh này qua %(to)s.", to=codes.masked(address.value)
    )
    return _public_page(report, done=done, following=True)


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

"""Open311 GeoReport v2 under /open311/v2/: discovery, services, service definitions,
requests (GET with the spec's filters, POST with an API key), one request, tokens; JSON and
XML; errors in the spec's format ([{code, description}]) and status codes.

Reading needs no key (the public-view rules apply, limited per client address); a key with
the scope `agency:<id>` also reads that agency's reports' own text and exact point. Posting
needs a key with `submit` and goes through the same intake as every channel (channel
`open311`), limited per key (RATELIMIT_PARTNER) instead of per address: one partner server
speaks for many residents.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Flask, Response, request
from flask_babel import lazy_gettext as _l

from webapp.errors import DomainError, NotFound, ValidationError
from webapp.extensions import db
from webapp.infra.i18n import request_language
from webapp.models import Category, Channel, Partner
from webapp.ratelimit import limit
from webapp.services.intake import idempotency, reports
from webapp.services.intake.reports import Contact, PhotoUpload, ReportDraft
from webapp.services.intake.serializers import absolute_url
from webapp.services.open311 import formats, search, views
from webapp.services.partners import keys

bp = Blueprint("open311", __name__)
PREFIX = "/open311/v2"
FORMAT = "<any(json, xml):fmt>"
MAX_MEDIA = 5
# Open311 answers a bad parameter with 400 (the API's own routes say 422).
SPEC_STATUS = {422: 400}


def spec_errors(view: Callable[..., Response]) -> Callable[..., Response]:
    """Domain errors as the spec's error list, in the asked format."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except DomainError as error:
            db.session.rollback()
            status = SPEC_STATUS.get(error.status_code, error.status_code)
            answer = formats.errors(
                kwargs.get("fmt", "json"), status, error.message(request_language())
            )
            retry = getattr(error, "retry_after", None)
            if retry:
                answer.headers["Retry-After"] = str(retry)
            return answer

    return wrapper


def _reader() -> Partner | None:
    key = request.args.get("api_key")
    return keys.authenticate(key, "read") if key else None


@bp.get(f"/discovery.{FORMAT}")
@limit("RATELIMIT_PUBLIC_JSON")
@spec_errors
def discovery(fmt: str) -> Response:
    """Where this endpoint is and what it speaks."""
    return formats.render(fmt, views.discovery(absolute_url(PREFIX)), "discovery")


@bp.get(f"/services.{FORMAT}")
@limit("RATELIMIT_PUBLIC_JSON")
@spec_errors
def services(fmt: str) -> Response:
    """The categories."""
    found = [views.service(c, request_language()) for c in views.categories()]
    return formats.render(fmt, found, "services", "service")


@bp.get(f"/services/<code>.{FORMAT}")
@limit("RATELIMIT_PUBLIC_JSON")
@spec_errors
def service_definition(code: str, fmt: str) -> Response:
    """One category's questions as attributes."""
    category = db.session.get(Category, code[:40])
    if category is None or not category.active:
        raise NotFound(_l("Không có dịch vụ %(code)s.", code=code[:40]))
    return formats.render(fmt, views.definition(category, request_language()), "service_definition")


@bp.get(f"/requests.{FORMAT}")
@limit("RATELIMIT_LOOKUP")
@spec_errors
def requests_list(fmt: str) -> Response:
    """Reports by the spec's filters (public view, or private fields for a partner's agency)."""
    partner = _reader()
    query = search.parse(request.args)
    own = keys.agency_ids(partner)
    found = [
        views.request_view(r, request_language(), r.agency_id in own) for r in search.find(query)
    ]
    return formats.render(fmt, found, "service_requests", "request")


@bp.get(f"/requests/<code>.{FORMAT}")
@limit("RATELIMIT_LOOKUP")
@spec_errors
def request_one(code: str, fmt: str) -> Response:
    """One report."""
    partner = _reader()
    report = reports.get_by_code(code)
    view = views.request_view(
        report, request_language(), report.agency_id in keys.agency_ids(partner)
    )
    return formats.render(fmt, [view], "service_requests", "request")


@bp.get(f"/tokens/<token>.{FORMAT}")
@limit("RATELIMIT_LOOKUP")
@spec_errors
def token(token: str, fmt: str) -> Response:
    """The request a POST's token names (here the token is the request's own code)."""
    report = reports.get_by_code(token)
    found = [{"service_request_id": report.code, "token": report.code}]
    return formats.render(fmt, found, "service_requests", "request")


def _float(name: str) -> float | None:
    raw = (request.form.get(name) or "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise ValidationError(_l("%(name)s không phải là số.", name=name), field=name) from None


def _draft(partner: Partner) -> ReportDraft:
    form = request.form
    code = (form.get("service_code") or "").strip()[:40]
    category = db.session.get(Category, code) if code else None
    if category is None or not category.active:
        raise ValidationError(_l("Không có dịch vụ %(code)s.", code=code), field="service_code")
    name = " ".join(p for p in (form.get("first_name"), form.get("last_name")) if p).strip()
    contact = Contact(name=name or None, phone=form.get("phone"), email=form.get("email"))
    attributes = {
        key[len("attribute[") : -1]: value
        for key, value in form.items()
        if key.startswith("attribute[") and key.endswith("]")
    }
    media = [f for f in request.files.getlist("media") if f and f.filename][:MAX_MEDIA]
    lat, lon = _float("lat"), _float("long")
    return ReportDraft(
        channel=Channel.OPEN311.value,
        description=form.get("description") or "",
        photos=[PhotoUpload(f.read(), f.filename) for f in media],
        lat=lat,
        lon=lon,
        location_source="pin" if lat is not None else None,
        address=form.get("address_string"),
        contact=contact if (contact.name or contact.phone or contact.email) else None,
        category_hint=category.code,
        language=request_language(),
        attributes=attributes,
        partner_id=partner.id,
        client_key=_client_key(partner),
    )


def _client_key(partner: Partner) -> str | None:
    """The `Idempotency-Key` header (or `client_key`), the partner's own: two partners' keys
    never meet."""
    key = idempotency.checked(
        request.headers.get(idempotency.HEADER) or request.form.get(idempotency.FIELD)
    )
    return f"partner{partner.id}:{key}" if key else None


@bp.post(f"/requests.{FORMAT}")
@spec_errors
def post_request(fmt: str) -> Response:
    """A new report from a partner system (api_key with the scope `submit`)."""
    partner = keys.authenticate(request.values.get("api_key"), "submit")
    result = reports.submit_report(_draft(partner))
    body = [{"service_request_id": result.code, "service_notice": "", "account_id": None}]
    return formats.render(fmt, body, "service_requests", "request", status=201)


def init_app(app: Flask) -> None:
    """Register the endpoints (no CSRF: partners post with a key, not a browser session)."""
    from webapp.extensions import csrf

    app.register_blueprint(bp, url_prefix=PREFIX)
    csrf.exempt(bp)

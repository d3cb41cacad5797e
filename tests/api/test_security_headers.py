"""Security headers (issue 12): a strict CSP on every answer, HSTS in production only, no
referrer from the secret tracking link, and no inline script or style left in the templates."""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask

from tests.backoffice.conftest import USERS
from tests.factories import AssignedReportFactory, SubmittedReportFactory
from webapp import headers
from webapp.services.administration.seed import DEMO_PASSWORD
from webapp.services.intake.reports import Contact

WEBAPP = Path(__file__).resolve().parents[2] / "webapp"
TEMPLATES = WEBAPP / "templates"
OWN_SCRIPTS = WEBAPP / "static" / "js"

STRICT_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data: blob:",
    "connect-src": "'self'",
    "font-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
TILES = "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_IMAGES = "'self' data: blob: https://*.tile.openstreetmap.org"


def _build(app: Flask, app_config: dict, **overrides) -> Flask:
    """An app on the session database with the headers on, as create_app wires them."""
    from webapp import create_app

    built = create_app("testing", overrides={**app_config, **overrides})
    if "talisman" not in built.extensions:  # until create_app calls headers.init_app
        headers.init_app(built)
    app.extensions["celery"].set_default()  # tasks called directly keep using the session app
    return built


@pytest.fixture(scope="module")
def site(app, app_config) -> Flask:
    """The app as the tests run it (APP_ENV testing), with map tiles from OpenStreetMap."""
    return _build(app, app_config, MAP_TILE_URL=TILES)


@pytest.fixture(scope="module")
def production(app, app_config) -> Flask:
    """The same app configured as a province's deployment."""
    return _build(
        app,
        app_config,
        APP_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(48),
        SESSION_COOKIE_SECURE=True,
        REMEMBER_COOKIE_SECURE=True,
    )


@pytest.fixture()
def report(site) -> tuple[str, str]:
    """A resident's report: (code, secret tracking token)."""
    with site.app_context():
        report = SubmittedReportFactory(
            description="Cây đổ chắn ngang đường Lê Duẩn sau cơn mưa",
            contact=Contact(email="lan@example.vn"),
        )
        return report.code, report.tracking_token


def csp(response) -> dict[str, str]:
    """The Content-Security-Policy header as {directive: sources}."""
    value = response.headers["Content-Security-Policy"]
    parts = (p.strip().split(" ", 1) for p in value.split(";") if p.strip())
    return {p[0]: p[1] if len(p) > 1 else "" for p in parts}


def assert_strict(response, img_src: str = STRICT_CSP["img-src"]) -> None:
    """The headers every answer carries, whatever its kind."""
    assert csp(response) == {**STRICT_CSP, "img-src": img_src}
    assert "unsafe-" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_create_app_sends_the_security_headers(app):
    assert "talisman" in app.extensions, "create_app must call webapp.headers.init_app(app)"


def test_public_page(site):
    response = site.test_client().get("/", base_url="https://phananh.example.vn")
    assert response.status_code == 200
    assert_strict(response, OSM_IMAGES)
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in response.headers  # not production
    assert "geolocation=(self)" in response.headers["Permissions-Policy"]


@pytest.mark.parametrize(
    ("who", "path"), [(None, "/bo/login"), ("admin", "/bo/"), ("viewer", "/ioc/chi-so")]
)
def test_back_office_pages(site, who, path):
    client = site.test_client()
    if who:
        signed_in = client.post("/bo/login", data={"email": USERS[who], "password": DEMO_PASSWORD})
        assert signed_in.status_code == 302
    response = client.get(path)
    assert response.status_code == 200
    assert_strict(response, OSM_IMAGES)
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


@pytest.mark.parametrize(
    ("path", "status"),
    [("/api/v1/openapi.json", 200), ("/api/v1/reports/PA-0000-000000", 404), ("/healthz", 200)],
)
def test_json_answers(site, path, status):
    response = site.test_client().get(path)
    assert response.status_code == status
    assert response.is_json
    assert_strict(response, OSM_IMAGES)


def test_the_api_docs_run_under_the_same_policy(site):
    response = site.test_client().get("/api/v1/docs/")
    assert response.status_code == 200
    assert_strict(response, OSM_IMAGES)
    html = response.get_data(as_text=True)
    assert "api-docs.js" in html
    assert not re.search(r"<script>|<script[^>]*>\s*\S[^<]*</script>", html), "inline script"


def test_the_secret_tracking_link_sends_no_referrer(site, report):
    code, token = report
    client = site.test_client()
    private = client.get(f"/t/{token}?new=1")
    assert private.status_code == 200
    assert private.headers["Referrer-Policy"] == "no-referrer"
    assert '<meta name="referrer" content="no-referrer">' in private.get_data(as_text=True)
    assert_strict(private, OSM_IMAGES)

    public = client.get(f"/theo-doi/{code}")
    assert public.status_code == 200
    assert public.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert 'name="referrer"' not in public.get_data(as_text=True)


def test_the_email_confirmation_link_sends_no_referrer(site, report):
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Resident
    from webapp.services.intake import contacts

    with site.app_context():
        resident = db.session.scalar(select(Resident).where(Resident.email == "lan@example.vn"))
        link = contacts.confirmation_link(resident)
    response = site.test_client().get(urlsplit(link).path)
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_hsts_and_secure_cookies_in_production_only(site, production):
    for app, expected, img_src in (
        (site, False, OSM_IMAGES),
        (production, True, "'self' data: blob:"),
    ):
        client = app.test_client()
        secure = client.get("/?lang=en", base_url="https://phananh.example.vn")
        assert secure.status_code == 200
        assert ("Strict-Transport-Security" in secure.headers) is expected
        cookie = next(c for c in secure.headers.getlist("Set-Cookie") if c.startswith("session="))
        assert ("; Secure" in cookie) is expected
        # Behind the TLS-terminating proxy, which says so in X-Forwarded-Proto.
        proxied = client.get("/", headers={"X-Forwarded-Proto": "https"})
        assert ("Strict-Transport-Security" in proxied.headers) is expected
        # Nothing is redirected to HTTPS by the app (the proxy does it; /healthz stays plain).
        assert client.get("/healthz").status_code == 200
        assert_strict(secure, img_src)
    hsts = production.test_client().get("/", base_url="https://phananh.example.vn")
    assert hsts.headers["Strict-Transport-Security"].startswith("max-age=31556926")


def test_production_sign_in_cookie_is_secure(production):
    client = production.test_client()
    response = client.post(
        "/bo/login",
        data={"email": USERS["staff"], "password": DEMO_PASSWORD},
        base_url="https://phananh.example.vn",
    )
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies and all("; Secure" in c and "; HttpOnly" in c for c in cookies)


def test_staff_pages_of_a_report_carry_the_headers(site, ctx):
    code = AssignedReportFactory(agency="CHIEUSANG").code
    client = site.test_client()
    client.post("/bo/login", data={"email": USERS["staff"], "password": DEMO_PASSWORD})
    response = client.get(f"/bo/r/{code}")
    assert response.status_code == 200
    assert_strict(response, OSM_IMAGES)


# --------------------------------------------------------------------------- the policy itself


@pytest.mark.parametrize(
    ("template", "source"),
    [
        (TILES, "https://*.tile.openstreetmap.org"),
        ("https://tiles.danang.gov.vn:8443/{z}/{x}/{y}.png", "https://tiles.danang.gov.vn:8443"),
        ("https://a.{s}.basemaps.example.com/{z}/{x}/{y}{r}.png", "https://*.basemaps.example.com"),
        ("//{s}.tile.example.org/{z}/{x}/{y}.png", "*.tile.example.org"),
        ("/tiles/{z}/{x}/{y}.png", None),
        ("", None),
    ],
)
def test_tile_source(template, source):
    assert headers.tile_source(template) == source


@pytest.mark.parametrize(
    "template", ["ftp://tiles.example.org/{z}.png", "https://{s}/{z}.png", "https://a.b:{p}/x"]
)
def test_a_tile_url_csp_cannot_name_stops_the_app(template):
    with pytest.raises(ValueError, match="MAP_TILE_URL"):
        headers.content_security_policy({"MAP_TILE_URL": template})


def test_without_tiles_images_come_from_the_site_only():
    assert headers.content_security_policy({"MAP_TILE_URL": ""}) == STRICT_CSP


# --------------------------------------------------------------------------- what CSP would block

SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.I | re.S)
# An on*= attribute, a style attribute or a javascript: URL inside a tag (Jinja may sit there).
HANDLER = re.compile(r"<[a-z][^<>]*?\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[a-z][^<>]*?\sstyle\s*=", re.I)
JS_URL = re.compile(r"""=\s*["']?\s*javascript:""", re.I)


def _templates() -> list[Path]:
    return sorted(TEMPLATES.rglob("*.html"))


def _where(path: Path, text: str, match: re.Match) -> str:
    line = text.count("\n", 0, match.start()) + 1
    return f"{path.relative_to(TEMPLATES)}:{line}: {match.group(0)[:80]!r}"


def test_no_template_has_inline_script():
    """Scripts are static files; data goes in data-* attributes or JSON blocks."""
    found = []
    for path in _templates():
        text = path.read_text(encoding="utf-8")
        for match in SCRIPT.finditer(text):
            attributes, body = match.group(1), match.group(2)
            if re.search(r"""type\s*=\s*["']application/(ld\+)?json["']""", attributes, re.I):
                continue
            if body.strip() or not re.search(r"\ssrc\s*=", attributes):
                found.append(_where(path, text, match))
        found += [_where(path, text, m) for m in HANDLER.finditer(text)]
        found += [_where(path, text, m) for m in JS_URL.finditer(text)]
    assert not found, "inline script, blocked by the CSP:\n" + "\n".join(found)


def test_no_template_has_inline_style():
    """Styles live in static/css: style attributes and <style> blocks are blocked."""
    found = []
    for path in _templates():
        text = path.read_text(encoding="utf-8")
        found += [_where(path, text, m) for m in STYLE_ATTRIBUTE.finditer(text)]
        found += [_where(path, text, m) for m in re.finditer(r"<style\b", text, re.I)]
    assert not found, "inline style, blocked by the CSP:\n" + "\n".join(found)


def test_own_scripts_write_no_inline_style_or_code():
    """HTML built in JS (popups, icons) may not carry style attributes; no eval either."""
    found = []
    for path in sorted(OWN_SCRIPTS.glob("*.js")):
        text = path.read_text(encoding="utf-8")
        for pattern in (r"style\s*=\s*\\?[\"']", r"setAttribute\(\s*[\"']style", r"<style\b",
                        r"\beval\(", r"new Function\(", r"\son[a-z]+\s*=\s*\\?[\"']"):  # fmt: skip
            found += [f"{path.name}: {m.group(0)!r}" for m in re.finditer(pattern, text, re.I)]
    assert not found, "blocked by the CSP:\n" + "\n".join(found)

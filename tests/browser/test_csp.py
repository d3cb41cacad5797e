"""Every page under the site's strict Content-Security-Policy, in Debian's chromium.

Each page is opened signed in with the role that uses it; the browser must report no CSP
violation (a `securitypolicyviolation` event), no console error or warning and no script
error. Map tiles come from another origin (`http://{s}.localhost:<port>`), as from a real
tile server, so the tile host's place in img-src is checked too.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image
from werkzeug.serving import make_server

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

# (who signs in: a key of tests/backoffice/conftest.py USERS, or None; the path). Placeholders
# come from the `seeded` fixture (tests/browser/conftest.py): {code} {token} {confirm} …
PAGES: list[tuple[str | None, str]] = [
    (None, "/"),
    (None, "/?lang=en"),
    (None, "/theo-doi/{code}"),
    (None, "/t/{token}?new=1"),
    (None, "/xac-nhan-email/{confirm}"),
    (None, "/cong-khai"),
    (None, "/api/v1/docs/"),
    (None, "/bo/login"),
    ("staff", "/bo/"),
    ("staff", "/bo/r/{code}"),
    ("lead", "/bo/"),
    ("operator", "/bo/ioc/dieu-phoi"),
    ("operator", "/bo/ioc/1022"),
    ("operator", "/bo/r/{code}"),
    ("admin", "/bo/quan-tri/"),
    ("admin", "/bo/quan-tri/agencies"),
    ("admin", "/bo/quan-tri/users"),
    ("admin", "/bo/quan-tri/categories"),
    ("admin", "/bo/quan-tri/rules"),
    ("admin", "/bo/quan-tri/users/sua"),
    ("admin", "/bo/quan-tri/agencies/sua/{agency_id}"),
    ("admin", "/bo/quan-tri/users/{user_id}/bao-mat"),
    ("admin", "/bo/quan-tri/truy-cap-danh-tinh"),
    ("viewer", "/bo/tai-khoan/"),
    ("viewer", "/bo/tai-khoan/xac-thuc-hai-buoc"),
    ("viewer", "/ioc/ban-do"),
    ("viewer", "/ioc/chi-so"),
    ("viewer", "/ioc/xuat"),
    ("viewer", "/ioc/xuat/{export_done}"),
]
# Pages answered with an error on purpose: (who, path, status).
ERROR_PAGES: list[tuple[str | None, str, int]] = [
    (None, "/theo-doi/PA-0000-000000", 404),
]

HAI_CHAU = (16.0614, 108.2270)
# Messages that say nothing about the policy (a pattern each, and why it is harmless).
HARMLESS = [
    # leaflet-heat colours its canvas by reading it back: a performance hint from Chrome.
    re.compile(r"Canvas2D: Multiple readback operations using getImageData"),
]
RECORDER = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push([e.effectiveDirective, e.blockedURI, e.sourceFile, e.lineNumber, e.sample]);
});
"""


# --------------------------------------------------------------------------- what a page does


# Waits go through locators: page.wait_for_function polls with eval(), which this very CSP
# blocks (script-src without 'unsafe-eval'), and would report as a violation.


def _wait_for_map(page, selector: str) -> None:
    page.locator(selector).scroll_into_view_if_needed()  # the form's boundaries wait for it
    page.locator(f"{selector} path.leaflet-interactive").nth(89).wait_for(state="attached")


def _report_form(page) -> None:
    """The ward boundaries, a pin (Leaflet's marker icon), the tiles."""
    _wait_for_map(page, "#map")
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.locator("#map .leaflet-marker-icon").wait_for()
    page.locator("#map img.leaflet-tile-loaded").first.wait_for()


def _transparency(page) -> None:
    """The counts map and its tiles, then the month picker that sends its form by itself."""
    page.locator("#public-map-total[data-total]").wait_for()
    page.locator("#public-map img.leaflet-tile-loaded").first.wait_for()
    options = page.locator("#thang option")
    if options.count() > 1:
        with page.expect_navigation():
            page.select_option("#thang", options.nth(1).get_attribute("value"))
        assert "thang=" in page.url
        page.locator("#public-map-total[data-total]").wait_for()


def _heatmap(page) -> None:
    """The heat, the layers control, clusters at street zoom (clicked), a marker's popup."""
    page.locator("#heatmap[data-loads]").wait_for()
    page.locator("#heatmap img.leaflet-tile-loaded").first.wait_for()
    page.hover("#heatmap .leaflet-control-layers")
    page.evaluate(f"window.iocMap.setView([{HAI_CHAU[0]}, {HAI_CHAU[1]}], 16); null")
    page.locator("#heatmap .marker-cluster").first.wait_for(timeout=10000)
    page.locator("#heatmap .marker-cluster").first.click()
    page.evaluate(f"window.iocMap.setView([{HAI_CHAU[0]}, {HAI_CHAU[1]}], 19); null")
    marker = page.locator("#heatmap .leaflet-marker-icon[title^='PA-']").first
    marker.wait_for(timeout=10000)
    marker.click()
    page.locator(".leaflet-popup-content a").first.wait_for()


def _kpi(page) -> None:
    """The Chart.js chart, with its tooltip."""
    page.locator("#kpi-trend").wait_for()
    assert page.evaluate("window.iocKpiChart.data.labels.length") > 0
    box = page.locator("#kpi-trend").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.8)


def _track(page) -> None:
    _wait_for_map(page, "#map")
    page.locator("#map img.leaflet-tile-loaded").first.wait_for()


def _api_docs(page) -> None:
    """swagger-ui renders the document and opens an operation."""
    page.locator(".swagger-ui .opblock-summary").first.wait_for(timeout=15000)
    page.locator(".swagger-ui .opblock-summary").first.click()
    page.locator(".swagger-ui .opblock-body").first.wait_for()


ACTIONS: dict[str, Callable] = {
    "/": _report_form,
    "/?lang=en": _report_form,
    "/cong-khai": _transparency,
    "/theo-doi/{code}": _track,
    "/t/{token}?new=1": _track,
    "/bo/r/{code}": _track,
    "/ioc/ban-do": _heatmap,
    "/ioc/chi-so": _kpi,
    "/api/v1/docs/": _api_docs,
}


# --------------------------------------------------------------------------- servers and data


class _Tiles(BaseHTTPRequestHandler):
    """A map tile server: the same grey 256 px PNG for any tile."""

    image = b""
    hits = 0

    def do_GET(self) -> None:
        type(self).hits += 1
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(self.image)))
        self.end_headers()
        self.wfile.write(self.image)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def tile_server() -> Iterator[type[_Tiles]]:
    """A tile server on its own origin."""
    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), (221, 226, 230)).save(buffer, "PNG")
    _Tiles.image = buffer.getvalue()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Tiles)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Tiles.port = server.server_port
    yield _Tiles
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def csp_server(app, app_config, tile_server) -> Iterator[str]:
    """The app with its security headers and tiles from the tile server, served in a thread."""
    from webapp import create_app, headers

    served = create_app(
        "testing",
        overrides={
            **app_config,
            "WTF_CSRF_ENABLED": True,
            "HEATMAP_CACHE_SECONDS": 0,
            "MAP_TILE_URL": f"http://{{s}}.localhost:{tile_server.port}/{{z}}/{{x}}/{{y}}.png",
            "MAP_TILE_ATTRIBUTION": '© <a href="https://www.openstreetmap.org/copyright">OSM</a>',
        },
    )
    if "talisman" not in served.extensions:  # until create_app calls headers.init_app
        headers.init_app(served)
    app.extensions["celery"].set_default()  # tasks called directly keep using the session app
    server = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


# --------------------------------------------------------------------------- the test


def _listen(page) -> list[str]:
    """What the browser complains about on this page, collected as it happens."""
    heard: list[str] = []

    def console(message) -> None:
        text = message.text
        if message.type not in ("error", "warning") or any(p.search(text) for p in HARMLESS):
            return
        if not text.startswith("Failed to load resource"):  # said with its URL by `response`
            heard.append(f"console.{message.type}: {text}")

    def response(answer) -> None:
        if answer.status >= 400 and not answer.url.endswith("/favicon.ico"):
            heard.append(f"HTTP {answer.status}: {answer.url}")

    page.on("console", console)
    page.on("response", response)

    def failed(request) -> None:
        # Leaflet drops the tiles still loading when the map moves; leaving a page does too.
        if request.failure != "net::ERR_ABORTED":
            heard.append(f"failed ({request.failure}): {request.url}")

    page.on("requestfailed", failed)
    page.on("pageerror", lambda error: heard.append(f"script error: {error}"))
    return heard


@pytest.mark.parametrize("who", sorted({who or "" for who, _ in PAGES}))
def test_pages_run_under_the_csp(who, csp_server, seeded, tile_server, browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="vi-VN")
    context.add_init_script(RECORDER)
    page = context.new_page()
    heard = _listen(page)
    if who:
        sign_in(page, csp_server, who)
    tiles_before = tile_server.hits
    found: dict[str, list[str]] = {}
    for path in [p for w, p in PAGES if (w or "") == who]:
        heard.clear()
        page.goto(csp_server + path.format(**seeded), wait_until="networkidle")
        if path in ACTIONS:
            ACTIONS[path](page)
        page.wait_for_load_state("networkidle")
        violations = [f"CSP violation: {v}" for v in page.evaluate("window.__csp || []")]
        if violations or heard:
            found[path] = violations + heard
    context.close()
    assert not found, "\n".join(f"{path}: {problem}" for path in found for problem in found[path])
    if who in ("", "viewer"):  # their maps' tiles came from the tile server's origin
        assert tile_server.hits > tiles_before


@pytest.mark.parametrize(("who", "path", "status"), ERROR_PAGES)
def test_error_pages_run_under_the_csp(who, path, status, csp_server, seeded, browser):
    context = browser.new_context(locale="vi-VN")
    context.add_init_script(RECORDER)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    if who:
        sign_in(page, csp_server, who)
    response = page.goto(csp_server + path.format(**seeded), wait_until="networkidle")
    assert response.status == status
    assert re.search(rf"\b{status}\b", page.locator("h1").inner_text())
    violations = page.evaluate("window.__csp || []")
    context.close()
    assert not violations and not errors

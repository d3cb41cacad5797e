"""Geocoders: Nominatim against a local fake server, and the offline fallback."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from webapp.services.geography import geocoding

from .real_wards import HAI_CHAU


class _FakeNominatim(BaseHTTPRequestHandler):
    """Answers /search like Nominatim: one hit for known queries, [] otherwise."""

    answers: dict[str, list[dict]] = {}
    seen: list[dict] = []

    def do_GET(self):
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        type(self).seen.append({"path": url.path, **query, "agent": self.headers["User-Agent"]})
        if query.get("q") == "boom":
            self.send_error(500)
            return
        body = json.dumps(type(self).answers.get(query.get("q", ""), [])).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture()
def nominatim(monkeypatch) -> Iterator[str]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    _FakeNominatim.seen = []
    _FakeNominatim.answers = {
        "Cầu Rồng, Đà Nẵng": [
            {"lat": "16.0612", "lon": "108.2275", "display_name": "Cầu Rồng, Đà Nẵng, Việt Nam"}
        ],
        "Hồ Gươm": [{"lat": "21.0287", "lon": "105.8524", "display_name": "Hồ Gươm, Hà Nội"}],
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeNominatim)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_nominatim_geocoder_returns_the_point(nominatim):
    online = geocoding.NominatimGeocoder(nominatim, "phananh-test", timeout=2, scheme="http")
    assert isinstance(online, geocoding.Geocoder)
    assert online.geocode("Cầu Rồng, Đà Nẵng") == (16.0612, 108.2275)
    assert online.geocode("nowhere at all") is None
    request = _FakeNominatim.seen[0]
    assert request["path"] == "/search"
    assert request["q"] == "Cầu Rồng, Đà Nẵng"
    assert request["format"] == "json"
    assert request["countrycodes"] == "vn"
    assert request["agent"] == "phananh-test"


def test_nominatim_failures_return_none(nominatim, caplog):
    online = geocoding.NominatimGeocoder(nominatim, "phananh-test", timeout=2, scheme="http")
    assert online.geocode("boom") is None  # HTTP 500
    down = geocoding.NominatimGeocoder(
        f"127.0.0.1:{_closed_port()}", "phananh-test", 2, scheme="http"
    )
    assert down.geocode("Cầu Rồng, Đà Nẵng") is None  # connection refused
    assert "failed" in caplog.text


def test_geocode_tries_online_first_then_the_gazetteer(nominatim, gazetteer, index48):
    online = geocoding.NominatimGeocoder(nominatim, "phananh-test", timeout=2, scheme="http")
    found = geocoding.geocode("Cầu Rồng, Đà Nẵng", online, gazetteer, index=index48)
    assert (found.lat, found.lon, found.precision) == (16.0612, 108.2275, "address")
    assert found.unit_code == index48.locate(16.0612, 108.2275)
    # Nothing online: the offline gazetteer answers.
    offline = geocoding.geocode("P.Hải Châu", online, gazetteer, index=index48)
    assert (offline.unit_code, offline.precision) == (HAI_CHAU, "ward")
    # An online answer outside the province is not believed.
    assert geocoding.geocode("Hồ Gươm", online, gazetteer, index=index48) is None
    # Server down: still the gazetteer, no exception.
    down = geocoding.NominatimGeocoder(
        f"127.0.0.1:{_closed_port()}", "phananh-test", 2, scheme="http"
    )
    assert geocoding.geocode("phuong hai chau", down, gazetteer).unit_code == HAI_CHAU
    # Not configured.
    assert geocoding.geocode("Nguyễn Văn Linh", None, gazetteer).precision == "street"


def test_offline_geocoder_wraps_the_gazetteer(gazetteer):
    offline = geocoding.OfflineGeocoder(gazetteer)
    assert isinstance(offline, geocoding.Geocoder)
    match = gazetteer.find("P.Hải Châu")
    assert offline.geocode("P.Hải Châu") == (match.lat, match.lon)
    assert offline.geocode("trời mưa to") is None

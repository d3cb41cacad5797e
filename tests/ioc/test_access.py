"""Who may open the IOC pages: IOC roles and administrators; never agency staff or visitors."""

from __future__ import annotations

import pytest

from tests.ioc.conftest import login

IOC_PAGES = [
    "/ioc/ban-do",
    "/ioc/ban-do/du-lieu?zoom=9",
    "/ioc/chi-so",
    "/ioc/chi-so/xuat?fmt=csv&by=agency",
    "/ioc/chi-so/xuat?fmt=xlsx",
    "/ioc/chi-so/tong-hop-tuan.xlsx",
]


@pytest.mark.parametrize("url", IOC_PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, url):
    resp = client.get(url)
    assert resp.status_code == 302
    assert "/bo/login" in resp.headers["Location"]


@pytest.mark.parametrize("role", ["staff", "lead", "parent_lead", "other_staff"])
@pytest.mark.parametrize("url", IOC_PAGES)
def test_agency_roles_are_refused(app, role, url):
    client = login(app.test_client(), role)
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
@pytest.mark.parametrize("url", IOC_PAGES)
def test_ioc_roles_may_open_them(app, role, url):
    client = login(app.test_client(), role)
    assert client.get(url).status_code == 200


def test_heatmap_page_serves_its_libraries_from_the_app(app):
    client = login(app.test_client(), "viewer")
    html = client.get("/ioc/ban-do").get_data(as_text=True)
    for path in (
        "/static/vendor/leaflet/leaflet.js",
        "/static/vendor/leaflet-heat/leaflet-heat.js",
        "/static/vendor/leaflet.markercluster/leaflet.markercluster.js",
        "/static/vendor/leaflet.markercluster/MarkerCluster.css",
        "/static/js/ioc-heatmap.js",
    ):
        assert path in html
        assert client.get(path).status_code == 200
    assert "unpkg" not in html and "cdn" not in html.lower()
    assert 'data-refresh="60"' in html  # reloads itself every minute


def test_tiles_come_from_the_configured_url(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAP_TILE_URL", "https://tiles.ioc.example/{z}/{x}/{y}.png")
    client = login(app.test_client(), "viewer")
    html = client.get("/ioc/ban-do").get_data(as_text=True)
    assert 'data-tiles="https://tiles.ioc.example/{z}/{x}/{y}.png"' in html


def test_public_page_needs_no_sign_in(client):
    assert client.get("/cong-khai").status_code == 200
    assert client.get("/cong-khai/du-lieu.json").status_code == 200
    assert client.get("/cong-khai/ban-do.json?zoom=9").status_code == 200

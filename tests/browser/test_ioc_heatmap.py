"""The IOC viewer's heatmap in Debian's chromium: filter, refresh, markers; the public page."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.factories import ReportFactory
from tests.ioc.conftest import random_point, ward_codes
from webapp.extensions import db
from webapp.services.administration.seed import DEMO_PASSWORD

pytestmark = pytest.mark.browser

HAI_CHAU = (16.0614, 108.2270)
WASTE, LIGHTS, CLUSTER = 40, 20, 12


@pytest.fixture()
def reports_on_map(app, monkeypatch):
    """40 waste reports spread over the province, 20 street-lighting ones, 12 of them clustered."""
    monkeypatch.setitem(app.config, "HEATMAP_CACHE_SECONDS", 0)  # counts follow this test's rows
    rng = random.Random(3)
    now = datetime.now(UTC)
    with app.app_context():
        wards = ward_codes()
        for n in range(WASTE):
            lat, lon = random_point(rng, rng.choice(wards))
            ReportFactory(
                lat=lat, lon=lon, category_code="waste", created_at=now - timedelta(minutes=n)
            )
        for n in range(LIGHTS):
            if n < CLUSTER:  # a few steps apart in Hải Châu: markers at street zoom
                lat, lon = (
                    HAI_CHAU[0] + rng.uniform(-6e-4, 6e-4),
                    HAI_CHAU[1] + rng.uniform(-6e-4, 6e-4),
                )
            else:
                lat, lon = random_point(rng, rng.choice(wards))
            ReportFactory(
                lat=lat,
                lon=lon,
                category_code="street_lighting",
                created_at=now - timedelta(minutes=n),
            )
        db.session.commit()
        db.session.remove()


@pytest.fixture()
def desk(browser):
    """A wall-screen-sized page."""
    context = browser.new_context(viewport={"width": 1366, "height": 800}, locale="vi-VN")
    page = context.new_page()
    yield page
    context.close()


def _total(page) -> int:
    return int(page.locator("#heat-total").get_attribute("data-total"))


def test_viewer_filters_the_heatmap_and_it_refreshes(live_server, reports_on_map, desk):
    page = desk
    page.clock.install()  # lets the test jump a minute ahead to see the automatic refresh
    page.goto(live_server + "/bo/login")
    page.fill("#email", "giamsat@demo.vn")
    page.fill("#password", DEMO_PASSWORD)
    page.click("#login")
    page.wait_for_url(re.compile(r"/bo/"))

    page.goto(live_server + "/ioc/ban-do")
    assert page.locator("h1").inner_text() == "Bản đồ nhiệt phản ánh"
    page.locator("#heat-total[data-total]").wait_for()
    assert _total(page) == WASTE + LIGHTS
    cells_before = int(page.locator("#heat-cells").inner_text().replace(".", ""))
    assert cells_before > 10
    assert page.locator("#heatmap canvas.leaflet-heatmap-layer").count() == 1
    assert "toàn tỉnh" in page.locator("#heat-res").inner_text()
    # Ward boundaries are a layer (drawn from local data; no tile server here).
    page.locator("#heatmap path.leaflet-interactive").nth(89).wait_for(state="attached")

    # Filter by category: the heat changes (fewer reports, fewer cells), the URL follows.
    page.select_option("#f-category", "street_lighting")
    expect(page.locator("#heat-total")).to_have_attribute("data-total", str(LIGHTS))
    cells_after = int(page.locator("#heat-cells").inner_text().replace(".", ""))
    assert cells_after < cells_before
    assert "category=street_lighting" in page.url
    assert "category=street_lighting" in page.locator("#heat-list").get_attribute("href")

    # It reloads by itself every minute.
    loads = int(page.locator("#heatmap").get_attribute("data-loads"))
    page.clock.fast_forward("01:01")
    expect(page.locator("#heatmap")).not_to_have_attribute("data-loads", str(loads), timeout=10000)
    assert page.locator("#heatmap").get_attribute("data-refreshes") == "1"
    assert _total(page) == LIGHTS

    # At street zoom the reports themselves appear, clustered, and open the report.
    page.evaluate(f"window.iocMap.setView([{HAI_CHAU[0]}, {HAI_CHAU[1]}], 17); null")
    expect(page.locator("#heat-res")).to_contain_text("từng phản ánh")
    page.evaluate(f"window.iocMap.setView([{HAI_CHAU[0]}, {HAI_CHAU[1]}], 19); null")
    marker = page.locator(".leaflet-marker-icon[title^='PA-']").first
    marker.wait_for(timeout=10000)
    marker.click()
    link = page.locator(".leaflet-popup-content a").first
    assert re.fullmatch(r"/bo/r/PA-[A-Z0-9-]+", link.get_attribute("href"))


def test_public_page_without_signing_in(live_server, reports_on_map, desk):
    page = desk
    page.goto(live_server + "/cong-khai")
    assert page.locator("h1").inner_text() == "Công khai kết quả xử lý phản ánh"
    assert page.locator("#ranking").is_visible() and page.locator("#overdue-units").is_visible()
    page.locator("#public-map-total[data-total]").wait_for()
    assert page.locator("#public-map-total").get_attribute("data-total") == str(WASTE + LIGHTS)
    page.select_option("#pm-category", "waste")
    expect(page.locator("#public-map-total")).to_have_attribute("data-total", str(WASTE))
    assert "/bo/login" not in page.url

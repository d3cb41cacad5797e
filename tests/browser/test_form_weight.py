"""The form's weight on a phone, measured in the browser: everything that crosses the network
on a first visit (the page's requests and its service worker's), the ward boundaries included
once the map is in sight, stays under 150 KB; map tiles excluded (none here).
bench/web_budget.py prints the same figures per resource, and the photo upload's."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

BUDGET = 150 * 1024


def test_the_first_visit_to_the_form_stays_under_150_kb(browser, live_server):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    crossed: list[tuple[str, int]] = []

    def finished(request) -> None:
        response = request.response()
        if request.url.startswith(live_server) and response and not response.from_service_worker:
            sizes = request.sizes()
            crossed.append((request.url, sizes["responseBodySize"] + sizes["responseHeadersSize"]))

    context.on("requestfinished", finished)
    page = context.new_page()
    page.goto(live_server + "/", wait_until="networkidle")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    assert not any("units.geojson" in url for url, _ in crossed), "boundaries wait for the map"
    page.locator("#map").scroll_into_view_if_needed()
    page.locator("#map path.leaflet-interactive").first.wait_for(state="attached", timeout=15000)
    page.wait_for_load_state("networkidle")
    total = sum(size for _, size in crossed)
    listing = "\n".join(f"{size:>8} {url}" for url, size in sorted(crossed, key=lambda c: -c[1]))
    assert total < BUDGET, f"{total} bytes:\n{listing}"
    assert any("leaflet.js" in url for url, _ in crossed), "the measure saw the scripts"
    script = next(size for url, size in crossed if url.endswith("leaflet.js"))
    assert script < 60 * 1024, "compressed on the way (147 KB as a file)"
    context.close()

"""WCAG 2.1 AA on the public pages and the back office, checked by axe-core in Debian's chromium.

Each page is opened as the role that uses it (public pages on a phone, the back office on a
desk screen), once its maps, charts and scripts have drawn, and axe-core must find no
serious or critical violation (tests/support/axe.py). The pages' own scripts must not talk
to people through `alert()`, which screen readers and phones handle badly: messages belong in
the page, next to what they are about.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.browser.conftest import sign_in
from tests.support.axe import describe, severe_violations
from webapp.extensions import db
from webapp.models import ExportJob

pytestmark = pytest.mark.browser

WEBAPP = Path(__file__).resolve().parents[2] / "webapp"
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
DESK = {"viewport": {"width": 1366, "height": 900}}


def _map_drawn(selector: str) -> Callable:
    def wait(page) -> None:
        page.locator(selector).scroll_into_view_if_needed()  # the form's boundaries wait for it
        page.locator(f"{selector} path.leaflet-interactive").first.wait_for(state="attached")

    return wait


def _transparency(page) -> None:
    page.locator("#public-map-total[data-total]").wait_for()


def _heatmap(page) -> None:
    page.locator("#heatmap[data-loads]").wait_for()


def _kpi(page) -> None:
    page.locator("#kpi-trend").wait_for()
    assert page.evaluate("window.iocKpiChart.data.labels.length") > 0


# (who signs in: a key of tests/backoffice/conftest.py USERS, or None; the path; what the page
# does before it is checked). Placeholders come from the `seeded` fixture.
PUBLIC: list = [
    pytest.param(None, "/", _map_drawn("#map"), id="form-vi"),
    pytest.param(None, "/?lang=en", _map_drawn("#map"), id="form-en"),
    pytest.param(None, "/theo-doi/{code}", _map_drawn("#map"), id="track-public"),
    pytest.param(None, "/theo-doi/{code}?lang=en", _map_drawn("#map"), id="track-public-en"),
    pytest.param(None, "/t/{token}?new=1", _map_drawn("#map"), id="track-private"),
    pytest.param(None, "/t/{resolved_token}", _map_drawn("#map"), id="track-private-resolved"),
    pytest.param(None, "/xac-nhan-email/{confirm}", None, id="email-confirmed"),
    pytest.param(None, "/cong-khai", _transparency, id="transparency"),
    pytest.param(None, "/du-lieu-mo", None, id="open-data"),
    pytest.param(None, "/theo-doi/PA-0000-000000", None, id="error-404"),
]
BACK_OFFICE: list = [
    pytest.param(None, "/bo/login", None, id="bo-login"),
    pytest.param("staff", "/bo/", None, id="bo-queue"),
    pytest.param("lead", "/bo/", None, id="bo-queue-lead"),
    pytest.param("staff", "/bo/r/{code}", _map_drawn("#map"), id="bo-report-staff"),
    pytest.param("operator", "/bo/r/{code}", _map_drawn("#map"), id="bo-report-operator"),
    pytest.param("operator", "/bo/ioc/dieu-phoi", None, id="bo-triage"),
    pytest.param("operator", "/bo/ioc/1022", None, id="bo-hotline"),
    pytest.param("admin", "/bo/quan-tri/", None, id="admin-home"),
    pytest.param("admin", "/bo/quan-tri/agencies", None, id="admin-list-agencies"),
    pytest.param("admin", "/bo/quan-tri/users", None, id="admin-list-users"),
    pytest.param("admin", "/bo/quan-tri/agencies/sua/{agency_id}", None, id="admin-edit-agency"),
    pytest.param("admin", "/bo/quan-tri/users/sua", None, id="admin-new-user"),
    pytest.param("admin", "/bo/quan-tri/categories/sua/waste", None, id="admin-edit-category"),
    pytest.param("admin", "/bo/quan-tri/users/{user_id}/bao-mat", None, id="admin-user-security"),
    pytest.param("admin", "/bo/quan-tri/truy-cap-danh-tinh", None, id="admin-identity-views"),
    pytest.param("admin", "/bo/quan-tri/du-lieu-ca-nhan", None, id="admin-processing"),
    pytest.param("admin", "/bo/quan-tri/ngan-sach-tin-nhan", None, id="admin-message-budgets"),
    pytest.param("admin", "/bo/quan-tri/mo-hinh-nlu", None, id="admin-nlu-models"),
    pytest.param("admin", "/bo/quan-tri/doi-tac", None, id="admin-partners"),
    pytest.param("viewer", "/bo/tai-khoan/", None, id="bo-account"),
    pytest.param("viewer", "/bo/tai-khoan/xac-thuc-hai-buoc", None, id="bo-second-factor"),
    pytest.param("viewer", "/ioc/ban-do", _heatmap, id="ioc-heatmap"),
    pytest.param("viewer", "/ioc/chi-so", _kpi, id="ioc-kpi"),
    pytest.param("viewer", "/ioc/xuat", None, id="ioc-export"),
    pytest.param("viewer", "/ioc/xuat/{export_done}", None, id="ioc-export-done"),
    pytest.param("viewer", "/ioc/xuat/{export_pending}", None, id="ioc-export-pending"),
]
# Their status when it is not 200.
STATUS = {"/theo-doi/PA-0000-000000": 404}


@pytest.fixture(scope="module")
def signed_in(browser, live_server) -> Iterator[Callable[[str], dict]]:
    """The cookies of each role, signed in once for the module."""
    states: dict[str, dict] = {}

    def state(who: str) -> dict:
        if who not in states:
            context = browser.new_context()
            sign_in(context.new_page(), live_server, who)
            states[who] = context.storage_state()
            context.close()
        return states[who]

    yield state


def _check(browser, live_server, signed_in, seeded, who, path, ready, size) -> None:
    context = browser.new_context(
        **size,
        locale="vi-VN",
        bypass_csp=True,  # axe-core is injected as an inline script
        storage_state=signed_in(who) if who else None,
    )
    try:
        page = context.new_page()
        response = page.goto(live_server + path.format(**seeded), wait_until="networkidle")
        assert response.status == STATUS.get(path, 200), page.url
        if ready:
            ready(page)
        page.wait_for_load_state("networkidle")
        found = severe_violations(page)
    finally:
        context.close()
    assert not found, f"{path} ({who or 'anonymous'}):\n{describe(found)}"


@pytest.mark.parametrize(("who", "path", "ready"), PUBLIC)
def test_public_page_is_accessible(who, path, ready, browser, live_server, signed_in, seeded):
    _check(browser, live_server, signed_in, seeded, who, path, ready, PHONE)


@pytest.mark.parametrize(("who", "path", "ready"), BACK_OFFICE)
def test_back_office_page_is_accessible(who, path, ready, browser, live_server, signed_in, seeded):
    _check(browser, live_server, signed_in, seeded, who, path, ready, DESK)


def test_a_background_export_shows_its_file_in_place(app, live_server, signed_in, seeded, browser):
    """The page of an export being made asks again by itself (no timed reload of the page, a
    WCAG 2.2.1 failure) and shows the download link in its live region once it is done."""
    context = browser.new_context(**DESK, storage_state=signed_in("viewer"))
    page = context.new_page()
    page.goto(f"{live_server}/ioc/xuat/{seeded['export_pending']}")
    assert page.locator("#export-state[aria-live]").count() == 1
    page.evaluate("window.__same_page = true")
    with app.app_context():
        job = db.session.get(ExportJob, seeded["export_pending"])
        job.status, job.finished_at = "done", datetime.now(UTC)
        db.session.commit()
        db.session.remove()
    page.locator("#export-state #export-download").wait_for(timeout=20000)
    assert page.evaluate("window.__same_page === true")  # shown in place, not reloaded
    assert page.locator("#export-job").get_attribute("data-status") == "done"
    context.close()


MODAL = re.compile(r"\b(?:alert|confirm|prompt)\s*\(")


def test_no_page_talks_through_alert_boxes():
    sources = [
        *sorted((WEBAPP / "static" / "js").glob("*.js")),
        *sorted((WEBAPP / "templates").rglob("*.html")),
        *sorted((WEBAPP / "templates").rglob("*.js")),
    ]
    assert len(sources) > 10
    found = [
        f"{path.relative_to(WEBAPP)}:{number}: {line.strip()}"
        for path in sources
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if MODAL.search(line)
    ]
    assert not found, "\n".join(found)

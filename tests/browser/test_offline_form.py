"""The web form on a cheap phone over a bad network: photos made light and placed from their
EXIF point in the browser, the draft kept on the phone through a reload with no network, and
sent once when the network returns."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.fixtures.images import make_phone_photo
from webapp.extensions import db
from webapp.models import Photo, Report

pytestmark = pytest.mark.browser

HAI_CHAU = (16.0700, 108.2246)
TEXT = "Cây đổ chắn ngang kiệt 45 Hùng Vương, xe máy không qua được"
# Chrome's "Slow 3G" preset: 400 ms, 50 KB/s down, 50 KB/s up (bytes per second here).
SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 51200, "uploadThroughput": 51200}


@pytest.fixture()
def photos(tmp_path):
    paths = []
    for n in range(2):
        path = tmp_path / f"IMG_{n}.jpg"
        path.write_bytes(make_phone_photo(gps=HAI_CHAU, seed=n))
        paths.append(path)
    return paths


def _reports() -> int:
    return db.session.scalar(select(func.count()).select_from(Report))


def _draft_photos(page) -> int:
    return page.evaluate("DraftStore.load().then(d => d ? d.photos.length : 0)")


def _wait_for_draft(page, predicate: str) -> None:
    """Until the draft kept on the phone satisfies the predicate (on `d`)."""
    for _ in range(100):
        if page.evaluate(f"DraftStore.load().then(d => !!({predicate}))"):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"the draft never had {predicate}")


def test_a_draft_with_two_photos_survives_an_offline_reload_and_is_sent_once(
    app, live_server, phone, photos
):
    page = phone
    context = page.context
    page.goto(live_server + "/")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")  # the form is kept offline
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW_3G)
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)

    page.fill("#description", TEXT)
    page.set_input_files("#photos", [str(p) for p in photos])
    page.wait_for_selector("#photo-list li >> nth=1")
    # Placed from the first photo's EXIF, read in the browser before it was downscaled.
    assert page.locator("#pin-status").inner_text().startswith("Đã lấy vị trí từ ảnh")
    assert page.input_value("#location_source") == "photo"
    page.check("#consent")
    _wait_for_draft(page, "d && d.photos.length === 2 && d.fields.consent === '1'")

    cdp.send("Network.emulateNetworkConditions", {**SLOW_3G, "offline": True})
    context.set_offline(True)  # the page, navigator.onLine and the service worker
    page.reload()  # from the service worker's cache, the draft from IndexedDB
    page.wait_for_selector("#photo-list li >> nth=1")
    assert page.input_value("#description") == TEXT
    assert page.locator("#net-status").inner_text() == "Đã khôi phục bản nháp chưa gửi."
    assert page.is_checked("#consent") and _draft_photos(page) == 2

    page.click("#submit")
    page.wait_for_selector("#net-status:has-text('Đang chờ mạng')")
    page.click("#submit")  # impatient: pressed again while waiting
    with app.app_context():
        assert _reports() == 0

    cdp.send("Network.emulateNetworkConditions", SLOW_3G)
    context.set_offline(False)
    page.wait_for_url("**/t/**", timeout=120_000)
    assert page.locator("#submitted").is_visible()
    with app.app_context():
        [report] = db.session.scalars(select(Report)).all()
        assert report.description == TEXT and report.channel == "web"
        assert report.location_source == "exif"
        assert abs(report.lat - HAI_CHAU[0]) < 1e-4 and abs(report.lon - HAI_CHAU[1]) < 1e-4
        stored = db.session.scalars(select(Photo).where(Photo.report_id == report.id)).all()
        assert len(stored) == 2
        # The server keeps what it received as the original: the browser's 1600 px copies.
        assert all(max(p.width, p.height) == 1600 for p in stored), "downscaled in the browser"
        received = sum(p.size_bytes for p in stored)
    assert len(posted) == 1 and posted[0].endswith("/phan-anh"), posted
    originals = sum(p.stat().st_size for p in photos)
    assert received < originals / 5, (received, originals)
    page.goto(live_server + "/")
    assert page.evaluate("DraftStore.load().then(d => d === undefined)"), "the draft is gone"
    assert page.input_value("#description") == "", "a new report starts empty"

"""A resident files a report on a phone in a real browser and finds it on its tracking page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.fixtures.images import make_jpeg
from webapp.extensions import db
from webapp.models import Report

pytestmark = pytest.mark.browser

HAI_CHAU = (16.0700, 108.2246)  # Bạch Đằng riverside, well inside phường Hải Châu


def test_resident_submits_form_with_photo_and_pin_then_tracks_it(app, live_server, phone, tmp_path):
    photo = tmp_path / "o-ga.jpg"
    photo.write_bytes(make_jpeg(width=1200, height=900))
    page = phone
    page.goto(live_server + "/")
    assert page.locator("h1").inner_text() == "Gửi phản ánh"
    # The ward boundaries are drawn from local data (no tile server here), once in sight.
    page.locator("#map").scroll_into_view_if_needed()
    page.locator("#map path.leaflet-interactive").nth(89).wait_for(state="attached", timeout=15000)

    page.fill("#description", "Ổ gà rất sâu giữa đường Bạch Đằng, xe máy sập bánh liên tục")
    page.set_input_files("#photos", str(photo))
    page.evaluate(f"window.reportMap.setView([{HAI_CHAU[0]}, {HAI_CHAU[1]}], 17)")
    page.locator("#map").scroll_into_view_if_needed()  # below the fold on a phone
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert page.locator("#pin-status").get_attribute("data-set") == "1"
    lat = float(page.input_value("#lat"))
    lon = float(page.input_value("#lon"))
    assert abs(lat - HAI_CHAU[0]) < 0.001 and abs(lon - HAI_CHAU[1]) < 0.001

    page.check("#consent")
    page.click("#submit")
    # The resident lands on their own page, by the secret link.
    page.wait_for_url(re.compile(r"/t/[A-Za-z0-9_-]{43}\?new=1"))
    code = page.locator("#report-code").inner_text()
    assert page.locator("#private-link").is_visible()
    assert page.locator("#submitted").is_visible()
    assert page.locator("#report-unit").inner_text() == "Phường Hải Châu"
    assert page.locator("#report-status").inner_text() == "Đã tiếp nhận"
    assert page.locator(".photos img").count() == 1

    # Later, anyone typing the code into the lookup box gets the public view.
    page.goto(live_server + "/")
    page.fill("#lookup-code", code.lower())
    page.click(".lookup button")
    page.wait_for_url(re.compile(rf"/theo-doi/{code}"))
    assert "Ổ gà rất sâu" in page.locator("#report-description").inner_text()
    assert page.locator("#private-link").count() == 0

    with app.app_context():
        report = db.session.scalar(select(Report).where(Report.code == code))
        assert report.channel == "web"
        assert report.location_source == "pin"
        assert len(report.photos) == 1


def test_form_keeps_the_text_and_explains_an_unreadable_photo_by_its_field(
    app, live_server, phone, tmp_path
):
    bad = tmp_path / "anh.jpg"
    bad.write_bytes(b"this is not a photo at all")
    page = phone
    page.goto(live_server + "/")
    page.fill("#description", "Rác thải đổ trộm ở đầu kiệt 45 Hùng Vương")
    page.set_input_files("#photos", str(bad))
    # Refused on the phone, next to its field (not an alert), before anything is sent.
    page.wait_for_selector("#photos-error:has-text('Không đọc được ảnh anh.jpg')")
    assert page.get_attribute("#photos", "aria-invalid") == "true"
    assert "photos-error" in page.get_attribute("#photos", "aria-describedby")
    assert page.locator("#photo-list li").count() == 0
    assert page.input_value("#description") == "Rác thải đổ trộm ở đầu kiệt 45 Hùng Vương"
    with app.app_context():
        assert db.session.scalar(select(Report.id)) is None


def test_choosing_a_category_shows_only_its_questions(live_server, phone):
    page = phone
    page.goto(live_server + "/")
    assert page.locator("#questions-trees").is_hidden()
    page.select_option("#category", "trees")
    assert page.locator("#questions-trees").is_visible()
    assert page.locator("#questions-street_lighting").is_hidden()
    page.select_option("#category", "street_lighting")
    assert page.locator("#questions-trees").is_hidden()
    assert page.locator("#q-street_lighting-pole_number").is_visible()

"""Agency staff and IOC operators at work, in Debian's chromium."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.factories import AssignedReportFactory
from tests.fixtures.images import make_jpeg
from webapp.extensions import db
from webapp.models import Report, ReportStatus
from webapp.services.administration.seed import DEMO_PASSWORD
from webapp.services.casework import workflow

pytestmark = pytest.mark.browser


@pytest.fixture()
def desk(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="vi-VN")
    page = context.new_page()
    yield page
    context.close()


def _login(page, base: str, email: str) -> None:
    page.goto(base + "/bo/login")
    page.fill("#email", email)
    page.fill("#password", DEMO_PASSWORD)
    page.click("#login")
    page.wait_for_url(re.compile(r"/bo/$"))


def test_staff_finds_accepts_replies_and_resolves_with_a_photo(app, live_server, desk, tmp_path):
    with app.app_context():
        code = AssignedReportFactory(
            agency="CHIEUSANG", description="Đèn đường trước chợ Hàn tắt suốt ba đêm"
        ).code
    photo = tmp_path / "ket-qua.jpg"
    photo.write_bytes(make_jpeg(width=800, height=600))
    page = desk
    _login(page, live_server, "chieusang@demo.vn")
    page.fill("#q", "den duong truoc cho han")  # typed without diacritics
    page.click("#search")
    page.click(f"text={code}")
    page.wait_for_url(re.compile(code))
    page.click("#form-accept button")
    assert page.locator("#report-status").inner_text() == "Đang xử lý"
    page.fill("#reply-text", "Đội chiếu sáng sẽ kiểm tra trong sáng mai.")
    page.click("#form-reply button")
    page.fill("#resolve-note", "Đã thay bóng đèn LED mới.")
    page.set_input_files("#resolve-photo", str(photo))
    page.click("#form-resolve button")
    assert page.locator("#report-status").inner_text() == "Đã xử lý xong"

    page.goto(f"{live_server}/theo-doi/{code}")
    history = page.locator("#history").inner_text()
    assert "Đội chiếu sáng sẽ kiểm tra trong sáng mai." in history
    assert "Đã thay bóng đèn LED mới." in page.locator("#public-note").inner_text()
    assert page.locator(".photos img").count() == 1  # the result photo


def test_operator_triages_and_takes_a_hotline_call(app, live_server, desk):
    with app.app_context():
        report = AssignedReportFactory(
            agency="CHIEUSANG", description="Có vấn đề gì đó ở đầu kiệt, không rõ lắm"
        )
        workflow.transition(report, ReportStatus.NEEDS_TRIAGE, note="Độ tin cậy thấp")
        db.session.commit()
        code = report.code
    page = desk
    _login(page, live_server, "dieuphoi@demo.vn")
    page.click("#nav-triage")
    row = page.locator("#triage tr", has_text=code)
    row.locator("select[name=category]").select_option("waste")
    row.locator("button").click()
    page.wait_for_url(re.compile(code))
    assert page.locator("#report-status").inner_text() == "Đã chuyển cơ quan xử lý"
    assert "Môi trường" in page.locator("#report-agency").inner_text()

    page.click("#nav-hotline")
    page.fill("#description", "Người gọi báo cây xanh ngã đè lên dây điện trên đường Trần Phú")
    page.fill("#address", "đường Trần Phú, phường Hải Châu")
    page.fill("#contact_phone", "0905000111")
    page.check("#consent")
    page.click("#hotline-submit")
    page.wait_for_url(re.compile(r"/bo/r/PA-"))
    new_code = page.locator("#report-code").inner_text()
    with app.app_context():
        created = db.session.scalar(select(Report).where(Report.code == new_code))
        assert created.channel == "hotline" and created.unit is not None


def test_transfer_is_refused_and_comes_back_to_triage(app, live_server, browser):
    with app.app_context():
        code = AssignedReportFactory(
            agency="CHIEUSANG", description="Rác thải đổ dưới chân cột đèn"
        ).code
    sender = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _login(sender, live_server, "chieusang@demo.vn")
    sender.goto(f"{live_server}/bo/r/{code}")
    sender.select_option("#transfer-agency", label="Công ty Cổ phần Môi trường đô thị Đà Nẵng")
    sender.fill("#transfer-reason", "Rác thải thuộc công ty môi trường")
    sender.click("#form-transfer button")
    assert sender.locator("#report-status").inner_text() == "Đang chuyển cơ quan khác"

    receiver = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _login(receiver, live_server, "moitruong@demo.vn")
    receiver.goto(f"{live_server}/bo/r/{code}")
    receiver.fill("#refuse-note", "Rác trong khuôn viên cột điện, không thuộc tuyến thu gom")
    receiver.click("#form-refuse_transfer button")

    operator = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _login(operator, live_server, "dieuphoi@demo.vn")
    operator.click("#nav-triage")
    assert operator.locator("#triage", has_text=code).count() == 1
    with app.app_context():
        report = db.session.scalar(select(Report).where(Report.code == code))
        assert report.status == ReportStatus.NEEDS_TRIAGE
        assert report.events[-1].data["reason"] == "transfer_refused"
    for page in (sender, receiver, operator):
        page.context.close()

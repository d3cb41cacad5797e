"""A web resident, with nothing but the private link, confirms an e-mail to follow the report,
rates the result 2 and sends it back to the agency, on a phone in a real browser."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.backoffice.conftest import USERS, user
from webapp.extensions import db
from webapp.models import OutboxMessage, Report, ReportStatus
from webapp.services.casework import handling, routing, workflow

pytestmark = pytest.mark.browser

EMAIL = "nguoidan.web@example.vn"


def _code_mailed_to(app, report_id: int) -> str:
    with app.app_context():
        row = db.session.scalar(
            select(OutboxMessage)
            .where(OutboxMessage.report_id == report_id, OutboxMessage.address == EMAIL)
            .order_by(OutboxMessage.id.desc())
        )
        assert row is not None and row.channel == "email"
        return re.search(r"\b(\d{6})\b", row.body).group(1)


def test_web_resident_confirms_an_email_follows_rates_2_and_reopens(app, live_server, phone):
    page = phone
    page.goto(live_server + "/")
    page.fill("#description", "Đèn đường trước số 25 Bạch Đằng tắt cả tuần nay")
    page.fill("#address", "25 Bạch Đằng, phường Hải Châu")
    page.evaluate(  # a point, so that the private page shows its map above the forms
        "document.getElementById('lat').value = '16.07';"
        "document.getElementById('lon').value = '108.2246';"
    )
    page.check("#consent")
    page.click("#submit")
    page.wait_for_url(re.compile(r"/t/[A-Za-z0-9_-]{43}\?new=1"))
    private_url = page.url.split("?")[0]
    code = page.locator("#report-code").inner_text()
    with app.app_context():
        report = db.session.scalar(select(Report).where(Report.code == code))
        report_id = report.id
        assert report.resident is None  # sent without any contact

    # Follow: an e-mail, proved by the code sent to it.
    page.fill("#notify-contact", EMAIL)
    page.click("#notify-send")
    # Nothing on the page is wider than the phone (a long link once pushed the forms aside);
    # measured once the page and its stylesheet have loaded.
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.locator("#verify-code").wait_for()
    page.fill("#verify-code", _code_mailed_to(app, report_id))
    page.click("#verify-submit")
    assert "n***@example.vn" in page.locator("#action-done").inner_text()
    assert "n***@example.vn" in page.locator("#notify-to").inner_text()

    # The agency handles and resolves it; the news goes to the confirmed e-mail.
    with app.app_context():
        report = db.session.get(Report, report_id)
        workflow.transition(report, ReportStatus.CLASSIFIED)
        report.category_code = "street_lighting"
        routing.assign(report, routing.route("street_lighting", report.unit_code))
        db.session.commit()
        handling.resolve(user(USERS["staff"]), report, "Đã thay bóng đèn mới.")
        db.session.commit()
        resolved_mail = db.session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.report_id == report_id,
                OutboxMessage.address == EMAIL,
                OutboxMessage.body.contains("đã được xử lý xong"),
            )
        )
        assert resolved_mail is not None

    page.goto(private_url)
    assert page.locator("#report-status").inner_text() == "Đã xử lý xong"
    assert page.locator("#my-messages").inner_text().count("E-mail") >= 2
    page.check("#rating-2")
    page.click("#rate-submit")
    page.locator("#reopen-form").wait_for()
    page.fill("#reason", "Đèn vẫn tắt sau 19 giờ, chưa được sửa")
    page.click("#reopen-submit")
    assert "chuyển lại" in page.locator("#action-done").inner_text()
    with app.app_context():
        report = db.session.get(Report, report_id)
        assert report.rating == 2 and report.status == ReportStatus.ASSIGNED
        reopened = [e for e in report.events if e.to_status == "reopened"]
        assert reopened and "19 giờ" in reopened[0].note

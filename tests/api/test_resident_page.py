"""The web resident with their private link: rating, reopening, news on a proved e-mail or
phone (one-time codes), every message listed, and their data downloaded or erased."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from tests.backoffice.conftest import USERS, user
from tests.factories import AssignedReportFactory, SubmittedReportFactory
from webapp.extensions import db
from webapp.models import AuditEntry, ContactCode, OutboxMessage, Report, ReportStatus, Resident
from webapp.models.types import utcnow
from webapp.services.casework import handling
from webapp.services.messaging import outbox

EMAIL = "ban.doc@example.vn"


def _resolved(**kwargs) -> Report:
    report = AssignedReportFactory(agency="CHIEUSANG", **kwargs)
    handling.resolve(user(USERS["staff"]), report, "Đã thay bóng đèn mới.")
    db.session.commit()
    return report


def _post(client, report: Report, path: str, **form):
    return client.post(f"/t/{report.tracking_token}/{path}", data=form)


def _latest_code(report: Report, purpose: str) -> str:
    db.session.expire_all()
    row = db.session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.report_id == report.id, OutboxMessage.dedupe_key.like("code:%"))
        .order_by(OutboxMessage.id.desc())
    )
    assert row is not None, f"no {purpose} code was written"
    return row.payload["template_data"]["otp"]


def test_the_author_rates_2_and_reopens_with_a_reason(ctx, client):
    report = _resolved()
    page = _post(client, report, "danh-gia", rating="2")
    assert page.status_code == 200 and 'id="reopen-form"' in page.get_data(as_text=True)
    db.session.expire_all()
    assert report.rating == 2
    page = _post(client, report, "mo-lai", reason="Đèn vẫn tắt vào buổi tối")
    assert page.status_code == 200
    db.session.expire_all()
    assert report.status == ReportStatus.ASSIGNED and report.due_at > utcnow()
    kinds = [(e.kind, e.to_status, e.actor_label) for e in report.events]
    assert ("status", "reopened", "resident") in kinds


def test_a_good_rating_does_not_offer_reopening_and_the_link_alone_cannot_reopen(ctx, client):
    report = _resolved()
    assert 'id="reopen-form"' not in _post(client, report, "danh-gia", rating="5").get_data(
        as_text=True
    )
    page = _post(client, report, "mo-lai", reason="Tôi muốn mở lại dù hài lòng")
    assert page.status_code == 422 and "1 hoặc 2 sao" in page.get_data(as_text=True)
    db.session.expire_all()
    assert report.status == ReportStatus.RESOLVED


@pytest.mark.parametrize("stars", ["0", "6", "", "abc", "9" * 400, "-1"])
def test_garbage_ratings_get_a_clear_422(ctx, client, stars):
    report = _resolved()
    page = _post(client, report, "danh-gia", rating=stars)
    assert page.status_code == 422 and "từ 1 đến 5" in page.get_data(as_text=True)
    db.session.expire_all()
    assert report.rating is None


def test_an_open_report_cannot_be_rated_and_a_wrong_link_is_404(ctx, client):
    report = AssignedReportFactory(agency="CHIEUSANG")
    assert _post(client, report, "danh-gia", rating="4").status_code == 422
    assert client.post("/t/not-a-token/danh-gia", data={"rating": "4"}).status_code == 404


def test_news_go_to_an_email_once_the_code_is_typed_back(ctx, client):
    report = AssignedReportFactory(agency="CHIEUSANG", contact=None)
    page = _post(client, report, "nhan-tin", contact=EMAIL)
    assert page.status_code == 200 and 'id="verify-form"' in page.get_data(as_text=True)
    code = _latest_code(report, "verify")
    assert report.resident is None  # a code sent is nothing proved
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    assert _post(client, report, "xac-minh", code=wrong).status_code == 422
    assert _post(client, report, "xac-minh", code=code).status_code == 200
    db.session.expire_all()
    assert report.resident.email == EMAIL and report.resident.email_confirmed_at is not None
    handling.resolve(user(USERS["staff"]), report, "Đã sửa xong.")
    db.session.commit()
    news = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.report_id == report.id, OutboxMessage.dedupe_key.like("evt:%:resident")
        )
    ).all()
    assert news[-1].channel == "email" and news[-1].address == EMAIL


def test_a_phone_is_verified_by_a_code_sent_by_sms(ctx, client, sms, monkeypatch):
    monkeypatch.setitem(ctx.config, "RESIDENT_FALLBACK", "sms")
    report = AssignedReportFactory(agency="CHIEUSANG", contact=None)
    assert _post(client, report, "nhan-tin", contact="0905 777 888").status_code == 200
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.channel == "sms"))
    outbox.deliver(message.id)
    [sent] = sms.sent
    code = re.search(r"\b(\d{6})\b", sent["text"]).group(1)
    assert sent["to"].endswith("905777888")
    assert _post(client, report, "xac-minh", code=code).status_code == 200
    db.session.expire_all()
    assert report.resident.phone == "0905777888" and report.resident.phone_verified_at


def test_a_code_is_void_after_five_wrong_guesses_and_after_its_time(ctx, client):
    report = AssignedReportFactory(agency="CHIEUSANG", contact=None)
    _post(client, report, "nhan-tin", contact=EMAIL)
    code = _latest_code(report, "verify")
    wrong = f"{(int(code) + 7) % 10**6:06d}"
    for _ in range(5):
        assert _post(client, report, "xac-minh", code=wrong).status_code == 422
    page = _post(client, report, "xac-minh", code=code)
    assert page.status_code == 422 and "hết hiệu lực" in page.get_data(as_text=True)
    _post(client, report, "nhan-tin", contact=EMAIL)
    code = _latest_code(report, "verify")
    with time_machine.travel(utcnow() + timedelta(minutes=11), tick=False):
        assert _post(client, report, "xac-minh", code=code).status_code == 422
    db.session.expire_all()
    assert report.resident is None


def test_codes_to_one_address_are_limited(limits_on, ctx, client):
    report = AssignedReportFactory(agency="CHIEUSANG", contact=None)
    statuses = [_post(client, report, "nhan-tin", contact=EMAIL).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert db.session.scalar(select(func.count()).select_from(ContactCode)) == 3


@pytest.mark.parametrize(
    "contact",
    ["abc", "", "0123", "x@y", "'; drop table residents; --", "a" * 5000, "+1 202 555 0100"],
)
def test_garbage_contacts_get_a_clear_error_and_send_nothing(ctx, client, contact):
    report = AssignedReportFactory(agency="CHIEUSANG", contact=None)
    page = _post(client, report, "nhan-tin", contact=contact)
    assert page.status_code == 422 and "hợp lệ" in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ContactCode)) == 0


def test_every_message_about_the_report_is_listed_on_the_private_page(ctx, client):
    report = _resolved()
    page = client.get(f"/t/{report.tracking_token}").get_data(as_text=True)
    rows = re.findall(r'<li class="delivery-', page)
    count = db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.report_id == report.id, OutboxMessage.recipient_kind == "resident")
    )
    assert count >= 2 and len(rows) == count
    assert "đã được xử lý xong" in page


def test_a_report_without_contact_downloads_and_erases_with_the_link_alone(ctx, client):
    report = SubmittedReportFactory(description="Ổ gà trước nhà tôi, gọi 0905 333 444 nếu cần")
    page = _post(client, report, "du-lieu").get_data(as_text=True)
    grant = re.search(r'name="grant" value="([^"]+)"', page).group(1)
    data = _post(client, report, "du-lieu/tai", grant=grant)
    assert data.status_code == 200 and "attachment" in data.headers["Content-Disposition"]
    assert json.loads(data.data)["reports"][0]["code"] == report.code
    assert _post(client, report, "du-lieu/xoa", grant="forged").status_code == 422
    assert _post(client, report, "du-lieu/xoa", grant=grant).status_code == 422  # no tick
    assert _post(client, report, "du-lieu/xoa", grant=grant, confirm="1").status_code == 200
    db.session.expire_all()
    assert "0905 333 444" not in report.description and report.personal_data_removed_at
    assert db.session.scalar(select(Report.code).where(Report.id == report.id)) == report.code


def test_a_resident_with_an_email_proves_it_before_their_data_is_shown(ctx, client):
    report = _resolved()
    report.resident.email = EMAIL
    db.session.commit()
    page = _post(client, report, "du-lieu").get_data(as_text=True)
    assert 'name="grant"' not in page and "b***@example.vn" in page
    code = _latest_code(report, "data")
    page = _post(client, report, "du-lieu", code=code).get_data(as_text=True)
    grant = re.search(r'name="grant" value="([^"]+)"', page).group(1)
    data = json.loads(_post(client, report, "du-lieu/tai", grant=grant).data)
    assert (
        data["contact"]["email"] == EMAIL
        and data["contact"]["name"] == report.resident.display_name
    )
    resident_id = report.resident_id
    assert _post(client, report, "du-lieu/xoa", grant=grant, confirm="1").status_code == 200
    db.session.expire_all()
    assert db.session.get(Resident, resident_id) is None and report.resident_id is None
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity == "resident")
    ).all()
    assert {"data_export", "data_erase"} <= set(actions)


def test_one_link_cannot_send_codes_to_many_phones(limits_on, ctx, client):
    report = AssignedReportFactory(agency="CHIEUSANG", contact=None)
    sent = [
        _post(client, report, "nhan-tin", contact=f"0905{n:06d}@example.vn").status_code
        for n in range(4)
    ]
    assert sent == [200, 200, 200, 429]

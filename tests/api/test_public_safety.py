"""Findings 2, 3 and 6 of the public-surface probe, reproduced and shown fixed.

2: a typed phone/e-mail took over another resident's notifications.
3: sequential codes listed every report's raw text and exact point.
6: redacted text survived in copies; addresses in the log; links from the Host header.
"""

from __future__ import annotations

import io
import logging
import re

import h3
import pytest
from sqlalchemy import select

from tests.backoffice.conftest import agency, user
from tests.fixtures.images import make_jpeg
from webapp.extensions import db
from webapp.models import Category, OutboxMessage, Report
from webapp.models.types import utcnow
from webapp.services.casework import handling, moderation, routing, workflow

HAI_CHAU = (16.0700, 108.2246)
VICTIM_PHONE = "0905123456"
PRIVATE_TEXT = (
    "Cống tràn trước nhà số 27 Lê Lợi, gọi tôi 0905 123 456 hoặc lan.nguyen@gmail.com, "
    "CCCD 079096001234, xe 43A-123.45 đậu chắn cống"
)
TOKEN_URL = re.compile(r"http://127\.0\.0\.1:5000/t/([A-Za-z0-9_-]{43})")


def _post(client, **data):
    return client.post("/api/v1/reports", json=data)


def _report(code: str) -> Report:
    return db.session.scalar(select(Report).where(Report.code == code))


def _assign(code: str, category: str = "drainage_flooding") -> Report:
    report = _report(code)
    report.category_code = category
    workflow.transition(report, "classified")
    routing.assign(report, agency("MTDT"))
    db.session.commit()
    return report


def _messages(report_id: int) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.report_id == report_id)
            .order_by(OutboxMessage.id)
        )
    )


def _confirm_link(report_id: int) -> str:
    mail = next(m for m in _messages(report_id) if m.dedupe_key.startswith("confirm:"))
    return re.search(r"http://127\.0\.0\.1:5000(/xac-nhan-email/\S+)", mail.body).group(1)


# -- finding 2: contact details are claims, not keys ----------------------------------------


def test_a_typed_phone_never_takes_over_another_residents_notifications(app, client, ctx):
    victim = _post(
        client,
        description="Đèn đường hỏng cả tuần nay ở Bạch Đằng",
        lat=HAI_CHAU[0],
        lon=HAI_CHAU[1],
        contact_phone=VICTIM_PHONE,
        contact_email="victim@example.vn",
        contact_name="Nguyễn Thị Lan",
    ).get_json()
    victim_row = _report(victim["code"])
    assert client.get(_confirm_link(victim_row.id)).status_code == 200

    attack = _post(
        client,
        description="Rác thải đổ trộm đầu hẻm nhiều ngày",
        contact_phone=VICTIM_PHONE,
        contact_email="attacker@evil.example",
        contact_name="Kẻ gian",
    )
    assert attack.status_code == 201
    db.session.expire_all()
    victim_row = _report(victim["code"])
    resident = victim_row.resident
    # The victim's resident is untouched; the attacker got a resident of their own.
    assert (resident.email, resident.display_name) == ("victim@example.vn", "Nguyễn Thị Lan")
    assert _report(attack.get_json()["code"]).resident_id != resident.id

    _assign(victim["code"])
    handling.reply(user("moitruong@demo.vn"), _report(victim["code"]), "Đã thay bóng đèn mới.")
    sent = [m for m in _messages(victim_row.id) if m.recipient_kind == "resident"]
    addresses = {m.address for m in sent}
    assert "attacker@evil.example" not in addresses
    assert "victim@example.vn" in addresses


def test_an_unconfirmed_email_gets_only_the_confirmation_mail(app, client, ctx):
    body = _post(
        client,
        description="Nắp cống bị mất trên đường Trần Phú",
        lat=HAI_CHAU[0],
        lon=HAI_CHAU[1],
        contact="someone@example.vn",
    ).get_json()
    report = _assign(body["code"])
    to_email = [m for m in _messages(report.id) if m.address == "someone@example.vn"]
    assert [m.dedupe_key for m in to_email] == [f"confirm:{report.id}"]
    assert report.resident.email_confirmed_at is None

    # After the link is followed, the next news goes to the e-mail.
    assert client.get(_confirm_link(report.id)).status_code == 200
    handling.reply(user("moitruong@demo.vn"), _report(body["code"]), "Đã đặt nắp cống mới.")
    assert any(
        m.address == "someone@example.vn" and m.channel == "email" and "nắp cống" in m.body
        for m in _messages(report.id)
    )


def test_the_confirmation_mail_speaks_the_language_of_the_form(app):
    # No shared app context: each request chooses its own language, as in production.
    english = (
        app.test_client()
        .post(
            "/api/v1/reports?lang=en",
            data={"description": "Manhole cover missing on Trần Phú street", "contact": "a@x.vn"},
        )
        .get_json()
    )
    vietnamese = (
        app.test_client()
        .post(
            "/api/v1/reports",
            data={"description": "Nắp cống bị mất trên đường Trần Phú", "contact": "b@x.vn"},
        )
        .get_json()
    )
    with app.app_context():
        [to_english] = [m for m in _messages(_report(english["code"]).id) if m.channel == "email"]
        [to_vietnamese] = [
            m for m in _messages(_report(vietnamese["code"]).id) if m.channel == "email"
        ]
    assert to_english.subject.startswith("Confirm the e-mail address for updates on report")
    assert "If it was not you" in to_english.body and "Nếu không phải bạn" not in to_english.body
    assert to_vietnamese.subject.startswith("Xác nhận e-mail nhận thông báo phản ánh")
    # Whoever owns the address may not read Vietnamese: the Vietnamese mail says it twice.
    assert "Nếu không phải bạn" in to_vietnamese.body and "If it was not you" in to_vietnamese.body
    assert to_vietnamese.body.count("/xac-nhan-email/") == 2


def test_a_forged_or_foreign_confirmation_link_confirms_nothing(app, client, ctx):
    body = _post(
        client, description="Cây đổ chắn ngang vỉa hè Hùng Vương", contact="x@example.vn"
    ).get_json()
    link = _confirm_link(_report(body["code"]).id)
    assert client.get(link[:-3] + "abc").status_code == 422
    assert client.get("/xac-nhan-email/garbage").status_code == 422
    db.session.expire_all()
    assert _report(body["code"]).resident.email_confirmed_at is None


def test_a_locked_resident_cannot_get_around_the_lock_by_leaving_the_contact_out(app, client, ctx):
    first = _post(client, description="Nội dung spam quảng cáo lặp đi lặp lại").get_json()
    moderation.lock_resident(user("dieuphoi@demo.vn"), _report(first["code"]))
    again = _post(client, description="Lại là nội dung spam quảng cáo lần nữa")
    assert again.status_code == 422
    assert "khóa" in again.get_json()["message"]
    assert db.session.scalar(select(Report).where(Report.code != first["code"])) is None
    # Unlocking lifts the address lock too.
    moderation.unlock_sender(user("dieuphoi@demo.vn"), _report(first["code"]))
    assert _post(client, description="Báo cáo đèn đường hỏng thật sự").status_code == 201


def test_a_lock_covers_the_address_not_a_stranger_somewhere_else(app, client, ctx):
    first = _post(client, description="Nội dung spam quảng cáo lặp đi lặp lại").get_json()
    moderation.lock_resident(user("dieuphoi@demo.vn"), _report(first["code"]))
    other = client.post(
        "/api/v1/reports",
        json={"description": "Ổ gà lớn trên đường Nguyễn Văn Linh"},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert other.status_code == 201


# -- finding 3: publication is a decision ---------------------------------------------------


def test_the_code_alone_shows_scrubbed_text_and_a_coarse_point(app, client, ctx):
    body = _post(
        client,
        description=PRIVATE_TEXT,
        lat=HAI_CHAU[0],
        lon=HAI_CHAU[1],
        address="kiệt 99 Ông Ích Khiêm",
    ).get_json()
    # The submitter's answer is the whole report with the secret link.
    assert body["description"] == PRIVATE_TEXT
    token = TOKEN_URL.fullmatch(body["tracking_url"]).group(1)

    public = client.get(f"/api/v1/reports/{body['code']}").get_json()
    for secret in ("0905 123 456", "lan.nguyen@gmail.com", "079096001234", "43A-123.45"):
        assert secret not in public["description"]
    assert "[số điện thoại]" in public["description"]
    assert public["address"] is None
    centre = h3.cell_to_latlng(h3.latlng_to_cell(*HAI_CHAU, 8))
    assert (public["lat"], public["lon"]) == pytest.approx(centre, abs=1e-4)
    assert (public["lat"], public["lon"]) != pytest.approx(HAI_CHAU, abs=1e-4)
    assert token not in str(public)

    page = client.get(f"/theo-doi/{body['code']}").get_data(as_text=True)
    assert "0905 123 456" not in page and "Ông Ích Khiêm" not in page and token not in page

    own = client.get(f"/api/v1/track/{token}")
    assert own.status_code == 200 and own.get_json()["description"] == PRIVATE_TEXT
    assert own.get_json()["lat"] == pytest.approx(HAI_CHAU[0])
    assert own.headers["Cache-Control"] == "private, no-store"
    page = client.get(f"/t/{token}")
    assert PRIVATE_TEXT in page.get_data(as_text=True)
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_counting_codes_finds_no_raw_text_and_no_token(app, client, ctx):
    made = [
        _post(client, description=f"Gọi 0905 111 22{i} về ổ gà số {i} đường Lê Duẩn").get_json()
        for i in range(3)
    ]
    tokens = {TOKEN_URL.fullmatch(m["tracking_url"]).group(1) for m in made}
    assert len(tokens) == 3
    for number in range(1, 4):
        code = made[0]["code"].rsplit("-", 1)[0] + f"-{number:06d}"
        view = client.get(f"/api/v1/reports/{code}").get_json()
        assert "0905" not in view["description"]
        assert not any(t in str(view) for t in tokens)
    assert client.get("/api/v1/track/" + "A" * 43).status_code == 404


@pytest.mark.parametrize("how", ["rejected", "hidden"])
def test_rejected_and_hidden_reports_show_only_their_status(app, client, ctx, how):
    resp = client.post(
        "/api/v1/reports",
        data={
            "description": "Nội dung xúc phạm một người hàng xóm cụ thể",
            "photos": [(io.BytesIO(make_jpeg()), "a.jpg")],
        },
        content_type="multipart/form-data",
    )
    body = resp.get_json()
    report = _report(body["code"])
    operator = user("dieuphoi@demo.vn")
    if how == "rejected":
        workflow.transition(report, "rejected", actor=operator, note="Nội dung xúc phạm")
        db.session.commit()
    else:
        moderation.hide_from_public(operator, report)
    view = client.get(f"/api/v1/reports/{body['code']}").get_json()
    assert view["public"] is False
    assert set(view) == {"code", "status", "status_label", "public", "created_at", "tracking_url"}
    assert client.get(body["photos"][0]["web"]).status_code == 200  # the resident's own link
    public_photo = f"/anh/{report.photos[0].key}/web.jpg"
    assert client.get(public_photo).status_code == 404
    page = client.get(f"/theo-doi/{body['code']}").get_data(as_text=True)
    assert "xúc phạm một người" not in page


def test_sensitive_categories_show_nothing_finer_than_the_ward(app, client, ctx):
    assert db.session.get(Category, "public_security").sensitive
    body = _post(
        client,
        description="Nhóm thanh niên tụ tập đánh nhau trong kiệt 45 Hoàng Diệu mỗi tối",
        lat=HAI_CHAU[0],
        lon=HAI_CHAU[1],
    ).get_json()
    report = _assign(body["code"], "public_security")
    view = client.get(f"/api/v1/reports/{report.code}").get_json()
    assert view["sensitive"] is True
    assert view["description"] is None and view["photos"] == []
    assert view["lat"] is None and view["lon"] is None
    assert view["unit"] == "Phường Hải Châu"


# -- finding 6: every copy, the log, absolute links ------------------------------------------


def test_redaction_removes_the_text_from_every_copy(app, client, ctx):
    body = _post(client, description=PRIVATE_TEXT, lat=HAI_CHAU[0], lon=HAI_CHAU[1]).get_json()
    report = _report(body["code"])
    report.category_code, report.classified_at = "road_damage", utcnow()  # the NLU's guess
    workflow.transition(report, "needs_triage")
    db.session.commit()
    operator = user("dieuphoi@demo.vn")
    handling.triage(operator, report, "waste", agency("MTDT"))  # a category correction
    moderation.redact_text(operator, _report(body["code"]), "Cống tràn trước nhà, chắn cống")
    db.session.expire_all()
    report = _report(body["code"])
    assert "0905" not in report.search_text and "le loi" not in report.search_text
    for event in report.events:
        assert "0905" not in str(event.data or "") and "0905" not in (event.note or "")
    assert any(e.kind == "category_correction" for e in report.events)
    for message in _messages(report.id):
        assert "0905 123 456" not in message.body


def test_typed_addresses_and_texts_are_not_logged(app, client, caplog):
    caplog.set_level(logging.DEBUG)
    resp = _post(
        client,
        description="Rác thải đổ trộm trước nhà bà Tư",
        address="kiệt 12 Hoàng Diệu, P. Hải Châu",
        contact="0905999888",
    )
    assert resp.status_code == 201
    logged = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    for secret in ("Hoàng Diệu", "bà Tư", "0905999888", resp.get_json()["code"]):
        assert secret not in logged


def test_links_come_from_public_base_url_not_the_host_header(app, client):
    resp = client.post(
        "/api/v1/reports",
        json={"description": "Đèn tín hiệu giao thông bị tắt"},
        headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"},
    )
    assert resp.status_code == 201
    assert resp.headers["Location"].startswith("http://127.0.0.1:5000/api/v1/reports/")
    assert resp.get_json()["tracking_url"].startswith("http://127.0.0.1:5000/t/")
    assert "evil" not in resp.get_data(as_text=True)


def test_written_out_links_match_the_routes(app):
    adapter = app.url_map.bind("127.0.0.1:5000")
    assert adapter.match("/t/abc")[0] == "resident.track_private"
    assert adapter.match("/theo-doi/PA-2612-000001")[0] == "public.track"
    assert adapter.match("/xac-nhan-email/abc")[0] == "public.confirm_email"


def test_moderators_hide_and_show_a_report_and_lock_its_sender(app, client):
    # No `ctx` here: requests then run in app contexts of their own (their own current_user).
    from tests.backoffice.conftest import login

    def hidden() -> bool:
        with app.app_context():
            return _report(body["code"]).public_hidden

    body = _post(client, description="Nội dung quảng cáo lặp lại nhiều lần").get_json()
    agency_staff = login(app.test_client(), "staff")
    assert agency_staff.post(f"/bo/r/{body['code']}/hide_public").status_code in (403, 404)
    assert not hidden()
    operator = login(app.test_client(), "operator")
    page = operator.get(f"/bo/r/{body['code']}").get_data(as_text=True)
    assert "hide_public" in page and "lock_resident" in page
    assert operator.post(f"/bo/r/{body['code']}/hide_public").status_code == 302
    assert hidden() and not client.get(f"/api/v1/reports/{body['code']}").get_json()["public"]
    assert operator.post(f"/bo/r/{body['code']}/show_public").status_code == 302
    assert not hidden() and client.get(f"/api/v1/reports/{body['code']}").get_json()["public"]
    assert operator.post(f"/bo/r/{body['code']}/lock_resident").status_code == 302
    assert _post(client, description="Lại gửi nội dung quảng cáo lần nữa").status_code == 422

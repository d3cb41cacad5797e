"""The Zalo OA adapter through the real webhook, task body and sender, against a fake Zalo."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot import zalo_adapter
from tests.bot.chat import (
    HAI_CHAU,
    deliver_new_messages,
    last_outbox_id,
    resolve_with_result_photo,
)
from tests.factories import ChannelIdentityFactory, SubmittedReportFactory
from tests.fixtures.images import make_jpeg
from webapp.extensions import db
from webapp.models import AdminUnit, InboundEvent, MessengerToken, OutboxMessage, Report
from webapp.services.casework import workflow
from webapp.services.intake.reports import get_by_code
from webapp.services.messaging import outbox, windows
from webapp.services.messaging.channels import SendError
from webapp.services.messaging.channels.zalo import ZaloApi, refresh_zalo_token, zalo_event_key

USER = "246845883529197922"


@pytest.fixture()
def zalo(app, client, fake_zalo, dialog):
    """Post an event to the webhook as Zalo would, then run the task's body on it."""

    def post(event: dict) -> list[str]:
        raw, headers = fake_zalo.signed(event)
        response = client.post("/webhooks/zalo", data=raw, headers=headers)
        assert response.status_code == 200, response.data
        before = len(fake_zalo.sent)
        with app.app_context():
            row_id = db.session.scalar(
                select(InboundEvent.id).where(InboundEvent.event_id == zalo_event_key(event))
            )
            zalo_adapter.handle_event(row_id, dialog)
        return [m["message"].get("text", "") for m in fake_zalo.sent[before:]]

    return post


def _buttons(fake, user: str = USER) -> dict[str, str]:
    """Title → text Zalo sends back when the button is pressed."""
    return fake.button_payloads(fake.last_to(user))


def test_report_reply_rating_and_reopening_on_zalo(app, fake_zalo, zalo):
    fake = fake_zalo
    assert (
        "ảnh chụp hiện trường"
        in zalo(fake.text_event(USER, "Rac thai chat dong boc mui o dau kiet 12 Bach Dang"))[-1]
    )
    assert "Đã có 1 ảnh" in zalo(fake.image_event(USER, make_jpeg(gps=HAI_CHAU)))[-1]
    assert "Sự việc ở đâu" in zalo(fake.text_event(USER, _buttons(fake)["✅ Xong"]))[-1]
    assert zalo(fake.location_event(USER, 16.0702, 108.2249))[-1] == (
        "Có phải phản ánh về: Rác thải?"
    )
    buttons = _buttons(fake)
    assert list(buttons) == ["Rác thải", "Ô nhiễm môi trường", "Thoát nước, ngập úng", "Khác"]
    assert all(b["type"] == "oa.query.hide" for b in _template_buttons(fake.last_to(USER)))
    assert "kiểm tra lại" in zalo(fake.text_event(USER, "dung"))[-1]
    [done] = zalo(fake.text_event(USER, _buttons(fake)["✅ Gửi phản ánh"]))
    code = re.search(r"PA-\d{4}-\d{6}", done).group()

    with app.app_context():
        report = get_by_code(code)
        report_id = report.id
        assert report.channel == "zalo" and report.category_hint == "waste"
        assert (report.lat, report.lon) == pytest.approx((16.0702, 108.2249))
        assert db.session.get(AdminUnit, report.unit_code).full_name == "Phường Hải Châu"
        assert len(report.photos) == 1 and report.photos[0].gps_lat is not None
        assert (report.identity.channel, report.identity.external_id) == ("zalo", USER)
        mark = last_outbox_id()
        workflow.record_event(
            report, "reply", note="Đã điều xe thu gom trong chiều nay.", public=True
        )
        db.session.commit()
        assert deliver_new_messages(report_id, mark) == ["sent"]
    assert "Đã điều xe thu gom trong chiều nay." in fake.texts_to(USER)[-1]
    assert fake.sent[-1]["recipient"] == {"user_id": USER}

    with app.app_context():
        mark = last_outbox_id()
        resolve_with_result_photo(report_id)
        assert set(deliver_new_messages(report_id, mark)) == {"sent"}
    image_message = fake.sent[-2]["message"]
    assert "đã được xử lý xong" in image_message["text"]
    [element] = image_message["attachment"]["payload"]["elements"]
    assert element["media_type"] == "image" and re.search(
        r"/anh/[0-9a-f]{32}/web\.jpg$", element["url"]
    )
    rating = _buttons(fake)
    assert list(rating) == ["1 ⭐", "2 ⭐", "3 ⭐", "4 ⭐", "5 ⭐"]
    assert rating["1 ⭐"] == f"#rate:{code}:1"
    zalo(fake.text_event(USER, rating["1 ⭐"]))
    assert "🔁 Có, xử lý lại" in _buttons(fake)
    assert "vấn đề còn tồn tại" in zalo(fake.text_event(USER, "co"))[-1]
    assert (
        "Đã gửi lại phản ánh" in zalo(fake.text_event(USER, "Rac van con nguyen, chua ai don"))[-1]
    )

    with app.app_context():
        report = db.session.get(Report, report_id)
        assert report.rating == 1 and report.status == "assigned"
        [reopened] = [e for e in report.events if e.to_status == "reopened"]
        assert reopened.note == "Rac van con nguyen, chua ai don"


def _template_buttons(message: dict) -> list[dict]:
    return message["attachment"]["payload"]["buttons"]


def test_more_than_five_choices_are_numbered_and_a_typed_number_works(fake_zalo, zalo, classifier):
    classifier.down = True
    zalo(fake_zalo.text_event(USER, "Ổ gà rất sâu giữa đường gây nguy hiểm"))
    zalo(fake_zalo.text_event(USER, "bo qua"))
    [listing] = zalo(fake_zalo.text_event(USER, "bo qua"))
    assert "1. Hư hỏng đường sá, vỉa hè" in listing and "Gõ số để chọn" in listing
    assert "attachment" not in fake_zalo.last_to(USER)
    # The category's question follows, its answers as Zalo's template buttons.
    assert "Chỗ hư hỏng rộng khoảng bao nhiêu?" in zalo(fake_zalo.text_event(USER, "1"))[-1]
    answers = {b["title"]: b["payload"] for b in _template_buttons(fake_zalo.last_to(USER))}
    assert list(answers) == [
        "Nhỏ hơn một bàn tay",
        "Cỡ một bánh xe máy",
        "Lớn hơn một mét",
        "Bỏ qua",
    ]
    confirm = zalo(fake_zalo.text_event(USER, answers["Cỡ một bánh xe máy"]))[-1]
    assert "Lĩnh vực: Hư hỏng đường sá, vỉa hè" in confirm
    assert "Chỗ hư hỏng rộng khoảng bao nhiêu? Cỡ một bánh xe máy" in confirm


def test_follow_event_is_welcomed(fake_zalo, zalo):
    assert "trợ lý tiếp nhận phản ánh" in zalo(fake_zalo.follow_event(USER))[-1]


def _talked(fake_zalo) -> None:
    """The resident wrote to the OA just now: a reply window is open on both sides."""
    event = fake_zalo.text_event(USER, "xin chào")
    windows.note_inbound("zalo", USER, event["message"]["msg_id"])
    db.session.commit()


def _zalo_report(ctx, fake_zalo) -> OutboxMessage:
    _talked(fake_zalo)
    report = SubmittedReportFactory(
        channel="zalo",
        identity=ChannelIdentityFactory(channel="zalo", external_id=USER, display_name=None),
        description="Nước cống tràn ra đường sau mưa",
        point=None,
    )
    return db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.report_id == report.id)
    ).one()


def test_expired_token_is_refreshed_once_and_both_tokens_saved(ctx, fake_zalo):
    message = _zalo_report(ctx, fake_zalo)
    fake_zalo.expire("access-1")
    assert outbox.deliver(message.id) == "sent"
    assert len(fake_zalo.refreshes) == 1
    refresh = fake_zalo.refreshes[0]
    assert refresh == {
        "refresh_token": "refresh-1",
        "app_id": "3608465249409039670",
        "grant_type": "refresh_token",
    }
    token = db.session.get(MessengerToken, "zalo")
    db.session.refresh(token)
    assert (token.access_token, token.refresh_token) == ("access-2", "refresh-2")
    assert token.expires_at is not None
    assert fake_zalo.texts_to(USER) and "tiếp nhận" in fake_zalo.texts_to(USER)[0]
    # The next message goes out with the new token, no refresh needed.
    ZaloApi().send(USER, "Xin chào")
    assert len(fake_zalo.refreshes) == 1


def test_refresh_token_is_never_spent_twice(ctx, fake_zalo):
    _talked(fake_zalo)
    ZaloApi().send(USER, "một")  # seeds the store with access-1 / refresh-1
    fake_zalo.expire("access-1")
    assert refresh_zalo_token("access-1") == "access-2"
    # A second process that also saw access-1 rejected gets the new token, not a refresh.
    assert refresh_zalo_token("access-1") == "access-2"
    assert [r["refresh_token"] for r in fake_zalo.refreshes] == ["refresh-1"]


def test_zalo_error_with_http_200_is_a_failure(ctx, fake_zalo):
    message = _zalo_report(ctx, fake_zalo)
    fake_zalo.fail_next.append(-201)  # e.g. a parameter Zalo does not accept
    assert outbox.deliver(message.id) == "failed"
    db.session.refresh(message)
    assert "-201" in message.last_error and message.status == "failed"
    assert fake_zalo.refreshes == [], "not a token error: no refresh"


def test_a_refused_refresh_fails_the_message(ctx, fake_zalo):
    message = _zalo_report(ctx, fake_zalo)
    fake_zalo.expire("access-1")
    fake_zalo.refresh_tokens.clear()
    assert outbox.deliver(message.id) == "failed"
    db.session.refresh(message)
    assert "-14014" in message.last_error
    with pytest.raises(SendError):
        ZaloApi().send(USER, "x")

"""The real Telegram adapter (python-telegram-bot, polling) against a fake Bot API."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.bot.chat import (
    HAI_CHAU,
    deliver_new_messages,
    last_outbox_id,
    resolve_with_result_photo,
)
from tests.fixtures.images import make_jpeg
from webapp.extensions import db
from webapp.models import AdminUnit, InboundEvent, OutboxMessage, OutboxStatus, Report
from webapp.services.casework import workflow
from webapp.services.intake.reports import get_by_code
from webapp.services.messaging import outbox

USER = 1001


def _code(text: str) -> str:
    match = re.search(r"PA-\d{4}-\d{6}", text)
    assert match, text
    return match.group()


def test_report_reply_rating_and_reopening_on_telegram(
    app, fake_telegram, telegram_bot, classifier
):
    fake = fake_telegram
    fake.send_text(USER, "/baocao")
    fake.wait_for_text(USER, "mô tả sự việc")
    fake.send_text(USER, "Rác thải chất đống bốc mùi ở đầu kiệt 12 Bạch Đằng")
    fake.wait_for_text(USER, "ảnh chụp hiện trường")
    fake.send_image_file(USER, make_jpeg(gps=HAI_CHAU), "IMG_0001.jpg")
    more = fake.wait_for_text(USER, "Đã có 1 ảnh")
    assert ("getFile", {"file_id": "FILE0001"}) in fake.calls
    fake.press(USER, fake.buttons(more)["✅ Xong"])
    place = fake.wait_for_text(USER, "Sự việc ở đâu")
    assert place["reply_markup"]["keyboard"][0][0]["request_location"] is True
    fake.send_location(USER, 16.0702, 108.2249)
    guess = fake.wait_for_text(USER, "Có phải phản ánh về: Rác thải?")
    assert list(fake.buttons(guess))[-1] == "Khác"
    fake.press(USER, fake.buttons(guess)["Rác thải"])
    summary = fake.wait_for_text(USER, "kiểm tra lại")
    fake.press(USER, fake.buttons(summary)["✅ Gửi phản ánh"])
    code = _code(fake.wait_for_text(USER, "Mã phản ánh của bạn")["text"])
    assert classifier.threads and telegram_bot.loop_thread not in classifier.threads, (
        "the dialog's blocking work ran on the event loop"
    )

    with app.app_context():
        report = get_by_code(code)
        report_id = report.id
        assert report.channel == "telegram" and report.category_hint == "waste"
        assert (report.lat, report.lon) == pytest.approx((16.0702, 108.2249))
        assert db.session.get(AdminUnit, report.unit_code).full_name == "Phường Hải Châu"
        [photo] = report.photos
        assert photo.gps_lat == pytest.approx(HAI_CHAU[0], abs=1e-4)
        assert report.identity.external_id == str(USER)
        # Delivered by the outbox's Telegram sender: the receipt, then the agency's reply.
        mark = 0
        assert deliver_new_messages(report_id, mark) == ["sent"]
        mark = last_outbox_id()
        workflow.record_event(
            report, "reply", note="Đội vệ sinh sẽ thu gom trước 9 giờ sáng mai.", public=True
        )
        db.session.commit()
        assert deliver_new_messages(report_id, mark) == ["sent"]
    fake.wait_for_text(USER, f"Phản ánh của bạn đã được tiếp nhận. Mã phản ánh: {code}")
    fake.wait_for_text(USER, "Đội vệ sinh sẽ thu gom trước 9 giờ sáng mai.")

    with app.app_context():
        mark = last_outbox_id()
        resolve_with_result_photo(report_id)
        assert set(deliver_new_messages(report_id, mark)) == {"sent"}
    resolved = fake.wait_for_text(USER, "đã được xử lý xong")
    assert resolved["photo"][:2] == b"\xff\xd8", "sent with sendPhoto and the result photo"
    assert "Đã thu gom toàn bộ rác." in resolved["text"]
    rating = fake.buttons(resolved)
    assert list(rating) == ["1 ⭐", "2 ⭐", "3 ⭐", "4 ⭐", "5 ⭐"]
    fake.press(USER, rating["2 ⭐"])
    ask = fake.wait_for_text(USER, "xử lý lại phản ánh")
    fake.press(USER, fake.buttons(ask)["🔁 Có, xử lý lại"])
    fake.wait_for_text(USER, "vấn đề còn tồn tại")
    fake.send_text(USER, "Rác vẫn còn một nửa ở góc kiệt")
    fake.wait_for_text(USER, "Đã gửi lại phản ánh")

    with app.app_context():
        report = db.session.get(Report, report_id)
        assert report.rating == 2 and report.status == "assigned"
        reopened = [e for e in report.events if e.to_status == "reopened"]
        assert [e.note for e in reopened] == ["Rác vẫn còn một nửa ở góc kiệt"]
        handled = db.session.scalar(select(func.count()).select_from(InboundEvent))
        assert handled == len(fake.pushed), "every update recorded once"


def test_photo_with_caption_starts_a_report(app, fake_telegram, telegram_bot):
    fake = fake_telegram
    fake.send_photo(USER, make_jpeg(), caption="Ổ gà rất sâu giữa đường Trần Phú")
    fake.wait_for_text(USER, "Đã có 1 ảnh")
    fake.send_text(USER, "/huy")
    fake.wait_for_text(USER, "Đã hủy phản ánh đang soạn")


def test_greeting_on_telegram_is_answered_with_the_menu(fake_telegram, telegram_bot):
    fake_telegram.send_text(USER, "xin chao")
    hello = fake_telegram.wait_for_text(USER, "Xin chào Lan")
    assert "📝 Gửi phản ánh" in fake_telegram.buttons(hello)


def test_telegram_sender_failure_is_recorded_for_retry(app, fake_telegram, ctx):
    from tests.factories import SubmittedReportFactory

    report = SubmittedReportFactory(
        telegram=True,
        identity__external_id="not-a-chat",
        identity__display_name=None,
        description="Đèn đường tắt cả tuần ở kiệt 20",
        point=None,
    )
    [message] = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.report_id == report.id)
    ).all()
    fake_telegram.unknown_chats.add("not-a-chat")
    assert outbox.deliver(message.id) == "failed"
    db.session.refresh(message)
    assert message.status == OutboxStatus.FAILED and "chat not found" in message.last_error
    assert message.next_attempt_at is not None

"""The channel-neutral dialog on plain value objects, with a fake NLU and the real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from bot.dialog import Dialog
from tests.bot.chat import HAI_CHAU, Chat
from tests.factories import SubmittedReportFactory
from tests.fixtures.images import make_jpeg, not_an_image
from webapp.extensions import db
from webapp.models import (
    AdminUnit,
    Conversation,
    OutboxMessage,
    Report,
    ReportFollower,
    ReportStatus,
)
from webapp.models.types import utcnow
from webapp.services.casework import routing, workflow


def _report(code: str) -> Report:
    return db.session.scalar(select(Report).where(Report.code == code))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _code(chat: Chat) -> str:
    import re

    match = re.search(r"PA-\d{4}-\d{6}", chat.text)
    assert match, chat.text
    return match.group()


def test_report_with_text_geotagged_photo_and_pin(chat):
    chat.send("/baocao")
    assert "mô tả" in chat.text
    chat.send("Rác thải chất đống bốc mùi ở đầu kiệt 12 Bạch Đằng")
    assert "ảnh" in chat.text and chat.labels == ["Bỏ qua"]
    chat.send(photo=make_jpeg(gps=HAI_CHAU))
    assert "Đã có 1 ảnh" in chat.text
    chat.press("✅ Xong")
    assert chat.replies[-1].ask_location
    assert "Phường Hải Châu" in chat.text, "the photo's GPS is offered"
    assert "📷 Dùng vị trí trong ảnh" in chat.labels
    chat.send(location=(16.0702, 108.2249))
    assert chat.text.startswith("Có phải phản ánh về: Rác thải?")
    assert chat.labels[0] == "Rác thải" and chat.labels[-1] == "Khác"
    assert len(chat.labels) == 4, "the guess, the next two, and Khác"
    chat.press("Rác thải")
    assert "kiểm tra lại" in chat.text and "Phường Hải Châu (vị trí bạn gửi)" in chat.text
    chat.press("✅ Gửi")
    code = _code(chat)
    report = _report(code)
    assert report.channel == "telegram" and report.category_hint == "waste"
    assert (report.lat, report.lon) == pytest.approx((16.0702, 108.2249))
    assert report.location_source == "pin"
    assert db.session.get(AdminUnit, report.unit_code).full_name == "Phường Hải Châu"
    assert len(report.photos) == 1 and report.photos[0].gps_lat == pytest.approx(HAI_CHAU[0])
    assert (report.identity.channel, report.identity.external_id) == ("telegram", "1001")
    conversation = db.session.scalar(select(Conversation))
    assert conversation.state == "idle" and conversation.photos == []


def test_every_step_understands_text_without_diacritics(chat):
    chat.send("bao cao")
    chat.send("rac thai do bua bai o dau kiet gan cho")
    chat.send("khong co anh")
    assert chat.replies[-1].ask_location
    chat.send("12 bach dang, hai chau")
    assert chat.text.startswith("Có phải phản ánh về: Rác thải?")
    chat.send("dung")
    assert "Rác thải" in chat.text and "kiểm tra lại" in chat.text
    chat.send("gui")
    report = _report(_code(chat))
    assert report.category_hint == "waste"
    assert report.location_source == "address" and report.address_text == "12 bach dang, hai chau"
    assert db.session.get(AdminUnit, report.unit_code).full_name == "Phường Hải Châu"


def test_photo_first_then_place_from_the_photo(chat):
    chat.send(photo=make_jpeg(gps=HAI_CHAU))
    assert "Đã nhận 1 ảnh" in chat.text and "mô tả" in chat.text
    chat.send("Cây xanh gãy đổ chắn ngang vỉa hè")
    chat.send("xong")
    chat.press("📷 Dùng vị trí trong ảnh")
    chat.press("Cây xanh")
    assert "Có ai bị thương không?" in chat.text, "the category's required question"
    chat.send("khong")  # typed, without diacritics
    chat.send("ok")
    report = _report(_code(chat))
    assert report.attributes == {"anyone_hurt": "no"}
    assert report.location_source == "exif"
    assert (report.lat, report.lon) == pytest.approx(HAI_CHAU, abs=1e-4)
    assert report.category_hint == "trees"


def test_place_names_in_the_description_are_offered(chat):
    chat.send("Đèn đường hỏng cả tuần trên đường Bạch Đằng")
    chat.send("bo qua")
    assert any(label.startswith("📝") for label in chat.labels), chat.labels
    chat.press("📝")
    chat.send("1")  # typed number = first offered choice
    assert "Số hiệu cột đèn" in chat.text and "Bỏ qua" in chat.labels
    chat.send("bo qua")  # not required
    chat.send("1")
    report = _report(_code(chat))
    assert report.location_source == "text" and report.unit_code is not None


def test_when_the_nlu_is_down_the_categories_are_buttons(chat, classifier):
    classifier.down = True
    chat.send("Ổ gà rất sâu giữa đường gây nguy hiểm")
    chat.send("bo qua")
    chat.send("bo qua")
    assert chat.text == "Phản ánh của bạn thuộc lĩnh vực nào?"
    assert len(chat.labels) == 16 and "Hư hỏng đường sá, vỉa hè" in chat.labels
    chat.send("hu hong duong")
    chat.press("Bỏ qua")
    chat.press("✅ Gửi")
    report = _report(_code(chat))
    assert report.category_hint == "road_damage" and report.lat is None


def test_other_opens_the_full_list(chat):
    chat.send("Rác thải ven sông lâu ngày không ai dọn")
    chat.send("bo qua")
    chat.send("bo qua")
    chat.press("Khác")
    assert len(chat.labels) == 16
    chat.send("o nhiem")
    assert "Ô nhiễm môi trường" in chat.text


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("xin chao", "Xin chào"),
        ("Chào bạn", "Xin chào"),
        ("cam on nhe", "Không có gì"),
        ("hom nay troi dep qua nhi", "chỉ tiếp nhận"),
        ("phan anh cua toi the nao roi", "mã phản ánh"),
    ],
)
def test_chit_chat_gets_a_friendly_answer_not_a_report(chat, text, needle):
    chat.send(text)
    assert needle in chat.text
    conversation = db.session.scalar(select(Conversation))
    assert conversation.state in ("idle", "lookup")
    assert "draft" not in conversation.data
    assert _count(Report) == 0


def test_greeting_is_understood_when_the_nlu_is_down(chat, classifier):
    classifier.down = True
    chat.send("xin chao")
    assert "Xin chào" in chat.text and "📝 Gửi phản ánh" in chat.labels


def test_help_cancel_and_commands(chat):
    chat.send("/start")
    assert "/baocao" in chat.text and "/tracuu" in chat.text
    chat.send("/baocao")
    chat.send("Rác thải đổ trộm ven đường ray")
    chat.send("huy")
    assert "Đã hủy" in chat.text
    assert db.session.scalar(select(Conversation)).state == "idle"
    chat.send("/cuatoi")
    assert "chưa gửi phản ánh nào" in chat.text


def _submit(channel_id: str = "2002", lat_lon=HAI_CHAU, category="waste") -> Report:
    return SubmittedReportFactory(
        telegram=True,
        identity__external_id=channel_id,
        description="Rác thải tập kết sai giờ đầu kiệt",
        point=lat_lon,
        category_hint=category,
    )


def test_status_lookup_and_my_reports(chat):
    mine = _submit("1001")
    chat.send(f"tra cuu {mine.code.lower()}")
    assert f"📋 Phản ánh {mine.code}: Đã tiếp nhận" in chat.text
    chat.send("/tracuu")
    chat.send(mine.code)
    assert "Đã tiếp nhận" in chat.text
    chat.send("/cuatoi")
    assert mine.code in chat.text and f"🔎 {mine.code}" in chat.labels
    chat.press(f"🔎 {mine.code}")
    assert f"Phản ánh {mine.code}" in chat.text
    chat.send("tra cuu PA-2611-999999")
    assert "Không tìm thấy" in chat.text


def test_only_the_sender_gets_the_secret_link_on_lookup(chat, dialog):
    from tests.bot.chat import Chat

    mine = _submit("1001")
    chat.send(f"tra cuu {mine.code}")
    assert f"/t/{mine.tracking_token}" in chat.text
    stranger = Chat(dialog, user_id="9009")
    stranger.send(f"tra cuu {mine.code}")
    assert f"/theo-doi/{mine.code}" in stranger.text
    assert mine.tracking_token not in stranger.text


def test_nearby_report_is_offered_and_followed_instead_of_a_duplicate(chat):
    other = _submit("2002")
    chat.send("Rác thải ngập lối đi đầu kiệt")
    chat.send("bo qua")
    chat.send(location=(16.0702, 108.2249))
    assert "Gần vị trí này" in chat.text and other.code in chat.text
    chat.press(f"🔔 Theo dõi {other.code}")
    assert f"Bạn đang theo dõi phản ánh {other.code}" in chat.text
    assert _count(Report) == 1
    [follow] = db.session.scalars(select(ReportFollower)).all()
    assert follow.report_id == other.id and follow.identity.external_id == "1001"
    # The follower gets the same resident messages as the author.
    workflow.record_event(other, "reply", note="Đã bố trí xe thu gom.", public=True)
    db.session.commit()
    messages = db.session.scalars(select(OutboxMessage).where(OutboxMessage.report_id == other.id))
    addresses = {m.address for m in messages if "Đã bố trí xe thu gom" in m.body}
    assert addresses == {"2002", "1001"}
    chat.send("/cuatoi")
    assert other.code in chat.text and "đang theo dõi" in chat.text


def test_nearby_reports_of_another_category_or_far_away_are_not_offered(chat):
    _submit("2002", category="noise")
    _submit("2003", lat_lon=(16.0750, 108.2246))  # ~550 m north
    chat.send("Rác thải ngập lối đi đầu kiệt")
    chat.send("bo qua")
    chat.send(location=(16.0702, 108.2249))
    assert chat.text.startswith("Có phải phản ánh về")


def test_file_new_report_despite_nearby(chat):
    _submit("2002")
    chat.send("Rác thải ngập lối đi đầu kiệt")
    chat.send("bo qua")
    chat.send(location=(16.0702, 108.2249))
    chat.press("📝 Vẫn gửi phản ánh mới")
    chat.press("Rác thải")
    chat.press("✅ Gửi")
    assert _count(Report) == 2


def test_a_bad_photo_is_refused_and_the_step_kept(chat):
    chat.send("Ổ gà rất sâu giữa đường gây nguy hiểm")
    chat.send(photo=not_an_image())
    assert "ảnh" in chat.text.lower()
    assert db.session.scalar(select(Conversation)).state == "photos"
    assert db.session.scalar(select(Conversation)).photos == []


def test_state_is_in_the_database_so_another_process_continues(chat, classifier):
    chat.send("Ổ gà rất sâu giữa đường gây nguy hiểm")
    db.session.remove()
    other_process = Chat(Dialog(classifier))
    other_process.send("bo qua")
    assert other_process.replies[-1].ask_location


def test_a_replayed_update_is_handled_once(chat):
    chat.send("/baocao", key="upd-1")
    first = chat.text
    assert first
    assert chat.send("/baocao", key="upd-1") == []
    chat.send("Rác thải đổ trộm ven đường ray", key="upd-2")
    assert chat.send("Rác thải đổ trộm ven đường ray", key="upd-2") == []
    assert db.session.scalar(select(Conversation)).state == "photos"


def test_a_stale_draft_is_forgotten(chat):
    chat.send("Rác thải đổ trộm ven đường ray")
    with time_machine.travel(utcnow() + timedelta(days=2)):
        chat.send("bo qua")
    assert "quá lâu" in chat.text


def _resolve(report: Report) -> None:
    report.category_code = "waste"
    workflow.transition(report, ReportStatus.CLASSIFIED)
    routing.assign(report, routing.route("waste", report.unit_code))
    workflow.transition(report, ReportStatus.RESOLVED, note="Đã thu gom.")
    db.session.commit()


def _rating_payloads(report: Report) -> list[str]:
    message = db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.report_id == report.id, OutboxMessage.body.contains("xử lý xong")
        )
    )
    return [b["payload"] for row in message.payload["buttons"] for b in row]


def test_low_rating_offers_reopening_with_the_residents_words(chat):
    report = _submit("1001")
    _resolve(report)
    first_due = report.due_at
    agency = report.agency
    payloads = _rating_payloads(report)
    assert payloads == [f"rate:{report.code}:{n}" for n in range(1, 6)]
    with time_machine.travel(utcnow() + timedelta(days=7)):  # the resident looks a week later
        chat.send(button=payloads[1])
        assert "2/5" in chat.text and "🔁 Có, xử lý lại" in chat.labels
        chat.press("🔁 Có")
        chat.send("Rác vẫn còn nguyên, chỉ dọn một nửa")
    assert "Đã gửi lại phản ánh" in chat.text and agency.name in chat.text
    db.session.refresh(report)
    assert report.rating == 2
    assert report.status == "assigned" and report.agency == agency
    assert report.due_at > first_due + timedelta(days=5), "a new deadline from the reopening"
    statuses = [(e.to_status, e.note) for e in report.events if e.kind == "status"]
    assert statuses[-2:] == [
        ("reopened", "Rác vẫn còn nguyên, chỉ dọn một nửa"),
        ("assigned", "Người dân yêu cầu xử lý lại."),
    ]
    assert report.events[-2].actor_label == "resident"


def test_good_rating_is_thanked_and_nothing_reopens(chat):
    report = _submit("1001")
    _resolve(report)
    chat.send(button=_rating_payloads(report)[4])
    assert "5/5" in chat.text
    db.session.refresh(report)
    assert report.rating == 5 and report.status == "resolved"


def test_declining_to_reopen_keeps_the_report_resolved(chat):
    report = _submit("1001")
    _resolve(report)
    chat.send(button=_rating_payloads(report)[0])
    chat.send("khong")
    assert "Cảm ơn" in chat.text
    db.session.refresh(report)
    assert report.rating == 1 and report.status == "resolved"


def test_only_the_author_may_rate(chat):
    report = _submit("2002")
    _resolve(report)
    chat.send(button=_rating_payloads(report)[0])
    assert "Chỉ người gửi" in chat.text
    db.session.refresh(report)
    assert report.rating is None


def test_rating_during_a_draft_comes_back_to_the_draft(chat):
    report = _submit("1001")
    _resolve(report)
    chat.send("Đèn đường hỏng cả tuần ở kiệt 5")
    chat.send(button=_rating_payloads(report)[0])
    chat.press("🔁 Có")
    chat.send("Rác vẫn chưa được dọn hết")
    assert "ảnh" in chat.replies[-1].text, "the draft's photo step is asked again"
    assert db.session.scalar(select(Conversation)).state == "photos"


def test_a_few_words_naming_a_problem_ask_for_details_other_words_get_help(chat):
    chat.send("hmm")
    assert "/baocao" in chat.text
    assert db.session.scalar(select(Conversation)).state == "idle"
    chat.send("ổ gà")
    assert "chi tiết hơn" in chat.text
    assert db.session.scalar(select(Conversation)).state == "describe"
    chat.send("Ổ gà rất sâu ngay trước số 20 Trần Phú")
    assert db.session.scalar(select(Conversation)).state == "photos"


def test_default_classifier_uses_the_apps_nlu_client(app, ctx, monkeypatch):
    from nlu.client import NluClient
    from tests.support.fake_nlu import FakeRasa

    with FakeRasa() as rasa:
        monkeypatch.setitem(app.extensions, "nlu_client", NluClient(rasa.url, retries=0))
        chat = Chat(Dialog())
        chat.send("Rác thải chất đống bốc mùi ở đầu kiệt")
        chat.send("bo qua")
        chat.send("bo qua")
        assert chat.text == "Có phải phản ánh về: Rác thải?"
        assert "Khác" in chat.labels and chat.labels.count("Khác") == 1


def test_default_classifier_degrades_when_the_nlu_server_is_down(app, ctx, monkeypatch):
    from nlu.client import NluClient

    down = NluClient("http://127.0.0.1:9", timeout=0.5, retries=0)
    monkeypatch.setitem(app.extensions, "nlu_client", down)
    chat = Chat(Dialog())
    chat.send("Rác thải chất đống bốc mùi ở đầu kiệt")
    assert "ảnh" in chat.text, "the report goes on without the NLU"
    chat.send("bo qua")
    chat.send("bo qua")
    assert chat.text == "Phản ánh của bạn thuộc lĩnh vực nào?" and len(chat.labels) == 16

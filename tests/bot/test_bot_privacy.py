"""Personal data in the bots: the notice at first contact, consent on the reports filed,
/dulieu (a link to one's data) and /xoadulieu (erasure, confirmed first)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from bot import zalo_adapter
from tests.bot.chat import Chat
from tests.factories import ChannelIdentityFactory, SubmittedReportFactory
from tests.fixtures.images import make_jpeg
from webapp.extensions import db
from webapp.models import (
    ChannelWindow,
    Conversation,
    ConversationPhoto,
    InboundEvent,
    Report,
    ResidentIdentity,
)
from webapp.services.messaging.channels.zalo import zalo_event_key

NOTICE = "Thông báo xử lý dữ liệu cá nhân (phiên bản {})"
AGREEING = "Khi gửi phản ánh, bạn đồng ý với thông báo này."
PIN = (16.0702, 108.2249)
ZALO_USER = "246845883529197955"
# (channel, user id) of the residents the tests run as.
CHANNELS = [("telegram", "1001"), ("zalo", "864213579024681357")]


@pytest.fixture(params=CHANNELS, ids=[c for c, _ in CHANNELS])
def resident(request, ctx, dialog) -> Chat:
    """A resident on Telegram, then on Zalo (the dialog is the same on both)."""
    channel, user_id = request.param
    return Chat(dialog, channel=channel, user_id=user_id)


@pytest.fixture()
def version(app):
    """The notice's version; tests may change it (restored after)."""
    saved = app.config["PRIVACY_NOTICE_VERSION"]
    yield saved
    app.config["PRIVACY_NOTICE_VERSION"] = saved


def _notices(chat: Chat) -> list[str]:
    return [r.text for r in chat.replies if r.text.startswith("Thông báo xử lý dữ liệu cá nhân")]


def _code(chat: Chat) -> str:
    match = re.search(r"PA-\d{4}-\d{6}", chat.text)
    assert match, chat.text
    return match.group()


def _to_confirmation(chat: Chat) -> None:
    chat.send("/baocao")
    chat.send("Rác thải chất đống bốc mùi ở đầu kiệt 12 Bạch Đằng")
    chat.press("Bỏ qua")
    chat.send(location=PIN)
    chat.press("Rác thải")
    assert "kiểm tra lại" in chat.text


def _file_report(chat: Chat) -> str:
    _to_confirmation(chat)
    chat.press("✅ Gửi")
    return _code(chat)


def _report(code: str) -> Report:
    report = db.session.scalar(select(Report).where(Report.code == code))
    assert report is not None, code
    return report


def _identities(user_id: str) -> int:
    return db.session.scalar(
        select(func.count()).select_from(ResidentIdentity).filter_by(external_id=user_id)
    )


def _conversations(user_id: str) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Conversation).filter_by(user_id=user_id)
    )


# -- the notice -------------------------------------------------------------------------------


def test_the_notice_comes_first_once_and_again_for_a_new_version(app, resident, version):
    resident.send("xin chao")
    first, greeting = resident.replies
    assert first.text.startswith(NOTICE.format(version)) and first.text.endswith(AGREEING)
    assert "/dulieu" in first.text and first.buttons == []
    assert greeting.text.startswith("Xin chào Lan")

    resident.send("/help")
    assert _notices(resident) == [], "shown once per resident"
    assert "Mình là trợ lý" in resident.text

    app.config["PRIVACY_NOTICE_VERSION"] = "2026-07"
    resident.send("/help")
    assert resident.replies[0].text.startswith(NOTICE.format("2026-07"))
    assert "Mình là trợ lý" in resident.replies[1].text
    resident.send("xin chao")
    assert _notices(resident) == []


def test_a_new_version_is_shown_in_the_residents_language(app, chat, version):
    chat.send("/english")
    app.config["PRIVACY_NOTICE_VERSION"] = "2026-07"
    chat.send("hello")
    assert chat.replies[0].text.startswith("Personal data notice (version 2026-07)")
    assert chat.replies[0].text.endswith("By sending a report you agree to this notice.")


def test_help_names_the_data_commands(chat):
    chat.send("/help")
    assert "/dulieu để xem, /xoadulieu để xoá" in chat.replies[-1].text


# -- consent ----------------------------------------------------------------------------------


def test_a_report_filed_in_the_bot_records_the_notice_version(resident, version):
    code = _file_report(resident)
    assert _report(code).consent_version == version


def test_a_notice_changed_at_the_confirmation_is_shown_before_sending(app, chat, version):
    _to_confirmation(chat)
    app.config["PRIVACY_NOTICE_VERSION"] = "2026-07"
    chat.press("✅ Gửi")
    assert chat.replies[0].text.startswith(NOTICE.format("2026-07"))
    assert "kiểm tra lại" in chat.text, "asked again, not sent unread"
    assert db.session.scalar(select(func.count()).select_from(Report)) == 0
    chat.press("✅ Gửi")
    assert _report(_code(chat)).consent_version == "2026-07"


# -- /dulieu ----------------------------------------------------------------------------------


def test_my_data_link_opens_the_residents_data(resident, client):
    code = _file_report(resident)
    resident.send("/dulieu")
    [reply] = resident.replies
    assert "60 phút" in reply.text
    url = re.search(r"https?://\S+", reply.text).group()
    response = client.get(urlsplit(url).path)
    assert response.status_code == 200 and response.mimetype == "application/json"
    data = response.get_json()
    assert [r["code"] for r in data["reports"]] == [code]
    assert {"channel": resident.channel, "id": resident.user_id, "name": "Lan"} in data["accounts"]
    assert data["reports"][0]["consent_version"]


def test_my_data_when_nothing_is_held(ctx, dialog):
    someone = Chat(dialog, user_id="2002")
    someone.send("/dulieu")
    assert "không lưu dữ liệu cá nhân nào về bạn" in someone.replies[-1].text
    someone.send("/mydata")
    assert someone.replies == [someone.replies[-1]]
    assert "bạn chưa gửi hay theo dõi phản ánh nào" in someone.text
    assert "http" not in someone.text


# -- /xoadulieu -------------------------------------------------------------------------------


def test_erasure_refused_keeps_everything_and_goes_back_to_the_draft(chat):
    code = _file_report(chat)
    chat.send("/baocao")
    chat.send("Đèn đường hỏng cả tuần nay ở đường Bạch Đằng")
    chat.send("/xoadulieu")
    question = chat.replies[-1].text
    assert "Xoá dữ liệu cá nhân của bạn?" in question and "mã tài khoản Telegram" in question
    assert "không thể hoàn tác" in question and "không nhận được thông báo" in question
    assert chat.labels == ["🗑 Có, xoá dữ liệu", "Không"]
    chat.press("Không")
    assert "Dữ liệu của bạn được giữ nguyên" in chat.text
    assert "ảnh chụp hiện trường" in chat.text, "back to the draft's step"
    assert _identities("1001") == 1 and _conversations("1001") == 1
    assert _report(code).identity is not None

    chat.send(button="erase_yes")  # the old "yes" button, pressed later
    assert "không còn hiệu lực" in chat.text
    assert _identities("1001") == 1 and _report(code).identity is not None


def test_erasure_confirmed_forgets_the_resident_and_keeps_the_report(resident, client):
    code = _file_report(resident)
    resident.send("/dulieu")
    link = urlsplit(re.search(r"https?://\S+", resident.text).group()).path
    resident.send("/baocao")  # a second report being written, with a photo
    resident.send("Đèn đường hỏng cả tuần nay ở đường Bạch Đằng")
    resident.send(photo=make_jpeg())
    assert "Đã có 1 ảnh" in resident.text
    resident.send("/xoadulieu")
    resident.send("co", key="erase-yes-1")
    assert "Đã xoá dữ liệu cá nhân của bạn" in resident.text
    assert "công khai, không còn gắn với bạn: 1." in resident.text and code in resident.text

    db.session.expire_all()
    user_id = resident.user_id
    assert _identities(user_id) == 0 and _conversations(user_id) == 0
    assert db.session.scalar(select(func.count()).select_from(ConversationPhoto)) == 0
    report = _report(code)
    assert report.identity_id is None and report.resident_id is None
    assert db.session.scalar(select(InboundEvent.status).filter_by(event_id="erase-yes-1")) == (
        "done"
    )
    assert client.get(link).status_code == 404, "the link given before no longer opens"

    resident.send("xin chao")  # a new conversation, which holds nothing yet
    assert _notices(resident) and "Xin chào Lan" in resident.text
    resident.send("/dulieu")
    assert "không lưu dữ liệu cá nhân nào về bạn" in resident.text
    resident.send(f"/tracuu {code}")
    assert code in resident.text and "/t/" not in resident.text, "the public page only"


def test_erasing_with_nothing_held_erases_the_conversation_and_its_draft(chat):
    chat.send("/baocao")
    chat.send("Rác thải chất đống bốc mùi ở đầu kiệt 12 Bạch Đằng")
    chat.send("/deletemydata")
    chat.press("🗑 Có")
    assert "cuộc trò chuyện này và phản ánh đang soạn dở" in chat.text
    assert db.session.scalar(select(Conversation).filter_by(user_id="1001")) is None
    chat.send("/help")  # and the bot goes on
    assert "/dulieu" in chat.text


# -- on Zalo, through the webhook -------------------------------------------------------------


def test_the_erasure_is_confirmed_on_zalo_after_its_window_is_gone(app, client, fake_zalo, dialog):
    with app.app_context():
        code = SubmittedReportFactory(
            channel="zalo", identity=ChannelIdentityFactory(channel="zalo", external_id=ZALO_USER)
        ).code

    def post(event: dict) -> list[str]:
        raw, headers = fake_zalo.signed(event)
        assert client.post("/webhooks/zalo", data=raw, headers=headers).status_code == 200
        before = len(fake_zalo.sent)
        with app.app_context():
            row_id = db.session.scalar(
                select(InboundEvent.id).where(InboundEvent.event_id == zalo_event_key(event))
            )
            zalo_adapter.handle_event(row_id, dialog)
        return [m["message"].get("text", "") for m in fake_zalo.sent[before:]]

    notice, question = post(fake_zalo.text_event(ZALO_USER, "/xoadulieu"))
    assert notice.startswith("Thông báo xử lý") and "mã tài khoản Zalo" in question
    yes = fake_zalo.button_payloads(fake_zalo.last_to(ZALO_USER))["🗑 Có, xoá dữ liệu"]
    [done] = post(fake_zalo.text_event(ZALO_USER, yes))
    assert "Đã xoá dữ liệu cá nhân của bạn" in done and code in done
    with app.app_context():
        assert _identities(ZALO_USER) == 0 and _conversations(ZALO_USER) == 0
        assert db.session.get(ChannelWindow, ("zalo", ZALO_USER)) is None, "not written back"
        assert _report(code).identity_id is None
    [greeting] = post(fake_zalo.text_event(ZALO_USER, "xin chao"))[1:]
    assert "Xin chào" in greeting

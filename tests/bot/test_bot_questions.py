"""The bots ask the chosen category's questions (config/categories.yml): one at a time,
answers as buttons or typed, skippable unless required, stored with the report."""

from __future__ import annotations

import re

import pytest

from tests.bot.chat import Chat
from webapp.errors import ValidationError
from webapp.extensions import db
from webapp.models import Category, Report
from webapp.services.intake import reports


def _to_category(chat: Chat, description: str, category: str) -> None:
    """Describe, skip photos and place, press the category."""
    chat.send(description)
    chat.send("bo qua")
    chat.send("bo qua")
    chat.press(category)


def _sent(chat: Chat) -> Report:
    chat.press("✅ Gửi")
    match = re.search(r"PA-\d{4}-\d{6}", chat.text)
    assert match, chat.text
    return db.session.query(Report).filter_by(code=match.group()).one()


def test_a_required_question_cannot_be_skipped(chat):
    _to_category(chat, "Cây xanh gãy đổ chắn ngang vỉa hè", "Cây xanh")
    assert "Câu hỏi 1/1: Có ai bị thương không?" in chat.text
    assert chat.labels == ["Có", "Không"], "required: no skip button"
    chat.send("bo qua")
    assert "cần câu trả lời" in chat.text and "Có ai bị thương không?" in chat.text
    chat.send("hôm nay trời đẹp")
    assert "chọn một câu trả lời" in chat.text
    chat.press("Có")
    assert "Có ai bị thương không? Có" in chat.text, "the answer is shown to confirm"
    report = _sent(chat)
    assert report.attributes == {"anyone_hurt": "yes"}


def test_a_typed_answer_is_kept_and_a_number_typed_is_an_answer(chat):
    _to_category(chat, "Đèn đường hỏng cả tuần ở kiệt 45", "Đèn chiếu sáng công cộng")
    assert "Số hiệu cột đèn" in chat.text and chat.labels == ["Bỏ qua"]
    chat.send("1")  # the lamp-post's number, not the first button
    assert "kiểm tra lại" in chat.text
    report = _sent(chat)
    assert report.attributes == {"pole_number": "1"}


def test_an_optional_question_skipped_leaves_no_answer(chat):
    _to_category(chat, "Đèn đường hỏng cả tuần ở kiệt 45", "Đèn chiếu sáng công cộng")
    chat.press("Bỏ qua")
    report = _sent(chat)
    assert report.attributes is None


def test_number_questions_are_checked(chat):
    category = db.session.get(Category, "drainage_flooding")
    category.questions = [
        {
            "code": "depth_cm",
            "vi": "Nước ngập sâu bao nhiêu cm?",
            "en": "How deep (cm)?",
            "datatype": "number",
            "required": True,
        },
        {"code": "since", "vi": "Ngập từ khi nào?", "datatype": "string"},
    ]
    db.session.commit()
    _to_category(chat, "Nước ngập sâu cả con hẻm sau cơn mưa", "Thoát nước, ngập úng")
    assert "Câu hỏi 1/2: Nước ngập sâu bao nhiêu cm?" in chat.text
    chat.send("sâu lắm")
    assert "trả lời bằng một con số" in chat.text and "Câu hỏi 1/2" in chat.text
    chat.send("40,5")
    assert "Câu hỏi 2/2: Ngập từ khi nào?" in chat.text
    chat.send("từ 5 giờ sáng")
    report = _sent(chat)
    assert report.attributes == {"depth_cm": 40.5, "since": "từ 5 giờ sáng"}


def test_another_category_asks_its_own_questions_and_drops_the_answers(chat):
    _to_category(chat, "Cây xanh gãy đổ chắn ngang vỉa hè", "Cây xanh")
    chat.press("Không")
    chat.press("🏷 Đổi lĩnh vực")
    chat.send("hu hong duong")
    assert "Chỗ hư hỏng rộng khoảng bao nhiêu?" in chat.text
    chat.press("Lớn hơn một mét")
    report = _sent(chat)
    assert report.category_hint == "road_damage"
    assert report.attributes == {"size": "large"}, "the trees answer is not carried over"


def test_questions_in_english(chat):
    chat.send("/english")
    chat.send("A fallen tree is blocking the pavement on our lane")
    chat.press("Skip")
    chat.press("Skip")
    chat.press("Trees")
    assert "Question 1/1: Is anyone hurt?" in chat.text
    assert chat.labels == ["Yes", "No"]
    chat.press("No")
    assert "Is anyone hurt? No" in chat.text


def test_intake_refuses_a_bot_report_without_a_required_answer(ctx):
    draft = reports.ReportDraft(
        channel="telegram",
        description="Cây đổ chắn ngang đường, rất nguy hiểm",
        identity=reports.ChannelIdentity("telegram", "77", "Lan"),
        category_hint="trees",
        consent=True,
    )
    with pytest.raises(ValidationError) as refused:
        reports.submit_report(draft)
    assert refused.value.field == "attribute[anyone_hurt]"
    draft.attributes = {"anyone_hurt": "no"}
    assert reports.submit_report(draft).code

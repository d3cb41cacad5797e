"""Two problems in one message: the bot offers one report each (each has its own agency),
the second filed at the same place right after the first; or keeps one report."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.bot.chat import HAI_CHAU
from webapp.extensions import db
from webapp.models import Report

TWO = "Đèn đường hỏng cả tuần nay và rác ngập hẻm không ai dọn"


def _codes(chat) -> list[str]:
    return list(dict.fromkeys(re.findall(r"PA-\d{4}-\d{6}", chat.text)))


def test_a_message_with_two_problems_becomes_two_reports_at_the_same_place(chat):
    chat.send(TWO)
    assert "2 vấn đề khác nhau" in chat.text
    assert "1. Đèn đường hỏng cả tuần nay (Đèn chiếu sáng công cộng)" in chat.text
    assert "2. rác ngập hẻm không ai dọn (Rác thải)" in chat.text
    chat.press("✂️ Tách thành 2")
    chat.send("bo qua")  # no photo
    chat.send(location=HAI_CHAU)
    chat.press("Đèn chiếu sáng công cộng")
    chat.press("Bỏ qua")  # the lamp-post number
    chat.press("✅ Gửi")
    [first] = _codes(chat)
    assert "Tiếp theo, phản ánh về: rác ngập hẻm không ai dọn" in chat.text
    assert chat.labels[0] == "Rác thải", "the second problem's category is offered first"
    chat.press("Rác thải")
    chat.press("✅ Gửi")
    [second] = _codes(chat)
    reports = {r.code: r for r in db.session.scalars(select(Report))}
    assert set(reports) == {first, second}
    assert reports[first].description == "Đèn đường hỏng cả tuần nay"
    assert reports[first].category_hint == "street_lighting"
    assert reports[second].description == "rác ngập hẻm không ai dọn"
    assert reports[second].category_hint == "waste"
    assert (reports[second].lat, reports[second].lon) == (reports[first].lat, reports[first].lon)


def test_keeping_one_report_keeps_the_whole_message(chat):
    chat.send(TWO)
    chat.press("Giữ một phản ánh")
    assert "ảnh" in chat.text
    chat.send("bo qua")
    chat.send("bo qua")
    chat.press("Rác thải")
    chat.press("✅ Gửi")
    assert "Tiếp theo" not in chat.text
    [report] = db.session.scalars(select(Report)).all()
    assert report.description == TWO


def test_one_problem_said_twice_is_not_offered_a_split(chat):
    chat.send("Rác chất đống ở đầu kiệt và rác tràn ra đường Bạch Đằng")
    assert "vấn đề khác nhau" not in chat.text and "ảnh" in chat.text

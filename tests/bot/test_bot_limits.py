"""A resident over the intake limit on a messenger is answered politely, in Vietnamese."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.bot.chat import HAI_CHAU
from webapp.extensions import db
from webapp.models import Conversation, Report


def test_a_messenger_resident_is_told_politely_when_over_the_limit(limits_on, chat):
    for i in range(4):
        chat.send("/baocao")
        chat.send(f"Rác thải chất đống bốc mùi ở đầu kiệt {i} Bạch Đằng")
        chat.press("Bỏ qua")
        chat.send(location=HAI_CHAU)
        chat.press("Rác thải")
        chat.press("✅ Gửi")
    assert "nhiều phản ánh trong thời gian ngắn" in chat.text and "1022" in chat.text
    assert db.session.scalar(select(func.count()).select_from(Report)) == 3
    # The refused draft is kept: the resident can send it later.
    assert db.session.scalar(select(Conversation)).state != "idle"

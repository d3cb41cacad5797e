"""The bot speaks the resident's language: Vietnamese until /english, through the one catalog;
the report keeps that language, and what the resident is told later is written in it."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from flask_babel import force_locale
from sqlalchemy import select

from tests.bot.chat import Chat
from webapp.extensions import db
from webapp.models import Conversation, OutboxMessage, Report, ReportStatus
from webapp.models.types import utcnow
from webapp.services.casework import routing, workflow
from webapp.services.intake import followers
from webapp.services.messaging import conversations


def _code(chat: Chat) -> str:
    import re

    match = re.search(r"PA-\d{4}-\d{6}", chat.text)
    assert match, chat.text
    return match.group()


def _file_in_english(chat: Chat) -> Report:
    chat.send("/english")
    chat.send("/baocao")
    assert "Please describe the problem" in chat.text
    chat.send("Big pile of garbage at the corner of the market, it smells")
    assert chat.labels == ["Skip"]
    chat.press("Skip")
    assert "Where is it?" in chat.text
    assert chat.replies[-1].share_location_label == "📍 Send my current location"
    chat.send(location=(16.0702, 108.2249))
    assert "What kind of problem is it?" in chat.text
    assert "Waste and litter" in chat.labels, "category names in English"
    chat.press("Waste and litter")
    assert "Please check your report" in chat.text
    assert "Phường Hải Châu (the location you sent)" in chat.text
    chat.press("✅ Send")
    assert "Report sent. Your report code" in chat.text
    report = db.session.scalar(select(Report).where(Report.code == _code(chat)))
    assert report is not None
    return report


def test_english_on_request_for_every_step_and_vietnamese_back(chat):
    chat.send("/start")
    assert "Mình là trợ lý" in chat.text, "Vietnamese until the resident chooses"
    assert "/english" in chat.text, "the help says how to switch"
    chat.send("english")
    assert "From now on I reply in English" in chat.text
    assert "/tiengviet" in chat.text
    assert chat.labels == ["📝 File a report", "🔎 Look up a report code", "📋 My reports"]
    report = _file_in_english(chat)
    assert report.language == "en" and report.category_hint == "waste"
    chat.send(f"/tracuu {report.code}")
    assert f"📋 Report {report.code}: Received" in chat.text
    chat.send("/tiengviet")
    assert "Từ giờ mình trả lời bằng tiếng Việt" in chat.text
    chat.send("/cuatoi")
    assert "Phản ánh của bạn (mới nhất trước)" in chat.text and "Đã tiếp nhận" in chat.text


def test_a_refusal_by_a_service_is_said_in_the_residents_language(chat):
    chat.send("/english")
    chat.send("/baocao")
    chat.send("Pothole")  # too short for a report
    assert "Please give a little more detail" in chat.text
    assert "ít nhất" not in chat.text


def test_the_language_outlives_a_stale_draft(chat):
    chat.send("/english")
    chat.send("/baocao")
    chat.send("Garbage everywhere along the railway near the station")
    with time_machine.travel(utcnow() + timedelta(days=2)):
        chat.send("skip")
    assert "left too long, so it has been cancelled" in chat.text
    conversation = db.session.scalar(select(Conversation))
    assert conversation.data["lang"] == "en" and "draft" not in conversation.data


def test_the_outcome_reaches_the_resident_in_english_and_the_agency_in_vietnamese(chat):
    report = _file_in_english(chat)
    followers.follow(report, "telegram", "3003")  # a neighbour who never chose English
    db.session.commit()
    with force_locale("en"):  # a staff member working in English changes nothing
        report = db.session.get(Report, report.id)
        report.category_code = "waste"
        workflow.transition(report, ReportStatus.CLASSIFIED)
        routing.assign(report, routing.route("waste", report.unit_code))
        report.public_note = "Đã thu gom."
        workflow.transition(report, ReportStatus.RESOLVED, note="Đã thu gom.")
        db.session.commit()
        rows = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.report_id == report.id)
        ).all()
        to_author = [m for m in rows if m.dedupe_key.endswith(":resident")]
        to_follower = [m for m in rows if ":follower:" in m.dedupe_key]
        to_agency = [m for m in rows if m.dedupe_key.endswith(":agency")]
    assert any("has been sent to" in m.body for m in to_author)
    resolved = next(m for m in to_author if "has been resolved" in m.body)
    assert "Outcome: Đã thu gom." in resolved.body and resolved.subject == f"Report {report.code}"
    assert resolved.payload["buttons_prompt"].startswith("How would you rate the outcome?")
    assert to_follower and all("Cập nhật phản ánh bạn đang theo dõi" in m.body for m in to_follower)
    assert to_agency and "Phản ánh mới: Rác thải" in to_agency[0].subject
    assert "nhận phản ánh" in to_agency[0].body


def test_conversation_language_defaults_to_vietnamese(ctx):
    assert conversations.language("telegram", "nobody") == "vi"

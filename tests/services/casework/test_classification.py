"""Classification and routing of stored reports, against a stand-in Rasa server."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import SubmittedReportFactory
from webapp.extensions import db
from webapp.models import ReportStatus
from webapp.services.casework import classification


@pytest.mark.parametrize(
    ("text", "category", "agency"),
    [
        ("Đèn đường tắt cả tuần nay", "street_lighting", "CHIEUSANG"),
        ("Rác thải chất đống bốc mùi", "waste", "MTDT"),
        ("Ổ gà sâu giữa đường", "road_damage", "SXD"),
        ("Quán karaoke hát đến 2 giờ sáng", "noise", "UBND-"),  # the ward's committee
    ],
)
def test_confident_answer_is_routed_with_a_deadline(ctx, rasa, text, category, agency):
    report = SubmittedReportFactory(description=text)
    assert classification.classify_and_route(report.id) == "assigned"
    db.session.refresh(report)
    assert report.status == ReportStatus.ASSIGNED
    assert report.category_code == category and report.confidence > 0.9
    assert report.agency.code.startswith(agency)
    if agency == "UBND-":
        assert report.agency.code == f"UBND-{report.unit_code}"
    assert report.due_at is not None and report.nlu_ranking
    assert [e.to_status for e in report.events if e.kind == "status"] == [
        "received",
        "classified",
        "assigned",
    ]


def test_low_confidence_goes_to_triage(ctx, rasa):
    report = SubmittedReportFactory(description="Có chuyện gì đó không ổn ở đầu hẻm nhà tôi")
    assert classification.classify_and_route(report.id) == "triage:low_confidence"
    db.session.refresh(report)
    assert report.status == ReportStatus.NEEDS_TRIAGE and report.agency_id is None
    assert report.category_code == "other" and report.confidence < 0.6


def test_chit_chat_is_not_filed_as_a_report(ctx, rasa):
    report = SubmittedReportFactory(description="xin chào ad")
    assert classification.classify_and_route(report.id) == "triage:not_a_report"
    db.session.refresh(report)
    assert report.category_code is None and report.agency_id is None


def test_nlu_down_keeps_the_report_waiting_then_classifies_it(ctx, rasa):
    report = SubmittedReportFactory(description="Đèn đường hỏng trước cổng trường")
    rasa.available = False
    assert classification.classify_and_route(report.id) == "nlu-down"
    db.session.refresh(report)
    assert report.status == ReportStatus.RECEIVED and report.classify_attempts == 1
    rasa.available = True
    assert classification.classify_and_route(report.id) == "assigned"


def test_nlu_down_too_long_goes_to_triage(ctx, rasa):
    report = SubmittedReportFactory(description="Đèn đường hỏng trước cổng trường")
    report.created_at = report.created_at - timedelta(hours=2)
    db.session.commit()
    rasa.available = False
    assert classification.classify_and_route(report.id) == "triage:nlu_unavailable"


def test_running_twice_does_it_once(ctx, rasa):
    report = SubmittedReportFactory(description="Rác thải đổ trộm ven sông")
    assert classification.classify_and_route(report.id) == "assigned"
    assert classification.classify_and_route(report.id) == "already-done"
    db.session.refresh(report)
    assert sum(e.to_status == "assigned" for e in report.events) == 1


def test_ward_named_in_the_text_locates_a_report_without_a_point(ctx, rasa, monkeypatch):
    report = SubmittedReportFactory(
        description="Rác thải chất đống ở khu dân cư, không ai dọn", point=None
    )
    assert report.lat is None

    original = rasa.parse

    def with_entity(text):
        body = original(text)
        body["entities"] = [{"entity": "ward", "value": "Hải Châu", "start": 0, "end": 8}]
        return body

    monkeypatch.setattr(rasa, "parse", with_entity)
    assert classification.classify_and_route(report.id) == "assigned"
    db.session.refresh(report)
    assert report.unit.name == "Hải Châu" and report.location_source == "text"


def test_report_without_any_place_goes_to_triage(ctx, rasa):
    report = SubmittedReportFactory(description="Rác thải chất đống không ai dọn", point=None)
    assert classification.classify_and_route(report.id) == "triage:no_location"


def test_confirmed_category_from_the_bot_wins(ctx, rasa):
    report = SubmittedReportFactory(
        channel="telegram",
        description="Có chuyện không ổn ở đây",
        category_hint="trees",
        attributes={"anyone_hurt": "no"},  # the bot asked the category's required question
    )
    assert classification.classify_and_route(report.id) == "assigned"
    db.session.refresh(report)
    assert report.category_code == "trees" and report.agency.code == "CVCX"

"""Back-office actions through the services: each one leaves its trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.backoffice.conftest import USERS, agency, login, user
from tests.factories import AssignedReportFactory, SubmittedReportFactory
from tests.fixtures.images import make_jpeg
from webapp.errors import ValidationError
from webapp.extensions import db
from webapp.models import OutboxMessage, Report, ReportStatus
from webapp.models.types import utcnow
from webapp.permissions import Action, can
from webapp.services.casework import deadline_changes, duplicates, handling, moderation


def _kinds(report: Report) -> list[str]:
    db.session.refresh(report)
    return [e.kind if e.kind != "status" else e.to_status for e in report.events]


def test_accept_reply_resolve_reach_the_resident_and_the_tracking_page(app, ctx, client):
    report = AssignedReportFactory(agency="CHIEUSANG")
    staff = user(USERS["staff"])
    handling.accept(staff, report)
    handling.reply(staff, report, "Chúng tôi sẽ thay bóng đèn trong ngày mai.")
    handling.resolve(staff, report, "Đã thay bóng đèn mới.", make_jpeg(gps=(16.07, 108.22)))
    assert _kinds(report)[-3:] == ["in_progress", "reply", "resolved"]
    assert report.first_response_at is not None
    assert [p.kind for p in report.photos] == ["result"]
    bodies = db.session.scalars(
        select(OutboxMessage.body).where(
            OutboxMessage.report_id == report.id, OutboxMessage.recipient_kind == "resident"
        )
    ).all()
    assert any("thay bóng đèn trong ngày mai" in b for b in bodies)
    assert any("đã được xử lý xong" in b for b in bodies)
    page = client.get(f"/theo-doi/{report.code}").get_data(as_text=True)
    assert "thay bóng đèn trong ngày mai" in page and "Đã thay bóng đèn mới." in page


def test_internal_note_never_reaches_the_public(ctx, client):
    report = AssignedReportFactory(agency="CHIEUSANG")
    handling.add_note(user(USERS["staff"]), report, "Hộ này khiếu nại nhiều lần")
    assert "khiếu nại nhiều lần" not in client.get(f"/theo-doi/{report.code}").get_data(
        as_text=True
    )
    assert "khiếu nại" not in client.get(f"/api/v1/reports/{report.code}").get_data(as_text=True)


def test_asking_for_information_pauses_the_clock(ctx):
    report = AssignedReportFactory(agency="CHIEUSANG")
    due = report.due_at
    handling.request_info(user(USERS["staff"]), report, "Cột đèn số mấy?")
    assert report.waiting_since is not None
    report.waiting_since = utcnow() - timedelta(hours=2)
    handling.resume_clock(report, "Cột số 12")
    db.session.commit()
    assert report.waiting_since is None and report.due_at >= due


def test_transfer_refused_returns_to_triage_then_accepted_by_the_right_agency(ctx):
    report = AssignedReportFactory(agency="CHIEUSANG")
    staff, receiver = user(USERS["staff"]), user(USERS["other_staff"])
    handling.transfer(staff, report, agency("MTDT"), "Đây là rác thải, không phải đèn")
    assert can(receiver, Action.CONFIRM_TRANSFER, report)
    assert not can(staff, Action.RESOLVE, report), "sender only watches a pending transfer"
    handling.decide_transfer(receiver, report, False, "Không thuộc phạm vi thu gom")
    assert report.status == ReportStatus.NEEDS_TRIAGE
    handling.triage(user(USERS["operator"]), report, "waste", agency("MTDT"))
    assert report.status == ReportStatus.ASSIGNED and report.agency.code == "MTDT"
    assert can(receiver, Action.RESOLVE, report) and not can(staff, Action.VIEW, report)


def test_accepted_transfer_gets_a_new_deadline(ctx):
    report = AssignedReportFactory(agency="CHIEUSANG")
    handling.transfer(user(USERS["staff"]), report, agency("MTDT"), "Thuộc lĩnh vực rác thải")
    handling.decide_transfer(user(USERS["other_staff"]), report, True)
    assert report.status == ReportStatus.ASSIGNED and report.agency.code == "MTDT"
    assert report.due_at is not None


def test_triage_correction_is_kept_for_the_nlu(ctx):
    report = AssignedReportFactory(agency="CHIEUSANG")
    report.classified_at = utcnow()
    db.session.commit()
    from webapp.services.casework import workflow

    workflow.transition(report, ReportStatus.NEEDS_TRIAGE)
    db.session.commit()
    handling.triage(user(USERS["operator"]), report, "waste")
    correction = next(e for e in report.events if e.kind == "category_correction")
    assert correction.data["corrected"] == "waste"
    assert correction.data["predicted"] == "street_lighting"
    assert correction.data["text"] == report.description


def test_extension_requested_then_approved_moves_the_deadline(ctx):
    report = AssignedReportFactory(agency="CHIEUSANG")
    first_due = report.due_at
    deadline_changes.request_extension(user(USERS["staff"]), report, 5, "Chờ vật tư thay thế")
    deadline_changes.decide_extension(user(USERS["operator"]), report, True)
    assert report.extension_status == "approved"
    assert report.due_at > first_due and report.original_due_at == first_due


def test_reject_needs_a_listed_reason_and_tells_the_resident(ctx):
    report = AssignedReportFactory(agency="CHIEUSANG")
    with pytest.raises(ValidationError):
        handling.reject(user(USERS["staff"]), report, "because")
    handling.reject(user(USERS["staff"]), report, "private_dispute")
    assert report.status == ReportStatus.REJECTED
    assert "Tranh chấp dân sự" in report.events[-1].note


def test_duplicate_points_to_the_original(ctx):
    original, copy = (
        AssignedReportFactory(agency="CHIEUSANG"),
        AssignedReportFactory(agency="CHIEUSANG"),
    )
    duplicates.mark_duplicate(user(USERS["staff"]), copy, original)
    assert copy.status == ReportStatus.DUPLICATE and copy.duplicate_of_id == original.id


def test_moderation_hides_a_photo_and_locks_the_resident(ctx, client):
    report = AssignedReportFactory(agency="CHIEUSANG")
    operator = user(USERS["operator"])
    handling.resolve(user(USERS["staff"]), report, "Xong", make_jpeg())
    photo = report.photos[0]
    moderation.moderate_photo(operator, report, photo, "hide")
    assert client.get(f"/anh/{photo.key}/web.jpg").status_code == 404
    moderation.lock_resident(operator, report)
    assert report.resident.locked


def test_hotline_call_goes_through_intake(app, client):
    login(client, "operator")
    resp = client.post(
        "/bo/ioc/1022",
        data={
            "description": "Người dân gọi báo cây đổ chắn đường",
            "address": "phường Hải Châu",
            "consent": "1",
        },
    )
    assert resp.status_code == 302
    with app.app_context():
        report = db.session.scalar(select(Report).where(Report.channel == "hotline"))
        assert report.created_by_id == user(USERS["operator"]).id
        assert report.unit is not None


def test_search_without_diacritics_finds_the_report(app, client, ctx):
    report = AssignedReportFactory(agency="CHIEUSANG", description="Đèn đường trước chợ Hàn bị tắt")
    page = login(client, "staff").get("/bo/?q=den duong truoc cho han").get_data(as_text=True)
    assert report.code in page


def test_info_received_resumes_the_clock_and_moves_the_deadline(ctx, client, app):
    report = AssignedReportFactory(agency="CHIEUSANG")
    due = report.due_at
    handling.request_info(user(USERS["staff"]), report, "Cột đèn số mấy?")
    report.waiting_since = utcnow() - timedelta(days=3)
    db.session.commit()
    login(client, "staff")
    resp = client.post(f"/bo/r/{report.code}/info_received", data={"text": "Cột số 12"})
    assert resp.status_code == 302
    db.session.refresh(report)
    assert report.waiting_since is None and report.due_at > due
    assert report.events[-1].kind == "info_received"


def test_resident_of_a_duplicate_follows_the_original(ctx):
    from webapp.services.intake import followers

    original = AssignedReportFactory(agency="CHIEUSANG")
    copy = SubmittedReportFactory(
        telegram=True,
        identity__external_id="555123",
        identity__display_name="Minh",
        description="Đèn đường hỏng đoạn này nữa",
    )
    handling.triage(user(USERS["operator"]), copy, "street_lighting", agency("CHIEUSANG"))
    duplicates.mark_duplicate(user(USERS["staff"]), copy, original)
    ids = [i.external_id for i in followers.follower_identities(original)]
    assert "555123" in ids

"""Workflow guardrails (issue 12): the findings of the security review, reproduced and closed.

a. an agency moved its own deadline without the IOC;
b. changing the urgency erased that a report was overdue and escalated;
c. "duplicate of" accepted another agency's report, the report itself, or a loop;
d. "nearby" showed other agencies' reports to an agency.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.backoffice.conftest import USERS, agency, login, user
from tests.factories import AssignedReportFactory
from webapp.errors import PermissionDenied, ValidationError
from webapp.extensions import db
from webapp.models import Report, ReportEvent, ReportStatus
from webapp.models.types import utcnow
from webapp.services.casework import deadline_changes, duplicates, handling
from webapp.services.ioc import queries, stats
from webapp.services.sla import deadlines
from webapp.services.sla.sweep import run_sweep


def _fresh(code: str) -> Report:
    db.session.expire_all()
    return db.session.scalar(select(Report).where(Report.code == code))


def _count(report: Report, kind: str) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(ReportEvent)
        .where(ReportEvent.report_id == report.id, ReportEvent.kind == kind)
    )


def _make_overdue(report: Report) -> None:
    """Put the deadline an hour in the past and let the sweep escalate the report."""
    report.due_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    assert run_sweep(utcnow(), requeue=False).escalated == 1
    db.session.refresh(report)
    assert report.overdue and report.escalated_at is not None


def _on_overdue_list(report: Report) -> bool:
    listed = db.session.scalars(
        queries.where(select(Report.code), queries.ReportFilter(due="overdue"))
    ).all()
    units = {u.agency_id for u in stats.overdue_agencies()}
    return report.code in listed and report.agency_id in units


# ---------------------------------------------------------------- a. deadlines and extensions


def test_a_lead_cannot_move_its_own_deadline_by_changing_the_urgency(app, ctx):
    # The finding: the lead "reclassified" a street-lighting report normal → complex and its
    # deadline moved 7 working days later (9 calendar days over a weekend), no IOC involved.
    report = AssignedReportFactory(agency="CHIEUSANG")
    due = report.due_at
    client = login(app.test_client(), "lead")
    resp = client.post(
        f"/bo/r/{report.code}/urgency", data={"urgency": "complex", "reason": "phức tạp"}
    )
    assert resp.status_code == 403
    after = _fresh(report.code)
    assert (after.due_at, after.urgency) == (due, "normal")
    assert _count(after, "urgency") == 0
    with pytest.raises(PermissionDenied):
        deadline_changes.change_urgency(user(USERS["lead"]), after, "complex", "phức tạp")
    # The form is not offered either.
    page = client.get(f"/bo/r/{report.code}").get_data(as_text=True)
    assert 'id="form-urgency"' not in page


def test_an_extension_request_does_not_move_the_deadline(ctx):
    report = AssignedReportFactory(agency="CHIEUSANG")
    due = report.due_at
    deadline_changes.request_extension(user(USERS["lead"]), report, 5, "Chờ vật tư thay thế")
    report = _fresh(report.code)
    assert report.due_at == due and report.extension_status == "requested"
    assert report.extension_until == deadlines.working_calendar().add_working_days(due, 5)


def test_an_open_request_cannot_be_replaced_under_the_iocs_eyes(app, ctx):
    # Staff ask 3 days; the IOC reads "3 days"; the lead then asked 30 and the approval
    # granted 30. One open request at a time: the second is refused.
    report = AssignedReportFactory(agency="CHIEUSANG")
    due = report.due_at
    deadline_changes.request_extension(user(USERS["staff"]), report, 3, "Chờ vật tư")
    until = report.extension_until
    client = login(app.test_client(), "lead")
    resp = client.post(f"/bo/r/{report.code}/extension", data={"days": "30", "reason": "thêm"})
    assert resp.status_code == 302
    report = _fresh(report.code)
    assert report.extension_until == until and _count(report, "extension_request") == 1
    with pytest.raises(ValidationError):
        deadline_changes.request_extension(user(USERS["lead"]), report, 30, "Thêm thời gian")
    deadline_changes.decide_extension(user(USERS["operator"]), report, True)
    report = _fresh(report.code)
    assert report.due_at == deadlines.working_calendar().add_working_days(due, 3)
    assert report.original_due_at == due and report.extension_status == "approved"


def test_the_ioc_desk_shows_what_is_asked(app):
    from webapp.templating import localtime

    with app.app_context():
        report = AssignedReportFactory(agency="CHIEUSANG")
        deadline_changes.request_extension(user(USERS["staff"]), report, 4, "Chờ vật tư")
        code, shown = report.code, (localtime(report.due_at), localtime(report.extension_until))
    page = login(app.test_client(), "operator").get("/bo/ioc/dieu-phoi").get_data(as_text=True)
    assert code in page and f"{shown[0]} → {shown[1]}" in page


@pytest.mark.parametrize("days", [0, 31, -1, True, 365])
def test_extension_days_are_bounded(ctx, days):
    report = AssignedReportFactory(agency="CHIEUSANG")
    with pytest.raises(ValidationError):
        deadline_changes.request_extension(user(USERS["staff"]), report, days, "Chờ vật tư")
    assert _fresh(report.code).extension_status is None


def test_extension_days_are_bounded_by_url(app, ctx):
    report = AssignedReportFactory(agency="CHIEUSANG")
    client = login(app.test_client(), "staff")
    resp = client.post(f"/bo/r/{report.code}/extension", data={"days": "31", "reason": "lâu"})
    assert resp.status_code == 422
    assert _fresh(report.code).extension_status is None


@pytest.mark.parametrize("role", ["staff", "lead", "parent_lead"])
def test_the_agency_never_decides_its_own_extension(app, ctx, role):
    report = AssignedReportFactory(agency="CHIEUSANG")
    due = report.due_at
    deadline_changes.request_extension(user(USERS["staff"]), report, 10, "Chờ vật tư")
    client = login(app.test_client(), role)
    assert client.post(f"/bo/r/{report.code}/approve_extension", data={}).status_code == 403
    report = _fresh(report.code)
    assert report.due_at == due and report.extension_status == "requested"


def test_the_ioc_decides_but_never_asks(ctx):
    # An administrator could ask for an extension and approve it himself.
    report = AssignedReportFactory(agency="CHIEUSANG")
    with pytest.raises(PermissionDenied):
        deadline_changes.request_extension(user(USERS["admin"]), report, 5, "Tự gia hạn")
    # Even a request written by an account that now decides is not decided by it.
    deadline_changes.request_extension(user(USERS["staff"]), report, 5, "Chờ vật tư")
    request = next(e for e in report.events if e.kind == "extension_request")
    request.actor_id = user(USERS["operator"]).id
    db.session.commit()
    with pytest.raises(PermissionDenied):
        deadline_changes.decide_extension(user(USERS["operator"]), report, True)
    deadline_changes.decide_extension(user(USERS["admin"]), report, False, "Không đủ lý do")
    assert _fresh(report.code).extension_status == "refused"


def test_extension_only_while_the_agency_holds_the_report(ctx):
    report = AssignedReportFactory(agency="CHIEUSANG")
    handling.resolve(user(USERS["staff"]), report, "Đã thay bóng đèn")
    with pytest.raises(ValidationError):
        deadline_changes.request_extension(user(USERS["staff"]), report, 5, "Muộn rồi")


def test_approved_days_count_from_the_deadline_at_the_decision(ctx):
    # The deadline moved after the request (the clock paused for the resident): approving
    # must not give back a deadline earlier than the current one.
    report = AssignedReportFactory(agency="CHIEUSANG")
    deadline_changes.request_extension(user(USERS["staff"]), report, 2, "Chờ vật tư")
    cal = deadlines.working_calendar()
    moved = report.due_at = cal.add_working_days(report.due_at, 3)
    db.session.commit()
    deadline_changes.decide_extension(user(USERS["operator"]), report, True)
    assert _fresh(report.code).due_at == cal.add_working_days(moved, 2)


def test_a_lead_cannot_reset_its_deadline_through_a_transfer_it_confirms(app, ctx):
    # Confirming a transfer gives a fresh deadline: SXD's lead sends its sub-agency's late
    # report to SXD and confirms it himself.
    report = AssignedReportFactory(agency="CHIEUSANG")
    _make_overdue(report)
    due = report.due_at
    client = login(app.test_client(), "parent_lead")
    resp = client.post(
        f"/bo/r/{report.code}/transfer",
        data={"agency": str(agency("SXD").id), "reason": "Sở xử lý trực tiếp"},
    )
    assert resp.status_code == 302
    assert client.post(f"/bo/r/{report.code}/accept_transfer", data={}).status_code == 403
    report = _fresh(report.code)
    assert report.status == ReportStatus.TRANSFERRED and report.due_at == due
    assert report.escalated_at is not None


# ---------------------------------------------------------------- b. urgency keeps the history


def test_changing_the_urgency_never_erases_overdue_and_escalation(ctx):
    report = AssignedReportFactory(agency="CHIEUSANG")
    _make_overdue(report)
    stamps = (report.escalated_at, report.due_at)
    assert _on_overdue_list(report)
    deadline_changes.change_urgency(user(USERS["operator"]), report, "complex", "Cần thay cáp ngầm")
    report = _fresh(report.code)
    assert report.urgency == "complex"
    assert report.overdue and (report.escalated_at, report.due_at) == stamps
    assert _on_overdue_list(report), "a late report stays on the overdue list"
    assert _count(report, "escalation") == 1
    event = report.events[-1]
    assert event.kind == "urgency" and event.data["was_overdue"] and event.data["deadline_kept"]
    # The sweep does not escalate it a second time either.
    assert run_sweep(utcnow(), requeue=False).escalated == 0


def test_a_shorter_class_applies_to_an_overdue_report_and_keeps_its_stamps(ctx):
    report = AssignedReportFactory(agency="CHIEUSANG")
    _make_overdue(report)
    escalated_at = report.escalated_at
    deadline_changes.change_urgency(user(USERS["operator"]), report, "urgent", "Nguy hiểm")
    report = _fresh(report.code)
    assert report.overdue and report.escalated_at == escalated_at
    assert _on_overdue_list(report)


def test_a_report_on_time_follows_its_new_class_and_keeps_the_time_granted(ctx):
    report = AssignedReportFactory(agency="CHIEUSANG")
    deadline_changes.request_extension(user(USERS["staff"]), report, 5, "Chờ vật tư")
    deadline_changes.decide_extension(user(USERS["operator"]), report, True)
    first_due = report.original_due_at
    deadline_changes.change_urgency(user(USERS["admin"]), report, "complex", "Phải đào đường")
    report = _fresh(report.code)
    cal = deadlines.working_calendar()
    start = next(e.created_at for e in report.events if e.to_status == ReportStatus.ASSIGNED)
    complex_due = deadlines.calendar.due_at(report.category, "complex", start, cal)
    assert report.due_at == cal.add_working_days(complex_due, 5), "the 5 days granted stay"
    assert report.original_due_at == first_due and not report.overdue
    assert report.events[-1].data["deadline_kept"] is False


def test_urgency_needs_a_reason_and_a_change(ctx):
    report = AssignedReportFactory(agency="CHIEUSANG")
    with pytest.raises(ValidationError):
        deadline_changes.change_urgency(user(USERS["operator"]), report, "complex", "")
    with pytest.raises(ValidationError):
        deadline_changes.change_urgency(user(USERS["operator"]), report, "normal", "Giữ nguyên")


# ---------------------------------------------------------------- c. duplicate of


def _post_duplicate(app, who: str, code: str, original: str):
    client = login(app.test_client(), who)
    return client.post(f"/bo/r/{code}/duplicate", data={"original": original})


def test_an_agency_cannot_close_its_report_as_a_duplicate_of_another_agencys(app, ctx):
    mine = AssignedReportFactory(agency="CHIEUSANG")
    theirs = AssignedReportFactory(agency="MTDT", description="Rác thải chất đống đầu kiệt")
    resp = _post_duplicate(app, "staff", mine.code, theirs.code)
    assert resp.status_code == 302
    after = _fresh(mine.code)
    assert after.status == ReportStatus.ASSIGNED and after.duplicate_of_id is None
    # Same answer as for a code that does not exist: nothing learnt about other agencies.
    page = login(app.test_client(), "staff").get(f"/bo/r/{mine.code}")
    unknown = _post_duplicate(app, "staff", mine.code, "PA-0000-000999")
    assert unknown.status_code == 302 and page.status_code == 200
    for code in (theirs.code, "PA-0000-000999"):
        with pytest.raises(ValidationError) as error:
            duplicates.find_original(user(USERS["staff"]), code)
        assert error.value.message_vi == "Không tìm thấy phản ánh gốc có mã này."


def test_a_lead_cannot_cross_agencies_inside_its_own_tree(ctx):
    # SXD's lead sees CHIEUSANG's reports, but pointing one agency's report to another's is
    # the IOC's call.
    mine = AssignedReportFactory(agency="CHIEUSANG")
    parent = AssignedReportFactory(agency="SXD", description="Ổ gà lớn trên đường Bạch Đằng")
    lead = user(USERS["parent_lead"])
    with pytest.raises(ValidationError):
        duplicates.mark_duplicate(lead, mine, duplicates.find_original(lead, parent.code))
    assert _fresh(mine.code).status == ReportStatus.ASSIGNED


def test_the_ioc_may_mark_a_duplicate_across_agencies(ctx):
    mine = AssignedReportFactory(agency="CHIEUSANG")
    theirs = AssignedReportFactory(agency="MTDT", description="Rác thải chất đống đầu kiệt")
    operator = user(USERS["operator"])
    duplicates.mark_duplicate(operator, mine, duplicates.find_original(operator, theirs.code))
    assert _fresh(mine.code).duplicate_of_id == theirs.id


def test_a_report_is_never_a_duplicate_of_itself(app, ctx):
    report = AssignedReportFactory(agency="CHIEUSANG")
    assert _post_duplicate(app, "operator", report.code, report.code).status_code == 302
    assert _fresh(report.code).status == ReportStatus.ASSIGNED


def test_duplicates_never_loop(ctx):
    a, b = AssignedReportFactory(agency="CHIEUSANG"), AssignedReportFactory(agency="CHIEUSANG")
    staff = user(USERS["staff"])
    duplicates.mark_duplicate(staff, a, b)
    # b, the original, is still open: closing it as a duplicate of a would close the loop.
    with pytest.raises(ValidationError):
        duplicates.mark_duplicate(staff, b, _fresh(a.code))
    assert _fresh(b.code).status == ReportStatus.ASSIGNED and _fresh(b.code).duplicate_of_id is None


def test_a_duplicate_of_a_duplicate_points_to_the_report_still_standing(ctx):
    a, b, c = (
        AssignedReportFactory(agency="CHIEUSANG"),
        AssignedReportFactory(agency="CHIEUSANG"),
        AssignedReportFactory(agency="CHIEUSANG"),
    )
    staff = user(USERS["staff"])
    duplicates.mark_duplicate(staff, a, b)
    duplicates.mark_duplicate(staff, c, _fresh(a.code))
    assert _fresh(c.code).duplicate_of_id == b.id


# ---------------------------------------------------------------- d. nearby


@pytest.mark.parametrize("role", ["staff", "lead", "parent_lead"])
def test_nearby_shows_other_agencies_reports_as_a_count_only(app, ctx, role):
    mine = AssignedReportFactory(agency="CHIEUSANG")
    near_mine = AssignedReportFactory(
        agency="CHIEUSANG", description="Cột đèn nghiêng sắp đổ gần đó"
    )
    theirs = [
        AssignedReportFactory(agency="MTDT", description="Rác thải chất đống đầu kiệt"),
        AssignedReportFactory(agency="MTDT", description="Xe rác làm rơi vãi nước thải"),
    ]
    handling.reject(user(USERS["other_staff"]), theirs[1], "already_handled")
    page = login(app.test_client(), role).get(f"/bo/r/{mine.code}").get_data(as_text=True)
    assert near_mine.code in page and "Cột đèn nghiêng" in page
    for other in theirs:
        assert other.code not in page and other.description[:20] not in page
    section = page.split("Phản ánh gần đây</h2>")[1].split("Lịch sử")[0]
    assert "Không tiếp nhận" not in section, "nor their status"
    assert "2 phản ánh gần đây của đơn vị khác" in page


@pytest.mark.parametrize("role", ["operator", "viewer", "admin"])
def test_the_ioc_still_sees_every_nearby_report(app, ctx, role):
    mine = AssignedReportFactory(agency="CHIEUSANG")
    theirs = AssignedReportFactory(agency="MTDT", description="Rác thải chất đống đầu kiệt")
    page = login(app.test_client(), role).get(f"/bo/r/{mine.code}").get_data(as_text=True)
    assert theirs.code in page and "Rác thải chất đống" in page
    assert "của đơn vị khác" not in page


def test_nearby_for_counts_what_it_hides(ctx):
    mine = AssignedReportFactory(agency="CHIEUSANG")
    AssignedReportFactory(agency="MTDT", description="Rác thải chất đống đầu kiệt")
    shown = duplicates.nearby_for(user(USERS["staff"]), mine)
    assert (shown.reports, shown.others) == ([], 1)
    ioc = duplicates.nearby_for(user(USERS["viewer"]), mine)
    assert len(ioc.reports) == 1 and ioc.others == 0

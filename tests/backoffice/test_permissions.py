"""Authorization matrix: every role × every action × own/other agency, by service and by URL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.backoffice.conftest import USERS, agency, login, user
from tests.factories import RESIDENT_NAME, RESIDENT_PHONE, AssignedReportFactory
from webapp.errors import PermissionDenied, ValidationError
from webapp.extensions import db
from webapp.models import Report, ReportStatus
from webapp.permissions import Action, can, visible_reports

A = Action
AGENCY = {
    A.VIEW, A.ACCEPT, A.REPLY, A.REQUEST_INFO, A.RESOLVE, A.TRANSFER, A.REJECT,
    A.MARK_DUPLICATE, A.REQUEST_EXTENSION, A.NOTE,
}  # fmt: skip
# Deadlines belong to the IOC: no agency role changes the urgency (it moves the deadline).
LEAD = AGENCY | {A.ASSIGN_PERSON}
OPERATOR = {
    A.VIEW, A.TRIAGE, A.DECIDE_EXTENSION, A.CHANGE_URGENCY, A.MODERATE, A.VIEW_IDENTITY,
    A.NOTE, A.REJECT, A.MARK_DUPLICATE, A.REPLY, A.CONFIRM_TRANSFER,
}  # fmt: skip
VIEWER = {A.VIEW, A.VIEW_IDENTITY}
# An extension is asked by the agency holding the report, never by the IOC that decides it.
ADMIN = set(Action) - {A.REQUEST_EXTENSION}

# role → (allowed on the own agency's report, allowed on another agency's report)
EXPECTED = {
    "staff": (AGENCY, set()),
    "lead": (LEAD, set()),
    "parent_lead": (LEAD, set()),  # SXD's lead: CHIEUSANG is a sub-agency
    "other_staff": (set(), AGENCY),  # MTDT staff: "own" is CHIEUSANG's, "other" is theirs
    "operator": (OPERATOR, OPERATOR),
    "viewer": (VIEWER, VIEWER),
    "admin": (ADMIN, ADMIN),
}


@pytest.mark.parametrize("role", list(EXPECTED))
@pytest.mark.parametrize("action", list(Action))
def test_matrix(ctx, reports, role, action):
    u = user(USERS[role])
    own = db.session.scalar(select(Report).where(Report.code == reports["own"]))
    other = db.session.scalar(select(Report).where(Report.code == reports["other"]))
    want_own, want_other = EXPECTED[role]
    # No transfer is pending, so nobody confirms one on these reports.
    want_own, want_other = want_own - {A.CONFIRM_TRANSFER}, want_other - {A.CONFIRM_TRANSFER}
    assert can(u, action, own) is (action in want_own), f"{role} {action} own"
    assert can(u, action, other) is (action in want_other), f"{role} {action} other"


# role → may confirm a transfer it did not request itself (CHIEUSANG → SXD, by CHIEUSANG staff).
CONFIRMS_TRANSFER_TO_SXD = {
    "staff": False,  # the sender only watches
    "lead": False,  # SXD is CHIEUSANG's parent, not in its lead's scope
    "parent_lead": True,  # the receiving agency
    "other_staff": False,
    "operator": True,
    "viewer": False,
    "admin": True,
}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_matrix_confirm_transfer(ctx, role):
    from webapp.services.casework import handling

    report = AssignedReportFactory(agency="CHIEUSANG")
    handling.transfer(user(USERS["staff"]), report, agency("SXD"), "Thuộc Sở Xây dựng")
    assert can(user(USERS[role]), A.CONFIRM_TRANSFER, report) is CONFIRMS_TRANSFER_TO_SXD[role]


@pytest.mark.parametrize("requester", ["parent_lead", "admin"])
def test_nobody_confirms_the_transfer_they_requested(ctx, requester):
    # Confirming gives a new deadline: a lead sending its report to its own sub- or parent
    # agency and confirming it would extend its deadline without the IOC.
    from webapp.services.casework import handling

    report = AssignedReportFactory(agency="CHIEUSANG")
    who = user(USERS[requester])
    handling.transfer(who, report, agency("SXD"), "Thuộc Sở Xây dựng")
    assert not can(who, A.CONFIRM_TRANSFER, report)
    assert can(user(USERS["operator"]), A.CONFIRM_TRANSFER, report)
    with pytest.raises(PermissionDenied):
        handling.decide_transfer(who, report, True)


# role → decides an extension that CHIEUSANG staff asked for (own report; other: MTDT's report)
DECIDES_EXTENSION = {
    "staff": (False, False),
    "lead": (False, False),
    "parent_lead": (False, False),
    "other_staff": (False, False),
    "operator": (True, True),
    "viewer": (False, False),
    "admin": (True, True),
}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_matrix_extension_request_and_decision(ctx, reports, role):
    from webapp.services.casework import deadline_changes

    own = db.session.scalar(select(Report).where(Report.code == reports["own"]))
    other = db.session.scalar(select(Report).where(Report.code == reports["other"]))
    deadline_changes.request_extension(user(USERS["staff"]), own, 3, "Chờ vật tư")
    deadline_changes.request_extension(user(USERS["other_staff"]), other, 3, "Chờ xe chuyên dụng")
    u = user(USERS[role])
    assert (can(u, A.DECIDE_EXTENSION, own), can(u, A.DECIDE_EXTENSION, other)) == (
        DECIDES_EXTENSION[role]
    )
    agency_role = role in ("staff", "lead", "parent_lead", "other_staff")
    assert can(u, A.REQUEST_EXTENSION) is agency_role


# role → may point a duplicate (own agency's report) to: own agency's report, another agency's
DUPLICATE_TARGETS = {
    "staff": (True, False),
    "lead": (True, False),
    "parent_lead": (True, False),
    "operator": (True, True),
    "admin": (True, True),
}


@pytest.mark.parametrize("role", list(DUPLICATE_TARGETS))
@pytest.mark.parametrize("target", ["own", "other"])
def test_matrix_duplicate_target(ctx, reports, role, target):
    from webapp.services.casework import duplicates

    copy = AssignedReportFactory(agency="CHIEUSANG", description="Đèn đường lại hỏng ở Bạch Đằng")
    u = user(USERS[role])
    allowed = DUPLICATE_TARGETS[role][0 if target == "own" else 1]
    try:
        duplicates.mark_duplicate(u, copy, duplicates.find_original(u, reports[target]))
    except ValidationError:
        db.session.rollback()
        assert not allowed
        assert db.session.get(Report, copy.id).status == ReportStatus.ASSIGNED
    else:
        assert allowed
        assert copy.status == ReportStatus.DUPLICATE


@pytest.mark.parametrize("role", list(EXPECTED))
def test_matrix_nearby(app, reports, role):
    # Both reports stand 0 m from each other (AssignedReportFactory uses one point).
    mine, theirs = ("other", "own") if role == "other_staff" else ("own", "other")
    with app.app_context():
        neighbour = db.session.scalar(select(Report).where(Report.code == reports[theirs]))
        text = neighbour.description
    page = login(app.test_client(), role).get(f"/bo/r/{reports[mine]}").get_data(as_text=True)
    if role in ("operator", "viewer", "admin"):
        assert reports[theirs] in page and text in page
        assert "của đơn vị khác" not in page
    else:
        assert reports[theirs] not in page and text not in page
        assert "1 phản ánh gần đây của đơn vị khác" in page


@pytest.mark.parametrize("role", ["staff", "lead", "parent_lead"])
def test_agency_lists_only_show_their_reports(ctx, reports, role):
    codes = set(
        db.session.scalars(visible_reports(user(USERS[role])).with_only_columns(Report.code))
    )
    assert reports["own"] in codes and reports["other"] not in codes


def test_staff_see_no_report_of_another_agency_by_url_guessing(app, reports):
    client = login(app.test_client(), "staff")
    assert client.get(f"/bo/r/{reports['own']}").status_code == 200
    assert client.get(f"/bo/r/{reports['other']}").status_code == 404
    listing = client.get("/bo/?status=&q=").get_data(as_text=True)
    assert reports["own"] in listing and reports["other"] not in listing


ACTIONS = [
    ("accept", {}),
    ("reply", {"text": "Đã xử lý xong"}),
    ("request_info", {"text": "Địa chỉ chính xác?"}),
    ("resolve", {"note": "Đã thay bóng đèn"}),
    ("transfer", {"agency": "1", "reason": "Không thuộc thẩm quyền"}),
    ("reject", {"reason": "abusive"}),
    ("duplicate", {"original": "PA-0000-000000"}),
    ("note", {"text": "ghi chú"}),
    ("assign_person", {"assignee": "1"}),
    ("urgency", {"urgency": "urgent", "reason": "nguy hiểm"}),
    ("extension", {"days": "3", "reason": "cần vật tư"}),
    ("approve_extension", {}),
    ("triage", {"category": "waste"}),
    ("redact", {"text": "nội dung đã ẩn"}),
    ("lock_resident", {}),
    ("accept_transfer", {}),
    ("refuse_transfer", {"note": "không phải của chúng tôi"}),
]


@pytest.mark.parametrize(("action", "form"), ACTIONS, ids=[a for a, _ in ACTIONS])
@pytest.mark.parametrize("role", ["staff", "lead", "other_staff_reverse"])
def test_no_action_changes_another_agencys_report(app, reports, role, action, form):
    who, target = (
        ("other_staff", reports["own"]) if role.endswith("reverse") else (role, reports["other"])
    )
    client = login(app.test_client(), who)
    with app.app_context():
        before = db.session.scalar(select(Report).where(Report.code == target))
        state = (before.status, len(before.events), before.description, before.agency_id)
    resp = client.post(f"/bo/r/{target}/{action}", data=form)
    assert resp.status_code == 404
    with app.app_context():
        after = db.session.scalar(select(Report).where(Report.code == target))
        assert (after.status, len(after.events), after.description, after.agency_id) == state


@pytest.mark.parametrize("role", ["staff", "lead", "other_staff"])
def test_agency_pages_never_show_the_residents_identity(app, ctx, role):
    report = AssignedReportFactory(agency="CHIEUSANG" if role != "other_staff" else "MTDT")
    client = login(app.test_client(), role)
    for url in (f"/bo/r/{report.code}", "/bo/?status=&q=", f"/bo/?q={report.code}"):
        page = client.get(url).get_data(as_text=True)
        assert RESIDENT_PHONE not in page and RESIDENT_NAME not in page, url


@pytest.mark.parametrize("role", ["operator", "viewer", "admin"])
def test_ioc_sees_the_residents_identity(app, ctx, role):
    report = AssignedReportFactory(agency="CHIEUSANG")
    page = login(app.test_client(), role).get(f"/bo/r/{report.code}").get_data(as_text=True)
    assert RESIDENT_PHONE in page


@pytest.mark.parametrize("role", ["staff", "lead", "viewer"])
def test_desk_pages_are_for_operators(app, role):
    client = login(app.test_client(), role)
    assert client.get("/bo/ioc/dieu-phoi").status_code == 403
    assert client.get("/bo/ioc/1022").status_code == 403


def test_anonymous_is_sent_to_login(client):
    resp = client.get("/bo/")
    assert resp.status_code == 302 and "/bo/login" in resp.location

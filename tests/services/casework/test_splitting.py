"""A message naming two problems waits for an operator, who splits it: one report per
problem, the same resident and place, each routed to its own agency."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.backoffice.conftest import USERS, user
from tests.factories import SubmittedReportFactory
from webapp.errors import NotFound, PermissionDenied, ValidationError
from webapp.extensions import db
from webapp.models import Report, ReportEvent, ReportStatus
from webapp.services.casework import classification, splitting

TWO = "Đèn đường tắt cả tuần nay và rác chất đống đầu hẻm không ai dọn"


def test_two_problems_wait_for_the_operator_who_splits_them(ctx, rasa):
    report = SubmittedReportFactory(with_contact=True, description=TWO)
    assert classification.classify_and_route(report.id) == "triage:several_problems"
    db.session.refresh(report)
    assert report.status == ReportStatus.NEEDS_TRIAGE
    assert report.nlu_problems == [
        ["Đèn đường tắt cả tuần nay", "street_lighting"],
        ["rác chất đống đầu hẻm không ai dọn", "waste"],
    ]

    [code] = splitting.split(user(USERS["operator"]), report)
    db.session.expire_all()
    second = db.session.scalar(select(Report).where(Report.code == code))
    assert report.description == TWO, "the resident's words are kept whole"
    assert (report.category_code, report.agency.code) == ("street_lighting", "CHIEUSANG")
    assert report.status == ReportStatus.ASSIGNED and report.nlu_problems is None
    assert second.description == "rác chất đống đầu hẻm không ai dọn"
    assert second.category_hint == "waste"
    assert second.resident_id == report.resident_id, "the same person, not a copy"
    assert (second.lat, second.lon, second.unit_code) == (report.lat, report.lon, report.unit_code)
    assert classification.classify_and_route(second.id) == "assigned"
    db.session.refresh(second)
    assert second.agency.code == "MTDT"
    events = db.session.scalars(select(ReportEvent).where(ReportEvent.kind == "split")).all()
    assert {e.report_id: e.data for e in events} == {
        report.id: {"into": [code]},
        second.id: {"from": report.code},
    }


def test_one_problem_is_routed_and_only_the_desk_splits(ctx, rasa):
    single = SubmittedReportFactory(description="Đèn đường tắt và đèn trong hẻm cũng tắt")
    assert classification.classify_and_route(single.id) == "assigned"
    with pytest.raises(ValidationError):
        splitting.split(user(USERS["operator"]), single)
    report = SubmittedReportFactory(description=TWO)
    classification.classify_and_route(report.id)
    with pytest.raises((PermissionDenied, NotFound)):  # an agency's staff do not triage
        splitting.split(user(USERS["staff"]), report)

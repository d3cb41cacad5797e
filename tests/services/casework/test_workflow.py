"""The state machine: every change leaves an event; illegal changes are refused."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import SubmittedReportFactory
from webapp.errors import IllegalTransition
from webapp.extensions import db
from webapp.models import Report, ReportEvent, ReportStatus, User
from webapp.services.casework import workflow

S = ReportStatus


def _new_report() -> Report:
    return SubmittedReportFactory(description="Đèn đường hỏng trước nhà", point=None)


def test_happy_path_leaves_one_event_per_change(ctx):
    report = _new_report()
    operator = db.session.scalar(select(User).where(User.role == "ioc_operator"))
    path = [S.CLASSIFIED, S.ASSIGNED, S.IN_PROGRESS, S.RESOLVED, S.CLOSED]
    for status in path:
        workflow.transition(report, status, actor=operator, note=f"→ {status}")
    db.session.commit()
    events = db.session.scalars(
        select(ReportEvent).where(ReportEvent.report_id == report.id).order_by(ReportEvent.id)
    ).all()
    assert [(e.from_status, e.to_status) for e in events] == [
        (None, "received"),
        ("received", "classified"),
        ("classified", "assigned"),
        ("assigned", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "closed"),
    ]
    assert all(e.actor_id == operator.id for e in events[1:])
    assert events[0].actor_label == "resident"
    assert report.resolved_at is not None and report.closed_at is not None


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ([], S.RESOLVED),
        ([], S.CLOSED),
        ([S.ASSIGNED, S.IN_PROGRESS, S.RESOLVED, S.CLOSED], S.IN_PROGRESS),
        ([S.REJECTED], S.ASSIGNED),
        ([], S.RECEIVED),
    ],
)
def test_illegal_change_is_refused_and_leaves_nothing(ctx, path, illegal):
    report = _new_report()
    for status in path:
        workflow.transition(report, status)
    db.session.commit()
    before = len(report.events)
    with pytest.raises(IllegalTransition) as info:
        workflow.transition(report, illegal)
    assert "Không thể chuyển" in info.value.message_vi
    db.session.rollback()
    db.session.refresh(report)
    assert len(report.events) == before
    assert report.status == (path[-1] if path else S.RECEIVED)


def test_status_cannot_be_written_directly(ctx):
    report = _new_report()
    with pytest.raises(AttributeError):
        report.status = "closed"


def test_every_state_has_a_way_forward_or_is_terminal():
    for state in S:
        assert state in workflow.ALLOWED, f"{state} missing from the transition table"


def test_reopen_clears_resolution_times(ctx):
    report = _new_report()
    for status in (S.ASSIGNED, S.RESOLVED, S.REOPENED):
        workflow.transition(report, status)
    assert report.resolved_at is None and report.status == "reopened"


def test_hooks_see_every_transition(ctx):
    seen = []

    def hook(report, event):
        seen.append(event.to_status)

    workflow.on_transition(hook)
    try:
        report = _new_report()
        workflow.transition(report, S.NEEDS_TRIAGE)
    finally:
        workflow._hooks.remove(hook)
    assert seen == ["received", "needs_triage"]

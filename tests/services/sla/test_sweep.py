"""The beat sweep: reminders and escalations fire once, even run twice or in parallel."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from tests.factories import AssignedReportFactory, ReportFactory, UserFactory
from webapp.extensions import db
from webapp.models import Agency, OutboxMessage, Report, ReportEvent, ReportStatus, Role, User
from webapp.services.casework import workflow
from webapp.services.sla.sweep import run_sweep

# Monday 7 December 2026, 09:00 in Vietnam (02:00 UTC): an ordinary working morning.
MONDAY_0900 = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def _assigned_report(category: str = "street_lighting", at: datetime | None = None) -> Report:
    """An anonymous report in Hải Châu, routed by the rules, assigned at `at` (Monday 09:00)."""
    with time_machine.travel(at or MONDAY_0900, tick=False):
        return AssignedReportFactory(
            category=category, contact=None, description="Đèn đường tắt cả tuần"
        )


def _events(report_id: int, kind: str) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(ReportEvent)
        .where(ReportEvent.report_id == report_id, ReportEvent.kind == kind)
    )


def test_deadline_and_reminder_are_set_in_working_time(ctx):
    report = _assigned_report()
    # street_lighting: normal, 3 working days → Thursday 10 December 17:00 (10:00 UTC).
    assert report.due_at == datetime(2026, 12, 10, 10, 0, tzinfo=UTC)
    assert MONDAY_0900 < report.remind_at < report.due_at


def test_reminder_then_escalation_each_fire_once(ctx):
    report = _assigned_report()
    before_reminder = report.remind_at - timedelta(minutes=1)
    assert run_sweep(before_reminder, requeue=False).reminded == 0

    after_reminder = report.remind_at + timedelta(minutes=1)
    assert run_sweep(after_reminder, requeue=False).reminded == 1
    assert run_sweep(after_reminder, requeue=False).reminded == 0
    assert _events(report.id, "reminder") == 1

    overdue = report.due_at + timedelta(minutes=1)
    first = run_sweep(overdue, requeue=False)
    second = run_sweep(overdue, requeue=False)
    assert (first.escalated, second.escalated) == (1, 0)
    assert _events(report.id, "escalation") == 1
    db.session.refresh(report)
    assert report.overdue and report.escalated_at is not None
    reminders = db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.dedupe_key.like(f"reminder:{report.id}:%"))
    )
    assert reminders == 1


def test_resolved_reports_are_not_escalated(ctx):
    report = _assigned_report()
    workflow.transition(report, ReportStatus.RESOLVED)
    db.session.commit()
    assert run_sweep(report.due_at + timedelta(days=1), requeue=False).escalated == 0


def test_two_sweeps_at_once_escalate_each_report_once(app, ctx):
    ids = [_assigned_report().id for _ in range(20)]
    db.session.remove()
    overdue = datetime(2026, 12, 20, tzinfo=UTC)
    results, errors = [], []
    barrier = threading.Barrier(2)

    def worker():
        try:
            with app.app_context():
                barrier.wait()
                results.append(run_sweep(overdue, requeue=False))
                db.session.remove()
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sum(r.escalated for r in results) == len(ids)
    assert sum(r.reminded for r in results) == len(ids)
    for report_id in ids:
        assert _events(report_id, "escalation") == 1
        assert _events(report_id, "reminder") == 1


@pytest.mark.parametrize("status", [ReportStatus.IN_PROGRESS, ReportStatus.TRANSFERRED])
def test_clock_runs_while_the_agency_holds_the_report(ctx, status):
    report = _assigned_report()
    workflow.transition(report, status)
    db.session.commit()
    assert run_sweep(report.due_at + timedelta(hours=1), requeue=False).escalated == 1


def test_clock_pauses_while_waiting_for_the_resident(ctx):
    report = _assigned_report()
    report.waiting_since = report.due_at - timedelta(hours=1)
    db.session.commit()
    assert run_sweep(report.due_at + timedelta(hours=1), requeue=False).escalated == 0


def test_report_assigned_on_the_last_working_day_before_tet_2027_is_due_after_it(ctx):
    # Wednesday 3 February 2027, 10:00 in Vietnam; Tết holidays run 4–10 February.
    report = _assigned_report("street_lighting", at=datetime(2027, 2, 3, 3, 0, tzinfo=UTC))
    # Day 0 is 3 Feb; 11, 12 and 15 Feb are working days 1–3: due Monday 15 Feb 17:00.
    assert report.due_at == datetime(2027, 2, 15, 10, 0, tzinfo=UTC)


def test_cli_prints_due_time_and_runs_the_sweep(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["sla", "due", "--category", "electricity", "--at", "2026-12-04T15:00"]
    )
    assert result.exit_code == 0, result.output
    # urgent, 4 working hours from Friday 15:00: 2 h Friday, then Monday 07:30–09:30.
    assert "2026-12-07T09:30:00+07:00" in result.output
    result = runner.invoke(args=["deadlines", "scan"])
    assert result.exit_code == 0 and "reminded=" in result.output


def _messages(report_id: int) -> dict[str, OutboxMessage]:
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.report_id == report_id))
    return {m.dedupe_key.split(":")[0] + ":" + (m.address or ""): m for m in rows}


def test_escalation_mails_the_leads_the_agency_and_the_ioc_once(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "IOC_EMAIL", "ioc@danang.example.vn")
    report = _assigned_report()
    agency = report.agency
    seeded_email, agency.email = agency.email, "chieusang@danang.example.vn"
    lead = UserFactory(lead=True, email="lead.cs@danang.example.vn", agency=agency)
    gone = UserFactory(lead=True, email="old.lead@danang.example.vn", agency=agency, active=False)
    db.session.commit()
    try:
        assert run_sweep(report.due_at + timedelta(minutes=5), requeue=False).escalated == 1
        assert run_sweep(report.due_at + timedelta(minutes=6), requeue=False).escalated == 0
        sent = _messages(report.id)
        escalations = {k.split(":", 1)[1]: m for k, m in sent.items() if k.startswith("escalation")}
        active_leads = set(
            db.session.scalars(
                select(User.email).where(
                    User.agency_id == agency.id, User.role == Role.AGENCY_LEAD, User.active
                )
            )
        )
        assert "lead.cs@danang.example.vn" in active_leads  # and the seeded lead, if any
        assert set(escalations) == active_leads | {
            "chieusang@danang.example.vn",
            "ioc@danang.example.vn",
        }
        assert "old.lead@danang.example.vn" not in escalations
        assert escalations["ioc@danang.example.vn"].recipient_kind == "ioc"
        mail = escalations["lead.cs@danang.example.vn"]
        assert mail.recipient_kind == "agency" and mail.status == "pending"
        assert report.code in mail.subject and "QUÁ HẠN" in mail.subject
        assert agency.name in mail.body and report.description in mail.body
        # The reminder went to the agency's own address, stamped with the deadline.
        assert sent["reminder:chieusang@danang.example.vn"].subject.startswith(f"[{report.code}]")
        db.session.refresh(report)
        assert report.overdue and report.reminded_at and report.escalated_at
    finally:
        db.session.delete(lead)
        db.session.delete(gone)
        agency.email = seeded_email
        db.session.commit()


def test_sweep_on_sqlite_reminds_and_escalates_once(lite):
    """The embedded default runs the same set-based statements (no SKIP LOCKED there)."""
    agency = db.session.scalar(select(Agency).where(Agency.code == "A"))
    agency.email = "a@lite.example.vn"
    due = datetime(2026, 12, 10, 10, 0, tzinfo=UTC)
    states = [("assigned", None), ("in_progress", None), ("resolved", None), ("assigned", due)]
    reports = [
        ReportFactory(
            code=f"PA-LITE-{n}",
            description=f"Đèn tắt {n}",
            search_text="",
            status=status,
            agency=agency,
            urgency="normal",
            remind_at=due - timedelta(hours=6),
            due_at=due,
            waiting_since=waiting,
        )
        for n, (status, waiting) in enumerate(states)
    ]
    db.session.commit()
    running = {reports[0].id, reports[1].id}
    after_reminder = run_sweep(due - timedelta(hours=1), requeue=False)
    assert (after_reminder.reminded, after_reminder.escalated) == (2, 0)
    overdue = due + timedelta(minutes=1)
    assert (run_sweep(overdue, requeue=False).escalated, run_sweep(overdue).escalated) == (2, 0)
    for report in reports:
        expected = 1 if report.id in running else 0
        assert _events(report.id, "reminder") == expected
        assert _events(report.id, "escalation") == expected
        mailed = {"reminder:a@lite.example.vn", "escalation:a@lite.example.vn"}
        assert set(_messages(report.id)) == (mailed if expected else set())
    db.session.expire_all()
    assert {r.id for r in reports if r.overdue} == running

"""The demo seed's history: every status, KPIs and a heatmap to show, once, by the rules."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import OutboxMessage, Report, ReportEvent, ReportStatus
from webapp.services.administration import seed
from webapp.services.casework import workflow
from webapp.services.intake.reports import CODE_RE
from webapp.services.ioc import heatmap, stats
from webapp.services.ioc.queries import ReportFilter
from webapp.services.sla import calendar, deadlines
from webapp.services.sla.sweep import run_sweep

# Wednesday 18 March 2026, 10:00 in Vietnam: the history ends here, whatever today is.
NOW = datetime(2026, 3, 18, 3, 0, tzinfo=UTC)
DAYS = 30


def _count(model=Report) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _statuses() -> Counter:
    rows = db.session.execute(select(Report.status, func.count()).group_by(Report.status))
    return Counter(dict(rows.all()))


def test_history_has_every_status_and_obeys_the_state_machine(ctx):
    done = seed.load_history(DAYS, now=NOW)

    assert done.created == _count() > DAYS * 10
    assert set(_statuses()) == {s.value for s in ReportStatus}
    assert _count(OutboxMessage) == 0  # replaying the past tells nobody anything
    reports = db.session.scalars(select(Report).order_by(Report.id)).all()
    assert all(CODE_RE.fullmatch(r.code) for r in reports)
    assert len({r.tracking_token for r in reports}) == len(reports)
    for report in reports:
        steps = [e for e in report.events if e.kind == "status"]
        status = None
        for step in steps:
            assert step.from_status == status and workflow.can_transition(status, step.to_status)
            status = step.to_status
        assert status == report.status, report.code
        moments = [e.created_at for e in report.events]
        assert moments == sorted(moments) and moments[-1] <= NOW
        assert report.created_at == moments[0] and report.updated_at == moments[-1]
        assert report.unit_code and report.h3_r8 and report.lat


def test_deadlines_come_from_the_working_calendar(ctx):
    seed.load_history(DAYS, now=NOW)
    cal = deadlines.working_calendar()
    checked = extended = 0
    for report in db.session.scalars(select(Report).where(Report.due_at.is_not(None))):
        assigned = [e for e in report.events if e.to_status in ("assigned", "reopened")][-1]
        first = calendar.due_at(report.category, report.urgency, assigned.created_at, cal)
        if report.extension_status == "approved":
            extended += 1
            assert report.due_at == cal.add_working_days(first, 5) != report.original_due_at
        else:
            assert report.due_at == first, report.code
            checked += 1
        if report.status in ("assigned", "in_progress", "transferred", "reopened"):
            assert (report.due_at < NOW) == (report.escalated_at is not None), report.code
            if report.remind_at is not None:
                assert (report.remind_at < NOW) == (report.reminded_at is not None)
    assert checked > 100 and extended > 0
    # What the sweep would have done by then is done: it finds nothing from the past.
    swept = run_sweep(NOW, requeue=False)
    assert (swept.reminded, swept.escalated) == (0, 0)


def test_kpis_ranking_late_agencies_and_heatmap_have_something_to_show(ctx):
    seed.load_history(DAYS, now=NOW)
    period = stats.Period(NOW.date() - timedelta(days=DAYS), NOW.date())
    total = stats.totals(period, now=NOW)
    assert total.received == _count()
    assert total.resolved and total.open and total.overdue and total.on_time and total.late
    assert total.rating_count and total.median_first_response_s and total.median_resolution_s
    assert stats.table(period, "agency", now=NOW)
    summary = stats.public_summary(stats.Period.month_of(NOW.date()), now=NOW)
    assert summary["ranking"] and summary["overdue_units"]
    assert heatmap.heat(ReportFilter(), 6).cells
    assert heatmap.heat(ReportFilter(status="open"), 8).cells
    triage = _statuses()["needs_triage"]
    assert 0 < triage < _count() / 10  # a few, not a queue


def test_seeding_again_does_not_duplicate_and_reset_replaces(ctx):
    first = seed.load_history(DAYS, now=NOW)
    events = _count(ReportEvent)

    again = seed.load_history(DAYS, now=NOW)
    assert (again.created, again.existing) == (0, first.created)
    assert (_count(), _count(ReportEvent)) == (first.created, events)

    replaced = seed.load_history(DAYS, now=NOW + timedelta(days=1), reset=True)
    assert replaced.removed == first.created
    assert _count() == replaced.created == len(seed.history_report_ids())


def test_history_on_sqlite_through_the_demo_seed_command(demo_sqlite):
    runner = demo_sqlite.test_cli_runner()
    result = runner.invoke(args=["demo", "seed", "--history-days", "90"])
    assert result.exit_code == 0, result.output
    assert "History: " in result.output and " reports over 90 days" in result.output
    with demo_sqlite.app_context():
        made = _count()
        assert set(_statuses()) == {s.value for s in ReportStatus}
        today = stats.local_today()
        total = stats.totals(stats.Period(today - timedelta(days=90), today))
        assert total.received == made and total.overdue and total.late and total.rating_count
        assert total.median_resolution_s  # computed in Python on SQLite
        assert heatmap.heat(ReportFilter(), 6).cells
        assert stats.overdue_agencies()

    again = runner.invoke(args=["demo", "seed", "--history-days", "90"])
    assert f"History: {made} reports already there" in again.output
    with demo_sqlite.app_context():
        assert _count() == made


@pytest.mark.parametrize("days", [1, 3])
def test_a_short_history_still_shows_every_status(demo_sqlite, days):
    with demo_sqlite.app_context():
        done = seed.load_history(days, reset=True, now=NOW)
        assert set(done.by_status) == {s.value for s in ReportStatus}
        db.session.remove()

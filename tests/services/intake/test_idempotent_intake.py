"""Intake with an idempotency key: a submission that lost the race to an identical one (the
unique digest refuses its row) answers with the report stored by the winner."""

from __future__ import annotations

from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Report
from webapp.services.intake import idempotency, reports


def _draft() -> reports.ReportDraft:
    return reports.ReportDraft(
        channel="web",
        description="Rác thải chất đống ở đầu kiệt 12 Bạch Đằng",
        consent=True,
        client_key="6a1f0c9e-3b2d-4e5f-8a7b-9c0d1e2f3a4b",
    )


def test_the_loser_of_a_race_gets_the_winners_report(ctx, monkeypatch):
    first = reports.submit_report(_draft())
    real = idempotency.earlier
    calls = []

    def missed_once(client_key):  # the check ran before the winner's commit
        calls.append(client_key)
        return None if len(calls) == 1 else real(client_key)

    monkeypatch.setattr(idempotency, "earlier", missed_once)
    again = reports.submit_report(_draft())
    assert len(calls) == 2, "the row was refused, then the winner looked up"
    assert (again.code, again.replayed, first.replayed) == (first.code, True, False)
    assert again.tracking_token == first.tracking_token
    assert db.session.scalar(select(func.count()).select_from(Report)) == 1


def test_without_a_key_nothing_changes(ctx):
    draft = _draft()
    draft.client_key = None
    reports.submit_report(draft)
    reports.submit_report(draft)
    assert db.session.scalar(select(func.count()).select_from(Report)) == 2

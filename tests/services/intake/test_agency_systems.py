"""An agency working in its own system: the report goes to its Open311 server, its update
comes back through the state machine and the resident is told; a webhook is signed so that a
receiver written from the README accepts it, and refuses forgeries and replays."""

from __future__ import annotations

import time

import httpx
from sqlalchemy import select

from tests.factories import ContactFactory, SubmittedReportFactory
from tests.support.fake_agency import KEY, SECRET, FakeAgencyOpen311, WebhookReceiver
from webapp.extensions import db
from webapp.models import Agency, OutboxMessage, Report, ReportStatus
from webapp.models.types import utcnow
from webapp.services.casework import routing, workflow
from webapp.services.messaging import outbox
from webapp.services.partners import delivery


def _agency(mode: str, url: str, secret: str) -> Agency:
    agency = db.session.scalar(select(Agency).where(Agency.code == "CHIEUSANG"))
    agency.delivery, agency.delivery_url, agency.delivery_secret = mode, url, secret
    db.session.commit()
    return agency


def _assigned(**kwargs) -> Report:
    report = SubmittedReportFactory(
        description="Đèn đường tắt cả tuần trước số 25 Bạch Đằng", **kwargs
    )
    report.category_code = "street_lighting"
    workflow.transition(report, ReportStatus.CLASSIFIED)
    routing.assign(report, db.session.scalar(select(Agency).where(Agency.code == "CHIEUSANG")))
    db.session.commit()
    return report


def _deliver(channel: str) -> list[OutboxMessage]:
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.channel == channel)).all()
    for row in rows:
        outbox.deliver(row.id)
    db.session.expire_all()
    return list(rows)


def _restore(agency: Agency) -> None:
    agency.delivery, agency.delivery_url, agency.delivery_secret = "backoffice", None, None
    agency.delivery_synced_at = None
    db.session.commit()


def test_open311_agency_receives_the_report_and_its_update_reaches_the_resident(ctx):
    with FakeAgencyOpen311() as server:
        agency = _agency("open311", server.url, KEY)
        try:
            report = _assigned(contact=ContactFactory(email="dan@example.vn"))
            report.resident.email_confirmed_at = utcnow()
            db.session.commit()
            [row] = _deliver("open311")
            assert row.status == "sent", row.last_error
            [posted] = server.received
            assert posted["service_code"] == "street_lighting"
            assert posted["attribute[phananh_code]"] == report.code
            assert "dan@example.vn" not in str(posted)  # the agency's system never gets who
            assert report.external_id == "CS-1"
            # No e-mail to the agency: it works in its own system.
            assert not db.session.scalar(
                select(OutboxMessage).where(
                    OutboxMessage.recipient_kind == "agency", OutboxMessage.channel == "email"
                )
            )
            server.updates.append(
                {
                    "update_id": "u-77",
                    "service_request_id": "CS-1",
                    "status": "closed",
                    "updated_datetime": utcnow().isoformat(),
                    "description": "Đã thay bóng đèn LED mới.",
                }
            )
            assert delivery.sync_updates(agency) == 1
            assert delivery.sync_updates(agency) == 0  # the same update is applied once
            db.session.expire_all()
            assert report.status == ReportStatus.RESOLVED
            assert report.public_note == "Đã thay bóng đèn LED mới."
            assert report.external_synced_at is not None and agency.delivery_synced_at
            told = db.session.scalar(
                select(OutboxMessage).where(
                    OutboxMessage.report_id == report.id,
                    OutboxMessage.address == "dan@example.vn",
                    OutboxMessage.body.contains("đã được xử lý xong"),
                )
            )
            assert told is not None
            assert server.pulls[-1]["api_key"] == KEY
        finally:
            _restore(agency)


def test_a_refused_report_is_retried_and_visible(ctx):
    with FakeAgencyOpen311() as server:
        agency = _agency("open311", server.url, "wrong-key")
        try:
            _assigned()
            [row] = _deliver("open311")
            assert row.status == "failed" and "403" in row.last_error
            assert row.next_attempt_at > utcnow()
        finally:
            _restore(agency)


def test_the_webhook_is_signed_so_a_receiver_written_from_the_readme_accepts_it(ctx):
    with WebhookReceiver() as receiver:
        agency = _agency("webhook", f"{receiver.url}/phananh", SECRET)
        try:
            report = _assigned()
            [row] = _deliver("webhook")
            assert row.status == "sent", row.last_error
            [document] = receiver.accepted
            assert document["code"] == report.code and document["event"] == "assigned"
            # A forgery, a replay from long ago, and the same delivery twice.
            body, headers = delivery.signed_request("not-the-secret", document)
            assert httpx.post(receiver.url, content=body, headers=headers).status_code == 401
            body, headers = delivery.signed_request(SECRET, document)
            old = str(int(time.time()) - 3600)
            stale = {**headers, "X-Phananh-Timestamp": old,
                     "X-Phananh-Signature": delivery.sign(SECRET, old, body)}  # fmt: skip
            assert httpx.post(receiver.url, content=body, headers=stale).status_code == 400
            assert receiver.refused == ["signature", "stale"]
        finally:
            _restore(agency)


def test_back_office_agencies_are_emailed_as_before(ctx):
    report = _assigned()
    rows = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.report_id == report.id, OutboxMessage.recipient_kind == "agency"
        )
    ).all()
    assert [r.channel for r in rows] == ["email"]


def test_an_unreachable_agency_system_does_not_stop_the_sync_of_the_others(app, ctx):
    with FakeAgencyOpen311() as server:
        agency = _agency("open311", server.url, KEY)
        other = db.session.scalar(select(Agency).where(Agency.code == "MTDT"))
        other.delivery, other.delivery_url = "open311", "http://127.0.0.1:9"  # nobody there
        db.session.commit()
        try:
            out = app.test_cli_runner().invoke(args=["partners", "sync"]).output
            assert "CHIEUSANG: 0 updates applied" in out and "MTDT: unreachable" in out
            assert len(server.pulls) == 1
        finally:
            _restore(agency)
            _restore(other)

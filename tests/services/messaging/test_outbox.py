"""The outbox: one row per message, delivered once, failures recorded and retried."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.factories import HAI_CHAU, SubmittedReportFactory
from webapp.extensions import db
from webapp.infra.task_names import CLASSIFY_REPORT
from webapp.models import OutboxMessage, OutboxStatus, Report, ReportStatus
from webapp.services.casework import routing, workflow
from webapp.services.intake import contacts
from webapp.services.intake.reports import ChannelIdentity, Contact
from webapp.services.messaging import outbox


def _messages(report_id: int) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.report_id == report_id)
            .order_by(OutboxMessage.id)
        )
    )


def _submit(**kwargs) -> Report:
    return SubmittedReportFactory(description="Đèn đường tắt cả tuần ở kiệt 20", **kwargs)


def test_resident_with_email_is_told_through_real_smtp_once_the_email_is_confirmed(ctx, smtp):
    report = _submit(point=None, contact=Contact(email="lan@example.vn"))
    [received] = [m for m in _messages(report.id) if m.dedupe_key.endswith(":resident")]
    [confirm] = [m for m in _messages(report.id) if m.dedupe_key.startswith("confirm:")]
    # Until its owner confirms it, a typed e-mail gets only the confirmation mail.
    assert received.channel == "tracking"
    assert (confirm.channel, confirm.address) == ("email", "lan@example.vn")
    assert outbox.deliver(confirm.id) == "sent"
    assert outbox.deliver(confirm.id) == "skip", "a message is delivered once"
    [mail] = smtp.messages
    assert mail["To"] == "lan@example.vn" and report.code in mail.get_content()
    token = re.search(r"/xac-nhan-email/(\S+)", mail.get_content()).group(1)
    contacts.confirm(token)
    workflow.record_event(report, "reply", note="Đã thay bóng đèn.", public=True)
    db.session.commit()
    [reply] = [m for m in _messages(report.id) if m.id not in (received.id, confirm.id)]
    assert (reply.channel, reply.address) == ("email", "lan@example.vn")
    assert outbox.deliver(reply.id) == "sent"
    assert f"/t/{report.tracking_token}" in smtp.messages[-1].get_content()
    db.session.refresh(reply)
    assert reply.status == OutboxStatus.SENT and reply.attempts == 1


def test_agency_gets_an_email_when_a_report_is_assigned(ctx, smtp):
    report = _submit(point=HAI_CHAU)
    report.category_code = "street_lighting"
    workflow.transition(report, ReportStatus.CLASSIFIED)
    agency = routing.route("street_lighting", report.unit_code)
    routing.assign(report, agency)
    db.session.commit()
    agency_msgs = [m for m in _messages(report.id) if m.recipient_kind == "agency"]
    assert [m.address for m in agency_msgs] == [agency.email]
    for m in agency_msgs:
        outbox.deliver(m.id)
    assert any(report.code in mail["Subject"] for mail in smtp.messages)


def test_anonymous_web_report_is_answered_on_the_tracking_page_without_a_task(ctx, monkeypatch):
    queued: list[tuple] = []
    monkeypatch.setattr(
        "webapp.infra.queue.enqueue", lambda name, *args: queued.append((name, args)) or True
    )
    report = _submit(point=None)
    [message] = _messages(report.id)
    assert message.channel == "tracking"
    # The page shows the event: the row records that the resident was told, nothing to push.
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 1)
    assert message.sent_at is not None
    assert [name for name, _args in queued] == [CLASSIFY_REPORT], "no delivery task"
    assert outbox.deliver(message.id) == "skip"


def test_messenger_resident_is_answered_on_the_channel_used(ctx):
    report = _submit(point=None, identity=ChannelIdentity("telegram", "777001", "Lan"))
    [message] = _messages(report.id)
    assert (message.channel, message.address) == ("telegram", "777001")


def test_failure_is_recorded_with_backoff_then_given_up(app, ctx):
    app.config["SMTP_HOST"] = "127.0.0.1"
    app.config["SMTP_PORT"] = 9  # nothing listens there
    try:
        report = _submit(point=None, contact=Contact(email="lan@example.vn"))
        [message] = [m for m in _messages(report.id) if m.channel == "email"]
        assert outbox.deliver(message.id) == "failed"
        db.session.refresh(message)
        assert message.status == OutboxStatus.FAILED
        assert message.next_attempt_at is not None and message.last_error
        first_retry = message.next_attempt_at
        for _ in range(app.config["OUTBOX_MAX_ATTEMPTS"] - 1):
            outbox.deliver(message.id)
        db.session.refresh(message)
        assert message.status == OutboxStatus.DEAD
        assert message.attempts == app.config["OUTBOX_MAX_ATTEMPTS"]
        assert first_retry is not None
    finally:
        app.config["SMTP_HOST"], app.config["SMTP_PORT"] = "", 25


def test_same_event_never_produces_two_messages(ctx):
    report = _submit(point=None, contact=Contact(email="lan@example.vn"))
    before = len(_messages(report.id))
    event = report.events[0]
    from webapp.services.messaging.notifications import build_messages

    build_messages(report, event)
    db.session.commit()
    assert len(_messages(report.id)) == before == 2

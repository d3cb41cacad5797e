"""A status update reaches the resident on the way the channels allow: a Zalo consultation
message inside the window (quoting the resident's message), else a transaction message, ZNS
to a verified phone, or SMS, each tried once, within the monthly budgets; staff see which way
worked, or that none did."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from flask import Flask
from sqlalchemy import select

from tests.backoffice.conftest import login
from tests.factories import ChannelIdentityFactory, SubmittedReportFactory
from tests.support.fake_zalo import FakeZalo
from webapp.extensions import db
from webapp.models import InboundEvent, OutboxMessage, Report, ReportStatus
from webapp.models.types import utcnow
from webapp.services.casework import routing, workflow
from webapp.services.messaging import fallback, outbox, windows
from webapp.services.messaging.channels.zalo import zalo_event_key

USER = "5566778899001122"
PHONE = "0905123456"


def _zalo_resident_writes(app: Flask, fake: FakeZalo, text: str) -> None:
    """The resident's message reaches the webhook and the bot's task, as in production."""
    event = fake.text_event(USER, text)
    raw, headers = fake.signed(event)
    assert app.test_client().post("/webhooks/zalo", data=raw, headers=headers).status_code == 200
    row_id = db.session.scalar(
        select(InboundEvent.id).where(InboundEvent.event_id == zalo_event_key(event))
    )
    db.session.get(InboundEvent, row_id).status = "done"  # the dialog is not under test here
    db.session.commit()
    payload = event["message"]
    windows.note_inbound("zalo", USER, payload["msg_id"])
    db.session.commit()


def _zalo_report(phone_verified: bool = False) -> Report:
    report = SubmittedReportFactory(
        channel="zalo",
        identity=ChannelIdentityFactory(channel="zalo", external_id=USER, display_name=None),
        description="Cống thoát nước bị tắc, nước tràn ra đường",
    )
    if phone_verified:
        from webapp.models import Resident

        report.resident = report.resident or Resident()
        report.resident.phone, report.resident.phone_verified_at = PHONE, utcnow()
    report.category_code = "drainage_flooding"
    workflow.transition(report, ReportStatus.CLASSIFIED)
    routing.assign(report, routing.route("drainage_flooding", report.unit_code))
    db.session.commit()
    return report


def _deliver_all(report_id: int) -> list[OutboxMessage]:
    """Deliver the report's residents' messages, and the ones each failure leads to."""
    while True:
        ids = db.session.scalars(
            select(OutboxMessage.id).where(
                OutboxMessage.report_id == report_id,
                OutboxMessage.recipient_kind == "resident",
                OutboxMessage.status == "pending",
            )
        ).all()
        if not ids:
            break
        for message_id in ids:
            outbox.deliver(message_id)
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.report_id == report_id, OutboxMessage.recipient_kind == "resident")
            .order_by(OutboxMessage.id)
        )
    )


def _resolve(report: Report) -> None:
    workflow.transition(report, ReportStatus.IN_PROGRESS)
    workflow.transition(report, ReportStatus.RESOLVED, note="Đã nạo vét cống.")
    db.session.commit()


def _ways(rows: list[OutboxMessage], status: str = "resolved") -> list[tuple[str, str]]:
    return [(m.channel, m.status) for m in rows if (m.payload or {}).get("status") == status]


def test_inside_the_window_a_reply_quotes_the_residents_message(app, ctx, fake_zalo):
    _zalo_resident_writes(app, fake_zalo, "Cống nhà tôi bị tắc")
    report = _zalo_report()
    rows = _deliver_all(report.id)
    assert {(m.channel, m.status) for m in rows} == {("zalo", "sent")}
    last_msg_id = fake_zalo.last_inbound[USER][0]
    assert all(m["message"]["quote_message_id"] == last_msg_id for m in fake_zalo.sent)
    assert fake_zalo.rejected == []
    window = windows.open_window("zalo", USER)
    assert window is not None and window.left == app.config["ZALO_WINDOW_MESSAGES"] - len(rows)


def test_resolved_days_later_goes_as_a_transaction_message_never_as_a_refused_one(
    app, ctx, fake_zalo, monkeypatch
):
    monkeypatch.setitem(app.config, "ZALO_TRANSACTION_ENABLED", True)
    fake_zalo.transaction_enabled = True
    start = utcnow()
    with time_machine.travel(start, tick=False):
        _zalo_resident_writes(app, fake_zalo, "Cống tắc ở kiệt 45")
        report = _zalo_report()
        _deliver_all(report.id)
    with time_machine.travel(start + timedelta(days=5), tick=False):  # three working days on
        _resolve(report)
        rows = _deliver_all(report.id)
    assert _ways(rows) == [("zalo", "dead"), ("zalo_transaction", "sent")]
    assert "Undeliverable" in rows[-2].last_error
    assert fake_zalo.rejected == [], "no consultation message was sent outside the window"
    [sent] = fake_zalo.transactions
    assert sent["recipient"]["user_id"] == USER
    assert report.code in str(sent["message"])


def test_without_transaction_messages_zns_then_sms_reach_a_verified_phone(
    app, ctx, fake_zalo, sms, monkeypatch
):
    monkeypatch.setitem(app.config, "ZNS_API_BASE_URL", fake_zalo.url)
    monkeypatch.setitem(app.config, "ZNS_TEMPLATES", "resolved=301,assigned=302")
    fake_zalo.zns_templates = {"301", "302"}
    start = utcnow()
    with time_machine.travel(start, tick=False):
        _zalo_resident_writes(app, fake_zalo, "Cống tắc")
        report = _zalo_report(phone_verified=True)
        _deliver_all(report.id)
    with time_machine.travel(start + timedelta(days=5), tick=False):
        _resolve(report)
        rows = _deliver_all(report.id)
    assert _ways(rows) == [("zalo", "dead"), ("zalo_transaction", "dead"), ("zns", "sent")]
    [zns] = fake_zalo.zns
    assert zns["phone"] == "84905123456" and zns["template_id"] == "301"
    assert zns["template_data"]["code"] == report.code
    assert sms.sent == []
    # No template for this kind of update any more: the same way ends with an SMS.
    monkeypatch.setitem(app.config, "ZNS_TEMPLATES", "assigned=302")
    with time_machine.travel(start + timedelta(days=6), tick=False):
        workflow.transition(report, ReportStatus.REOPENED, note="Cống vẫn tắc")
        workflow.transition(report, ReportStatus.RESOLVED, note="Đã thông cống lần hai.")
        db.session.commit()
        rows = _deliver_all(report.id)
    assert [c for c, s in _ways(rows) if s == "sent"] == ["zns", "sms"]
    [text] = [m["text"] for m in sms.sent]
    assert report.code in text and "da duoc xu ly xong" in text, "no diacritics in an SMS"


def test_monthly_budgets_are_counted_and_an_exhausted_channel_is_skipped(
    app, ctx, fake_zalo, sms, monkeypatch
):
    monkeypatch.setitem(app.config, "RESIDENT_FALLBACK", "sms")
    monkeypatch.setitem(app.config, "MESSAGE_BUDGETS", "sms=1")
    start = utcnow()
    with time_machine.travel(start, tick=False):
        report = _zalo_report(phone_verified=True)  # the resident never wrote: no window
        rows = _deliver_all(report.id)
    assert ("sms", "sent") in [(m.channel, m.status) for m in rows]
    assert fallback.used_this_month() == {"sms": 1}
    with time_machine.travel(start + timedelta(days=5), tick=False):
        _resolve(report)
        rows = _deliver_all(report.id)
    assert _ways(rows) == [("zalo", "dead")]
    assert fallback.NO_WAY_LEFT in rows[-1].last_error
    assert "monthly budget" in rows[-1].last_error
    assert len(sms.sent) == 1


def test_an_unverified_phone_receives_nothing_and_the_report_page_says_so(app, ctx, fake_zalo, sms):
    report = _zalo_report()  # no window, no verified phone
    report.resident.phone = PHONE  # typed, never verified: a claim
    db.session.commit()
    rows = _deliver_all(report.id)
    assert sms.sent == [] and fake_zalo.sent == []
    assert fallback.NO_WAY_LEFT in rows[-1].last_error
    page = login(app.test_client(), "operator").get(f"/bo/r/{report.code}").get_data(as_text=True)
    assert "Không liên lạc được với người phản ánh" in page
    assert "zalo" in page


def test_the_sms_gateways_delivery_report_is_recorded(app, ctx, fake_zalo, sms, monkeypatch):
    monkeypatch.setitem(app.config, "RESIDENT_FALLBACK", "sms")
    report = _zalo_report(phone_verified=True)
    rows = _deliver_all(report.id)
    message = next(m for m in rows if m.channel == "sms")
    body = next(b for b in sms.sent if b["ref"] == str(message.id))
    path, data = sms.delivery_report(body)
    client = app.test_client()
    assert client.post(path.replace("dlr-secret", "wrong"), json=data).status_code == 403
    assert client.post(path, json=data).get_json() == {"ok": True, "known": True}
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).payload["delivery"] == "delivered"


def test_garbage_delivery_reports_get_a_4xx_or_are_ignored(app, ctx, sms):
    client = app.test_client()
    url = "/webhooks/sms/dlr?token=dlr-secret"
    assert client.post("/webhooks/sms/dlr", json={"ref": "1"}).status_code == 403
    assert client.post(url, data=b"\xff not json").status_code == 400
    assert client.post(url, json=["ref", 1]).status_code == 400
    garbage = [
        {"ref": "9" * 400, "status": "DELIVERED"},
        {"ref": "9999999999", "status": "1"},
        {"ref": {"a": 1}, "status": 1},
        {"ref": "1", "status": {"x": 1}},
        {"ref": "-1"},
        {},
    ]
    for body in garbage:
        answer = client.post(url, json=body)
        assert answer.status_code == 200 and answer.get_json()["known"] is False, body

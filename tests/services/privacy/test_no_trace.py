"""A retention run and an erasure leave no trace of the resident: every text column of every
table is searched for their phone, e-mail, name and messenger id."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import JSON, LargeBinary, String, Text, cast, func, select
from sqlalchemy import String as SqlString

from tests.backoffice.conftest import USERS, user
from tests.factories import AssignedReportFactory, ChannelIdentityFactory, ContactFactory
from tests.fixtures.images import make_jpeg
from webapp.extensions import db
from webapp.infra import storage
from webapp.infra.text import fold
from webapp.models import (
    ContactCode,
    InboundEvent,
    OutboxMessage,
    Photo,
    Report,
    ReportStatus,
    Resident,
)
from webapp.models.types import utcnow
from webapp.services.casework import handling, workflow
from webapp.services.intake import followers
from webapp.services.intake.reports import PhotoUpload
from webapp.services.messaging import conversations, windows
from webapp.services.privacy import erasure, retention

NAME = "Phạm Quốc Khánh"
PHONE = "0905999111"
EMAIL = "khanh.pham@example.vn"
CHAT_ID = "7612345098"
CHAT_NAME = "Lê Thị Thu Hoài"


def traces(*needles: str) -> list[str]:
    """Every table.column whose text holds one of the needles (case-insensitive)."""
    found = []
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if not isinstance(column.type, (String, Text, JSON, LargeBinary)) and not hasattr(
                column.type, "impl"
            ):
                continue
            if isinstance(column.type, LargeBinary):
                continue
            as_text = cast(column, SqlString)
            for needle in needles:
                hits = db.session.scalar(
                    select(func.count()).select_from(table).where(as_text.ilike(f"%{needle}%"))
                )
                if hits:
                    found.append(f"{table.name}.{column.name} ~ {needle}")
    return found


def _needles(*values: str) -> list[str]:
    out = []
    for value in values:
        out += [value, fold(value)]
        if value.isdigit() and value.startswith("0"):
            out.append(value[1:])  # +84 905…, 84905…
    return out


def _web_report() -> Report:
    report = AssignedReportFactory(
        agency="CHIEUSANG",
        contact=ContactFactory(name=NAME, phone=PHONE, email=EMAIL),
        description=f"Đèn đường hỏng trước nhà {NAME}, gọi {PHONE} hoặc {EMAIL}",
        photos=[],
    )
    report.resident.email_confirmed_at = utcnow()
    return report


def _close(report: Report) -> None:
    handling.resolve(user(USERS["staff"]), report, f"Đã gọi {NAME} và thay bóng.")
    workflow.transition(report, ReportStatus.CLOSED)
    db.session.commit()


def test_retention_removes_the_resident_of_a_report_closed_long_ago(ctx):
    report = _web_report()
    _close(report)
    assert traces(*_needles(NAME, PHONE, EMAIL))  # the search finds them before
    other = _web_report()  # closed too late for the run: kept as is
    with time_machine.travel(utcnow() + timedelta(days=25 * 31), tick=False):
        _close(other)
        run = retention.run()
    assert run.identities_removed == 1
    db.session.expire_all()
    assert report.personal_data_removed_at and report.resident_id is None
    assert other.resident is not None and other.resident.phone == PHONE
    erasure.detach_report(other)  # the other one too, so that no copy is left to find
    db.session.commit()
    assert traces(*_needles(NAME, PHONE, EMAIL)) == []
    assert db.session.get(Report, report.id).code == report.code


def test_retention_deletes_original_photos_and_keeps_the_public_copies(ctx):
    report = AssignedReportFactory(
        agency="CHIEUSANG", photos=[PhotoUpload(make_jpeg(gps=(16.07, 108.22)), "IMG_1.jpg")]
    )
    _close(report)
    [photo] = report.photos
    store = storage.photo_store()
    assert store.read_original(photo.key)
    with time_machine.travel(utcnow() + timedelta(days=13 * 31), tick=False):
        run = retention.run()
    assert run.originals_removed >= 1 and run.identities_removed == 0
    db.session.expire_all()
    assert report.originals_removed_at and report.resident is not None
    assert store.read_public(photo.key, "web")
    try:
        store.read_original(photo.key)
        raise AssertionError("the original is still there")
    except Exception as error:  # NotFound
        assert "404" in str(getattr(error, "code", "")) or "not" in str(error).lower()
    assert db.session.get(Photo, photo.id).gps_lat is None


def test_erasure_of_a_messenger_resident_leaves_no_trace_anywhere(ctx):
    identity = ChannelIdentityFactory(
        channel="telegram", external_id=CHAT_ID, display_name=CHAT_NAME
    )
    report = AssignedReportFactory(
        agency="CHIEUSANG",
        channel="telegram",
        identity=identity,
        contact=None,
        description=f"Tôi là {CHAT_NAME}, rác ùn ứ đầu hẻm",
    )
    followed = AssignedReportFactory(agency="CHIEUSANG")
    followers.follow(followed, "telegram", CHAT_ID, CHAT_NAME)
    conversation, _ = conversations.load("telegram", CHAT_ID)
    conversations.save(conversation, "idle", {"name": CHAT_NAME, "draft": {"text": "rác"}})
    db.session.add(
        InboundEvent(
            channel="telegram",
            event_id="u-1",
            payload={"message": {"chat": {"id": int(CHAT_ID), "first_name": CHAT_NAME}}},
        )
    )
    db.session.add(InboundEvent(channel="telegram", event_id=f"msg:{CHAT_ID}:5", payload={}))
    windows.note_inbound("telegram", CHAT_ID, "m-1")
    db.session.add(
        ContactCode(
            purpose="verify",
            kind="phone",
            address=PHONE,
            report_id=report.id,
            resident_id=report.resident_id,
            code_hash="x",
            expires_at=utcnow(),
        )
    )
    _close(report)
    handling.reply(user(USERS["staff"]), followed, "Đang xử lý.")
    db.session.commit()
    resident = report.resident
    resident.phone = PHONE
    db.session.commit()
    needles = _needles(CHAT_ID, CHAT_NAME, PHONE)
    before = traces(*needles)
    assert any(t.startswith("conversations.") for t in before)
    assert any(t.startswith("outbox_messages.address") for t in before)
    assert any(t.startswith("inbound_events.event_id") for t in before)

    erasure.erase_resident(resident)
    db.session.commit()

    assert traces(*needles) == []
    db.session.expire_all()
    assert (
        db.session.scalar(
            select(func.count()).select_from(Resident).where(Resident.id == resident.id)
        )
        == 0
    )
    assert db.session.get(Report, report.id).code == report.code  # the public record stays
    assert db.session.get(Report, followed.id).status == followed.status
    sent = db.session.execute(
        select(OutboxMessage.recipient_kind, OutboxMessage.body).where(
            OutboxMessage.report_id == report.id
        )
    ).all()
    assert {body for kind, body in sent if kind == "resident"} == {erasure.ERASED}
    [agency_copy] = [body for kind, body in sent if kind == "agency"]
    assert "rác ùn ứ đầu hẻm" in agency_copy and erasure.ERASED in agency_copy


def test_the_retention_run_is_nightly_on_the_beat_and_a_command(app, ctx):
    from workers.schedule import BEAT_SCHEDULE

    assert BEAT_SCHEDULE["privacy-retention"]["task"].endswith("privacy_retention")
    report = AssignedReportFactory(agency="CHIEUSANG")
    _close(report)
    with time_machine.travel(utcnow() + timedelta(days=25 * 31), tick=False):
        out = app.test_cli_runner().invoke(args=["privacy", "retention"]).output
    assert "Identities removed from 1 reports" in out

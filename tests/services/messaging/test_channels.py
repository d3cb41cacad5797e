"""The channels' registry and the hooks wired by init_app: explicit, complete, installed once."""

from __future__ import annotations

import pytest

from tests.factories import SubmittedReportFactory
from webapp.extensions import db
from webapp.models import OutboxMessage
from webapp.services.casework import workflow
from webapp.services.messaging import channels, notifications, outbox
from webapp.services.messaging.channels import SendError


def _add(channel: str, **payload) -> OutboxMessage:
    return outbox.add_message(
        dedupe_key=f"test:{channel}",
        recipient_kind="leadership",
        channel=channel,
        address="lanh.dao@example.vn",
        body="Tổng hợp tuần",
        payload=payload or None,
    )


def test_every_channel_a_message_can_name_has_a_sender(app):
    registry = app.extensions[channels.EXTENSION_KEY]
    assert set(registry) == {
        "email",
        "tracking",
        "telegram",
        "zalo",
        "zalo_transaction",
        "zns",
        "sms",
        "open311",
        "webhook",
    }
    assert all(registry[name].channel == name for name in registry)


def test_an_unknown_channel_fails_the_message_without_raising(ctx):
    with pytest.raises(SendError):
        channels.sender_for("fax")
    message = _add("fax")
    db.session.commit()
    assert outbox.deliver(message.id) == "failed"
    db.session.refresh(message)
    assert "no sender for channel 'fax'" in message.last_error


def test_init_app_twice_installs_each_hook_once(app, ctx, monkeypatch):
    channels.init_app(app)  # create_app called each once already
    outbox.init_app(app)
    notifications.init_app(app)
    queued = []
    monkeypatch.setattr(
        "webapp.infra.queue.enqueue", lambda name, *args: queued.append((name, args)) or True
    )
    message = _add("email")
    db.session.commit()
    assert queued == [(outbox.DELIVER_TASK, (message.id,))]

    report = SubmittedReportFactory(description="Cống thoát nước bị tắc ở kiệt 15", point=None)
    workflow.record_event(report, "reply", note="Đã thông cống.", public=True)
    assert len(db.session.info["notify"]) == 1, "one workflow hook, not two"
    db.session.commit()


def test_an_attachment_is_read_from_instance_exports_when_export_dir_is_empty(
    app, ctx, smtp, monkeypatch, tmp_path
):
    monkeypatch.setitem(app.config, "EXPORT_DIR", "")
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    (tmp_path / "exports" / "weekly").mkdir(parents=True)
    (tmp_path / "exports" / "weekly" / "tuan.csv").write_text("a,b\n")
    attachment = {"file": "weekly/tuan.csv", "filename": "tuan.csv", "mimetype": "text/csv"}
    message = _add("email", attachment=attachment)
    db.session.commit()
    assert outbox.deliver(message.id) == "sent"
    [part] = list(smtp.messages[0].iter_attachments())
    assert part.get_filename() == "tuan.csv" and part.get_content() == "a,b\n"

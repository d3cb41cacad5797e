"""The bots' sweep: webhook events the broker never took are queued again; old rows go."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from bot import tasks
from tests.bot.chat import Chat
from tests.fixtures.images import make_jpeg
from webapp.extensions import db
from webapp.infra import queue
from webapp.models import ConversationPhoto, InboundEvent
from webapp.models.types import utcnow
from webapp.services.messaging import conversations


def test_sweep_requeues_unhandled_webhook_events(ctx, monkeypatch):
    queued: list[tuple[str, int]] = []
    monkeypatch.setattr(queue, "enqueue", lambda name, *args: queued.append((name, *args)) or True)
    with time_machine.travel(utcnow() - timedelta(minutes=10)):
        old = conversations.record_inbound("zalo", "msg:old", {"event_name": "user_send_text"})
        db.session.commit()
    conversations.record_inbound("telegram", "msg:1:1", {"update_id": 1})  # just arrived
    db.session.commit()
    assert tasks.sweep.run()["requeued"] == 1
    assert queued == [("bot.tasks.handle_zalo_event", old)]


def test_sweep_forgets_events_handled_long_ago(ctx, dialog):
    chat = Chat(dialog)
    with time_machine.travel(utcnow() - timedelta(days=40)):
        chat.send("xin chao", key="msg:1001:1")
        chat.send("/cuatoi", key="msg:1001:2")
    chat.send("/cuatoi", key="msg:1001:3")
    assert tasks.sweep.run()["events_pruned"] == 2
    assert db.session.scalars(select(InboundEvent.event_id)).all() == ["msg:1001:3"]


def test_abandoned_draft_photos_are_dropped_and_the_resident_told(ctx, dialog):
    chat = Chat(dialog)
    with time_machine.travel(utcnow() - timedelta(days=2)):
        chat.send("Rác thải đổ trộm ven đường ray")
        chat.send(photo=make_jpeg())
    assert tasks.sweep.run()["drafts_pruned"] == 1
    assert db.session.scalar(select(func.count()).select_from(ConversationPhoto)) == 0
    chat.send("bo qua")
    assert "quá lâu" in chat.text

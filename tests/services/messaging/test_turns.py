"""A bot turn is one transaction: claimed once, state and mark committed or rolled back together."""

from __future__ import annotations

import uuid

from webapp.extensions import db
from webapp.models import Conversation
from webapp.services.messaging import turns


def _user() -> str:
    return f"tg-{uuid.uuid4().hex[:8]}"


def test_a_committed_turn_keeps_its_state_and_the_update_counts_once(ctx):
    user, key = _user(), f"upd-{uuid.uuid4().hex}"
    claimed = turns.claim("telegram", user, key)
    assert claimed is not None and claimed.event is not None
    turns.record(claimed, "describing", {"text": "Đèn đường tắt"})
    turns.commit()
    assert turns.claim("telegram", user, key) is None  # a replayed update
    turns.rollback()
    again = turns.claim("telegram", user, None)
    assert again.conversation.state == "describing"
    assert again.conversation.data["text"] == "Đèn đường tắt"
    turns.rollback()


def test_a_rolled_back_turn_leaves_the_update_to_be_handled_again(ctx):
    user, key = _user(), f"upd-{uuid.uuid4().hex}"
    claimed = turns.claim("zalo", user, key)
    turns.record(claimed, "describing", {"text": "x"})
    turns.rollback()
    retry = turns.claim("zalo", user, key)
    assert retry is not None
    assert retry.conversation.state != "describing"
    turns.rollback()
    assert db.session.query(Conversation).filter_by(channel="zalo", user_id=user).count() <= 1

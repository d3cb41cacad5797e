"""Set-based inserts: the same rows, defaults and conflicts on PostgreSQL and SQLite."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from webapp.extensions import db
from webapp.infra import bulk
from webapp.models import OutboxMessage


def _rows(keys: list[str]) -> list[dict]:
    return [
        {
            "dedupe_key": key,
            "recipient_kind": "resident",
            "channel": "telegram",
            "address": f"chat-{n}",
            "subject": None,
            "body": f"Phản ánh số {n} đã được tiếp nhận. Cảm ơn bạn!",
            "report_id": None,
            "payload": {"buttons": [[{"label": "5 ⭐", "payload": f"rate:{n}"}]]} if n else None,
            "status": "pending",
        }
        for n, key in enumerate(keys)
    ]


@pytest.mark.parametrize("backend", ["ctx", "lite"])
def test_rows_defaults_and_conflicts(request, backend):
    request.getfixturevalue(backend)
    before = datetime.now(UTC)
    table = OutboxMessage.__table__
    first = bulk.insert_rows(
        table, _rows(["k:a", "k:b"]), skip_conflicts_on="dedupe_key", returning="id"
    )
    again = bulk.insert_rows(
        table, _rows(["k:b", "k:c", "k:a"]), skip_conflicts_on="dedupe_key", returning="id"
    )
    db.session.commit()
    assert len(first) == 2 and len(again) == 1 and not set(first) & set(again)
    stored = {m.dedupe_key: m for m in db.session.scalars(select(OutboxMessage))}
    assert set(stored) == {"k:a", "k:b", "k:c"}
    assert stored["k:c"].id == again[0]
    # The second row of the second call was "k:c": its own values, not the first call's.
    assert stored["k:c"].address == "chat-1" and stored["k:c"].payload["buttons"][0][0] == {
        "label": "5 ⭐",
        "payload": "rate:1",
    }
    assert stored["k:a"].payload is None and "tiếp nhận" in stored["k:a"].body
    # Python-side defaults of the model apply: attempts 0, aware creation times.
    assert all(m.attempts == 0 and m.created_at >= before for m in stored.values())
    assert all(m.updated_at.tzinfo is not None for m in stored.values())

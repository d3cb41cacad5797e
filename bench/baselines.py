"""What intake is measured against, on the same database and rows: the raw INSERT+COMMIT of
one plain row, and the floor, the shortest intake the schema allows.

The floor is one statement, as short as intake could ever be: the report row (status
`received`), its `received` event, the resident's message in the outbox and the rollup's cell
count, written together by data-modifying CTEs, then the commit; optionally one Celery send
(the classification). No validation, no place lookup, no resident, no second rollup table, no
ORM: whatever intake does beyond it is the gap between the two. The checked floor runs
intake's own checks and placing first (`checked_row`): what any intake that keeps them costs.
"""

from __future__ import annotations

import json
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from timings import Timings, run_each

RAW_DDL = """
CREATE TABLE bench_raw (
    id bigserial PRIMARY KEY,
    channel varchar(20) NOT NULL,
    description text NOT NULL,
    search_text text NOT NULL,
    address_text varchar(500),
    lat double precision,
    lon double precision,
    created_at timestamptz NOT NULL DEFAULT now()
)
"""
RAW_INSERT = (
    "INSERT INTO bench_raw (channel, description, search_text, address_text, lat, lon) "
    "VALUES (:channel, :description, :search_text, :address_text, :lat, :lon)"
)


def raw_rows(drafts: list) -> list[dict[str, Any]]:
    """Parameters for bench_raw built from the same drafts (same text, same sizes)."""
    from webapp.infra.text import fold

    return [
        {
            "channel": d.channel,
            "description": d.description,
            "search_text": fold(f"{d.description} {d.address or ''}"),
            "address_text": d.address,
            "lat": d.lat,
            "lon": d.lon,
        }
        for d in drafts
    ]


def run_raw(app, rows: list[dict[str, Any]], into: Timings) -> None:
    """One INSERT then COMMIT per row into bench_raw on the app's engine (psycopg 3)."""
    from sqlalchemy import text

    from webapp.extensions import db

    stmt = text(RAW_INSERT)
    with app.app_context(), db.engine.connect() as conn:
        start, cpu = time.perf_counter(), time.process_time()
        for row in rows:
            t0 = time.perf_counter()
            conn.execute(stmt, row)
            conn.commit()
            into.latencies.append(time.perf_counter() - t0)
        into.wall += time.perf_counter() - start
        into.cpu += time.process_time() - cpu


FLOOR = """
WITH r AS (
  INSERT INTO reports (channel, description, search_text, address_text, lat, lon, status,
    classify_attempts, location_source, outside_area, created_at, updated_at, tracking_token,
    code, language)
  VALUES (:channel, :description, :search_text, :address_text, :lat, :lon, 'received', 0,
    'pin', false, :now, :now, :token, :code, 'vi')
  RETURNING id),
e AS (
  INSERT INTO report_events (report_id, kind, to_status, actor_label, public, data, created_at)
  SELECT id, 'status', 'received', 'resident', true, CAST(:data AS json), :now FROM r),
o AS (
  INSERT INTO outbox_messages (dedupe_key, recipient_kind, channel, address, report_id, body,
    status, attempts, created_at, updated_at)
  SELECT 'floor-' || id, 'resident', 'sms', '0900000000', id, :body, 'pending', 0, :now, :now
  FROM r)
INSERT INTO report_cell_counts (grain, period, status, category_code, h3_r6, resolved, due, n)
VALUES ('d', :day, 'received', '', '', false, :day, 1)
ON CONFLICT (grain, period, status, category_code, h3_r6, resolved, due)
DO UPDATE SET n = report_cell_counts.n + 1
RETURNING (SELECT id FROM r)
"""


def run_floor(app, items: list, into: Timings, send: bool, checked: bool = False) -> None:
    """The floor for each item, in its own app context like a request; `send`: then one
    Celery send of the classification, as intake's own after its commit. `checked`: the
    items are drafts and intake's own checks and placing run first (`intake.checks`,
    `reports.locate`), so the floor's row is the one they give."""
    from sqlalchemy import text

    from webapp.extensions import db
    from webapp.infra import queue, task_names

    stmt = text(FLOOR)
    data = json.dumps({"channel": "web", "photos": 0})

    def floor(item: Any) -> bool:
        row = checked_row(item) if checked else item
        now = datetime.now(UTC)
        values = {**row, "now": now, "day": now.date(), "data": data, "body": "Đã nhận."}
        values |= {"token": secrets.token_urlsafe(32), "code": f"F-{secrets.token_hex(8)}"}
        report_id = db.session.execute(stmt, values).scalar()
        db.session.commit()
        return send and queue.enqueue(task_names.CLASSIFY_REPORT, report_id)

    into.queued += sum(run_each(app, items, floor, into))


def checked_row(draft) -> dict[str, Any]:
    """The floor's row for a draft after the checks intake makes before writing: the form,
    the sender (contact, block list, rate limits), the category's answers, the photos, and
    the point placed in its ward."""
    from webapp.services.intake import checks, reports

    description = checks.check_form(draft)
    sender = checks.check_sender(draft)
    location = reports.locate(draft, description, sender.processed)
    lat, lon = location.point or (None, None)
    address = reports.typed_address(draft)
    return {
        "channel": draft.channel,
        "description": description,
        "search_text": reports.search_text(description, address),
        "address_text": address,
        "lat": lat,
        "lon": lon,
    }


def run_floors(app, drafts: list, blocks: int) -> tuple[Timings, Timings, Timings, Timings]:
    """The floor without and with its send, the floor after intake's checks, and raw
    INSERT+COMMIT, in alternating blocks of the same drafts (as intake and raw are):
    (floor, floor + send, checks + floor, raw)."""
    floor, sent, checked, raw = Timings(), Timings(), Timings(), Timings()
    size = max(1, -(-len(drafts) // blocks))
    for at in range(0, len(drafts), size):
        rows = raw_rows(drafts[at : at + size])
        run_floor(app, rows, floor, send=False)
        run_floor(app, rows, sent, send=True)
        run_floor(app, drafts[at : at + size], checked, send=False, checked=True)
        run_raw(app, rows, raw)
    return floor, sent, checked, raw

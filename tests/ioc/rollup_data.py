"""Random reports for the rollup tests, and random changes to them (state machine, edits,
deletes, bulk statements), and a snapshot of the rollup tables."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, select, update

from tests.factories import ReportFactory
from tests.ioc.conftest import STATUSES, random_point, ward_codes
from webapp.extensions import db
from webapp.models import (
    Agency,
    Category,
    OutboxMessage,
    Report,
    ReportCellCount,
    ReportKpiCount,
    ReportKpiTime,
    ReportStatus,
)
from webapp.models.types import utcnow
from webapp.services.administration import seed
from webapp.services.casework import workflow
from webapp.services.geography import places
from webapp.services.ioc.queries import LOCAL_TZ

TABLES = (ReportCellCount.__table__, ReportKpiCount.__table__, ReportKpiTime.__table__)


def snapshot() -> dict[str, dict[tuple, tuple]]:
    """Every rollup row holding something, by table: {primary key: values (NULL as 0)}."""
    found: dict[str, dict[tuple, tuple]] = {}
    for table in TABLES:
        keys = [c for c in table.columns if c.primary_key]
        values = [c for c in table.columns if not c.primary_key]
        rows = db.session.execute(select(*keys, *values)).all()
        found[table.name] = {
            tuple(row[: len(keys)]): tuple(v or 0 for v in row[len(keys) :])
            for row in rows
            if any(row[len(keys) :])
        }
    return found


def _due(rng: random.Random, created: datetime, now: datetime) -> datetime | None:
    """A deadline: none, any time after receipt, or today just before or after `now`."""
    start_of_day = datetime.combine(now.astimezone(LOCAL_TZ).date(), time(), LOCAL_TZ)
    roll = rng.random()
    if roll < 0.1:
        return None
    if roll < 0.2:  # earlier today: overdue only since today (counted from the reports)
        return now - (now - start_of_day) * rng.uniform(0.05, 0.95)
    if roll < 0.25:
        return now + timedelta(hours=rng.uniform(0.1, 12))
    return created + timedelta(hours=rng.uniform(2, 40 * 24))


def random_reports(rng: random.Random, n: int) -> list[Report]:
    """n reports of the last ~80 days: statuses, deadlines, extensions, times, ratings."""
    wards = ward_codes()
    categories = list(db.session.scalars(select(Category.code)))
    agencies = list(db.session.scalars(select(Agency.id).where(Agency.kind != "group")))
    now = utcnow()
    made = []
    for _ in range(n):
        created = now - timedelta(days=rng.uniform(0, 80))
        status = rng.choice(STATUSES)
        due = _due(rng, created, now)
        extension = rng.choice([None, None, "approved", "refused", "requested"])
        original = due
        if extension == "approved" and due is not None:
            original = due - timedelta(days=rng.uniform(0.5, 6))
        resolved = None
        if status in ("resolved", "closed"):
            resolved = created + timedelta(hours=rng.lognormvariate(3.5, 1.2))
        point = random_point(rng, rng.choice(wards)) if rng.random() < 0.9 else None
        made.append(
            ReportFactory(
                point=point,
                status=status,
                category_code=rng.choice(categories) if rng.random() < 0.95 else None,
                agency_id=rng.choice(agencies) if rng.random() < 0.9 else None,
                created_at=created,
                due_at=due,
                original_due_at=original,
                extension_status=extension,
                first_response_at=created + timedelta(minutes=rng.expovariate(1 / 300))
                if rng.random() < 0.7
                else None,
                resolved_at=resolved,
                rating=rng.randint(1, 5) if resolved and rng.random() < 0.5 else None,
            )
        )
    db.session.commit()
    return made


def _change(rng: random.Random, report: Report, pools: dict[str, list[Any]]) -> bool:
    """One edit of the kinds the application makes; False when the report was deleted."""
    kind = rng.choice(["transition", "transition", "category", "agency", "deadline", "rating",
                       "response", "move", "received", "delete"])  # fmt: skip
    now = utcnow()
    if kind == "transition":
        targets = sorted(workflow.ALLOWED.get(ReportStatus(report.status), ()))
        if targets:
            workflow.transition(report, rng.choice(targets))
    elif kind == "category":
        report.category_code = rng.choice(pools["categories"])
    elif kind == "agency":  # a transfer confirmed, or triage
        report.agency = db.session.get(Agency, rng.choice(pools["agencies"]))
    elif kind == "deadline":  # an extension approved, or a deadline set today
        report.original_due_at = report.original_due_at or report.due_at
        report.due_at = rng.choice([now - timedelta(minutes=5), now + timedelta(days=5)])
        report.extension_status = "approved"
    elif kind == "rating":
        report.rating = rng.choice([None, 1, 2, 3, 4, 5])
    elif kind == "response":
        report.first_response_at = report.created_at + timedelta(hours=rng.uniform(0, 72))
    elif kind == "move":
        lat, lon = random_point(rng, rng.choice(pools["wards"]))
        placement = places.place(lat, lon)
        report.lat, report.lon, report.unit_code = lat, lon, placement.unit_code
        for name, cell in placement.cells.items():
            setattr(report, name, cell)
    elif kind == "received":
        report.created_at -= timedelta(days=rng.uniform(0, 20))
    else:  # after the notifications its events queue, which refer to it
        db.session.commit()
        db.session.execute(delete(OutboxMessage).where(OutboxMessage.report_id == report.id))
        db.session.delete(report)
        return False
    return True


def random_changes(rng: random.Random, reports: list[Report], count: int) -> None:
    """`count` edits committed in small batches, then a bulk UPDATE and bulk DELETEs."""
    pools = {
        "categories": list(db.session.scalars(select(Category.code))),
        "agencies": list(db.session.scalars(select(Agency.id).where(Agency.kind != "group"))),
        "wards": ward_codes(),
    }
    alive = list(reports)
    for n in range(count):
        report = alive.pop(rng.randrange(len(alive)))
        if _change(rng, report, pools):
            alive.append(report)
        if n % 7 == 6:
            db.session.commit()
        elif n % 5 == 4:
            db.session.flush()
    db.session.commit()
    ids = [r.id for r in rng.sample(alive, 12)]
    db.session.execute(
        update(Report).where(Report.id.in_(ids[:6])).values(category_code=pools["categories"][0])
    )
    db.session.commit()
    seed.delete_reports(ids[6:])  # DELETE statements through the session, as the demo reset

"""Loading the data a province edits (config/), the demo accounts and the demo history."""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from flask import current_app
from sqlalchemy import bindparam, delete, select, update

from config.settings import ROOT
from webapp.extensions import db
from webapp.infra import bulk
from webapp.models import Agency, Category, Report, ReportEvent, Role, RoutingRule, User
from webapp.models.types import utcnow
from webapp.services.administration import history, lifecycle
from webapp.services.geography import units
from webapp.services.intake import questions
from webapp.services.intake.reports import public_code

CONFIG_DIR = ROOT / "config"
DEMO_PASSWORD = "phananh-demo-2026"


def load_categories(path: Path = CONFIG_DIR / "categories.yml") -> int:
    """Insert or update the categories from YAML; returns how many."""
    rows = yaml.safe_load(path.read_text(encoding="utf-8"))
    for order, row in enumerate(rows):
        cat = db.session.get(Category, row["code"]) or Category(code=row["code"])
        cat.name_vi, cat.name_en = row["vi"], row["en"]
        cat.default_urgency = row.get("urgency", "normal")
        cat.sla_urgent_hours = row.get("urgent_hours", 8)
        cat.sla_normal_days = row.get("normal_days", 5)
        cat.sla_complex_days = row.get("complex_days", 15)
        cat.sensitive = bool(row.get("sensitive", False))
        cat.questions = questions.definitions(row.get("questions"))
        cat.sort_order = order
        db.session.add(cat)
    db.session.commit()
    return len(rows)


def _agency(code: str, **fields: Any) -> Agency:
    agency = db.session.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        agency = Agency(code=code)
        db.session.add(agency)
    for key, value in fields.items():
        setattr(agency, key, value)
    return agency


def load_agencies(province: str) -> int:
    """Insert or update the province's agencies and replace its routing rules."""
    spec = yaml.safe_load((CONFIG_DIR / "provinces" / province / "agencies.yml").read_text("utf-8"))
    wards = units.wards(province)
    if not wards:
        raise RuntimeError(f"No communes/wards for province {province}: import boundaries first.")
    ioc = _agency(**spec["ioc"])
    by_code: dict[str, Agency] = {ioc.code: ioc}
    for row in spec["agencies"]:
        row = dict(row)
        parent = row.pop("parent", None)
        by_code[row["code"]] = _agency(**row)
        db.session.flush()
        by_code[row["code"]].parent = by_code.get(parent) if parent else None
    group_spec = spec["ward_committees"]
    group = _agency(**group_spec["parent"])
    committees: dict[str, Agency] = {}
    for ward in wards:
        committee = _agency(
            f"{group_spec['code_prefix']}{ward.code}",
            name=f"{group_spec['name_prefix']}{ward.full_name}",
            name_en=f"People's Committee of {ward.name_en or ward.name}",
            kind="ward_committee",
        )
        committee.parent = group
        committee.units = [ward]
        committees[ward.code] = committee
    db.session.flush()

    db.session.execute(delete(RoutingRule))
    for category, target in spec["routing"].items():
        if target == "ward":
            for ward_code, committee in committees.items():
                db.session.add(
                    RoutingRule(category_code=category, unit_code=ward_code, agency=committee)
                )
        else:
            db.session.add(RoutingRule(category_code=category, agency=by_code[target]))
    # Province-level fallback: anything else goes to the IOC for a decision.
    db.session.add(RoutingRule(category_code=None, unit_code=None, agency=ioc, priority=1000))
    db.session.commit()
    return len(by_code) + len(committees) + 1


DEMO_USERS = [
    # (email, name, role, agency code)
    ("admin@demo.vn", "Quản trị hệ thống", Role.ADMIN, None),
    ("dieuphoi@demo.vn", "Điều phối viên IOC", Role.IOC_OPERATOR, "IOC-DN"),
    ("giamsat@demo.vn", "Giám sát IOC", Role.IOC_VIEWER, "IOC-DN"),
    ("truongphong.chieusang@demo.vn", "Lãnh đạo Công ty Chiếu sáng", Role.AGENCY_LEAD, "CHIEUSANG"),
    ("chieusang@demo.vn", "Cán bộ Công ty Chiếu sáng", Role.AGENCY_STAFF, "CHIEUSANG"),
    ("moitruong@demo.vn", "Cán bộ Môi trường đô thị", Role.AGENCY_STAFF, "MTDT"),
    ("xaydung@demo.vn", "Lãnh đạo Sở Xây dựng", Role.AGENCY_LEAD, "SXD"),
]


def load_demo_users(password: str = DEMO_PASSWORD) -> list[tuple[str, str]]:
    """Create the demo accounts (one per role); returns (email, role) pairs."""
    created = []
    for email, name, role, agency_code in DEMO_USERS:
        agency = (
            db.session.scalar(select(Agency).where(Agency.code == agency_code))
            if agency_code
            else None
        )
        user = db.session.scalar(select(User).where(User.email == email)) or User(email=email)
        user.name, user.role, user.agency = name, role.value, agency
        user.set_password(password)
        db.session.add(user)
        created.append((email, role.value))
    db.session.commit()
    return created


HISTORY_PER_DAY = 15.0  # reports a day on average (weekends fewer)


@dataclass
class HistoryResult:
    """What load_history did: reports made (by status), or found already there."""

    created: int = 0
    existing: int = 0
    removed: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def history_report_ids() -> list[int]:
    """The reports the history seed made (their first event carries its marker)."""
    return list(
        db.session.scalars(
            select(ReportEvent.report_id).where(
                ReportEvent.kind == "status",
                ReportEvent.from_status.is_(None),
                ReportEvent.data["seed"].as_string() == history.MARKER,
            )
        )
    )


def load_history(
    days: int,
    *,
    per_day: float = HISTORY_PER_DAY,
    reset: bool = False,
    random_seed: int = 48,
    now: datetime | None = None,
) -> HistoryResult:
    """Add `days` days of realistic past reports, unless there already is a history.

    `reset` replaces a history already there (and what was done to its reports since).
    """
    started = time.perf_counter()
    existing = history_report_ids()
    if existing and not reset:
        return HistoryResult(existing=len(existing))
    if existing:
        delete_reports(existing)
    rng = random.Random(random_seed)
    now = now or utcnow()
    world = lifecycle.World.load(rng, current_app.config["PROVINCE_CODE"], now)
    lives = []
    for created, final in history.receipts(rng, days, per_day, now):
        lives.append(lifecycle.live(rng, world, created, final))
    by_status = Counter(life.report.status for life in lives)
    _store(lives)
    db.session.commit()
    return HistoryResult(
        created=len(lives),
        removed=len(existing),
        by_status=dict(by_status.most_common()),
        seconds=time.perf_counter() - started,
    )


def _store(lives: list[lifecycle.Life], batch: int = 500) -> None:
    """Reports through the ORM (ids), then their codes and events in a few statements."""
    prefix = current_app.config["PUBLIC_CODE_PREFIX"]
    table = Report.__table__
    for start in range(0, len(lives), batch):
        db.session.add_all([life.report for life in lives[start : start + batch]])
        db.session.flush()
    # A plain UPDATE with every value given: the ORM would stamp updated_at with "now".
    stmt = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(
            code=bindparam("b_code"),
            duplicate_of_id=bindparam("b_original"),
            updated_at=bindparam("b_updated", type_=table.c.updated_at.type),
        )
    )
    codes = {life.report.id: public_code(life.report.id, life.report.created_at, prefix)
             for life in lives}  # fmt: skip
    rows, events = [], []
    for life in lives:
        report, original = life.report, life.duplicate_of
        rows.append(
            {
                "b_id": report.id,
                "b_code": codes[report.id],
                "b_original": original.id if original else None,
                "b_updated": report.updated_at,
            }
        )
        for event in life.events:
            if event["to_status"] == "duplicate" and original is not None:
                event["data"] = {"original": codes[original.id]}
            events.append({**event, "report_id": report.id})
    if rows:
        db.session.execute(stmt, rows)
    for start in range(0, len(events), 2000):
        bulk.insert_rows(ReportEvent.__table__, events[start : start + 2000])


def delete_reports(ids: list[int], batch: int = 500) -> None:
    """Delete reports and every row that belongs to them (events, photos, messages, …)."""
    table = Report.__table__
    referring = [
        (other, fk.parent)
        for other in db.metadata.sorted_tables
        for fk in other.foreign_keys
        if fk.column.table is table
    ]
    chunks = [ids[start : start + batch] for start in range(0, len(ids), batch)]
    for chunk in chunks:  # reports closed as their duplicates first lose the pointer
        for other, column in referring:
            if other is table:
                db.session.execute(
                    update(table).where(column.in_(chunk)).values({column.name: None})
                )
    for chunk in chunks:
        for other, column in referring:
            if other is not table:
                db.session.execute(delete(other).where(column.in_(chunk)))
        db.session.execute(delete(table).where(table.c.id.in_(chunk)))
    db.session.commit()

"""Deadline sweep over a million open reports: the run that reminds and escalates, then idle runs.

Creates a throwaway database (bench_<random>), migrates and seeds it like the intake bench,
bulk-loads N open reports with PostgreSQL COPY (a small share already past their reminder or
deadline), times webapp.services.sla.sweep.run_sweep on it several times (enqueue to a throwaway
Redis queue included), EXPLAINs the two claim queries, writes bench/results/sweep.json and
drops the database. See bench/README.md.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import intake_throughput as intake  # bench/ is on sys.path when this file is run

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "sweep.json"
GOAL_S = 1.0
IOC_EMAIL = "ioc@danang.example.vn"
NEXT_SWEEP_S = 60  # the profiled run is the next minute's sweep, with its own due reports
PENDING_WINDOW_S = 1800  # due reports of the first run became due in the last 30 minutes
QUIET_S = 3600  # no other deadline falls within an hour of the sweep moments
DAY = 86400.0

# Category shares of open reports (a rough Đà Nẵng mix); a category missing here gets none.
CATEGORY_WEIGHTS = {
    "road_damage": 15,
    "waste": 14,
    "street_lighting": 10,
    "encroachment": 10,
    "drainage_flooding": 8,
    "noise": 8,
    "trees": 6,
    "traffic": 5,
    "water_supply": 5,
    "illegal_construction": 5,
    "pollution": 4,
    "public_security": 3,
    "electricity": 2,
    "food_health": 1,
    "public_service": 1,
    "other": 2,
}
# Statuses in which the clock runs (webapp.services.sla.sweep.CLOCK_RUNNING), with their shares.
RUNNING_STATUSES = (
    ("assigned", 0.58),
    ("in_progress", 0.36),
    ("reopened", 0.03),
    ("transferred", 0.03),
)
TRIAGE_SHARE = 0.03  # needs_triage: no agency, no deadline yet
WAITING_SHARE = 0.015  # waiting for the resident: clock paused (waiting_since set)
OVERDUE_PHASE = 1.05  # elapsed share of the SLA drawn in [0, 1.05): ~5 % overdue (escalated)
COLUMNS = (
    "id, code, channel, description, search_text, status, category_code, confidence, "
    "nlu_ranking, classified_at, classify_attempts, agency_id, unit_code, province_code, "
    "lat, lon, location_source, outside_area, h3_r6, h3_r8, h3_r10, urgency, due_at, "
    "first_response_at, created_at, updated_at, remind_at, reminded_at, escalated_at, "
    "overdue, original_due_at, waiting_since, resolved_at, closed_at"
)


@dataclass
class Run:
    """One timed run_sweep call."""

    run: int
    now: str
    wall_s: float
    cpu_s: float
    reminded: int
    escalated: int
    requeued: int
    retried: int
    sql_statements: int
    sql_s: float
    enqueued: int
    enqueue_s: float
    sql_by_kind: dict[str, dict[str, float]]


@dataclass
class Meter:
    """SQL statements and Redis sends counted while `on`."""

    on: bool = False
    statements: int = 0
    sql_s: float = 0.0
    sends: int = 0
    send_s: float = 0.0
    by_kind: dict[str, list[float]] = field(default_factory=dict)  # label → [count, seconds]
    captured: list[tuple[str, Any]] = field(default_factory=list)
    capture: bool = False

    def reset(self) -> None:
        """Zero the counters."""
        self.statements, self.sql_s, self.sends, self.send_s = 0, 0.0, 0, 0.0
        self.by_kind = {}


def same_ddl(ddl: str) -> str:
    """An index definition without casts, brackets and spaces: PostgreSQL rewrites
    `status IN (…)` once more each time it reads its own output back."""
    return re.sub(r"::[a-z ]+(\[\])?|[()\s]", "", ddl)


def statement_label(statement: str) -> str:
    """'UPDATE reports', 'SELECT users', 'SELECT reports FOR UPDATE'… for a SQL statement."""
    verb = statement.lstrip().split(None, 1)[0].upper()
    if verb == "SELECT":
        table = re.search(r"\bFROM\s+(\w+)", statement)
        label = f"SELECT {table.group(1) if table else '?'}"
        return f"{label} FOR UPDATE" if "FOR UPDATE" in statement else label
    table = re.search(r"^\s*(?:INSERT INTO|UPDATE|DELETE FROM)\s+(\w+)", statement, re.I)
    return f"{verb} {table.group(1)}" if table else verb


log = intake.log


# --------------------------------------------------------------------------- data


class Stamp:
    """Epoch seconds → PostgreSQL timestamptz text, fast (formatted minutes are cached)."""

    def __init__(self) -> None:
        self.minutes: dict[int, str] = {}

    def __call__(self, t: float | None) -> str:
        """'2026-11-23 15:04:05+00', or COPY's NULL for None."""
        if t is None:
            return r"\N"
        minute, second = divmod(int(t), 60)
        prefix = self.minutes.get(minute)
        if prefix is None:
            prefix = datetime.fromtimestamp(minute * 60, UTC).strftime("%Y-%m-%d %H:%M")
            self.minutes[minute] = prefix
        return f"{prefix}:{second:02d}+00"


@dataclass
class World:
    """What the rows refer to: categories and their SLAs, wards and points, routing."""

    categories: list[tuple[str, float]]  # (code, weight)
    sla_s: dict[tuple[str, str], float]  # (category, urgency) → calendar seconds
    default_urgency: dict[str, str]
    wards: list[str]
    points: dict[str, list[tuple[str, str, str, str, str]]]  # ward → (lat, lon, r6, r8, r10)
    route: dict[tuple[str, str | None], int]  # (category, ward or None) → agency id
    ioc_id: int
    texts: list[tuple[str, str]]  # (description, search_text), COPY-escaped
    leads: int


def copy_text(value: str) -> str:
    """Escape a value for COPY's text format."""
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def calendar_seconds(urgency: str, row: dict[str, Any]) -> float:
    """An SLA in calendar time, roughly (7.5 working hours a day, 5 working days a week)."""
    if urgency == "urgent":
        return row["sla_urgent_hours"] / 7.5 * 1.4 * DAY
    days = row["sla_complex_days"] if urgency == "complex" else row["sla_normal_days"]
    return days * 1.4 * DAY


def build_world(app, shapes: list, rng) -> World:
    """Categories, wards with sample points and H3 cells, routing, texts; one lead per agency."""
    import csv

    from sqlalchemy import text

    from webapp.extensions import db
    from webapp.services.geography import geo
    from webapp.services.text import fold

    with app.app_context():
        cats = db.session.execute(
            text(
                "SELECT code, default_urgency, sla_urgent_hours, sla_normal_days, "
                "sla_complex_days FROM categories"
            )
        ).mappings()
        cats = {r["code"]: dict(r) for r in cats}
        rules = db.session.execute(
            text(
                "SELECT category_code, unit_code, agency_id FROM routing_rules "
                "WHERE active ORDER BY priority, id"
            )
        ).all()
        db.session.execute(
            text(
                "INSERT INTO users (email, name, password_hash, role, agency_id, active, "
                "failed_logins, created_at, updated_at) "
                "SELECT 'lanhdao.' || lower(code) || '@danang.example.vn', 'Lãnh đạo ' || name, "
                "'!', 'agency_lead', id, true, 0, now(), now() FROM agencies WHERE kind <> 'group'"
            )
        )
        leads = db.session.execute(text("SELECT count(*) FROM users")).scalar_one()
        db.session.commit()
        db.session.remove()

    route: dict[tuple[str, str | None], int] = {}
    ioc_id = 0
    for category, unit, agency_id in rules:
        if category is None and unit is None:
            ioc_id = ioc_id or agency_id
        elif category is not None:
            route.setdefault((category, unit), agency_id)

    wards = [s for s in shapes if not s.geometry.is_empty]
    points: dict[str, list[tuple[str, str, str, str, str]]] = {}
    for ward in wards:
        pool = []
        for _ in range(40):
            lat, lon = intake.random_point(rng, ward.geometry)
            cells = geo.cells_for(lat, lon)
            pool.append(
                (f"{lat:.6f}", f"{lon:.6f}", cells["h3_r6"], cells["h3_r8"], cells["h3_r10"])
            )
        points[ward.code] = pool

    with (ROOT / "config" / "provinces" / intake.PROVINCE / "streets.csv").open(
        encoding="utf-8"
    ) as f:
        streets = [r["name"] for r in csv.DictReader(f)]
    texts = []
    for _ in range(4000):
        ward = rng.choice(wards)
        body = rng.choice(intake.DESCRIPTIONS).format(
            street=rng.choice(streets), num=rng.randrange(1, 400), ward=ward.name
        ) + rng.choice(intake.CLOSINGS)
        texts.append((copy_text(body), copy_text(fold(body))))

    weights = {c: CATEGORY_WEIGHTS.get(c, 0) for c in cats}
    sla = {
        (code, urgency): calendar_seconds(urgency, row)
        for code, row in cats.items()
        for urgency in ("urgent", "normal", "complex")
    }
    return World(
        categories=[(c, w) for c, w in weights.items() if w > 0],
        sla_s=sla,
        default_urgency={c: r["default_urgency"] for c, r in cats.items()},
        wards=[w.code for w in wards],
        points=points,
        route=route,
        ioc_id=ioc_id,
        texts=texts,
        leads=leads,
    )


@dataclass
class Plan:
    """How many rows of each kind, and the moments they are planted around."""

    reports: int
    closed: int
    now: float
    next_now: float
    pending_remind: int
    pending_escalate: int
    special: dict[int, str]  # report id → kind of planted row
    counts: dict[str, int] = field(default_factory=dict)


def make_plan(n: int, closed: int, due_fraction: float, now: float, rng) -> Plan:
    """Pick which ids are due at `now` (and at the next minute's sweep, for the profile run)."""
    remind = round(n * due_fraction)
    escalate = round(n * due_fraction / 2)
    kinds = (
        ["remind_now"] * remind
        + ["escalate_now"] * escalate
        + ["remind_next"] * remind
        + ["escalate_next"] * escalate
    )
    if len(kinds) > n:
        raise SystemExit("--due-fraction too large for --reports")
    ids = rng.sample(range(1, n + 1), len(kinds))
    return Plan(
        reports=n,
        closed=closed,
        now=now,
        next_now=now + NEXT_SWEEP_S,
        pending_remind=remind,
        pending_escalate=escalate,
        special=dict(zip(ids, kinds, strict=True)),
    )


def generate_lines(world: World, plan: Plan, rng) -> Iterator[str]:
    """COPY text lines of the reports, one per id (see the README for the mix)."""
    stamp = Stamp()
    cat_codes = [c for c, _ in world.categories]
    cat_cum = list(_cumulative(w for _, w in world.categories))
    status_names = [s for s, _ in RUNNING_STATUSES]
    status_cum = list(_cumulative(w for _, w in RUNNING_STATUSES))
    now, next_now = plan.now, plan.next_now
    counts = plan.counts
    n_texts = len(world.texts)
    random, uniform, choice = rng.random, rng.uniform, rng.choice
    null = r"\N"
    for rid in range(1, plan.reports + plan.closed + 1):
        category = cat_codes[_pick(cat_cum, random())]
        roll = random()
        urgency = world.default_urgency[category]
        if roll < 0.1:
            urgency = "complex" if urgency != "complex" else "normal"
        elif roll < 0.2:
            urgency = "urgent" if urgency != "urgent" else "normal"
        sla = world.sla_s[(category, urgency)]
        ward = choice(world.wards)
        lat, lon, r6, r8, r10 = choice(world.points[ward])
        description, search = world.texts[int(random() * n_texts)]
        kind = plan.special.get(rid)
        state = random()  # triage / waiting / clock running
        status = status_names[_pick(status_cum, random())]
        agency: int | None = world.route.get((category, ward)) or world.route.get(
            (category, None), world.ioc_id
        )
        reminded = escalated = waiting = first_response = resolved = closed = None
        overdue = False
        if rid > plan.reports:
            # History (--closed): handled within the past year, mostly before the reminder, so
            # never stamped; the partial indexes do not exclude such rows.
            created = now - uniform(2 * DAY + 1.3 * sla, 365 * DAY)
            remind, due = created + 0.75 * sla, created + sla
            took = uniform(0.05, 1.3) * sla
            resolved = created + took
            first_response = created + 0.1 * took
            if took > 0.75 * sla:
                reminded = remind + uniform(5, 60)
            if took > sla:
                escalated, overdue = due + uniform(5, 60), True
            if random() < 0.85:
                status, closed = "closed", resolved + uniform(0.5, 2) * DAY
            else:
                status = "resolved"
            counts[status] = counts.get(status, 0) + 1
        elif kind is not None:
            # Planted: past its reminder (or deadline) at the sweep moment, not yet handled.
            at = now if kind.endswith("_now") else next_now
            window = PENDING_WINDOW_S if kind.endswith("_now") else NEXT_SWEEP_S - 2
            if kind.startswith("remind"):
                remind = at - uniform(1, window)
                created = remind - 0.75 * sla
                due = created + sla
            else:
                due = at - uniform(1, window)
                created = due - sla
                remind = created + 0.75 * sla
                reminded = remind + uniform(5, 60)
            counts[kind] = counts.get(kind, 0) + 1
        elif state < TRIAGE_SHARE:
            status, agency, urgency = "needs_triage", None, None
            created = now - uniform(600, 3 * DAY)
            remind = due = None
            counts["needs_triage"] = counts.get("needs_triage", 0) + 1
        else:
            # Somewhere in its SLA: keep every deadline an hour or more from the sweep moments.
            while True:
                phase = uniform(0, OVERDUE_PHASE)
                created = now - phase * sla
                remind, due = created + 0.75 * sla, created + sla
                if abs(remind - now) > QUIET_S and abs(due - now) > QUIET_S:
                    break
            stamp_from = now
            if state < TRIAGE_SHARE + WAITING_SHARE:
                # Waiting for the resident: nothing is stamped after the pause began.
                waiting = now - uniform(0, now - created)
                stamp_from = waiting
                counts["waiting"] = counts.get("waiting", 0) + 1
            if remind < stamp_from:
                reminded = remind + uniform(5, 60)
            if due < stamp_from:
                escalated = due + uniform(5, 60)
                overdue = True
            counts[status] = counts.get(status, 0) + 1
        if status == "in_progress":
            first_response = created + uniform(0.05, 0.3) * (now - created)
        classified = created + uniform(2, 30)
        updated = max(
            t
            for t in (classified, first_response, reminded, escalated, waiting, resolved, closed)
            if t
        )
        conf = f"{uniform(0.62, 0.99):.4f}"
        via = random()
        channel = "web" if via < 0.7 else ("telegram" if via < 0.85 else "zalo")
        month = stamp(created)[2:7].replace("-", "")
        yield (
            f"{rid}\tPA-{month}-{rid:06d}\t{channel}\t{description}\t{search}\t{status}\t"
            f'{category}\t{conf}\t[["{category}", {conf}]]\t{stamp(classified)}\t1\t'
            f"{agency if agency else null}\t{ward}\t{intake.PROVINCE}\t{lat}\t{lon}\tpin\tf\t"
            f"{r6}\t{r8}\t{r10}\t{urgency or null}\t{stamp(due)}\t{stamp(first_response)}\t"
            f"{stamp(created)}\t{stamp(updated)}\t{stamp(remind)}\t{stamp(reminded)}\t"
            f"{stamp(escalated)}\t{'t' if overdue else 'f'}\t{stamp(due)}\t{stamp(waiting)}\t"
            f"{stamp(resolved)}\t{stamp(closed)}\n"
        )


def _cumulative(weights) -> Iterator[float]:
    """Cumulative shares (ending at 1.0) of the weights, for _pick."""
    weights = list(weights)
    total, acc = sum(weights), 0.0
    for w in weights:
        acc += w / total
        yield acc


def _pick(cumulative: list[float], r: float) -> int:
    """The index whose cumulative share first exceeds r (0 ≤ r < 1)."""
    for i, edge in enumerate(cumulative):
        if r < edge:
            return i
    return len(cumulative) - 1


def bulk_load(database_url: str, world: World, plan: Plan, rng) -> dict[str, float]:
    """COPY the reports in with the secondary indexes and foreign keys off, then rebuild them."""
    import psycopg

    dsn = database_url.replace("postgresql+psycopg://", "postgresql://")
    timings: dict[str, float] = {}
    with psycopg.connect(dsn) as conn:
        conn.execute("SET maintenance_work_mem = '256MB'")
        indexes = conn.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i "
            "WHERE i.tablename = 'reports' AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname) ORDER BY 1"
        ).fetchall()
        fkeys = conn.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'reports'::regclass AND contype = 'f' ORDER BY 1"
        ).fetchall()
        for name, _ in fkeys:
            conn.execute(f'ALTER TABLE reports DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        conn.commit()

        t0 = time.perf_counter()
        buf: list[str] = []
        with conn.cursor().copy(f"COPY reports ({COLUMNS}) FROM STDIN") as copy:
            for i, line in enumerate(generate_lines(world, plan, rng), 1):
                buf.append(line)
                if len(buf) == 5000:
                    copy.write("".join(buf))
                    buf.clear()
                if i % 200_000 == 0:
                    log(f"  {i:,} rows copied ({time.perf_counter() - t0:.0f} s)")
            if buf:
                copy.write("".join(buf))
        conn.execute(f"SELECT setval('reports_id_seq', {plan.reports + plan.closed})")
        conn.commit()
        timings["copy_s"] = round(time.perf_counter() - t0, 1)
        log(f"COPY {i:,} reports in {timings['copy_s']} s; rebuilding indexes")

        t0 = time.perf_counter()
        for _, ddl in indexes:
            conn.execute(ddl)
        for name, ddl in fkeys:
            conn.execute(f'ALTER TABLE reports ADD CONSTRAINT "{name}" {ddl}')
        conn.commit()
        timings["indexes_s"] = round(time.perf_counter() - t0, 1)
        after = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'reports' "
            "AND indexname = ANY(%s) ORDER BY 1",
            ([n for n, _ in indexes],),
        ).fetchall()
        differ = {(n, same_ddl(d)) for n, d in after} ^ {(n, same_ddl(d)) for n, d in indexes}
        if differ:
            raise SystemExit(f"rebuilt index definitions differ: {sorted(differ)}")
        log(
            f"{len(indexes)} indexes and {len(fkeys)} foreign keys rebuilt "
            f"in {timings['indexes_s']} s"
        )

        conn.commit()
        conn.autocommit = True
        t0 = time.perf_counter()
        conn.execute("VACUUM (ANALYZE) reports")
        conn.execute("ANALYZE")
        timings["vacuum_analyze_s"] = round(time.perf_counter() - t0, 1)
        log(f"VACUUM (ANALYZE) in {timings['vacuum_analyze_s']} s")
    return timings


def table_facts(app, now: datetime) -> dict[str, Any]:
    """Sizes and what the sweep will find, straight from the database."""
    from sqlalchemy import text

    from webapp.extensions import db

    running = "status IN ('assigned', 'in_progress', 'reopened', 'transferred')"
    queries = {
        "reports": "SELECT count(*) FROM reports",
        "open": (
            "SELECT count(*) FROM reports WHERE status NOT IN "
            "('resolved', 'closed', 'rejected', 'duplicate')"
        ),
        "clock_running": f"SELECT count(*) FROM reports WHERE {running}",
        "waiting": "SELECT count(*) FROM reports WHERE waiting_since IS NOT NULL",
        "remind_index_entries": (
            "SELECT count(*) FROM reports WHERE reminded_at IS NULL AND remind_at IS NOT NULL"
        ),
        "escalate_index_entries": (
            "SELECT count(*) FROM reports WHERE escalated_at IS NULL AND due_at IS NOT NULL"
        ),
        "due_reminders": (
            "SELECT count(*) FROM reports WHERE remind_at <= :now AND reminded_at IS NULL "
            f"AND {running} AND waiting_since IS NULL"
        ),
        "due_escalations": (
            "SELECT count(*) FROM reports WHERE due_at <= :now AND escalated_at IS NULL "
            f"AND {running} AND waiting_since IS NULL"
        ),
        "already_reminded": "SELECT count(*) FROM reports WHERE reminded_at IS NOT NULL",
        "already_escalated": "SELECT count(*) FROM reports WHERE escalated_at IS NOT NULL",
        "agency_leads": "SELECT count(*) FROM users WHERE role = 'agency_lead'",
    }
    sizes = {
        "table_mb": "pg_table_size('reports')",
        "ix_reports_remind_pending_mb": "pg_relation_size('ix_reports_remind_pending')",
        "ix_reports_escalate_pending_mb": "pg_relation_size('ix_reports_escalate_pending')",
        "ix_reports_status_due_at_mb": "pg_relation_size('ix_reports_status_due_at')",
    }
    with app.app_context():
        out = {k: db.session.execute(text(q), {"now": now}).scalar() for k, q in queries.items()}
        for key, expr in sizes.items():
            out[key] = round(db.session.execute(text(f"SELECT {expr}")).scalar() / 2**20, 1)
        out["by_status"] = dict(
            db.session.execute(
                text("SELECT status, count(*) FROM reports GROUP BY 1 ORDER BY 2 DESC")
            ).all()
        )
        db.session.remove()
    return out


# --------------------------------------------------------------------------- sweep


def instrument(app, meter: Meter) -> None:
    """Count SQL statements and their time on the app's engine, and Redis sends."""
    from sqlalchemy import event

    from webapp.extensions import db

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, _cursor, statement, parameters, _context, _many):
        conn.info.setdefault("bench_t0", []).append(time.perf_counter())
        if meter.capture and "SKIP LOCKED" in statement:
            meter.captured.append((statement, parameters))

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn, _cursor, statement, *_args):
        spent = time.perf_counter() - conn.info["bench_t0"].pop()
        if meter.on:
            meter.statements += 1
            meter.sql_s += spent
            entry = meter.by_kind.setdefault(statement_label(statement), [0, 0.0])
            entry[0] += 1
            entry[1] += spent

    celery = app.extensions["celery"]
    send_task = celery.send_task

    def timed_send_task(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return send_task(*args, **kwargs)
        finally:
            if meter.on:
                meter.sends += 1
                meter.send_s += time.perf_counter() - t0

    celery.send_task = timed_send_task


def warm_broker(app) -> None:
    """Open the broker connection with one message to the bench queue, as a running worker has."""
    from webapp.infra import queue

    with app.app_context():
        if not queue.enqueue("bench.warmup"):
            log("warning: could not enqueue to Redis; the sweeps will not either")


def sweep_once(app, meter: Meter, number: int, now: datetime) -> Run:
    """One run_sweep(now, requeue=True) in its own app context, as the beat task runs it."""
    from webapp.extensions import db
    from webapp.services.sla.sweep import run_sweep

    with app.app_context():
        meter.reset()
        meter.on = True
        t0, c0 = time.perf_counter(), time.process_time()
        result = run_sweep(now, requeue=True)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        meter.on = False
        db.session.remove()
    return Run(
        run=number,
        now=now.isoformat(),
        wall_s=round(wall, 4),
        cpu_s=round(cpu, 4),
        reminded=result.reminded,
        escalated=result.escalated,
        requeued=result.requeued,
        retried=result.retried,
        sql_statements=meter.statements,
        sql_s=round(meter.sql_s, 4),
        enqueued=meter.sends,
        enqueue_s=round(meter.send_s, 4),
        sql_by_kind={
            label: {"count": int(n), "seconds": round(spent, 4)}
            for label, (n, spent) in sorted(meter.by_kind.items(), key=lambda kv: -kv[1][1])
        },
    )


def capture_claims(app, meter: Meter, past: datetime) -> dict[str, tuple[str, dict]]:
    """The exact claim statements run_sweep sends, from a run at a moment when nothing is due."""
    from webapp.extensions import db
    from webapp.services.sla.sweep import run_sweep

    meter.captured.clear()
    meter.capture = True
    with app.app_context():
        result = run_sweep(past, requeue=False)
        db.session.remove()
    meter.capture = False
    if result.reminded or result.escalated:
        raise RuntimeError("the capture run found due reports; it must find none")
    claims: dict[str, tuple[str, dict]] = {}
    for statement, params in meter.captured:
        kind = "reminder" if "reminded_at IS NULL" in statement else "escalation"
        claims.setdefault(kind, (statement, dict(params)))
    return claims


EXPECTED_INDEX = {
    "reminder": "ix_reports_remind_pending",
    "escalation": "ix_reports_escalate_pending",
}


def explain_claims(
    app, claims: dict[str, tuple[str, dict]], past: datetime, now: datetime
) -> dict[str, dict]:
    """EXPLAIN (ANALYZE, BUFFERS) each claim at `now` in a transaction that is rolled back."""
    from webapp.extensions import db

    out = {}
    with app.app_context(), db.engine.connect() as conn:
        for kind, (statement, params) in claims.items():
            bound = {k: (now if v == past else v) for k, v in params.items()}
            rows = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", bound)
            plan = [r[0] for r in rows]
            conn.rollback()  # EXPLAIN ANALYZE took the row locks; give them back
            joined = "\n".join(plan)
            used = sorted(
                set(re.findall(r"Index (?:Only )?Scan (?:Backward )?using (\w+)", joined))
                | set(re.findall(r"Bitmap Index Scan on (\w+)", joined))
            )
            timing = re.search(r"Execution Time: ([\d.]+) ms", joined)
            out[kind] = {
                "indexes": used,
                "partial_index_used": EXPECTED_INDEX[kind] in used,
                "seq_scan": any("Seq Scan on reports" in line for line in plan),
                "execution_ms": float(timing.group(1)) if timing else None,
                "plan": plan,
            }
    return out


def profile_sweep(app, now: datetime, path: Path | None) -> dict[str, Any]:
    """cProfile one sweep that has due reports (the next minute's); print what dominates."""
    import cProfile
    import pstats

    from webapp.extensions import db
    from webapp.services.sla.sweep import run_sweep

    profiler = cProfile.Profile()
    with app.app_context():
        t0 = time.perf_counter()
        result = profiler.runcall(run_sweep, now, requeue=True)
        wall = time.perf_counter() - t0
        db.session.remove()
    if path:
        profiler.dump_stats(path)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(r"webapp|kombu/messaging|sqlalchemy/orm/session", 30)
    stats.sort_stats("tottime").print_stats(15)
    print(out.getvalue(), file=sys.stderr)

    total = stats.total_tt  # type: ignore[attr-defined]
    wanted = (
        ("webapp/services/sla/sweep.py", "_claim"),
        ("webapp/services/sla/sweep.py", "_remind"),
        ("webapp/services/sla/sweep.py", "_escalate"),
        ("webapp/services/sla/sweep.py", "_stamp"),
        ("webapp/infra/bulk.py", "insert_rows"),
        ("webapp/services/messaging/outbox.py", "_enqueue_new_messages"),
        ("webapp/infra/queue.py", "enqueue"),
        ("webapp/services/casework/workflow.py", "record_internal_events"),
        ("webapp/services/messaging/notifications.py", "_write_messages"),
        ("sqlalchemy/orm/session.py", "commit"),
        ("sqlalchemy/orm/session.py", "flush"),
        ("psycopg/cursor.py", "execute"),
        ("psycopg/cursor.py", "executemany"),
        ("celery/app/base.py", "send_task"),
    )
    breakdown = []
    for (filename, line, func), (_cc, calls, _tt, cum, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        for suffix, name in wanted:
            if func == name and filename.endswith(suffix):
                where = filename.split("site-packages/")[-1].replace(str(ROOT) + "/", "")
                breakdown.append(
                    {
                        "where": f"{where}:{line}",
                        "function": func,
                        "calls": calls,
                        "cumulative_s": round(cum, 3),
                        "share": round(cum / total, 3) if total else None,
                    }
                )
    breakdown.sort(key=lambda b: -b["cumulative_s"])
    return {
        "now": now.isoformat(),
        "wall_s_under_profiler": round(wall, 3),
        "profiled_total_s": round(total, 3),
        "reminded": result.reminded,
        "escalated": result.escalated,
        "file": str(path) if path else None,
        "breakdown": breakdown,
    }


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=1_000_000, help="open reports [1000000]")
    parser.add_argument(
        "--due-fraction",
        type=float,
        default=0.001,
        help="share past its reminder at the sweep; half as many past the deadline [0.001]",
    )
    parser.add_argument(
        "--closed",
        type=int,
        default=0,
        help="also this many resolved/closed reports of the past year (history) [0]",
    )
    parser.add_argument("--runs", type=int, default=5, help="timed sweeps at the same moment [5]")
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="cProfile the next minute's sweep into this file (done anyway if the goal is missed)",
    )
    parser.add_argument("--seed", type=int, default=48, help="random seed [48]")
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"JSON file [{RESULTS}]")
    args = parser.parse_args(argv)
    if args.reports < 1 or args.runs < 1 or args.closed < 0 or not 0 <= args.due_fraction <= 0.2:
        parser.error(
            "--reports and --runs must be ≥ 1, --closed ≥ 0, --due-fraction between 0 and 0.2"
        )
    return args


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Set up the database, load it, time the sweeps, and return the results."""
    import random

    rng = random.Random(args.seed)
    queue_name = f"phananh-bench-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC).replace(microsecond=0)
    load_start = round(os.getloadavg()[0], 2)
    with (
        tempfile.TemporaryDirectory(prefix="phananh-bench-") as tmp,
        intake.throwaway_database() as database_url,
    ):
        try:
            t0 = time.perf_counter()
            app, shapes, boundaries = intake.build_app(database_url, f"{tmp}/uploads", queue_name)
            app.config["IOC_EMAIL"] = IOC_EMAIL  # escalations go to the lead and to the IOC
            intake.quiet_logging(Path(tmp) / "app.log")
            world = build_world(app, shapes, rng)
            setup_s = round(time.perf_counter() - t0, 1)
            log(f"migrated and seeded in {setup_s} s ({len(world.wards)} wards, {boundaries})")
            plan = make_plan(args.reports, args.closed, args.due_fraction, now.timestamp(), rng)
            load = bulk_load(database_url, world, plan, rng)
            facts = table_facts(app, now)
            log(
                f"due at the sweep: {facts['due_reminders']} reminders, "
                f"{facts['due_escalations']} escalations"
            )

            meter = Meter()
            instrument(app, meter)
            warm_broker(app)
            past = now - timedelta(days=400)
            claims = capture_claims(app, meter, past)
            log("EXPLAIN (ANALYZE) of the claim queries with reports due")
            explain_due = explain_claims(app, claims, past, now)

            runs: list[Run] = []
            for i in range(1, args.runs + 1):
                run = sweep_once(app, meter, i, now)
                runs.append(run)
                log(
                    f"run {i}: {run.wall_s:.3f} s, reminded {run.reminded}, "
                    f"escalated {run.escalated}, {run.sql_statements} SQL, {run.enqueued} sends"
                )
            explain_idle = explain_claims(app, claims, past, now)
            queued = intake.redis_queue_length(queue_name)

            profile = None
            missed = any(r.wall_s > GOAL_S for r in runs)
            if args.profile or missed:
                next_now = datetime.fromtimestamp(plan.next_now, UTC)
                log(f"profiling the next minute's sweep ({next_now:%H:%M:%S}, its own due reports)")
                profile = profile_sweep(app, next_now, args.profile)
            with app.app_context():
                from webapp.extensions import db

                pg = intake.server_settings(db.engine)
                db.session.remove()
                db.engine.dispose()
        finally:
            intake.drop_redis_queue(queue_name)

    first, idle = runs[0], runs[1:]
    walls = [r.wall_s for r in runs]
    idle_walls = [r.wall_s for r in idle]
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": intake.git_commit(),
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "goal_s": GOAL_S,
        "summary": {
            "reports": args.reports,
            "closed": args.closed,
            "first_run_s": first.wall_s,
            "first_run_reminded": first.reminded,
            "first_run_escalated": first.escalated,
            "idle_runs_p50_s": round(statistics.median(idle_walls), 4) if idle else None,
            "idle_runs_max_s": max(idle_walls) if idle else None,
            "runs_p50_s": round(statistics.median(walls), 4),
            "runs_max_s": max(walls),
            "goal_met": max(walls) <= GOAL_S,
            "reminder_claim_uses_partial_index": explain_due["reminder"]["partial_index_used"],
            "escalation_claim_uses_partial_index": explain_due["escalation"]["partial_index_used"],
        },
        "runs": [asdict(r) for r in runs],
        "explain": {"with_due_reports": explain_due, "idle": explain_idle},
        "profile": profile,
        "sweep_now": now.isoformat(),
        "enqueue": {
            "broker": intake.REDIS_URL,
            "queue": queue_name,
            "messages_in_queue_before_cleanup": queued,
            "warmup_messages": 1,
        },
        "load": {"setup_s": setup_s, **load, "rows_by_kind": plan.counts},
        "database": facts,
        "config": {"SWEEP_BATCH": app.config["SWEEP_BATCH"], "IOC_EMAIL": IOC_EMAIL},
        "boundaries": boundaries,
        "postgres": pg,
        "host": {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "loadavg_1m_at_start": load_start,
            "loadavg_1m_at_end": round(os.getloadavg()[0], 2),
        },
    }


def print_report(results: dict[str, Any]) -> None:
    """The runs table, the plans' verdicts and the headline on stdout."""
    facts, pg = results["database"], results["postgres"]
    print()
    print(
        f"PostgreSQL {pg.get('server_version')}, {facts['open']:,} open reports "
        f"({facts['clock_running']:,} with the clock running, {facts['waiting']:,} paused) "
        f"+ {facts['reports'] - facts['open']:,} resolved/closed, "
        f"table {facts['table_mb']:,.0f} MB; partial indexes: remind "
        f"{facts['remind_index_entries']:,} rows / {facts['ix_reports_remind_pending_mb']} MB, "
        f"escalate {facts['escalate_index_entries']:,} rows / "
        f"{facts['ix_reports_escalate_pending_mb']} MB"
    )
    load = results["load"]
    print(
        f"load: COPY {load['copy_s']} s, indexes + FKs {load['indexes_s']} s, "
        f"VACUUM ANALYZE {load['vacuum_analyze_s']} s; SWEEP_BATCH "
        f"{results['config']['SWEEP_BATCH']}; host load average "
        f"{results['host']['loadavg_1m_at_start']} → {results['host']['loadavg_1m_at_end']} "
        f"on {results['host']['cpus']} CPUs"
    )
    print()
    header = (
        f"{'run':>3}{'wall s':>9}{'CPU s':>8}{'reminded':>10}{'escalated':>10}{'requeued':>9}"
        f"{'retried':>8}{'SQL':>6}{'SQL s':>8}{'sends':>7}{'send s':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in results["runs"]:
        print(
            f"{r['run']:>3}{r['wall_s']:>9.3f}{r['cpu_s']:>8.3f}{r['reminded']:>10}"
            f"{r['escalated']:>10}{r['requeued']:>9}{r['retried']:>8}{r['sql_statements']:>6}"
            f"{r['sql_s']:>8.3f}{r['enqueued']:>7}{r['enqueue_s']:>8.3f}"
        )
    print("(SQL s: time in cursor.execute; sends: Celery send_task to Redis, after each commit)")
    first = results["runs"][0]
    if first["sql_statements"] > 10:
        print()
        print(f"run 1 SQL by statement ({first['sql_statements']} statements):")
        for label, v in first["sql_by_kind"].items():
            per = v["seconds"] / v["count"] * 1000
            print(f"  {label:<32}{v['count']:>6} × {per:6.2f} ms = {v['seconds']:7.3f} s")
    print()
    for label, key in (("with due reports", "with_due_reports"), ("idle", "idle")):
        for kind, e in results["explain"][key].items():
            verdict = "uses" if e["partial_index_used"] else "does NOT use"
            print(
                f"EXPLAIN {kind} claim ({label}): {verdict} {EXPECTED_INDEX[kind]} "
                f"(indexes: {', '.join(e['indexes']) or 'none'}; seq scan: "
                f"{'yes' if e['seq_scan'] else 'no'}; {e['execution_ms']} ms)"
            )
    print()
    for kind, e in results["explain"]["with_due_reports"].items():
        print()
        print(f"{kind} claim with reports due:")
        for line in e["plan"]:
            print(f"  {line}")
    profile = results["profile"]
    if profile:
        print()
        print(
            f"profile of the next minute's sweep (reminded {profile['reminded']}, escalated "
            f"{profile['escalated']}; {profile['wall_s_under_profiler']} s under cProfile):"
        )
        for b in profile["breakdown"]:
            print(
                f"  {b['cumulative_s']:>7.3f} s {b['share'] * 100:>5.1f} %  {b['calls']:>6} calls  "
                f"{b['where']} {b['function']}"
            )
    s = results["summary"]
    print()
    idle = (
        f"idle runs p50 {s['idle_runs_p50_s']:.2f} s (max {s['idle_runs_max_s']:.2f} s)"
        if s["idle_runs_p50_s"] is not None
        else "no idle runs"
    )
    history = f" (+ {s['closed']:,} closed)" if s["closed"] else ""
    print(
        f"sweep over {s['reports']:,} open reports{history}: first run {s['first_run_s']:.2f} s "
        f"(reminded {s['first_run_reminded']}, escalated {s['first_run_escalated']}), {idle}; "
        f"all runs p50 {s['runs_p50_s']:.2f} s, max {s['runs_max_s']:.2f} s | goal ≤ {GOAL_S:g} s: "
        f"{'met' if s['goal_met'] else 'MISSED'}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the figures, write the JSON."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    args = parse_args(argv)

    results = intake.measure_until_interrupted(measure, args)
    if results is None:
        return 130
    print_report(results)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", "utf-8")
    shown = args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output
    print(f"\nwritten {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

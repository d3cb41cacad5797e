"""Deadline sweep over a million open reports: the run that reminds and escalates, then idle runs.

Creates a throwaway database (bench_<random>, bench/harness.py), COPYs in N open reports
(bench/synthetic.py; a small share already past their reminder or deadline), times
webapp.services.sla.sweep.run_sweep on it several times (enqueue to a throwaway Redis queue
included), EXPLAINs the two claim queries, writes bench/results/sweep.json and drops the
database. See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import harness
from harness import Col, log
from synthetic import OPEN_COLUMNS, build_world, copy_reports, make_plan, open_lines

RESULTS = harness.RESULTS_DIR / "sweep.json"
GOAL_S = 1.0
IOC_EMAIL = "ioc@danang.example.vn"


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


def statement_label(statement: str) -> str:
    """'UPDATE reports', 'SELECT users', 'SELECT reports FOR UPDATE'… for a SQL statement."""
    verb = statement.lstrip().split(None, 1)[0].upper()
    if verb == "SELECT":
        table = re.search(r"\bFROM\s+(\w+)", statement)
        label = f"SELECT {table.group(1) if table else '?'}"
        return f"{label} FOR UPDATE" if "FOR UPDATE" in statement else label
    table = re.search(r"^\s*(?:INSERT INTO|UPDATE|DELETE FROM)\s+(\w+)", statement, re.I)
    return f"{verb} {table.group(1)}" if table else verb


def add_leads(app) -> None:
    """One active lead per agency, so an escalation mails the lead as in production."""
    from sqlalchemy import text

    from webapp.extensions import db

    with app.app_context():
        db.session.execute(
            text(
                "INSERT INTO users (email, name, password_hash, role, agency_id, active, "
                "failed_logins, created_at, updated_at) "
                "SELECT 'lanhdao.' || lower(code) || '@danang.example.vn', 'Lãnh đạo ' || name, "
                "'!', 'agency_lead', id, true, 0, now(), now() FROM agencies WHERE kind <> 'group'"
            )
        )
        db.session.commit()
        db.session.remove()


def table_facts(app, now: datetime) -> dict[str, Any]:
    """Sizes and what the sweep will find, straight from the database."""
    from sqlalchemy import text

    from webapp.extensions import db

    running = "status IN ('assigned', 'in_progress', 'reopened', 'transferred')"
    pending = f"AND {running} AND waiting_since IS NULL"
    where = {  # count(*) FROM reports WHERE …
        "reports": "true",
        "open": "status NOT IN ('resolved', 'closed', 'rejected', 'duplicate')",
        "clock_running": running,
        "waiting": "waiting_since IS NOT NULL",
        "remind_index_entries": "reminded_at IS NULL AND remind_at IS NOT NULL",
        "escalate_index_entries": "escalated_at IS NULL AND due_at IS NOT NULL",
        "due_reminders": f"remind_at <= :now AND reminded_at IS NULL {pending}",
        "due_escalations": f"due_at <= :now AND escalated_at IS NULL {pending}",
        "already_reminded": "reminded_at IS NOT NULL",
        "already_escalated": "escalated_at IS NOT NULL",
    }
    queries = {k: f"SELECT count(*) FROM reports WHERE {w}" for k, w in where.items()}
    queries["agency_leads"] = "SELECT count(*) FROM users WHERE role = 'agency_lead'"
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


def sweep_once(app, meter: Meter, number: int, now: datetime) -> dict[str, Any]:
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
    by_kind = sorted(meter.by_kind.items(), key=lambda kv: -kv[1][1])
    return {
        "run": number,
        "now": now.isoformat(),
        "wall_s": round(wall, 4),
        "cpu_s": round(cpu, 4),
        **{k: getattr(result, k) for k in ("reminded", "escalated", "requeued", "retried")},
        "sql_statements": meter.statements,
        "sql_s": round(meter.sql_s, 4),
        "enqueued": meter.sends,
        "enqueue_s": round(meter.send_s, 4),
        "sql_by_kind": {k: {"count": int(n), "seconds": round(t, 4)} for k, (n, t) in by_kind},
    }


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
            plan = harness.explain(conn, statement, bound)
            conn.rollback()  # EXPLAIN ANALYZE took the row locks; give them back
            out[kind] = {
                "indexes": plan.indexes,
                "partial_index_used": EXPECTED_INDEX[kind] in plan.indexes,
                "seq_scan": "reports" in plan.seq_scans,
                "execution_ms": plan.execution_ms,
                "plan": plan.lines,
            }
    return out


PROFILED = (
    "webapp/services/sla/sweep.py:_claim", "webapp/services/sla/sweep.py:_remind",
    "webapp/services/sla/sweep.py:_escalate", "webapp/services/sla/sweep.py:_stamp",
    "webapp/infra/bulk.py:insert_rows", "webapp/services/messaging/outbox.py:_enqueue_new_messages",
    "webapp/infra/queue.py:enqueue", "webapp/services/casework/workflow.py:record_internal_events",
    "webapp/services/messaging/notifications.py:_write_messages",
    "sqlalchemy/orm/session.py:commit", "sqlalchemy/orm/session.py:flush",
    "psycopg/cursor.py:execute", "psycopg/cursor.py:executemany", "celery/app/base.py:send_task",
)  # fmt: skip


def profile_sweep(app, now: datetime, path: Path | None) -> dict[str, Any]:
    """cProfile one sweep that has due reports (the next minute's); print what dominates."""
    from webapp.extensions import db
    from webapp.services.sla.sweep import run_sweep

    with app.app_context():
        show = r"webapp|kombu/messaging|sqlalchemy/orm/session"
        result, figures = harness.profile(
            lambda: run_sweep(now, requeue=True), path=path, show=show, wanted=PROFILED
        )
        db.session.remove()
    return {"now": now.isoformat(), "reminded": result.reminded, "escalated": result.escalated,
            **figures}  # fmt: skip


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--reports", type=int, default=1_000_000, help="open reports [1000000]")
    add(
        "--due-fraction",
        type=float,
        default=0.001,
        help="share past its reminder at the sweep; half as many past the deadline [0.001]",
    )
    add(
        "--closed",
        type=int,
        default=0,
        help="also this many resolved/closed reports of the past year (history) [0]",
    )
    add("--runs", type=int, default=5, help="timed sweeps at the same moment [5]")
    add(
        "--profile",
        type=Path,
        default=None,
        help="cProfile the next minute's sweep into this file (done anyway if the goal is missed)",
    )
    add("--seed", type=int, default=48, help="random seed [48]")
    add("--output", type=Path, default=RESULTS, help=f"JSON file [{RESULTS}]")
    args = parser.parse_args(argv)
    if args.reports < 1 or args.runs < 1 or args.closed < 0 or not 0 <= args.due_fraction <= 0.2:
        parser.error(
            "--reports and --runs must be ≥ 1, --closed ≥ 0, --due-fraction between 0 and 0.2"
        )
    return args  # fmt: skip


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Set up the database, load it, time the sweeps, and return the results."""
    import random

    rng = random.Random(args.seed)
    queue_name = harness.queue_name()
    now = datetime.now(UTC).replace(microsecond=0)
    load_start = round(os.getloadavg()[0], 2)
    with (
        tempfile.TemporaryDirectory(prefix="phananh-bench-") as tmp,
        harness.throwaway_database() as database_url,
    ):
        try:
            t0 = time.perf_counter()
            app, _, boundaries = harness.build_app(database_url, f"{tmp}/uploads", queue_name)
            app.config["IOC_EMAIL"] = IOC_EMAIL  # escalations go to the lead and to the IOC
            harness.quiet_logging(Path(tmp) / "app.log")
            add_leads(app)
            world = build_world(app, rng)
            setup_s = round(time.perf_counter() - t0, 1)
            log(f"migrated and seeded in {setup_s} s ({len(world.wards)} wards, {boundaries})")
            plan = make_plan(args.reports, args.closed, args.due_fraction, now.timestamp(), rng)
            load = copy_reports(database_url, OPEN_COLUMNS, open_lines(world, plan, rng))
            facts = table_facts(app, now)
            log(
                f"due at the sweep: {facts['due_reminders']} reminders, "
                f"{facts['due_escalations']} escalations"
            )

            meter = Meter()
            instrument(app, meter)
            harness.warm_broker(app)
            past = now - timedelta(days=400)
            claims = capture_claims(app, meter, past)
            log("EXPLAIN (ANALYZE) of the claim queries with reports due")
            explain_due = explain_claims(app, claims, past, now)

            runs: list[dict[str, Any]] = []
            for i in range(1, args.runs + 1):
                run = sweep_once(app, meter, i, now)
                runs.append(run)
                log(
                    f"run {i}: {run['wall_s']:.3f} s, reminded {run['reminded']}, escalated "
                    f"{run['escalated']}, {run['sql_statements']} SQL, {run['enqueued']} sends"
                )
            explain_idle = explain_claims(app, claims, past, now)
            queued = harness.redis_queue_length(queue_name)

            profile = None
            missed = any(r["wall_s"] > GOAL_S for r in runs)
            if args.profile or missed:
                next_now = datetime.fromtimestamp(plan.next_now, UTC)
                log(f"profiling the next minute's sweep ({next_now:%H:%M:%S}, its own due reports)")
                profile = profile_sweep(app, next_now, args.profile)
            with app.app_context():
                from webapp.extensions import db

                pg = harness.server_settings(db.engine)
                db.session.remove()
                db.engine.dispose()
        finally:
            harness.drop_redis_queue(queue_name)

    first, idle = runs[0], runs[1:]
    walls = [r["wall_s"] for r in runs]
    idle_walls = [r["wall_s"] for r in idle]
    return {
        **harness.run_info(args),
        "goal_s": GOAL_S,
        "summary": {
            "reports": args.reports,
            "closed": args.closed,
            "first_run_s": first["wall_s"],
            "first_run_reminded": first["reminded"],
            "first_run_escalated": first["escalated"],
            "idle_runs_p50_s": round(statistics.median(idle_walls), 4) if idle else None,
            "idle_runs_max_s": max(idle_walls) if idle else None,
            "runs_p50_s": round(statistics.median(walls), 4),
            "runs_max_s": max(walls),
            "goal_met": max(walls) <= GOAL_S,
            "reminder_claim_uses_partial_index": explain_due["reminder"]["partial_index_used"],
            "escalation_claim_uses_partial_index": explain_due["escalation"]["partial_index_used"],
        },
        "runs": runs,
        "explain": {"with_due_reports": explain_due, "idle": explain_idle},
        "profile": profile,
        "sweep_now": now.isoformat(),
        "enqueue": {
            "broker": harness.REDIS_URL,
            "queue": queue_name,
            "messages_in_queue_before_cleanup": queued,
            "warmup_messages": 1,
        },
        "load": {"setup_s": setup_s, **load, "rows_by_kind": plan.counts},
        "database": facts,
        "config": {"SWEEP_BATCH": app.config["SWEEP_BATCH"], "IOC_EMAIL": IOC_EMAIL},
        "boundaries": boundaries,
        "postgres": pg,
        "host": harness.host(
            loadavg_1m_at_start=load_start, loadavg_1m_at_end=round(os.getloadavg()[0], 2)
        ),
    }


def report(results: dict[str, Any]) -> bool:
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
    columns = [
        Col("run", 3), Col("wall s", 9, ".3f"), Col("CPU s", 8, ".3f"), Col("reminded", 10),
        Col("escalated", 10), Col("requeued", 9), Col("retried", 8), Col("SQL", 6),
        Col("SQL s", 8, ".3f"), Col("sends", 7), Col("send s", 8, ".3f"),
    ]  # fmt: skip
    keys = ("run", "wall_s", "cpu_s", "reminded", "escalated", "requeued", "retried",
            "sql_statements", "sql_s", "enqueued", "enqueue_s")  # fmt: skip
    harness.table(columns, ([r[k] for k in keys] for r in results["runs"]))
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
        f"{harness.met(s['goal_met'])}"
    )
    return True


# Measure, print, write the JSON; the exit status says whether the goals are met.
main = harness.entry(parse_args, measure, report)


if __name__ == "__main__":
    sys.exit(main())

"""Intake throughput: `submit_report` on PostgreSQL next to the raw INSERT+COMMIT rate.

Creates a throwaway database (bench_<random>), migrates and seeds it like tests/conftest.py,
times N reports through webapp.services.intake.reports.submit_report (enqueue to Redis included)
and, in alternating blocks, N single-row INSERT+COMMIT into a plain table on the same engine,
prints both rates and their ratio, writes bench/results/intake.json and drops the database.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import textwrap
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import baselines
import counting
import harness
from baselines import RAW_DDL, raw_rows, run_raw
from harness import Col, fmt_rate, log
from submissions import DraftFactory, make_jpegs
from timings import Phase, Timings, root_shares, run_each, share_line, summarise

RESULTS = harness.RESULTS_DIR / "intake.json"
WARMUP = 30


# --------------------------------------------------------------------------- loops


def run_intake(
    app,
    drafts: list,
    into: Timings,
    seconds: float | None = None,
    counter: counting.StatementCounter | None = None,
) -> int:
    """Submit drafts one by one, each in its own app context like a request; returns how many.

    `counter` counts their SQL statements and broker sends (and nothing else's).
    """
    from webapp.services.intake.reports import submit_report

    results = run_each(app, drafts, submit_report, into, counter, seconds)
    into.queued += sum(result.queued for result in results)
    return len(results)


def run_interleaved(
    app,
    drafts: list,
    blocks: int,
    seconds: float | None,
    counter: counting.StatementCounter | None = None,
) -> tuple[Timings, Timings]:
    """Intake and raw INSERT+COMMIT in alternating blocks of the same rows.

    Alternating makes both loops see the same background load (other processes, checkpoints),
    so their ratio stays meaningful on a busy machine. Raw always does as many rows as intake.
    """
    intake, raw = Timings(), Timings()
    size = max(1, -(-len(drafts) // blocks))
    for at in range(0, len(drafts), size):
        done = run_intake(app, drafts[at : at + size], intake, seconds, counter)
        run_raw(app, raw_rows(drafts[at : at + done]), raw)
        if intake.over(seconds):
            break
    return intake, raw


def run_enqueue_only(app, count: int, into: Timings) -> None:
    """queue.enqueue alone (the Redis part of intake), with the ids of stored reports."""
    from webapp.infra import queue

    with app.app_context():
        start, cpu = time.perf_counter(), time.process_time()
        for i in range(count):
            t0 = time.perf_counter()
            queue.enqueue("workers.tasks.classify_report", i + 1)
            into.latencies.append(time.perf_counter() - t0)
        into.wall += time.perf_counter() - start
        into.cpu += time.process_time() - cpu


# Where a report's CPU goes: "file suffix:function" whose cumulative CPU time --profile prints
# per report (under cProfile, which inflates code made of many small Python calls).
PROFILED = (
    "intake/reports.py:submit_report",
    "orm/scoping.py:commit",
    "messaging/notifications.py:_write_messages",
    "orm/session.py:_flush",
    "infra/queue.py:enqueue",
    "messaging/outbox.py:_enqueue_new_messages",
    "messaging/outbox.py:add_message",
    "messaging/notifications.py:_follower_messages",
    "intake/photos.py:process_photos",
    "intake/reports.py:_store_photos",
    "intake/checks.py:check_sender",
    "intake/checks.py:_check_limits",
    "intake/reports.py:_resident_for",
    "intake/reports.py:search_text",
    "intake/reports.py:locate",
    "casework/workflow.py:transition",
)


def profile_intake(app, drafts: list, path: Path, cpu_ms: float) -> dict[str, Any]:
    """Run drafts through intake under cProfile with a CPU clock (the waits are the table's
    latency minus its CPU); print the top, and PROFILED as shares of submit_report, also
    applied to `cpu_ms` (the timed loop's CPU per report, the profiler's overhead left out)."""
    _, figures = harness.profile(
        run_intake, app, drafts, Timings(), path=path, wanted=PROFILED, timer=time.process_time
    )
    print(
        f"where a report's CPU goes ({len(drafts)} reports under cProfile; cumulative, so "
        f"nested; ≈ ms: the share of the {cpu_ms:.2f} ms a report took unprofiled):",
        file=sys.stderr,
    )
    for entry, share in root_shares(figures["breakdown"], "submit_report"):
        entry["share_of_submit"] = share
        print(share_line(entry, share, cpu_ms), file=sys.stderr)
    return figures


def db_checks(app) -> dict[str, Any]:
    """What the intake runs stored: rows per table and how reports were placed."""
    from sqlalchemy import text

    from webapp.extensions import db

    sql = {
        "reports": "SELECT count(*) FROM reports",
        "reports_in_ward": "SELECT count(*) FROM reports WHERE unit_code IS NOT NULL",
        "reports_outside_area": "SELECT count(*) FROM reports WHERE outside_area",
        "reports_no_location": "SELECT count(*) FROM reports WHERE lat IS NULL",
        "report_events": "SELECT count(*) FROM report_events",
        "photos": "SELECT count(*) FROM photos",
        "residents": "SELECT count(*) FROM residents",
        "bench_raw": "SELECT count(*) FROM bench_raw",
    }
    with app.app_context():
        out = {key: db.session.execute(text(q)).scalar() for key, q in sql.items()}
        sources = db.session.execute(
            text("SELECT location_source, count(*) FROM reports GROUP BY 1 ORDER BY 1")
        ).all()
        out["location_source"] = dict(sources)
        db.session.remove()
    return out


# --------------------------------------------------------------------------- output


def photo_label(count: int) -> str:
    """'0 photos', '1 photo', '3 photos'."""
    return f"{count} photo" if count == 1 else f"{count} photos"


def print_table(phases: list[Phase]) -> None:
    """The timings of every phase as a fixed-width table on stdout."""
    columns = [
        Col("phase", 32, left=True), Col("count", 6), Col("rate/s", 9, ",.0f"),
        Col("p50 ms", 9, ".2f"), Col("p95 ms", 9, ".2f"), Col("p99 ms", 9, ".2f"),
        Col("CPU ms", 9, ".2f"),
    ]  # fmt: skip
    rows = [(p.name, p.count, p.rate, p.p50_ms, p.p95_ms, p.p99_ms, p.cpu_ms) for p in phases]
    harness.table(columns, rows)


def per_report_lines(intake: Phase) -> str:
    """What one report sends: broker messages and SQL statements, the most frequent first."""
    # NUL keeps "INSERT reports 1.00" on one line; textwrap breaks at the other spaces.
    kinds = intake.extra["sql_by_statement"].items()
    sql = ", ".join(f"{k} {n:.2f}".replace(" ", "\0") for k, n in kinds)
    line = f"per report: {intake.extra['broker_sends']:.2f} broker sends, the pool's pre-ping"
    line += f" and {intake.extra['sql']:.2f} SQL statements ({sql})"
    return textwrap.fill(line, 95, subsequent_indent="  ").replace("\0", " ")


def summary_line(intake: Phase, raw: Phase) -> str:
    """The one-line headline: intake, raw and their ratio."""
    return (
        f"intake: {fmt_rate(intake.rate)} reports/s "
        f"(p50 {intake.p50_ms:.1f} ms, p95 {intake.p95_ms:.1f} ms) | "
        f"raw INSERT+COMMIT: {fmt_rate(raw.rate)} rows/s | "
        f"ratio: {intake.rate / raw.rate:.2f}"
    )


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=2000, help="reports (and raw rows) [2000]")
    parser.add_argument("--photos", type=int, default=0, help="JPEG photos per report [0]")
    parser.add_argument(
        "--photo-reports",
        type=int,
        default=None,
        help="reports in the extra 1-photo run [max(20, N/10)]; 0 skips it",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=None,
        help="time cap on each intake loop; raw then does as many rows as intake did [none]",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="after the timed loops, cProfile min(N, 500) more reports into this file",
    )
    parser.add_argument(
        "--blocks", type=int, default=10, help="alternate intake and raw in this many blocks [10]"
    )
    parser.add_argument("--seed", type=int, default=48, help="random seed [48]")
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"JSON file [{RESULTS}]")
    args = parser.parse_args(argv)
    if args.reports < 1 or args.blocks < 1 or not 0 <= args.photos <= 5:
        parser.error("--reports and --blocks must be ≥ 1, --photos between 0 and 5")
    if args.photo_reports is None:
        args.photo_reports = max(20, args.reports // 10)
    return args


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Set up the database and app, run every loop, and return the results."""
    from webapp.extensions import db
    from webapp.services.administration import history

    rng = random.Random(args.seed)
    queue_name = harness.queue_name()
    with (
        tempfile.TemporaryDirectory(prefix="phananh-bench-") as tmp,
        harness.throwaway_database() as database_url,
    ):
        try:
            t0 = time.perf_counter()
            app, shapes, boundaries = harness.build_app(database_url, f"{tmp}/uploads", queue_name)
            harness.quiet_logging(Path(tmp) / "app.log")
            setup_s = time.perf_counter() - t0
            log(f"migrated and seeded in {setup_s:.1f} s ({len(shapes)} wards, {boundaries})")
            celery = app.extensions["celery"]
            enqueue_on = app.config.get("TASKS_ENABLED", True) and not celery.conf.task_always_eager
            with app.app_context():
                settings = harness.server_settings(db.engine)
                db.session.execute(db.text(RAW_DDL))
                db.session.commit()
                wards = history.province_wards(harness.PROVINCE)

            counter = counting.StatementCounter()
            counting.count_statements(app, counter)
            factory = DraftFactory(rng, wards, make_jpegs(rng))
            warm = [factory.draft(args.photos) for _ in range(WARMUP)]
            main = [factory.draft(args.photos) for _ in range(args.reports)]
            main_stats = dict(factory.stats)
            with_photo = [factory.draft(1) for _ in range(args.photo_reports)]

            log(f"warm-up: {WARMUP} reports and {WARMUP} raw rows (not counted)")
            run_intake(app, warm, Timings())
            run_raw(app, raw_rows(warm), Timings())

            label = photo_label(args.photos)
            log(f"intake ({label}) and raw INSERT+COMMIT: {len(main)} each, {args.blocks} blocks")
            intake_t, raw_t = run_interleaved(app, main, args.blocks, args.seconds, counter)
            intake = summarise(
                f"intake ({label})",
                intake_t,
                queued=intake_t.queued,
                **counter.per_item(len(intake_t.latencies)),
            )
            raw = summarise("raw INSERT+COMMIT", raw_t)
            phases: list[Phase] = [intake, raw]
            photo_run = photo_raw = None
            if with_photo and args.photos != 1:
                log(f"intake (1 photo) and raw INSERT+COMMIT: {len(with_photo)} each")
                photo_t, photo_raw_t = run_interleaved(app, with_photo, args.blocks, args.seconds)
                photo_run = summarise("intake (1 photo)", photo_t, queued=photo_t.queued)
                photo_raw = summarise("raw INSERT+COMMIT (same rows)", photo_raw_t)
                phases += [photo_run, photo_raw]
            if enqueue_on:
                log(f"enqueue only: {intake.count} messages")
                enqueue_t = Timings()
                run_enqueue_only(app, intake.count, enqueue_t)
                phases.append(summarise("enqueue only (Redis)", enqueue_t))
                log(f"the floor, with its send, after the checks, and raw: {len(main)} each")
                floor = baselines.run_floors(app, main, args.blocks)
                for name, timed in zip(FLOOR_PHASES, floor, strict=True):
                    phases.append(summarise(name, timed, queued=timed.queued))
            profiled = None
            if args.profile:
                extra = [factory.draft(args.photos) for _ in range(min(args.reports, 500))]
                profiled = profile_intake(app, extra, args.profile, intake.cpu_ms)
            waiting = harness.redis_queue_length(queue_name)
            checks = db_checks(app)
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        finally:
            harness.drop_redis_queue(queue_name)

    return {
        **harness.run_info(args),
        "summary": {
            "intake_reports_per_s": intake.rate,
            "intake_p50_ms": intake.p50_ms,
            "intake_p95_ms": intake.p95_ms,
            "raw_rows_per_s": raw.rate,
            "ratio": round(intake.rate / raw.rate, 3),
            "intake_1photo_reports_per_s": photo_run.rate if photo_run else None,
            "intake_1photo_p50_ms": photo_run.p50_ms if photo_run else None,
            "intake_1photo_p95_ms": photo_run.p95_ms if photo_run else None,
            "raw_rows_per_s_beside_1photo": photo_raw.rate if photo_raw else None,
            "ratio_1photo": round(photo_run.rate / photo_raw.rate, 3) if photo_run else None,
        },
        "phases": [asdict(p) for p in phases],
        "enqueue": {
            "on": bool(enqueue_on),
            "broker": harness.REDIS_URL,
            "queue": queue_name,
            "messages_in_queue_before_cleanup": waiting,
        },
        "setup_seconds": round(setup_s, 1),
        "boundaries": boundaries,
        "wards": len(shapes),
        "draft_mix": main_stats,
        "stored": checks,
        "postgres": settings,
        "host": harness.host(),
        "profile": profiled,
        "_phases": phases,
    }


FLOOR_PHASES = (
    "floor: 1 statement + commit",
    "floor + 1 send",
    "intake's checks + floor",
    "raw INSERT+COMMIT (floors)",
)


def floor_line(phases: list[Phase]) -> str | None:
    """The floor's ratios to the raw rate measured beside it."""
    found = {p.name: p for p in phases}
    if not all(name in found for name in FLOOR_PHASES):
        return None
    floor, sent, checked, raw = (found[name] for name in FLOOR_PHASES)
    return (
        f"the floor (1 statement + commit, no send): ratio {floor.rate / raw.rate:.2f}; with one"
        f" Celery send: ratio {sent.rate / raw.rate:.2f}; after intake's checks (no send): ratio"
        f" {checked.rate / raw.rate:.2f} (raw beside them: {fmt_rate(raw.rate)} rows/s)"
    )


def report(results: dict[str, Any]) -> bool:
    """The settings, the table and the headline on stdout."""
    phases: list[Phase] = results.pop("_phases")
    intake, raw = phases[0], phases[1]
    enqueue = results["enqueue"]
    pg = results["postgres"]
    print()
    print(
        f"PostgreSQL {pg.get('server_version')} (fsync={pg.get('fsync')}, "
        f"synchronous_commit={pg.get('synchronous_commit')}), {results['boundaries']}, "
        f"{results['wards']} wards"
    )
    print(
        f"enqueue to Redis: {'ON' if enqueue['on'] else 'OFF'} ({enqueue['broker']}, "
        f"queue {enqueue['queue']}; {intake.extra.get('queued')}/{intake.count} queued)"
    )
    print()
    print_table(phases)
    print("(CPU ms: this process's CPU time per item; the rest of the latency is waiting)")
    print(per_report_lines(intake))
    print()
    print(summary_line(intake, raw))
    if line := floor_line(phases):
        print(line)
    photo = next((p for p in phases if p.name == "intake (1 photo)"), None)
    # With --photos 1 the main run is that run: its line above says it all.
    if photo and results["summary"]["raw_rows_per_s_beside_1photo"] is not None:
        print(
            f"intake with 1 photo: {fmt_rate(photo.rate)} reports/s (p50 {photo.p50_ms:.1f} ms, "
            f"p95 {photo.p95_ms:.1f} ms) | raw beside it: "
            f"{fmt_rate(results['summary']['raw_rows_per_s_beside_1photo'])} rows/s | "
            f"ratio: {results['summary']['ratio_1photo']:.2f}"
        )
    return True


# Measure, print, write the JSON; the exit status says whether the goals are met.
main = harness.entry(parse_args, measure, report)


if __name__ == "__main__":
    sys.exit(main())

"""Classification throughput: the worker's share of a report, without the NLU server's.

Creates a throwaway database like `intake_throughput.py`, stores N reports through intake, then
runs `webapp.services.casework.classification.classify_and_route` on each, as the classify task
does (each in its own app context), with an in-process NLU that answers at once: the category
the report was written for, at 0.9, no entities. What is timed is the worker's own work (the
lock, the state machine, routing, the deadline, the rollup, the messages, the commit and the
sends), the part a real Rasa does not change. Prints reports/s, latency, CPU per report, SQL
statements and broker sends per report, and with `--profile` where the CPU goes. See
bench/README.md.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import counting
import harness
from harness import Col
from intake_throughput import run_intake
from submissions import DraftFactory
from timings import Timings, root_shares, run_each, share_line, summarise

RESULTS = harness.RESULTS_DIR / "classify.json"
WARMUP = 20
PROFILED = (
    "casework/classification.py:classify_and_route",
    "casework/classification.py:_lock",
    "casework/classification.py:_several_problems",
    "casework/routing.py:route",
    "casework/routing.py:assign",
    "sla/deadlines.py:set_deadline",
    "casework/workflow.py:transition",
    "orm/scoping.py:commit",
    "orm/session.py:_flush",
    "messaging/notifications.py:_write_messages",
    "rollup/events.py:_after_flush",
    "rollup/events.py:_before_flush",
    "infra/queue.py:enqueue",
    "messaging/outbox.py:_enqueue_new_messages",
)


class InstantNlu:
    """An NLU that knows what each report was written about (by its text)."""

    def __init__(self, categories: dict[str, str]):
        self.categories = categories

    def parse(self, text: str):
        from nlu.client import NluResult

        category = self.categories.get(text, "other")
        ranking = [(category, 0.9), ("out_of_scope", 0.05)]
        return NluResult(category, 0.9, category, True, ranking, {})


def run_classify(app, ids: list[int], nlu: InstantNlu, into: Timings, counter=None) -> dict:
    """classify_and_route each id in its own app context; outcomes by kind."""
    from webapp.services.casework.classification import classify_and_route

    def classify(report_id: int) -> str:
        return classify_and_route(report_id, nlu)  # type: ignore[arg-type]

    outcomes: dict[str, int] = {}
    for outcome in run_each(app, ids, classify, into, counter):
        key = outcome.split(":")[0]
        outcomes[key] = outcomes.get(key, 0) + 1
    return outcomes


def stored_ids(app, first: int) -> list[int]:
    """Ids of the reports still `received` from `first` on, in order."""
    from sqlalchemy import text

    from webapp.extensions import db

    with app.app_context():
        ids = db.session.scalars(
            text("SELECT id FROM reports WHERE status = 'received' AND id >= :f ORDER BY id"),
            {"f": first},
        ).all()
        db.session.remove()
    return list(ids)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Store the reports, classify them (warm-up, timed, profiled), return the figures."""
    from webapp.services.administration import history

    rng = random.Random(args.seed)
    with harness.throwaway_database() as url, tempfile.TemporaryDirectory() as tmp:
        queue = harness.queue_name()
        try:
            app, _shapes, label = harness.build_app(url, tmp, queue)
            harness.quiet_logging(Path(tmp) / "app.log")
            counter = counting.StatementCounter()
            counting.count_statements(app, counter)
            harness.warm_broker(app)
            with app.app_context():
                wards = history.province_wards(harness.PROVINCE)
            factory = DraftFactory(rng, wards, [])
            total = WARMUP + args.reports + (args.reports if args.profile else 0)
            categories: dict[str, str] = {}
            drafts = []
            for _ in range(total):
                drafts.append(factory.draft(0))
                categories[drafts[-1].description] = factory.last_category
            nlu = InstantNlu(categories)
            run_intake(app, drafts, Timings())
            ids = stored_ids(app, 1)
            run_classify(app, ids[:WARMUP], nlu, Timings())
            timed = Timings()
            outcomes = run_classify(app, ids[WARMUP : WARMUP + args.reports], nlu, timed, counter)
            per = counter.per_item(len(timed.latencies))
            profile = None
            if args.profile:
                rest = ids[WARMUP + args.reports :]
                _, profile = harness.profile(
                    run_classify, app, rest, nlu, Timings(),
                    path=args.profile, wanted=PROFILED, timer=time.process_time,
                )  # fmt: skip
        finally:
            harness.drop_redis_queue(queue)
    phase = summarise("classify and route", timed)
    return {
        **harness.run_info(args),
        "boundaries": label,
        "reports": phase.count,
        "outcomes": outcomes,
        "rate": phase.rate,
        "p50_ms": phase.p50_ms,
        "p95_ms": phase.p95_ms,
        "cpu_ms": phase.cpu_ms,
        **per,
        "profile": profile,
    }


def report(results: dict[str, Any]) -> bool:
    """The table and the per-report counts."""
    columns = [
        Col("phase", 24, left=True), Col("count", 6), Col("rate/s", 8, ",.0f"),
        Col("p50 ms", 8, ".2f"), Col("p95 ms", 8, ".2f"), Col("CPU ms", 8, ".2f"),
    ]  # fmt: skip
    r = results
    print()
    harness.table(columns, [("classify and route", r["reports"], r["rate"], r["p50_ms"],
                             r["p95_ms"], r["cpu_ms"])])  # fmt: skip
    sql = ", ".join(f"{k} {n:.2f}" for k, n in r["sql_by_statement"].items())
    print(f"outcomes: {r['outcomes']}")
    sends, statements = r["broker_sends"], r["sql"]
    print(f"per report: {sends:.2f} broker sends, {statements:.2f} SQL statements ({sql})")
    if r["profile"]:
        print("where a report's CPU goes (cumulative, nested; ≈ ms of the unprofiled CPU):")
        for entry, share in root_shares(r["profile"]["breakdown"], "classify_and_route"):
            print(share_line(entry, share, r["cpu_ms"]))
    return True


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=500, help="reports classified [500]")
    parser.add_argument("--profile", type=Path, default=None, help="cProfile as many more")
    parser.add_argument("--seed", type=int, default=48, help="random seed [48]")
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"JSON file [{RESULTS}]")
    return parser.parse_args(argv)


main = harness.entry(parse_args, measure, report)

if __name__ == "__main__":
    sys.exit(main())

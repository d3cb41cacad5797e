"""Province heatmap and KPI page over 1 and 10 million reports: the rollup next to the indexes.

Creates a throwaway PostgreSQL database (bench/harness.py), loads synthetic reports of two
years with COPY (bench/synthetic.py, a million at a time) up to each size in turn, rebuilds the
report rollup (`flask ioc rollup-rebuild`), then times through the Flask test client, signed in
as the IOC viewer, each page twice: reading the rollup (IOC_ROLLUP on, as deployed) and
counting the reports' indexes (IOC_ROLLUP off, the baseline). Both must give the same counts
(compared through the services at one moment).

Prints p50/p95 of both sizes side by side with the goal (p95 ≤ 150 ms from the rollup), writes
bench/results/heatmap_10m.json and drops the database. See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import harness
from harness import Col, log, percentile
from heatmap_1m import build_views
from synthetic import HISTORY_COLUMNS, build_world, copy_reports, history_chunks

from config.settings import VN_TZ

RESULTS = harness.RESULTS_DIR / "heatmap_10m.json"
GOAL_P95_MS = 150.0


@dataclass
class Page:
    """One page, timed from the rollup and from the reports."""

    name: str
    path: str
    query: dict[str, str]
    times: dict[str, list[float]] = field(default_factory=lambda: {"rollup": [], "raw": []})
    answers: dict[str, Any] = field(default_factory=dict)

    def figures(self) -> dict[str, Any]:
        """p50/p95 of both paths, and whether they agree."""
        out: dict[str, Any] = {"same": self.answers.get("rollup") == self.answers.get("raw")}
        for path, values in self.times.items():
            ordered = sorted(values)
            out[path] = {
                "runs": len(ordered),
                "p50_ms": round(percentile(ordered, 50), 1),
                "p95_ms": round(percentile(ordered, 95), 1),
            }
        return out


def pages(app) -> list[Page]:
    """The province's four heatmap views of heatmap_1m, and the KPI page for two periods."""
    made = [
        Page(v.name, "/ioc/ban-do/du-lieu", {**v.params, "zoom": str(v.zoom), "bbox": v.bbox or ""})
        for v in build_views(app)
        if v.name.startswith("province")
    ]
    today = datetime.now(VN_TZ).date()
    last = today.replace(day=1) - timedelta(days=1)
    made.append(Page("KPI page: this month (default)", "/ioc/chi-so", {}))
    made.append(
        Page(
            f"KPI page: {last:%m/%Y}",
            "/ioc/chi-so",
            {"from": last.replace(day=1).isoformat(), "to": last.isoformat()},
        )
    )
    return made


def answer(app, page: Page, now: datetime) -> Any:
    """What must agree, at one moment: the heatmap's cells, or every KPI count of the page
    (its totals, tables and weeks; the medians are estimates from the rollup)."""
    from webapp.extensions import db
    from webapp.services.ioc import heatmap, stats
    from webapp.services.ioc.queries import ReportFilter

    with app.app_context():
        try:
            if page.path.endswith("du-lieu"):
                f = ReportFilter.from_args(page.query)
                bbox = heatmap.BBox.parse(page.query.get("bbox"))
                return heatmap.view(f, int(page.query["zoom"]), bbox, now=now)["cells"]
            period = stats.Period.from_args(page.query, now)
            rows = [stats.totals(period, now=now)]
            rows += [k for by in stats.DIMENSIONS for k in stats.table(period, by, now=now)]
            rows += [w.kpi for w in stats.trend(period, now=now)]
            return [
                (k.key, k.received, k.resolved, k.open, k.overdue, k.on_time, k.late,
                 k.late_extension, k.no_deadline, k.rating_avg, k.rating_count)
                for k in rows
            ]  # fmt: skip
        finally:
            db.session.remove()


def measure_pages(app, made: list[Page], runs: int, raw_runs: int) -> None:
    """Both paths of every page: a warm-up, then the timed requests."""
    from webapp.services.administration.seed import DEMO_PASSWORD

    client = app.test_client()
    resp = client.post("/bo/login", data={"email": "giamsat@demo.vn", "password": DEMO_PASSWORD})
    assert resp.status_code == 302, "the IOC viewer could not sign in"
    for page in made:
        for path, count in (("rollup", runs), ("raw", raw_runs)):
            app.config["IOC_ROLLUP"] = path == "rollup"
            resp = client.get(page.path, query_string=page.query)  # warm-up
            assert resp.status_code == 200, (page.name, resp.status_code)
            for _ in range(count):
                t0 = time.perf_counter()
                resp = client.get(page.path, query_string=page.query)
                page.times[path].append((time.perf_counter() - t0) * 1000)
        now = datetime.now(UTC)  # one moment for both: deadlines pass while the raw path counts
        for path in ("rollup", "raw"):
            app.config["IOC_ROLLUP"] = path == "rollup"
            page.answers[path] = answer(app, page, now)
        app.config["IOC_ROLLUP"] = True
        if page.answers["rollup"] != page.answers["raw"]:
            differ = [
                (a, b)
                for a, b in zip(page.answers["rollup"], page.answers["raw"], strict=False)
                if a != b
            ]
            log(f"{page.name}: DIFFERENT answers, first: {differ[:3]}")
        f = page.figures()
        log(
            f"{page.name}: rollup p95 {f['rollup']['p95_ms']} ms, raw p95 {f['raw']['p95_ms']} ms,"
            f" same answer: {f['same']}"
        )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="1000000,10000000", help="report counts, ascending [1000000,10000000]"
    )
    parser.add_argument("--runs", type=int, default=40, help="timed requests from the rollup")
    parser.add_argument("--raw-runs", type=int, default=5, help="timed requests from the reports")
    parser.add_argument("--seed", type=int, default=48, help="random seed [48]")
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"JSON file [{RESULTS}]")
    args = parser.parse_args(argv)
    args.sizes = [int(s) for s in args.sizes.split(",")]
    if (
        args.sizes != sorted(args.sizes)
        or args.sizes[0] < 1000
        or min(args.runs, args.raw_runs) < 1
    ):
        parser.error("--sizes ascending and ≥ 1000, --runs and --raw-runs ≥ 1")
    return args


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Load each size, time every page; the database is dropped whatever happens."""
    import logging
    import random

    from webapp.extensions import db

    sizes: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-heat10-") as tmp,
        harness.throwaway_database() as url,
    ):
        logging.getLogger().setLevel(logging.WARNING)
        app, _, boundaries = harness.build_app(
            url, str(Path(tmp) / "uploads"), harness.queue_name(), demo_users=True
        )
        app.config.update(TASKS_ENABLED=False, HEATMAP_CACHE_SECONDS=0)
        with app.app_context():
            settings = harness.server_settings(db.engine)
        world = build_world(app, random.Random(args.seed))
        now, loaded = datetime.now(UTC), 0
        for size in args.sizes:
            lines = history_chunks(world, size - loaded, args.seed, now, start=loaded)
            load = copy_reports(url, ", ".join(HISTORY_COLUMNS), lines, app=app)
            loaded = size
            made = pages(app)
            load_before = os.getloadavg()
            measure_pages(app, made, args.runs, args.raw_runs)
            with app.app_context():
                sizes_sql = (
                    "SELECT pg_size_pretty(pg_total_relation_size('reports')), "
                    "pg_size_pretty(pg_total_relation_size('report_cell_counts') + "
                    "pg_total_relation_size('report_kpi_counts') + "
                    "pg_total_relation_size('report_kpi_times'))"
                )
                table_size, rollup_size = db.session.execute(db.text(sizes_sql)).one()
                db.session.remove()
            sizes.append(
                {
                    "reports": size,
                    "load": load,
                    "reports_size": table_size,
                    "rollup_size": rollup_size,
                    "pages": {p.name: p.figures() for p in made},
                    "load_average": [round(os.getloadavg()[0], 2), round(load_before[0], 2)],
                }
            )
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    return {
        **harness.run_info(args),
        "boundaries": boundaries,
        "postgres": settings,
        "sizes": sizes,
        "goal_p95_ms": GOAL_P95_MS,
        "host": harness.host(),
    }


def report(results: dict[str, Any]) -> bool:
    """The side-by-side table and the goal; True when every page meets it at every size."""
    sizes = results["sizes"]
    print()
    for s in sizes:
        load = s["load"]
        print(
            f"{s['reports']:,} reports: COPY {load['copy_s']} s, indexes {load['indexes_s']} s, "
            f"rollup rebuild {load.get('rollup_s')} s {load.get('rollup_rows')}, "
            f"VACUUM {load['vacuum_analyze_s']} s; reports {s['reports_size']}, "
            f"rollup {s['rollup_size']}; load average {s['load_average']}"
        )
    print()
    columns = [Col("page", 36, left=True)]
    for s in sizes:
        label = f"{s['reports'] / 1e6:g}M"
        columns += [Col(f"{label} rollup p50/p95", 22), Col(f"{label} raw p50/p95", 20)]
    columns += [Col("same", 6), Col("goal", left=True, gap="  ")]
    ok, rows = True, []
    for name in sizes[0]["pages"]:
        row: list[Any] = [name[:35]]
        met, same = True, True
        for s in sizes:
            f = s["pages"][name]
            row += [
                f"{f['rollup']['p50_ms']:.1f} / {f['rollup']['p95_ms']:.1f}",
                f"{f['raw']['p50_ms']:.0f} / {f['raw']['p95_ms']:.0f}",
            ]
            met &= f["rollup"]["p95_ms"] <= GOAL_P95_MS
            same &= f["same"]
        ok &= met and same
        rows.append([*row, "yes" if same else "NO", "p95✓" if met else "p95✗"])
    harness.table(columns, rows)
    print()
    print(
        f"goal: p95 ≤ {GOAL_P95_MS:.0f} ms from the rollup at every size, same counts as the "
        f"reports: {harness.met(ok)}"
    )
    results["met"] = ok
    return ok


# Measure, print, write the JSON; the exit status says whether the goals are met.
main = harness.entry(parse_args, measure, report)


if __name__ == "__main__":
    sys.exit(main())

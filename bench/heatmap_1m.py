"""Heatmap on 1,000,000 reports: server-side H3 aggregation next to shipping the raw points.

Creates a throwaway PostgreSQL database (bench_<random>, bench/harness.py), migrates and
seeds it, loads N synthetic reports of two years spread over the demo province (Đà Nẵng, 48)
with COPY (bench/synthetic.py; H3 cells computed as intake does), adds the indexes the heatmap needs
(RECOMMENDED_INDEXES: a migration should create them; here they are made only when missing),
VACUUMs, then times through the Flask test client, signed in as the IOC viewer:

- the heatmap endpoint /ioc/ban-do/du-lieu for province-wide views and ward views;
- the naive alternative for the same filter: every matching point as JSON ([[lat, lon], ...]),
  from a route added to this benchmark's app only.

Prints p50/p95 and payloads next to the goals (p95 ≤ 150 ms, ≥ 20× faster, ≤ 150 KB), writes
bench/results/heatmap.json and drops the database. See bench/README.md.
"""

from __future__ import annotations

import argparse
import math
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
from synthetic import HISTORY_COLUMNS, build_world, copy_reports, history_lines

from webapp.models import OPEN_STATUSES

RESULTS = harness.RESULTS_DIR / "heatmap.json"
GOAL_P95_MS = 150.0
GOAL_SPEEDUP = 20.0
GOAL_PAYLOAD_KB = 150.0
# The map area of /ioc/ban-do on a 1366×800 screen (the filter panel takes 300 px).
MAP_PX = (1066, 752)

# The indexes the heatmap queries need (names and definitions for the migration). Each
# carries every column the map's filters use, so PostgreSQL answers with an index-only scan
# (no table access) whatever the filter:
# - heat_r6: province view (GROUP BY h3_r6) and city view (h3_r6 IN viewport GROUP BY h3_r8);
# - heat_r8: street view and markers (h3_r8 IN viewport GROUP BY h3_r10);
# - heat_open: the IOC's working views (open, overdue) read only the open reports;
# - heat_created: views of a period (from/to) read only that period;
# - heat_unit: ward views read only the ward.
# ix_reports_h3_r6 stays: deduplicated it is small, and the fastest for the unfiltered view.
OPEN = {str(s) for s in OPEN_STATUSES}
OPEN_LIST = ", ".join(f"'{s}'" for s in sorted(OPEN))
FILTER_COLUMNS = "status, category_code, agency_id, unit_code, created_at, due_at"
RECOMMENDED_INDEXES = {
    "ix_reports_heat_r6": f"ON reports (h3_r6, h3_r8) INCLUDE ({FILTER_COLUMNS})",
    "ix_reports_heat_r8": f"ON reports (h3_r8, h3_r10) INCLUDE ({FILTER_COLUMNS})",
    "ix_reports_heat_open": f"ON reports (h3_r6, h3_r8) INCLUDE ({FILTER_COLUMNS}) "
    f"WHERE status IN ({OPEN_LIST})",
    "ix_reports_heat_created": "ON reports (created_at) INCLUDE "
    "(h3_r6, h3_r8, status, category_code, agency_id, unit_code, due_at)",
    "ix_reports_heat_unit": "ON reports (unit_code) INCLUDE "
    "(h3_r8, h3_r10, status, category_code, agency_id, created_at, due_at)",
}


@dataclass
class View:
    """One map view, timed on the heatmap endpoint and as raw points."""

    name: str
    params: dict[str, str]
    zoom: int
    bbox: str | None
    # The two views (province-wide, ward) carry all three goals; the filtered ones
    # carry p95 and payload (a few thousand raw points are small, so × says little there).
    speedup_goal: bool = False
    heat_ms: list[float] = field(default_factory=list)
    raw_ms: list[float] = field(default_factory=list)
    heat_bytes: int = 0
    raw_bytes: int = 0
    cells: int = 0
    resolution: int = 0
    reports: int = 0
    plan: list[str] = field(default_factory=list)

    def stats(self) -> dict[str, Any]:
        """The summary figures of the view."""
        heat, raw = sorted(self.heat_ms), sorted(self.raw_ms)
        heat_p50, heat_p95 = percentile(heat, 50), percentile(heat, 95)
        raw_p50, raw_p95 = percentile(raw, 50), percentile(raw, 95)
        return {
            "view": self.name,
            "speedup_goal": self.speedup_goal,
            "params": {**self.params, "zoom": self.zoom, "bbox": self.bbox},
            "resolution": self.resolution,
            "cells": self.cells,
            "reports": self.reports,
            "heat_runs": len(heat),
            "heat_p50_ms": round(heat_p50, 1),
            "heat_p95_ms": round(heat_p95, 1),
            "heat_kb": round(self.heat_bytes / 1024, 1),
            "raw_runs": len(raw),
            "raw_p50_ms": round(raw_p50, 1),
            "raw_p95_ms": round(raw_p95, 1),
            "raw_kb": round(self.raw_bytes / 1024, 1),
            "speedup_p50": round(raw_p50 / heat_p50, 1) if heat_p50 else None,
            "plan": self.plan,
        }


# --------------------------------------------------------------------------- data


def create_indexes(engine, names: Sequence[str] | None = None) -> list[str]:
    """Create the recommended indexes that do not exist yet (the migration should own them)."""
    made = []
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("SET maintenance_work_mem = '256MB'")
        existing = {
            row[0]
            for row in conn.exec_driver_sql(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'reports'"
            )
        }
        for name, definition in RECOMMENDED_INDEXES.items():
            if (names is None or name in names) and name not in existing:
                conn.exec_driver_sql(f"CREATE INDEX {name} {definition}")
                made.append(name)
    return made


# --------------------------------------------------------------------------- views


def fit_zoom(south: float, west: float, north: float, east: float) -> int:
    """The integer zoom at which Leaflet's fitBounds shows the box in the map area."""

    def y(lat: float) -> float:
        s = math.sin(math.radians(lat))
        return 0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)

    zoom_x = math.log2(MAP_PX[0] / 256 / ((east - west) / 360))
    zoom_y = math.log2(MAP_PX[1] / 256 / abs(y(south) - y(north)))
    return math.floor(min(zoom_x, zoom_y))


def viewport(lat: float, lon: float, zoom: int) -> str:
    """Leaflet's getBounds().toBBoxString() for the map area centred there at that zoom."""
    deg_per_px = 360 / (256 * 2**zoom)
    half_w = MAP_PX[0] / 2 * deg_per_px
    half_h = MAP_PX[1] / 2 * deg_per_px * math.cos(math.radians(lat))
    return f"{lon - half_w:.6f},{lat - half_h:.6f},{lon + half_w:.6f},{lat + half_h:.6f}"


def busiest_ward(app) -> tuple[str, str]:
    """The ward with the most reports (code, name)."""
    from webapp.extensions import db

    with app.app_context():
        row = db.session.execute(
            db.text(
                "SELECT r.unit_code, u.full_name FROM reports r JOIN admin_units u "
                "ON u.code = r.unit_code GROUP BY r.unit_code, u.full_name "
                "ORDER BY count(*) DESC LIMIT 1"
            )
        ).one()
    return row[0], row[1]


def build_views(app) -> list[View]:
    """Province-wide views (several filters) and ward views, as the map asks for them."""
    from webapp.services.geography import places
    from webapp.services.ioc import heatmap

    with app.app_context():
        (south, west), (north, east) = heatmap.initial_bounds()
        zoom = fit_zoom(south, west, north, east)
        bbox = viewport((south + north) / 2, (west + east) / 2, zoom)
        code, name = busiest_ward(app)
        min_lon, min_lat, max_lon, max_lat = places.places().index.geometry(code).bounds
    ward_zoom = fit_zoom(min_lat, min_lon, max_lat, max_lon)
    ward_bbox = viewport((min_lat + max_lat) / 2, (min_lon + max_lon) / 2, ward_zoom)
    today = datetime.now(UTC).date()
    last_90 = {"from": (today - timedelta(days=90)).isoformat(), "to": today.isoformat()}
    return [
        View("province: all reports", {}, zoom, bbox, speedup_goal=True),
        View("province: open reports", {"status": "open"}, zoom, bbox),
        View("province: waste, last 90 days", {"category": "waste", **last_90}, zoom, bbox),
        View("province: overdue only", {"due": "overdue"}, zoom, bbox),
        View(
            f"ward: all reports ({name})", {"unit": code}, ward_zoom, ward_bbox, speedup_goal=True
        ),
        View(
            f"ward: open reports ({name})", {"unit": code, "status": "open"}, ward_zoom, ward_bbox
        ),
    ]


def add_raw_route(app) -> None:
    """The naive alternative, for this benchmark only: every point of the filter as JSON."""
    from flask import jsonify, request
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Report
    from webapp.services.ioc import queries

    def raw_points():
        f = queries.ReportFilter.from_args(request.args)
        stmt = queries.where(select(Report.lat, Report.lon).where(Report.lat.is_not(None)), f)
        return jsonify([[lat, lon] for lat, lon in db.session.execute(stmt)])

    app.add_url_rule("/bench/raw-points", "bench_raw_points", raw_points)


class PlanCatcher:
    """Remembers the heatmap's GROUP BY statement, to EXPLAIN it afterwards."""

    def __init__(self):
        self.last: tuple[str, Any] | None = None

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if "GROUP BY reports.h3_r" in statement or "GROUP BY report_cell_counts.h3_r6" in statement:
            self.last = (statement, parameters)  # the reports' indexes, or the rollup


def measure_views(
    app, views: list[View], runs: int, raw_runs: int, profile: Path | None = None
) -> None:
    """Time every view on the heatmap endpoint and as raw points (test client, signed in)."""
    from sqlalchemy import event

    from webapp.extensions import db
    from webapp.services.administration.seed import DEMO_PASSWORD

    client = app.test_client()
    resp = client.post("/bo/login", data={"email": "giamsat@demo.vn", "password": DEMO_PASSWORD})
    assert resp.status_code == 302, "the IOC viewer could not sign in"
    catcher = PlanCatcher()
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", catcher)
    try:
        for view in views:
            catcher.last = None
            query = dict(view.params, zoom=str(view.zoom))
            if view.bbox:
                query["bbox"] = view.bbox
            for _ in range(3):  # warm-up: caches, the spatial index, connections
                client.get("/ioc/ban-do/du-lieu", query_string=query)
            profiler = None
            if profile is not None and view is views[0]:
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
            for _ in range(runs):
                t0 = time.perf_counter()
                resp = client.get("/ioc/ban-do/du-lieu", query_string=query)
                view.heat_ms.append((time.perf_counter() - t0) * 1000)
                assert resp.status_code == 200
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(profile)
            body = resp.get_json()
            view.heat_bytes = len(resp.get_data())
            view.cells, view.resolution, view.reports = (
                body["cell_count"],
                body["resolution"],
                body["total"],
            )
            if catcher.last:
                with engine.connect() as conn:
                    view.plan = harness.explain(conn, *catcher.last).lines
            client.get("/bench/raw-points", query_string=view.params)  # warm-up
            for _ in range(raw_runs):
                t0 = time.perf_counter()
                raw = client.get("/bench/raw-points", query_string=view.params)
                view.raw_ms.append((time.perf_counter() - t0) * 1000)
            view.raw_bytes = len(raw.get_data())
            s = view.stats()
            log(
                f"{view.name}: heat p50 {s['heat_p50_ms']} ms p95 {s['heat_p95_ms']} ms "
                f"{s['heat_kb']} KB | raw p50 {s['raw_p50_ms']} ms {s['raw_kb']} KB"
            )
    finally:
        event.remove(engine, "before_cursor_execute", catcher)


def measure_cached(app, view: View, runs: int) -> dict[str, Any]:
    """The same view again with the shared cache on (HEATMAP_CACHE_SECONDS = 30)."""
    from webapp.services.administration.seed import DEMO_PASSWORD

    client = app.test_client()
    client.post("/bo/login", data={"email": "giamsat@demo.vn", "password": DEMO_PASSWORD})
    query = dict(view.params, zoom=str(view.zoom), bbox=view.bbox or "")
    app.config["HEATMAP_CACHE_SECONDS"] = 30
    try:
        client.get("/ioc/ban-do/du-lieu", query_string=query)  # fills the cache
        timings = []
        for _ in range(runs):
            t0 = time.perf_counter()
            client.get("/ioc/ban-do/du-lieu", query_string=query)
            timings.append((time.perf_counter() - t0) * 1000)
    finally:
        app.config["HEATMAP_CACHE_SECONDS"] = 0
    timings.sort()
    return {
        "view": view.name,
        "p50_ms": round(percentile(timings, 50), 1),
        "p95_ms": round(percentile(timings, 95), 1),
    }


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=1_000_000, help="reports [1000000]")
    parser.add_argument("--runs", type=int, default=40, help="timed heatmap requests per view")
    parser.add_argument("--raw-runs", type=int, default=5, help="timed raw-point requests [5]")
    parser.add_argument(
        "--no-indexes", action="store_true", help="leave out RECOMMENDED_INDEXES (to compare)"
    )
    parser.add_argument(
        "--profile", type=Path, default=None, help="cProfile the first view's requests into FILE"
    )
    parser.add_argument("--seed", type=int, default=48, help="random seed [48]")
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"JSON file [{RESULTS}]")
    args = parser.parse_args(argv)
    if args.reports < 1000 or args.runs < 1 or args.raw_runs < 1:
        parser.error("--reports ≥ 1000, --runs and --raw-runs ≥ 1")
    return args


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Set up, load, time; the database is dropped whatever happens."""
    import logging
    import random

    from webapp.extensions import db

    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="bench-heat-") as tmp,
        harness.throwaway_database() as url,
    ):
        logging.getLogger().setLevel(logging.WARNING)
        uploads = str(Path(tmp) / "uploads")
        app, _, boundaries = harness.build_app(url, uploads, harness.queue_name(), demo_users=True)
        app.config["TASKS_ENABLED"] = False
        # Every timed request counts in the database; the shared cache is timed apart.
        app.config["HEATMAP_CACHE_SECONDS"] = 0
        add_raw_route(app)
        with app.app_context():
            settings = harness.server_settings(db.engine)
            engine = db.engine
        world = build_world(app, random.Random(args.seed))
        setup_s = time.perf_counter() - started
        now = datetime.now(UTC)
        if args.no_indexes:
            RECOMMENDED_INDEXES.clear()
        rows = history_lines(world, args.reports, args.seed, now)
        load = copy_reports(url, ", ".join(HISTORY_COLUMNS), rows, app=app)
        t0 = time.perf_counter()
        made = create_indexes(engine)
        load["heat_indexes_s"] = round(time.perf_counter() - t0, 1)
        log(f"heatmap indexes {made or 'already there'} in {load['heat_indexes_s']} s")
        views = build_views(app)
        load_before = os.getloadavg()
        measure_views(app, views, args.runs, args.raw_runs, args.profile)
        cached = measure_cached(app, views[0], args.runs)
        load_after = os.getloadavg()
        with app.app_context():
            size = db.session.execute(
                db.text(
                    "SELECT pg_size_pretty(pg_table_size('reports')), "
                    "pg_size_pretty(pg_indexes_size('reports'))"
                )
            ).one()
            db.session.remove()
            db.engine.dispose()
    return {
        **harness.run_info(args),
        "boundaries": boundaries,
        "setup_seconds": round(setup_s, 1),
        "load": load,
        "table_size": size[0],
        "indexes_size": size[1],
        "indexes": RECOMMENDED_INDEXES,
        "postgres": settings,
        "views": [v.stats() for v in views],
        "cached": cached,
        "load_average": {
            "before": [round(x, 2) for x in load_before],
            "after": [round(x, 2) for x in load_after],
        },
        "goals": {"p95_ms": GOAL_P95_MS, "speedup": GOAL_SPEEDUP, "payload_kb": GOAL_PAYLOAD_KB},
        "host": harness.host(),
    }


def report(results: dict[str, Any]) -> bool:
    """The table and the goals; True when every goal is met."""
    pg = results["postgres"]
    load = results["load"]
    print()
    print(
        f"PostgreSQL {pg.get('server_version')}, {results['args']['reports']:,} reports "
        f"(COPY {load['copy_s']} s, indexes {load['indexes_s']} + "
        f"{load['heat_indexes_s']} s, VACUUM {load['vacuum_analyze_s']} s; "
        f"table {results['table_size']}, "
        f"indexes {results['indexes_size']}), {results['boundaries']}"
    )
    print()
    columns = [
        Col("view", 40, left=True), Col("res", 4), Col("cells", 6, ","), Col("reports", 10, ","),
        Col("p50 ms", 8, ".1f"), Col("p95 ms", 8, ".1f"), Col("KB", 6, ".1f"),
        Col("raw p50", 9, ".0f"), Col("raw KB", 8, ",.0f"), Col("×", 6, ".0f"),
        Col("goals", left=True, gap="  "),
    ]  # fmt: skip
    ok, rows = True, []
    for v in results["views"]:
        speedup = v["speedup_p50"] or 0.0
        met = (
            v["heat_p95_ms"] <= GOAL_P95_MS,
            speedup >= GOAL_SPEEDUP,
            v["heat_kb"] <= GOAL_PAYLOAD_KB,
        )
        v["goals_met"] = dict(zip(("p95", "speedup", "payload"), met, strict=True))
        counted = met if v["speedup_goal"] else (met[0], met[2])
        ok &= all(counted)
        flags = " ".join(
            f"{name}{'✓' if m else '✗'}"
            if name != "×" or v["speedup_goal"]
            else f"(×{'✓' if m else '–'})"
            for name, m in zip(("p95", "×", "KB"), met, strict=True)
        )
        rows.append(
            (v["view"][:39], f"r{v['resolution']}", v["cells"], v["reports"], v["heat_p50_ms"],
             v["heat_p95_ms"], v["heat_kb"], v["raw_p50_ms"], v["raw_kb"], speedup, flags)
        )  # fmt: skip
    harness.table(columns, rows)
    cached = results["cached"]
    print(
        f"(same view with the 30 s shared cache: {cached['view']}: p50 {cached['p50_ms']} ms, "
        f"p95 {cached['p95_ms']} ms)"
    )
    la = results["load_average"]
    print(
        f"(load average of this {results['host']['cpus']}-CPU machine while timing: "
        f"{la['before'][0]} before, {la['after'][0]} after)"
    )
    print()
    print(
        f"goals: p95 ≤ {GOAL_P95_MS:.0f} ms, ≥ {GOAL_SPEEDUP:.0f}× faster than raw points, "
        f"≤ {GOAL_PAYLOAD_KB:.0f} KB: {harness.met(ok)}{'' if ok else ', see ✗ above'} "
        "(× counts for the province-wide and the ward view of all reports; "
        "p95 and KB for every view)"
    )
    print("plans (EXPLAIN ANALYZE of the heatmap's GROUP BY, last run):")
    for v in results["views"]:
        print(f"  {v['view']}:")
        for line in v["plan"]:
            print(f"    {line}")
    results["goals"]["met"] = ok
    return ok


# Measure, print, write the JSON; the exit status says whether the goals are met.
main = harness.entry(parse_args, measure, report)


if __name__ == "__main__":
    sys.exit(main())

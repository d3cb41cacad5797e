"""Heatmap on 1,000,000 reports: server-side H3 aggregation next to shipping the raw points.

Creates a throwaway PostgreSQL database (bench_<random>, like bench/intake_throughput.py),
migrates and seeds it, loads N synthetic reports spread over the demo province (Đà Nẵng, 48)
with COPY (H3 cells computed as intake does), adds the indexes the heatmap needs
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
import io
import json
import math
import os
import platform
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from intake_throughput import (  # noqa: E402  (the shared database and app set-up)
    PROVINCE,
    build_app,
    git_commit,
    log,
    measure_until_interrupted,
    percentile,
    server_settings,
    throwaway_database,
)

from webapp.models import OPEN_STATUSES  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "heatmap.json"
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

# A realistic mix of what residents report (share of all reports).
CATEGORY_MIX = {
    "waste": 0.17,
    "road_damage": 0.15,
    "street_lighting": 0.10,
    "drainage_flooding": 0.09,
    "encroachment": 0.08,
    "noise": 0.06,
    "trees": 0.06,
    "traffic": 0.05,
    "water_supply": 0.05,
    "illegal_construction": 0.04,
    "pollution": 0.04,
    "electricity": 0.03,
    "public_security": 0.03,
    "public_service": 0.02,
    "food_health": 0.01,
    "other": 0.02,
}
# Statuses of reports older than a month, and of the last month's.
OLD_STATUS_MIX = {
    "closed": 0.60, "resolved": 0.24, "rejected": 0.05, "duplicate": 0.03,
    "in_progress": 0.04, "assigned": 0.03, "reopened": 0.01,
}  # fmt: skip
NEW_STATUS_MIX = {
    "received": 0.03, "classified": 0.02, "needs_triage": 0.03, "assigned": 0.22,
    "in_progress": 0.27, "transferred": 0.02, "resolved": 0.25, "closed": 0.08,
    "rejected": 0.05, "duplicate": 0.03,
}  # fmt: skip
DESCRIPTIONS = (
    "Ổ gà lớn trên đường, xe máy đi qua rất dễ té ngã, đề nghị sửa chữa sớm.",
    "Rác thải tập kết bừa bãi đầu kiệt nhiều ngày chưa được thu gom, bốc mùi hôi thối.",
    "Đèn chiếu sáng bị hỏng từ tuần trước, buổi tối rất tối và mất an toàn.",
    "Mưa lớn làm ngập sâu đoạn đường, nước không thoát được, đi lại rất khó khăn.",
    "Cây xanh gãy cành lớn đổ ra lòng đường, cần xử lý ngay để tránh tai nạn.",
    "Quán nhậu mở nhạc rất to đến sau 23 giờ, ảnh hưởng giấc ngủ của khu dân cư.",
    "Hộ kinh doanh lấn chiếm vỉa hè để buôn bán, người đi bộ phải xuống lòng đường.",
    "Đường ống nước bị vỡ, nước chảy lênh láng từ sáng đến giờ.",
)
COPY_COLUMNS = (
    "code", "channel", "description", "search_text", "status", "category_code", "agency_id",
    "unit_code", "province_code", "lat", "lon", "location_source", "outside_area", "h3_r6",
    "h3_r8", "h3_r10", "urgency", "due_at", "original_due_at", "extension_status",
    "first_response_at", "resolved_at", "closed_at", "rating", "overdue", "classify_attempts",
    "created_at", "updated_at",
)  # fmt: skip


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


# --------------------------------------------------------------------------- synthetic data


def _weights(mix: dict[str, float]) -> tuple[list[str], np.ndarray]:
    keys = list(mix)
    p = np.array([mix[k] for k in keys], dtype=float)
    return keys, p / p.sum()


def mainland_wards(shapes: list) -> list:
    """Wards with a boundary, leaving out outlying islands (nobody reports from Hoàng Sa)."""
    wards = [s for s in shapes if not s.geometry.is_empty]
    centres = np.array([(s.geometry.centroid.y, s.geometry.centroid.x) for s in wards])
    mid = np.median(centres, axis=0)
    far = np.abs(centres - mid).max(axis=1) > 1.5
    return [w for w, out in zip(wards, far, strict=True) if not out]


def _inside(geometry, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    import shapely

    return shapely.contains_xy(geometry, lons, lats)


def sample_points(rng: np.random.Generator, wards: list, n: int):
    """n points, 35 % around hot spots; towns report most (ward weight ∝ 1/√area, ×3 phường)."""
    import shapely

    area = np.array([max(w.area_km2 or w.geometry.area * 12_000, 0.5) for w in wards])
    urban = np.array([3.0 if w.full_name.startswith("Phường") else 1.0 for w in wards])
    weight = urban / np.sqrt(area)
    counts = rng.multinomial(n, weight / weight.sum())
    lats, lons, units = [], [], []
    for ward, k in zip(wards, counts, strict=True):
        if k == 0:
            continue
        geometry = ward.geometry
        shapely.prepare(geometry)
        minx, miny, maxx, maxy = geometry.bounds
        got_lat: list[np.ndarray] = []
        got_lon: list[np.ndarray] = []
        # Hot spots: a market, a low street that floods, a school gate.
        spots = []
        while len(spots) < 3:
            y, x = rng.uniform(miny, maxy), rng.uniform(minx, maxx)
            if shapely.contains_xy(geometry, x, y):
                spots.append((y, x))
        hot = int(k * 0.35)
        if hot:
            centre = np.array(spots)[rng.integers(0, 3, hot)]
            la = centre[:, 0] + rng.normal(0, 0.0015, hot)
            lo = centre[:, 1] + rng.normal(0, 0.0015, hot)
            keep = _inside(geometry, la, lo)
            got_lat.append(la[keep])
            got_lon.append(lo[keep])
        have = sum(len(a) for a in got_lat)
        while have < k:
            batch = max(64, int((k - have) * 2.5))
            la, lo = rng.uniform(miny, maxy, batch), rng.uniform(minx, maxx, batch)
            keep = _inside(geometry, la, lo)
            got_lat.append(la[keep][: k - have])
            got_lon.append(lo[keep][: k - have])
            have = sum(len(a) for a in got_lat)
        lats.append(np.concatenate(got_lat)[:k])
        lons.append(np.concatenate(got_lon)[:k])
        units.extend([ward.code] * k)
    return np.concatenate(lats), np.concatenate(lons), np.array(units)


def routing_table(app) -> tuple[dict[str, int | None], dict[str, int], dict[str, int]]:
    """category → agency id (None: the ward's committee), ward → committee id, SLA days."""
    import yaml

    from webapp.extensions import db
    from webapp.models import Agency, Category

    spec = yaml.safe_load(
        (ROOT / "config" / "provinces" / PROVINCE / "agencies.yml").read_text("utf-8")
    )
    with app.app_context():
        ids = {a.code: a.id for a in db.session.scalars(db.select(Agency))}
        sla = {c.code: c.sla_normal_days for c in db.session.scalars(db.select(Category))}
    prefix = spec["ward_committees"]["code_prefix"]
    by_category = {cat: None if t == "ward" else ids[t] for cat, t in spec["routing"].items()}
    committees = {code[len(prefix) :]: i for code, i in ids.items() if code.startswith(prefix)}
    return by_category, committees, sla


NULL = "\\N"


def _stamps(base: datetime, seconds: np.ndarray, present: np.ndarray | None = None) -> np.ndarray:
    """COPY text of UTC timestamps base + seconds (NULL where not present), vectorised."""
    origin = np.datetime64(base.replace(tzinfo=None), "us")
    values = origin + (seconds * 1e6).astype("timedelta64[us]")
    text = np.char.add(np.datetime_as_string(values, unit="s"), "+00")
    return text if present is None else np.where(present, text, NULL)


def synth_rows(app, shapes: list, n: int, seed: int, now: datetime):
    """Yield COPY text lines of n reports: attributes drawn with numpy, cells as intake does."""
    import h3

    from webapp.services.text import fold

    rng = np.random.default_rng(seed)
    wards = mainland_wards(shapes)
    log(f"sampling {n:,} points in {len(wards)} wards")
    lats, lons, units = sample_points(rng, wards, n)
    order = rng.permutation(n)  # rows are not stored ward by ward
    lats, lons, units = lats[order], lons[order], units[order]
    by_category, committees, sla = routing_table(app)
    cat_keys, cat_p = _weights(CATEGORY_MIX)
    old_keys, old_p = _weights(OLD_STATUS_MIX)
    new_keys, new_p = _weights(NEW_STATUS_MIX)
    categories = rng.choice(cat_keys, n, p=cat_p)
    # Two years of reports, more of them recently (seconds relative to now, negative).
    created = -730 * 86400 * (1 - np.sqrt(rng.uniform(0, 1, n)))
    recent = created > -30 * 86400
    statuses = np.where(recent, rng.choice(new_keys, n, p=new_p), rng.choice(old_keys, n, p=old_p))
    # SLA in working days → calendar time (weekends and holidays: about ×1.4).
    sla_days = {c: sla.get(c, 5) for c in cat_keys}
    sla_s = np.array([sla_days[c] for c in categories.tolist()], dtype=float) * 1.4 * 86400
    first_due = created + sla_s
    extended = rng.uniform(0, 1, n) < 0.08
    due = first_due + np.where(extended, 5 * 86400, 0)
    responded_mask = ~np.isin(statuses, ["received", "classified", "needs_triage"])
    responded = created + rng.exponential(6, n) * 3600
    resolved_mask = np.isin(statuses, ["resolved", "closed"])
    # Share of the allowed time used: most within it, about one in ten late.
    resolved = np.minimum(created + (due - created) * rng.lognormal(-0.6, 0.6, n), -300)
    closed = np.minimum(resolved + 3 * 86400, -60)
    rated = resolved_mask & (rng.uniform(0, 1, n) < 0.3)
    ratings = np.where(
        rated, rng.choice(["1", "2", "3", "4", "5"], n, p=[0.08, 0.07, 0.15, 0.35, 0.35]), NULL
    )
    is_open = np.isin(statuses, list(OPEN))
    overdue = np.where(is_open & (due < 0), "t", "f")
    channels = rng.choice(["web", "telegram", "zalo", "hotline"], n, p=[0.5, 0.2, 0.25, 0.05])
    texts = [(d, fold(d)) for d in DESCRIPTIONS]
    text_pick = rng.integers(0, len(texts), n)
    agency = np.array(
        [
            str(by_category.get(c) or committees.get(u) or NULL)
            for c, u in zip(categories.tolist(), units.tolist(), strict=True)
        ]
    )
    columns = {
        "created": _stamps(now, created),
        "first_due": _stamps(now, first_due),
        "due": _stamps(now, due),
        "responded": _stamps(now, responded, responded_mask),
        "resolved": _stamps(now, resolved, resolved_mask),
        "closed": _stamps(now, closed, statuses == "closed"),
        "updated": _stamps(now, np.where(resolved_mask, resolved, created)),
    }
    extension = np.where(extended, "approved", NULL)
    log("computing H3 cells (r6, r8, r10) and writing COPY rows")
    cell = h3.latlng_to_cell
    rows = zip(
        lats.tolist(), lons.tolist(), units.tolist(), categories.tolist(), statuses.tolist(),
        agency.tolist(), channels.tolist(), text_pick.tolist(), columns["created"].tolist(),
        columns["first_due"].tolist(), columns["due"].tolist(), extension.tolist(),
        columns["responded"].tolist(), columns["resolved"].tolist(), columns["closed"].tolist(),
        ratings.tolist(), overdue.tolist(), columns["updated"].tolist(),
        strict=True,
    )  # fmt: skip
    for i, (lat, lon, unit, category, status, agency_id, channel, pick, created_at, first_due_at,
            due_at, extension_status, responded_at, resolved_at, closed_at, rating, late,
            updated_at) in enumerate(rows):  # fmt: skip
        description, folded = texts[pick]
        yield (
            f"PA-B{i:08d}\t{channel}\t{description}\t{folded}\t{status}\t{category}\t"
            f"{agency_id}\t{unit}\t{PROVINCE}\t{lat!r}\t{lon!r}\tpin\tf\t"
            f"{cell(lat, lon, 6)}\t{cell(lat, lon, 8)}\t{cell(lat, lon, 10)}\tnormal\t"
            f"{due_at}\t{first_due_at}\t{extension_status}\t{responded_at}\t{resolved_at}\t"
            f"{closed_at}\t{rating}\t{late}\t1\t{created_at}\t{updated_at}\n"
        )


def load_reports(app, shapes: list, n: int, seed: int, now: datetime) -> dict[str, float]:
    """COPY the synthetic reports in, rebuild the indexes, add the heatmap's, VACUUM ANALYZE.

    The table's secondary indexes are dropped before COPY and rebuilt after it with the same
    definitions: building an index once is much faster than updating it a million times.
    """
    from webapp.extensions import db

    timings: dict[str, float] = {}
    start = time.perf_counter()
    with app.app_context():
        engine = db.engine
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        secondary = conn.exec_driver_sql(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'reports' "
            "AND indexdef NOT LIKE 'CREATE UNIQUE%%'"
        ).all()
        for name, _definition in secondary:
            conn.exec_driver_sql(f"DROP INDEX {name}")
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        # The generated rows are consistent by construction: skip the foreign-key triggers
        # (3 lookups a row) while loading. Needs a superuser, as on the test server.
        cur.execute("SET session_replication_role = replica")
        with cur.copy(f"COPY reports ({', '.join(COPY_COLUMNS)}) FROM STDIN") as copy:
            buf = io.StringIO()
            for count, line in enumerate(synth_rows(app, shapes, n, seed, now), 1):
                buf.write(line)
                if count % 20_000 == 0:
                    copy.write(buf.getvalue())
                    buf.seek(0)
                    buf.truncate()
                if count % 200_000 == 0:
                    log(f"  {count:,} rows ({time.perf_counter() - start:.0f} s)")
            copy.write(buf.getvalue())
        raw.commit()
    finally:
        raw.close()
    timings["copy_s"] = round(time.perf_counter() - start, 1)
    log(f"loaded {n:,} reports in {timings['copy_s']} s")
    t0 = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("SET maintenance_work_mem = '256MB'")
        for _name, definition in secondary:
            conn.exec_driver_sql(definition)
    timings["migration_indexes_s"] = round(time.perf_counter() - t0, 1)
    log(f"rebuilt {len(secondary)} indexes of the migrations in {timings['migration_indexes_s']} s")
    t0 = time.perf_counter()
    made = create_indexes(engine)
    timings["indexes_s"] = round(time.perf_counter() - t0, 1)
    log(f"heatmap indexes {made or 'already there'} in {timings['indexes_s']} s")
    t0 = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE) reports")
    timings["vacuum_s"] = round(time.perf_counter() - t0, 1)
    log(f"VACUUM ANALYZE in {timings['vacuum_s']} s")
    return timings


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
        if "GROUP BY reports.h3_r" in statement:
            self.last = (statement, parameters)


def explain(app, caught: tuple[str, Any]) -> list[str]:
    """The plan's nodes, one line each (node type, index, rows, time)."""
    from webapp.extensions import db

    statement, parameters = caught
    with app.app_context(), db.engine.connect() as conn:
        result = conn.exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters
        ).scalar()
    plan = result[0] if isinstance(result, list) else json.loads(result)[0]
    lines: list[str] = []

    def walk(node: dict, depth: int) -> None:
        label = node["Node Type"]
        if node.get("Index Name"):
            label += f" using {node['Index Name']}"
        if node.get("Heap Fetches") is not None:
            label += f" (heap fetches {node['Heap Fetches']})"
        lines.append(
            f"{'  ' * depth}{label}: rows={node.get('Actual Rows')} "
            f"time={node.get('Actual Total Time')} ms"
        )
        for child in node.get("Plans", []):
            walk(child, depth + 1)

    walk(plan["Plan"], 0)
    lines.append(f"execution {plan.get('Execution Time')} ms")
    return lines


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
                view.plan = explain(app, catcher.last)
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

    started = time.perf_counter()
    queue_name = f"phananh-bench-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="bench-heat-") as tmp, throwaway_database() as url:
        logging.getLogger().setLevel(logging.WARNING)
        app, shapes, boundaries = build_app(url, str(Path(tmp) / "uploads"), queue_name)
        app.config["TASKS_ENABLED"] = False
        # Every timed request counts in the database; the shared cache is timed apart.
        app.config["HEATMAP_CACHE_SECONDS"] = 0
        add_raw_route(app)
        from webapp.extensions import db
        from webapp.services.administration import seed

        with app.app_context():
            seed.load_demo_users()
            settings = server_settings(db.engine)
        setup_s = time.perf_counter() - started
        now = datetime.now(UTC)
        if args.no_indexes:
            RECOMMENDED_INDEXES.clear()
        load = load_reports(app, shapes, args.reports, args.seed, now)
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
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
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
        "host": {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
        },
    }


def print_results(results: dict[str, Any]) -> bool:
    """The table and the goals; True when every goal is met."""
    pg = results["postgres"]
    load = results["load"]
    print()
    print(
        f"PostgreSQL {pg.get('server_version')}, {results['args']['reports']:,} reports "
        f"(COPY {load['copy_s']} s, indexes {load['migration_indexes_s']} + "
        f"{load['indexes_s']} s, VACUUM {load['vacuum_s']} s; table {results['table_size']}, "
        f"indexes {results['indexes_size']}), {results['boundaries']}"
    )
    print()
    header = (
        f"{'view':<40}{'res':>4}{'cells':>6}{'reports':>10}{'p50 ms':>8}{'p95 ms':>8}{'KB':>6}"
        f"{'raw p50':>9}{'raw KB':>8}{'×':>6}  goals"
    )
    print(header)
    print("-" * len(header))
    ok = True
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
        print(
            f"{v['view'][:39]:<40}{'r' + str(v['resolution']):>4}{v['cells']:>6,}"
            f"{v['reports']:>10,}{v['heat_p50_ms']:>8.1f}{v['heat_p95_ms']:>8.1f}"
            f"{v['heat_kb']:>6.1f}{v['raw_p50_ms']:>9.0f}{v['raw_kb']:>8,.0f}{speedup:>6.0f}"
            f"  {flags}"
        )
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
        f"≤ {GOAL_PAYLOAD_KB:.0f} KB: {'met' if ok else 'MISSED, see ✗ above'} (× counts for "
        f"the province-wide and the ward view of all reports; p95 and KB for every view)"
    )
    print("plans (EXPLAIN ANALYZE of the heatmap's GROUP BY, last run):")
    for v in results["views"]:
        print(f"  {v['view']}:")
        for line in v["plan"]:
            print(f"    {line}")
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the table, write the JSON."""
    args = parse_args(argv)

    results = measure_until_interrupted(measure, args)
    if results is None:
        return 130
    ok = print_results(results)
    results["goals"]["met"] = ok
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", "utf-8")
    shown = args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output
    print(f"\nwritten {shown}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Intake throughput: `submit_report` on PostgreSQL next to the raw INSERT+COMMIT rate.

Creates a throwaway database (bench_<random>), migrates and seeds it like tests/conftest.py,
times N reports through webapp.services.intake.reports.submit_report (enqueue to Redis included)
and, in alternating blocks, N single-row INSERT+COMMIT into a plain table on the same engine,
prints both rates and their ratio, writes bench/results/intake.json and drops the database.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "intake.json"
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
PROVINCE = "48"
WARMUP = 30

# Problems residents of Đà Nẵng report, in their words; {street}, {num}, {ward} are filled in.
DESCRIPTIONS = (
    "Ổ gà lớn trên đường {street} gần số nhà {num}, xe máy đi qua rất dễ té ngã, "
    "đề nghị sửa chữa sớm.",
    "Rác thải tập kết bừa bãi ở đầu kiệt {num} {street} nhiều ngày chưa được thu gom, "
    "bốc mùi hôi thối.",
    "Đèn chiếu sáng trên đường {street} đoạn trước nhà số {num} bị hỏng từ tuần trước, "
    "buổi tối rất tối và mất an toàn.",
    "Mưa lớn làm ngập sâu đoạn đường {street}, nước không thoát được, người dân đi lại "
    "rất khó khăn.",
    "Cây xanh bị gãy cành lớn đổ ra lòng đường {street}, cần xử lý ngay để tránh tai nạn.",
    "Quán nhậu ở số {num} {street} mở nhạc rất to đến sau 23 giờ, ảnh hưởng giấc ngủ "
    "của cả khu dân cư.",
    "Nhiều hộ kinh doanh lấn chiếm vỉa hè đường {street} để buôn bán, người đi bộ phải "
    "đi xuống lòng đường.",
    "Đường ống nước bị vỡ tại số {num} {street}, nước chảy lênh láng từ sáng đến giờ.",
    "Công trình xây dựng ở {street} không che chắn, bụi bay mù mịt, vật liệu tràn ra đường.",
    "Khu vực chợ {ward} thường xuyên có nhóm thanh niên tụ tập gây mất trật tự ban đêm.",
    "Nắp cống trên đường {street} bị vỡ, để hở một hố sâu rất nguy hiểm cho trẻ em.",
    "Dây điện bị võng thấp sát đầu người đi đường ở kiệt {num} {street}, sợ bị chập cháy.",
)
CLOSINGS = (
    "",
    " Mong cơ quan chức năng sớm kiểm tra và xử lý.",
    " Tình trạng này đã kéo dài hơn một tháng, người dân đã phản ánh nhiều lần.",
    " Xin cảm ơn!",
)
NAMES = ("Nguyễn Văn An", "Trần Thị Bích", "Lê Minh Châu", "Phạm Quốc Dũng", "Võ Thị Hạnh")
CATEGORY_HINTS = (None, None, None, "road_damage", "waste", "street_lighting", "trees")


@dataclass
class Phase:
    """Timings of one measured loop."""

    name: str
    count: int
    seconds: float
    rate: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    cpu_ms: float  # this process's CPU time per item
    extra: dict[str, Any] = field(default_factory=dict)


def log(message: str) -> None:
    """Progress on stderr (stdout keeps the results)."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100) of sorted values, nearest-rank."""
    if not sorted_values:
        return float("nan")
    rank = max(1, round(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summarise(name: str, timings: Timings, **extra: Any) -> Phase:
    """A Phase from a loop's per-item latencies and wall-clock time."""
    ordered = sorted(timings.latencies)
    wall = timings.wall
    n = len(ordered)
    return Phase(
        name=name,
        count=n,
        seconds=round(wall, 3),
        rate=round(n / wall, 1) if wall > 0 else 0.0,
        p50_ms=round(percentile(ordered, 50) * 1000, 3),
        p95_ms=round(percentile(ordered, 95) * 1000, 3),
        p99_ms=round(percentile(ordered, 99) * 1000, 3),
        mean_ms=round(sum(ordered) / n * 1000, 3) if n else float("nan"),
        max_ms=round(ordered[-1] * 1000, 3) if n else float("nan"),
        cpu_ms=round(timings.cpu / n * 1000, 3) if n else float("nan"),
        extra=extra,
    )


# --------------------------------------------------------------------------- database


@contextmanager
def throwaway_database() -> Iterator[str]:
    """Create bench_<random> and yield its SQLAlchemy URL; dropped afterwards.

    BENCH_KEEP_DB=1 keeps it (to look at the plans by hand); drop it yourself when done.
    """
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    log(f"created database {name}")
    try:
        base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
        yield f"{base}/{name}"
    finally:
        if os.environ.get("BENCH_KEEP_DB") == "1":
            log(f"kept database {name} (BENCH_KEEP_DB=1): DROP DATABASE {name} when done")
        else:
            drop_database(name)


def drop_database(name: str) -> None:
    """DROP DATABASE … WITH (FORCE), ignoring a second Ctrl-C while it runs."""
    import psycopg

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a 2nd Ctrl-C must not leak it
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        log(f"dropped database {name}")
    finally:
        signal.signal(signal.SIGINT, previous)


def server_settings(engine) -> dict[str, str]:
    """The PostgreSQL settings that decide what a COMMIT costs."""
    from sqlalchemy import text

    names = ("fsync", "synchronous_commit", "wal_sync_method", "commit_delay", "server_version")
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT name, setting FROM pg_settings WHERE name = ANY(:names)"),
            {"names": list(names)},
        )
        return dict(rows.all())


def build_app(database_url: str, upload_dir: str, queue_name: str):
    """The app on the throwaway database, migrated, with boundaries, categories and agencies."""
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.services.administration import seed
    from webapp.services.geography import geo, places

    app = create_app(
        "testing",
        overrides={
            "SQLALCHEMY_DATABASE_URI": database_url,
            "UPLOAD_DIR": upload_dir,
            "CELERY_BROKER_URL": REDIS_URL,
            "CELERY_QUEUE": queue_name,
            "SERVER_NAME": None,
        },
    )
    try:
        from tests.support.geo_data import province_geojson

        source = province_geojson(PROVINCE)
    except ImportError:
        source = None
    with app.app_context():
        upgrade()
        if source:
            shapes = geo.read_units_geojson(source, province_code=PROVINCE)
            boundaries = f"real polygons ({source.name})"
        else:
            shapes = geo.approximate_units(PROVINCE)
            boundaries = "approximate cells (vietnamadminunits)"
        places.import_units(shapes)
        seed.load_categories()
        seed.load_agencies(PROVINCE)
    return app, shapes, boundaries


def quiet_logging(path: Path) -> None:
    """Send the app's INFO log (one line per report) to a file instead of the terminal."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root.addHandler(handler)


# --------------------------------------------------------------------------- drafts


def random_point(rng: random.Random, geometry) -> tuple[float, float]:
    """A uniformly random (lat, lon) inside a ward polygon (rejection sampling)."""
    import shapely

    minx, miny, maxx, maxy = geometry.bounds
    shapely.prepare(geometry)
    for _ in range(1000):
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if shapely.contains_xy(geometry, x, y):
            return y, x
    point = geometry.representative_point()
    return point.y, point.x


def make_jpegs(rng: random.Random, count: int = 8) -> list[bytes]:
    """Small camera-like JPEGs (640×480, noisy gradient, ~40–80 KB)."""
    from PIL import Image, ImageDraw

    out = []
    for _ in range(count):
        base = Image.linear_gradient("L").resize((640, 480)).convert("RGB")
        tint = Image.new("RGB", (640, 480), tuple(rng.randrange(40, 220) for _ in range(3)))
        image = Image.blend(base, tint, 0.5)
        noise = Image.effect_noise((640, 480), 40).convert("RGB")
        image = Image.blend(image, noise, 0.25)
        draw = ImageDraw.Draw(image)
        for _ in range(12):
            x, y = rng.randrange(600), rng.randrange(440)
            box = (x, y, x + rng.randrange(10, 120), y + rng.randrange(10, 90))
            draw.rectangle(box, fill=tuple(rng.randrange(256) for _ in range(3)))
        buf = io.BytesIO()
        image.save(buf, "JPEG", quality=85)
        out.append(buf.getvalue())
    return out


class DraftFactory:
    """Realistic ReportDrafts for Đà Nẵng: pins in wards, typed addresses, contacts, ids."""

    def __init__(self, rng: random.Random, shapes: list, jpegs: list[bytes]):
        self.rng = rng
        self.wards = [s for s in shapes if not s.geometry.is_empty]
        self.ward_names = {s.code: s.full_name for s in self.wards}
        self.jpegs = jpegs
        with (ROOT / "config" / "provinces" / PROVINCE / "streets.csv").open(encoding="utf-8") as f:
            self.streets = [(r["name"], r["ward_code"]) for r in csv.DictReader(f)]
        self.phones = [f"09{rng.randrange(10**8):08d}" for _ in range(400)]
        self.chat_ids = [str(rng.randrange(10**8, 10**10)) for _ in range(300)]
        self.stats: dict[str, int] = {}

    def _count(self, key: str) -> None:
        self.stats[key] = self.stats.get(key, 0) + 1

    def description(self, street: str, ward: str) -> str:
        """One resident's description."""
        text = self.rng.choice(DESCRIPTIONS).format(
            street=street, num=self.rng.randrange(1, 400), ward=ward
        )
        return text + self.rng.choice(CLOSINGS)

    def draft(self, photos: int):
        """One draft: 80 % pin inside a ward, 20 % typed address; channels web/Telegram/Zalo."""
        from webapp.services.intake.reports import (
            ChannelIdentity,
            Contact,
            PhotoUpload,
            ReportDraft,
        )

        rng = self.rng
        street, street_ward = rng.choice(self.streets)
        ward = rng.choice(self.wards)
        fields: dict[str, Any] = {}
        if rng.random() < 0.8:
            fields["lat"], fields["lon"] = random_point(rng, ward.geometry)
            fields["location_source"] = "device" if rng.random() < 0.15 else "pin"
            self._count("pin")
        else:
            ward_name = self.ward_names.get(street_ward, ward.full_name)
            fields["address"] = f"{rng.randrange(1, 400)} {street}, {ward_name}, Đà Nẵng"
            self._count("address")
        roll = rng.random()
        if roll < 0.7:
            channel = "web"
            if rng.random() < 0.4:
                fields["contact"] = Contact(
                    name=rng.choice(NAMES) if rng.random() < 0.5 else None,
                    phone=rng.choice(self.phones),
                )
                self._count("contact")
        else:
            channel = "telegram" if roll < 0.85 else "zalo"
            fields["identity"] = ChannelIdentity(
                channel, rng.choice(self.chat_ids), rng.choice(NAMES)
            )
            self._count("identity")
        self._count(f"channel_{channel}")
        uploads = [
            PhotoUpload(rng.choice(self.jpegs), f"IMG_{rng.randrange(10000):04d}.jpg")
            for _ in range(photos)
        ]
        return ReportDraft(
            channel=channel,
            description=self.description(street, ward.name),
            photos=uploads,
            category_hint=rng.choice(CATEGORY_HINTS),
            **fields,
        )


# --------------------------------------------------------------------------- loops


@dataclass
class Timings:
    """Latencies (s) and wall-clock time (s) accumulated over the blocks of one loop."""

    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0
    cpu: float = 0.0  # this process's CPU time: the rest of wall is waiting (DB, Redis, disk)
    queued: int = 0

    def over(self, seconds: float | None) -> bool:
        """Whether the loop has used up its time cap."""
        return seconds is not None and self.wall >= seconds


def run_intake(app, drafts: list, into: Timings, seconds: float | None = None) -> int:
    """Submit drafts one by one, each in its own app context like a request; returns how many."""
    from webapp.extensions import db
    from webapp.services.intake.reports import submit_report

    done = 0
    start, cpu = time.perf_counter(), time.process_time()
    for draft in drafts:
        with app.app_context():
            t0 = time.perf_counter()
            result = submit_report(draft)
            into.latencies.append(time.perf_counter() - t0)
            db.session.remove()
        into.queued += result.queued
        done += 1
        if seconds is not None and into.wall + time.perf_counter() - start >= seconds:
            break
    into.wall += time.perf_counter() - start
    into.cpu += time.process_time() - cpu
    return done


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
    from webapp.services.text import fold

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


def run_interleaved(
    app, drafts: list, blocks: int, seconds: float | None
) -> tuple[Timings, Timings]:
    """Intake and raw INSERT+COMMIT in alternating blocks of the same rows.

    Alternating makes both loops see the same background load (other processes, checkpoints),
    so their ratio stays meaningful on a busy machine. Raw always does as many rows as intake.
    """
    intake, raw = Timings(), Timings()
    size = max(1, -(-len(drafts) // blocks))
    for at in range(0, len(drafts), size):
        done = run_intake(app, drafts[at : at + size], intake, seconds)
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


def profile_intake(app, drafts: list, path: Path) -> None:
    """Run drafts through intake under cProfile (after the timed loops); print the top."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.runcall(run_intake, app, drafts, Timings())
    profiler.dump_stats(path)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(35)
    stats.sort_stats("tottime").print_stats(20)
    print(out.getvalue(), file=sys.stderr)
    log(f"cProfile of {len(drafts)} reports written to {path} (snakeviz/pstats can read it)")


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


# --------------------------------------------------------------------------- redis


def redis_queue_length(queue_name: str) -> int | None:
    """Messages waiting in the bench queue (nothing consumes it), or None without Redis."""
    try:
        import redis

        return int(redis.Redis.from_url(REDIS_URL).llen(queue_name))
    except Exception:
        return None


def drop_redis_queue(queue_name: str) -> None:
    """Delete the bench queue and its kombu bindings from Redis."""
    try:
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        client.delete(
            queue_name,
            f"_kombu.binding.{queue_name}",
            f"_kombu.binding_permanent.{queue_name}",
        )
        for key in client.scan_iter(f"{queue_name}\x06\x16*"):  # priority sub-queues
            client.delete(key)
    except Exception as exc:
        log(f"could not clean Redis queue {queue_name}: {exc}")


# --------------------------------------------------------------------------- output


def photo_label(count: int) -> str:
    """'0 photos', '1 photo', '3 photos'."""
    return f"{count} photo" if count == 1 else f"{count} photos"


def git_commit() -> str | None:
    """HEAD of the working tree (read-only), or None."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
        return out.stdout.strip() or None
    except OSError:
        return None


def fmt_rate(value: float) -> str:
    """1234.5 → '1,234'."""
    return f"{value:,.0f}"


def print_table(phases: list[Phase]) -> None:
    """The timings of every phase as a fixed-width table on stdout."""
    header = (
        f"{'phase':<32}{'count':>6}{'rate/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'CPU ms':>9}"
    )
    print(header)
    print("-" * len(header))
    for p in phases:
        print(
            f"{p.name:<32}{p.count:>6}{fmt_rate(p.rate):>9}"
            f"{p.p50_ms:>9.2f}{p.p95_ms:>9.2f}{p.p99_ms:>9.2f}{p.cpu_ms:>9.2f}"
        )


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

    rng = random.Random(args.seed)
    queue_name = f"phananh-bench-{uuid.uuid4().hex[:8]}"
    with (
        tempfile.TemporaryDirectory(prefix="phananh-bench-") as tmp,
        throwaway_database() as database_url,
    ):
        try:
            t0 = time.perf_counter()
            app, shapes, boundaries = build_app(database_url, f"{tmp}/uploads", queue_name)
            quiet_logging(Path(tmp) / "app.log")
            setup_s = time.perf_counter() - t0
            log(f"migrated and seeded in {setup_s:.1f} s ({len(shapes)} wards, {boundaries})")
            celery = app.extensions["celery"]
            enqueue_on = app.config.get("TASKS_ENABLED", True) and not celery.conf.task_always_eager
            with app.app_context():
                settings = server_settings(db.engine)
                db.session.execute(db.text(RAW_DDL))
                db.session.commit()

            factory = DraftFactory(rng, shapes, make_jpegs(rng))
            warm = [factory.draft(args.photos) for _ in range(WARMUP)]
            main = [factory.draft(args.photos) for _ in range(args.reports)]
            main_stats = dict(factory.stats)
            with_photo = [factory.draft(1) for _ in range(args.photo_reports)]

            log(f"warm-up: {WARMUP} reports and {WARMUP} raw rows (not counted)")
            run_intake(app, warm, Timings())
            run_raw(app, raw_rows(warm), Timings())

            label = photo_label(args.photos)
            log(f"intake ({label}) and raw INSERT+COMMIT: {len(main)} each, {args.blocks} blocks")
            intake_t, raw_t = run_interleaved(app, main, args.blocks, args.seconds)
            intake = summarise(f"intake ({label})", intake_t, queued=intake_t.queued)
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
            if args.profile:
                extra = [factory.draft(args.photos) for _ in range(min(args.reports, 500))]
                profile_intake(app, extra, args.profile)
            waiting = redis_queue_length(queue_name)
            checks = db_checks(app)
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        finally:
            drop_redis_queue(queue_name)

    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
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
            "broker": REDIS_URL,
            "queue": queue_name,
            "messages_in_queue_before_cleanup": waiting,
        },
        "setup_seconds": round(setup_s, 1),
        "boundaries": boundaries,
        "wards": len(shapes),
        "draft_mix": main_stats,
        "stored": checks,
        "postgres": settings,
        "host": {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
        },
        "_phases": phases,
    }


def measure_until_interrupted(measure: Callable[[Any], dict], args: Any) -> dict | None:
    """Run `measure(args)`; on SIGTERM/SIGINT return None (its finally blocks drop the database).

    Also when started in the background, where SIGINT arrives ignored: the database must go.
    """

    def _terminate(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return measure(args)
    except KeyboardInterrupt:
        log("interrupted; the database was dropped")
        return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the table and the headline, write the JSON."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # tests.support.geo_data lives in the repository
    args = parse_args(argv)

    results = measure_until_interrupted(measure, args)
    if results is None:
        return 130
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
    print()
    print(summary_line(intake, raw))
    photo = next((p for p in phases if p.name == "intake (1 photo)"), None)
    if photo:
        print(
            f"intake with 1 photo: {fmt_rate(photo.rate)} reports/s (p50 {photo.p50_ms:.1f} ms, "
            f"p95 {photo.p95_ms:.1f} ms) | raw beside it: "
            f"{fmt_rate(results['summary']['raw_rows_per_s_beside_1photo'])} rows/s | "
            f"ratio: {results['summary']['ratio_1photo']:.2f}"
        )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", "utf-8")
    shown = args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output
    print(f"\nwritten {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

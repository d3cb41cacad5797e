"""What every benchmark shares: a throwaway PostgreSQL database, the app (or the real server)
on it, cleanup on error and signals, the results file, and printing a figure next to its
baseline. The benchmarks keep only what they measure and how they print it. See README.md.
"""

from __future__ import annotations

import io
import json
import logging
import os
import platform
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "bench" / "results"  # git-ignored
BIN = ROOT / ".venv" / "bin"
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
PROVINCE = "48"
SHARED_WARDS = ROOT.parent / "shared" / "geo" / "wards.geojson.gz"
MB = 1024 * 1024


def log(message: str) -> None:
    """Progress on stderr (stdout keeps the results)."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100) of sorted values, nearest-rank (a time the run measured)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, round(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def git_commit() -> str | None:
    """HEAD of the working tree (read-only), or None."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
        return out.stdout.strip() or None
    except OSError:
        return None


def run_info(args: Any) -> dict[str, Any]:
    """The head of every results file: when, which commit, with which options."""
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
    }


def host(**extra: Any) -> dict[str, Any]:
    """The machine the figures were measured on."""
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        **extra,
    }


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


def boundaries(province: str = PROVINCE) -> tuple[list, str]:
    """The wards as `flask geo ensure` finds them: ../shared/geo, else approximate cells."""
    from webapp.services.geography import demo_cells, geojson_reader

    if SHARED_WARDS.exists():
        shapes = geojson_reader.read_units_geojson(SHARED_WARDS, province_code=province)
        return shapes, f"real polygons ({SHARED_WARDS.name})"
    return demo_cells.approximate_units(province), "approximate cells (vietnamadminunits)"


def build_app(database_url: str, upload_dir: str, queue: str, *, demo_users: bool = False):
    """The app on the throwaway database: migrated, boundaries, categories, agencies, routing.

    Returns (app, shapes, a label of the boundaries); Celery sends to the `queue` on Redis.
    """
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.services.administration import seed
    from webapp.services.geography import places

    app = create_app(
        "testing",
        overrides={
            "SQLALCHEMY_DATABASE_URI": database_url,
            "UPLOAD_DIR": upload_dir,
            "CELERY_BROKER_URL": REDIS_URL,
            "CELERY_QUEUE": queue,
            "SERVER_NAME": None,
        },
    )
    shapes, label = boundaries()
    with app.app_context():
        upgrade()
        places.import_units(shapes)
        seed.load_categories()
        seed.load_agencies(PROVINCE)
        if demo_users:
            seed.load_demo_users()
    return app, shapes, label


def queue_name() -> str:
    """A Redis queue of this run only (nothing consumes it; dropped at the end)."""
    return f"phananh-bench-{uuid.uuid4().hex[:8]}"


def quiet_logging(path: Path) -> None:
    """Send the app's INFO log (one line per report) to a file instead of the terminal."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root.addHandler(handler)


# --------------------------------------------------------------------------- redis


def warm_broker(app) -> None:
    """Open the broker connection with one message, as a running process has it open."""
    with app.app_context():
        try:
            app.extensions["celery"].send_task("bench.warmup", retry=False)
        except Exception as exc:
            log(f"warning: could not send to Redis ({exc}); the timed code will not either")


def redis_queue_length(name: str) -> int | None:
    """Messages waiting in the bench queue (nothing consumes it), or None without Redis."""
    try:
        import redis

        return int(redis.Redis.from_url(REDIS_URL).llen(name))
    except Exception:
        return None


def drop_redis_queue(name: str) -> None:
    """Delete the bench queue and its kombu bindings from Redis."""
    try:
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        client.delete(name, f"_kombu.binding.{name}", f"_kombu.binding_permanent.{name}")
        for key in client.scan_iter(f"{name}\x06\x16*"):  # priority sub-queues
            client.delete(key)
    except Exception as exc:
        log(f"could not clean Redis queue {name}: {exc}")


# --------------------------------------------------------------------------- the real server


def flask(env: dict[str, str], *args: str) -> None:
    """A flask CLI command, as `make db` / `make demo` run it."""
    subprocess.run([str(BIN / "flask"), *args], cwd=ROOT, env=env, check=True, capture_output=True)


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """The waitress process and what it costs (psutil: user + system of every thread)."""

    proc: subprocess.Popen
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        """Where it listens."""
        return f"http://127.0.0.1:{self.port}"

    def cpu(self) -> float:
        """Seconds of CPU (user + system, every thread) the process has used so far."""
        import psutil

        times = psutil.Process(self.proc.pid).cpu_times()
        return times.user + times.system

    def rss_mb(self) -> float:
        """Its resident memory now, in MB."""
        import psutil

        return psutil.Process(self.proc.pid).memory_info().rss / MB

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 15 s."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_server(env: dict[str, str], tmp: Path, threads: int, ready_path: str) -> Server:
    """`waitress-serve --call webapp:create_app` as production runs it; waits for `ready_path`."""
    import httpx

    port = free_port()
    log_path = tmp / "server.log"
    command = [str(BIN / "waitress-serve"), f"--threads={threads}", "--host=127.0.0.1"]
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(
            [*command, f"--port={port}", "--call", "webapp:create_app"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(proc, port, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited: see {log_path}\n{log_path.read_text()[-2000:]}")
        try:
            httpx.get(f"{server.url}{ready_path}", timeout=2)
            return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"the server did not answer within 60 s: see {log_path}")


# --------------------------------------------------------------------------- plans


@dataclass
class Plan:
    """EXPLAIN (ANALYZE, BUFFERS) of one statement, one line per node."""

    lines: list[str]
    indexes: list[str]
    seq_scans: list[str]
    execution_ms: float | None


def explain(conn, statement: str, parameters: Any) -> Plan:
    """The plan of `statement` as run now; the caller rolls back what it locked or changed."""
    result = conn.exec_driver_sql(
        f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {statement}", parameters
    ).scalar()
    plan = result[0] if isinstance(result, list) else json.loads(result)[0]
    lines: list[str] = []
    indexes: set[str] = set()
    seq_scans: list[str] = []

    def walk(node: dict, depth: int) -> None:
        label = node["Node Type"]
        if node.get("Index Name"):
            label += f" using {node['Index Name']}"
            indexes.add(node["Index Name"])
        if node["Node Type"] == "Seq Scan":
            seq_scans.append(node.get("Relation Name", "?"))
            label += f" on {node.get('Relation Name')}"
        if node.get("Heap Fetches") is not None:
            label += f" (heap fetches {node['Heap Fetches']})"
        removed = node.get("Rows Removed by Filter")
        extra = f" removed by filter={removed}" if removed else ""
        lines.append(
            f"{'  ' * depth}{label}: rows={node.get('Actual Rows')} "
            f"time={node.get('Actual Total Time')} ms{extra}"
        )
        for child in node.get("Plans", []):
            walk(child, depth + 1)

    walk(plan["Plan"], 0)
    lines.append(f"execution {plan.get('Execution Time')} ms")
    return Plan(lines, sorted(indexes), seq_scans, plan.get("Execution Time"))


# --------------------------------------------------------------------------- profiles


def profile(
    call: Callable,
    *args: Any,
    path: Path | None = None,
    show: str = "",
    wanted: Iterable[str] = (),
    timer: Callable[[], float] | None = None,
) -> tuple[Any, dict[str, Any]]:
    """cProfile `call(*args)`, print where the time went on stderr, save it to `path`.

    `show`: a regex of the files listed by cumulative time; `wanted`: "file suffix:function"
    entries whose cumulative time the returned breakdown gives; `timer`: the clock (wall by
    default; `time.process_time` leaves the waits out). Returns (result, figures).
    """
    import cProfile
    import pstats

    profiler = cProfile.Profile(timer) if timer else cProfile.Profile()
    t0 = time.perf_counter()
    result = profiler.runcall(call, *args)
    wall = time.perf_counter() - t0
    if path:
        profiler.dump_stats(path)
        log(f"cProfile written to {path} (snakeviz/pstats can read it)")
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(*([show] if show else []), 30)
    stats.sort_stats("tottime").print_stats(15)
    print(out.getvalue(), file=sys.stderr)
    total = stats.total_tt  # type: ignore[attr-defined]
    wanted = [w.split(":") for w in wanted]
    breakdown = [
        {
            "where": f"{filename.split('site-packages/')[-1].replace(f'{ROOT}/', '')}:{line}",
            "function": func,
            "calls": calls,
            "cumulative_s": round(cum, 3),
            "share": round(cum / total, 3) if total else None,
        }
        for (filename, line, func), (_cc, calls, _tt, cum, _callers) in stats.stats.items()  # type: ignore[attr-defined]
        if any(func == name and filename.endswith(suffix) for suffix, name in wanted)
    ]
    breakdown.sort(key=lambda b: -b["cumulative_s"])
    figures = {"wall_s_under_profiler": round(wall, 3), "profiled_total_s": round(total, 3)}
    return result, {**figures, "file": str(path) if path else None, "breakdown": breakdown}


# --------------------------------------------------------------------------- printing


@dataclass(frozen=True)
class Col:
    """A column of a fixed-width table: title, width, format of its values, alignment."""

    title: str
    width: int = 0
    fmt: str = ""
    left: bool = False
    gap: str = ""  # printed before the column (e.g. two spaces before free text)

    def cell(self, value: Any) -> str:
        """The value formatted and aligned in the column."""
        align = "<" if self.left else ">"
        return f"{self.gap}{value:{align}{self.width}{self.fmt}}"


def table(columns: Sequence[Col], rows: Iterable[Sequence[Any]]) -> None:
    """The header, a rule as long as it, and one line per row, on stdout."""
    header = "".join(f"{c.gap}{c.title:{'<' if c.left else '>'}{c.width}}" for c in columns)
    print(header)
    print("-" * len(header))
    for row in rows:
        print("".join(c.cell(v) for c, v in zip(columns, row, strict=True)))


def times(figure: float, baseline: float) -> float:
    """How many times the baseline the figure is (inf over a zero baseline)."""
    return figure / baseline if baseline > 0 else float("inf")


def verdict(ok: bool) -> str:
    """PASS or FAIL."""
    return "PASS" if ok else "FAIL"


def met(ok: bool) -> str:
    """'met' or 'MISSED' (a goal)."""
    return "met" if ok else "MISSED"


def fmt_rate(value: float) -> str:
    """1234.5 → '1,234'."""
    return f"{value:,.0f}"


# --------------------------------------------------------------------------- running


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


def write_results(results: dict[str, Any], path: Path) -> None:
    """The figures as JSON (bench/results/ by default), and where they went."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str) + "\n", "utf-8")
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    print(f"\nwritten {shown}")


def main(
    measure: Callable[[Any], dict], report: Callable[[dict], bool], args: Any, output: Path
) -> int:
    """Measure, print (`report` says whether the goals are met), write the JSON; exit status."""
    results = measure_until_interrupted(measure, args)
    if results is None:
        return 130
    ok = report(results)
    write_results({k: v for k, v in results.items() if not k.startswith("_")}, output)
    return 0 if ok else 1


def entry(
    parse_args: Callable[[Sequence[str] | None], Any],
    measure: Callable[[Any], dict],
    report: Callable[[dict], bool],
) -> Callable[[Sequence[str] | None], int]:
    """A benchmark's `main(argv)`: parse its arguments (with `output`), then `main` above."""

    def run(argv: Sequence[str] | None = None) -> int:
        args = parse_args(argv)
        return main(measure, report, args, args.output)

    return run

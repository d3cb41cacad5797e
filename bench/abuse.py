"""Abuse: what one hostile request costs the real server, next to an ordinary one.

Starts the server as production runs it (`waitress-serve --threads 4 --call ...`, the app of
`webapp:create_app`) on a throwaway PostgreSQL database (bench_<random>, migrated,
boundaries and demo data loaded with the flask CLI like `make demo`), with every PHOTO_*
setting at its default, then measures the **server process's** CPU time (psutil: user +
system of every thread) around each request, sent one at a time:

- the public map (`/cong-khai/ban-do.json`): a street view of Đà Nẵng next to a 60° box at
  zoom 12 and the whole world at zoom 20;
- a report with photos (`POST /api/v1/reports`): two ordinary 12 MP phone photos next to the
  attack of finding 4b (five 39.6 MP compressible PNGs in 640 KB) and the most expensive
  submissions the photo limits still accept;
- the server's RSS after a warm-up, then after a burst of hostile photo requests sent a few at
  a time.

Goals: each worst case ≤ 5× its ordinary request and < 1 s of server CPU; RSS back within
100 MB of the start after the burst. Prints the table with PASS/FAIL per goal, writes
bench/results/abuse.json and drops the database. See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import harness
from harness import MB, Col, Server, log, verdict
from submissions import (
    Upload,
    compressible_png,
    decode_cost,
    dense_jpeg,
    largest_png,
    megapixels,
    phone_photo,
    scan_bomb,
)

RESULTS = harness.RESULTS_DIR / "abuse.json"
GOAL_RATIO = 5.0
GOAL_CPU_S = 1.0
GOAL_RSS_MB = 100.0

DESCRIPTION = "Đèn đường hỏng trước số 12 Lê Lợi, phường Hải Châu"
PIN = {"lat": "16.0678", "lon": "108.2208"}
# Leaflet's toBBoxString(): west,south,east,north. A 1066×752 map at zoom 13 around Hải Châu.
MAP_ORDINARY = (
    "map: Đà Nẵng street view, zoom 13",
    "zoom=13&bbox=108.1285,15.9973,108.3115,16.1263",
)
MAP_WORST = (
    ("map: 60° box at zoom 12", "zoom=12&bbox=78.0,-14.0,138.0,46.0"),
    ("map: whole world at zoom 20", "zoom=20&bbox=-180,-85,180,85"),
)


# --------------------------------------------------------------------------- images


@dataclass
class PhotoCase:
    """One multipart submission: a label and its photos; `accept`: must be answered 201."""

    label: str
    uploads: list[Upload]
    accept: bool = False

    @property
    def size(self) -> int:
        return sum(len(data) for _, data, _ in self.uploads)


def _png(name: str, data: bytes) -> Upload:
    return (name, data, "image/png")


def _jpg(name: str, data: bytes) -> Upload:
    return (name, data, "image/jpeg")


def photo_cases(rng: random.Random) -> tuple[PhotoCase, list[PhotoCase]]:
    """The ordinary submission and the hostile ones, sized against the default limits."""
    from webapp.services.intake.photos import PhotoLimits

    limits = PhotoLimits()
    budget = limits.max_request_pixels
    log("building photos (a minute or two: the dense JPEGs are fitted to the limits)")
    phone = [phone_photo(rng) for _ in range(5)]
    ordinary = PhotoCase(
        f"photos: 2 × 12 MP phone JPEG ({len(phone[0]) / MB:.1f} MB)",
        [_jpg(f"IMG_2024051{i}.jpg", phone[i]) for i in range(2)],
        accept=True,
    )
    attack = compressible_png((7680, 5160))
    fifth = largest_png(budget // 5, limits)
    big = largest_png(budget, limits)  # the largest a single PNG may be
    rest = largest_png(budget - decode_cost(big, limits), limits)
    # As many 64 MP JPEGs of 10 MB (entropy-coded data is what costs in a JPEG) as the
    # budget takes, then a 12 MP one as dense as the remainder allows.
    dense = dense_jpeg((9248, 6936), limits.max_bytes)
    count = min(limits.max_count, budget // decode_cost(dense, limits))
    dense_uploads = [_jpg(f"d{i}.jpg", dense) for i in range(count)]
    remainder = budget - count * decode_cost(dense, limits)
    if count < limits.max_count:
        low, high, filler = 0, limits.max_bytes, b""
        while high - low > 64 * 1024:  # the most bytes a 12 MP filler can have
            middle = (low + high) // 2
            data = dense_jpeg((4032, 3024), middle)
            if data and decode_cost(data, limits) <= remainder:
                filler, low = data, middle
            else:
                high = middle
        if filler:
            dense_uploads.append(_jpg("filler.jpg", filler))
    dense_bytes = sum(len(u[1]) for u in dense_uploads) / MB
    hostile = [
        PhotoCase(
            f"photos: 5 × 12 MP phone JPEG ({sum(map(len, phone)) / MB:.0f} MB, must pass)",
            [_jpg(f"IMG_{i}.jpg", data) for i, data in enumerate(phone)],
            accept=True,
        ),
        PhotoCase("photos: attack, 5 × 39.6 MP PNG", [_png(f"a{i}.png", attack) for i in range(5)]),
        PhotoCase(
            "photos: scan bomb, 5 × 2 MP progressive JPEG, 500 scans",
            [_jpg(f"s{i}.jpg", scan_bomb((1632, 1224), 500)) for i in range(5)],
        ),
        PhotoCase(
            "photos: 5 × 10 MB random bytes (not images)",
            [_jpg(f"r{i}.jpg", rng.randbytes(limits.max_bytes)) for i in range(5)],
        ),
        PhotoCase(
            f"photos: at budget, 5 × {megapixels(fifth)} RGBA PNG",
            [_png(f"b{i}.png", fifth) for i in range(5)],
        ),
        PhotoCase(
            f"photos: at budget, {megapixels(big)} + {megapixels(rest)} RGBA PNG",
            [_png("big.png", big), _png("rest.png", rest)],
        ),
        PhotoCase(
            f"photos: at budget, {len(dense_uploads)} dense JPEG ({dense_bytes:.0f} MB)",
            dense_uploads,
        ),
    ]
    return ordinary, hostile


# --------------------------------------------------------------------------- requests


@dataclass
class Row:
    """One request sent `runs` times: the server's CPU per request and the answers."""

    label: str
    kind: str  # "map" or "photos"
    ordinary: bool = False
    accept: bool = False  # a legitimate submission: the goal is to be accepted
    cpu_s: list[float] = field(default_factory=list)
    wall_s: list[float] = field(default_factory=list)
    statuses: list[int | str] = field(default_factory=list)
    answer: str = ""
    upload_bytes: int = 0

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpu_s) if self.cpu_s else float("nan")

    def as_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "kind": self.kind,
            "ordinary": self.ordinary,
            "accept": self.accept,
            "cpu_s": self.cpu_s,
            "cpu_median_s": self.cpu,
            "wall_s": self.wall_s,
            "statuses": self.statuses,
            "answer": self.answer,
            "upload_bytes": self.upload_bytes,
        }


def send(client: Any, server: Server, kind: str, payload: Any) -> tuple[int | str, str]:
    """One request; (status, a short answer: the size, or the error message)."""
    import httpx

    try:
        if kind == "map":
            response = client.get(f"{server.url}/cong-khai/ban-do.json?{payload}")
        else:
            response = client.post(
                f"{server.url}/api/v1/reports",
                data={"description": DESCRIPTION, **PIN},
                files=[("photos", upload) for upload in payload.uploads],
            )
    except httpx.TimeoutException:
        return "timeout", ""
    if response.status_code < 300:
        return response.status_code, f"{len(response.content) / 1024:.0f} KB"
    try:
        return response.status_code, str(response.json().get("message"))[:160]
    except ValueError:
        return response.status_code, response.text[:160]


def measure_row(
    client: Any, server: Server, row: Row, payload: Any, runs: int, batch: int = 1
) -> Row:
    """`runs` times: `batch` requests one after the other, the server's CPU around them.

    psutil reads the kernel's per-process times in clock ticks (10 ms), so requests cheaper
    than that are measured in batches and divided.
    """
    for _ in range(runs):
        time.sleep(0.05)  # let the previous response's tail (logging, socket close) finish
        before, start = server.cpu(), time.perf_counter()
        for _ in range(batch):
            status, answer = send(client, server, row.kind, payload)
            row.statuses.append(status)
            row.answer = answer
            if status == "timeout":
                break
        row.wall_s.append((time.perf_counter() - start) / batch)
        row.cpu_s.append((server.cpu() - before) / batch)
        if status == "timeout":
            break  # one is enough to fail the goal; do not queue more behind it
    return row


def burst(server: Server, cases: list[PhotoCase], count: int, concurrency: int) -> Counter:
    """`count` hostile submissions, the cases in turn, `concurrency` at a time."""
    import httpx

    def one(i: int) -> int | str:
        with httpx.Client(timeout=120) as client:
            return send(client, server, "photos", cases[i % len(cases)])[0]

    with ThreadPoolExecutor(concurrency) as pool:
        return Counter(pool.map(one, range(count)))


def settle_rss(server: Server, seconds: float = 2.0) -> float:
    """RSS once the server has been idle a moment (its threads finish their responses)."""
    time.sleep(seconds)
    return server.rss_mb()


# --------------------------------------------------------------------------- the run


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each request (median)")
    parser.add_argument("--map-batch", type=int, default=20, help="map requests per run")
    parser.add_argument("--burst", type=int, default=50, help="hostile photo requests")
    parser.add_argument("--concurrency", type=int, default=4, help="of the burst")
    parser.add_argument("--threads", type=int, default=4, help="waitress threads")
    parser.add_argument("--timeout", type=float, default=120.0, help="per request, seconds")
    parser.add_argument("--seed", type=int, default=48)
    parser.add_argument("--output", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def server_env(database_url: str, tmp: Path) -> dict[str, str]:
    """The server's environment: defaults for every PHOTO_* setting, nothing shared."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PHOTO_", "FLASK_"))}
    env.update(
        APP_ENV="development",
        FLASK_APP="webapp:create_app",
        DATABASE_URL=database_url,
        INSTANCE_PATH=str(tmp / "instance"),
        UPLOAD_DIR=str(tmp / "uploads"),
        CELERY_BROKER_URL="memory://",
        RATELIMIT_ENABLED="false",  # what is measured is the work behind the limits
        HEATMAP_CACHE_SECONDS="0",
        SECRET_KEY=secrets.token_urlsafe(48),
    )
    return env


def photo_limits_json() -> dict[str, Any]:
    """The photo limits the server ran with (the defaults: PHOTO_* are not passed on)."""
    from dataclasses import asdict

    from webapp.services.intake.photos import PhotoLimits

    return asdict(PhotoLimits())


def measure(args: argparse.Namespace) -> dict[str, Any]:
    import httpx

    rng = random.Random(args.seed)
    ordinary, hostile = photo_cases(rng)
    tmp = Path(tempfile.mkdtemp(prefix="bench-abuse-"))
    server: Server | None = None
    rows: list[Row] = []
    try:
        with harness.throwaway_database() as database_url:
            env = server_env(database_url, tmp)
            log("flask db upgrade, geo ensure, demo seed")
            harness.flask(env, "db", "upgrade")
            harness.flask(env, "geo", "ensure")
            harness.flask(env, "demo", "seed")
            server = harness.start_server(env, tmp, args.threads, "/api/v1/openapi.json")
            log(f"server pid {server.proc.pid} on port {server.port}")
            with httpx.Client(timeout=args.timeout) as client:
                # Warm-up: imports, connection pool, spatial index, the first decode.
                for payload, kind in ((MAP_ORDINARY[1], "map"), (ordinary, "photos")):
                    status, answer = send(client, server, kind, payload)
                    if status not in (200, 201):
                        raise RuntimeError(f"warm-up {kind} answered {status}: {answer}")
                rss_start = settle_rss(server)
                log(f"RSS after warm-up: {rss_start:.1f} MB")

                log("map requests")
                label, query = MAP_ORDINARY
                rows.append(
                    measure_row(
                        client,
                        server,
                        Row(label, "map", ordinary=True),
                        query,
                        args.runs,
                        args.map_batch,
                    )
                )
                for label, query in MAP_WORST:
                    rows.append(
                        measure_row(
                            client, server, Row(label, "map"), query, args.runs, args.map_batch
                        )
                    )
                log("photo requests")
                for case in (ordinary, *hostile):
                    row = Row(
                        case.label,
                        "photos",
                        ordinary=case is ordinary,
                        accept=case.accept,
                        upload_bytes=case.size,
                    )
                    runs = args.runs if case is ordinary else max(3, args.runs // 2)
                    rows.append(measure_row(client, server, row, case, runs))
            rss_before_burst = server.rss_mb()
            attacks = [case for case in hostile if not case.accept]
            log(f"burst: {args.burst} hostile photo requests, {args.concurrency} at a time")
            started, cpu_before = time.perf_counter(), server.cpu()
            statuses = burst(server, attacks, args.burst, args.concurrency)
            burst_wall = time.perf_counter() - started
            burst_cpu = server.cpu() - cpu_before
            rss_right_after = server.rss_mb()
            rss_after = settle_rss(server)
            server.stop()
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        **harness.run_info(args),
        "machine": harness.host(load_average=os.getloadavg()),
        "limits": photo_limits_json(),
        "rows": [row.as_json() for row in rows],
        "rss_mb": {
            "start": rss_start,
            "before_burst": rss_before_burst,
            "right_after_burst": rss_right_after,
            "after": rss_after,
        },
        "burst": {
            "requests": args.burst,
            "concurrency": args.concurrency,
            "cases": [case.label for case in attacks],
            "statuses": {str(k): v for k, v in statuses.items()},
            "wall_s": burst_wall,
            "server_cpu_s": burst_cpu,
        },
        "_rows": rows,
    }


# --------------------------------------------------------------------------- output


def print_table(rows: list[Row]) -> dict[str, bool]:
    """The table of rows; returns the verdict of every row with a goal."""
    columns = [
        Col("request", 58, left=True), Col("answer", 7, gap=" "), Col("upload", 8, gap=" "),
        Col("CPU ms", 7, ".0f", gap=" "), Col("wall ms", 8, ".0f", gap=" "),
        Col("× ord.", 7, ".2f", gap=" "),
        Col(f"goal ≤ {GOAL_RATIO:g}× and < {GOAL_CPU_S:g} s", left=True, gap="  "),
    ]  # fmt: skip
    lines, verdicts = [], {}
    baseline = {row.kind: row for row in rows if row.ordinary}
    for row in rows:
        base = baseline[row.kind]
        ratio = harness.times(row.cpu, base.cpu)
        status = "/".join(str(s) for s in sorted(set(row.statuses), key=str))
        upload = f"{row.upload_bytes / MB:.1f} MB" if row.upload_bytes else ""
        wall = statistics.median(row.wall_s) * 1000
        if row.ordinary:
            goal = "(baseline)"
        elif row.accept:
            ok = set(row.statuses) == {201}
            verdicts[row.label] = ok
            goal = verdict(ok) + " (accepted)" if ok else "FAIL (refused)"
        else:
            timed_out = "timeout" in row.statuses
            ok = not timed_out and ratio <= GOAL_RATIO and row.cpu < GOAL_CPU_S
            verdicts[row.label] = ok
            goal = verdict(ok) + (" (timed out)" if timed_out else "")
        lines.append((row.label, status, upload, row.cpu * 1000, wall, ratio, goal))
    harness.table(columns, lines)
    return verdicts


def report(results: dict[str, Any]) -> bool:
    """The limits, the table, the burst and the goals on stdout; True when all are met."""
    args = argparse.Namespace(**results["args"])
    rows: list[Row] = results.pop("_rows")
    print()
    limits = results["limits"]
    print(
        f"photo limits: {limits['max_pixels'] / 1e6:g} MP a file (PNG/WebP/progressive "
        f"{limits['max_full_decode_pixels'] / 1e6:g} MP); {limits['max_request_pixels'] / 1e6:g}"
        " M a submission (pixels decoded, 1¼ for PNG/WebP, + bytes); "
        f"{limits['decode_concurrency']} decode slots (wait {limits['decode_wait_seconds']:g} s)"
    )
    print(
        f"CPU: the server process's user+system time per request, median of {args.runs} runs "
        f"(map: {args.map_batch} requests a run; hostile photos: {max(3, args.runs // 2)} runs)"
    )
    print()
    verdicts = print_table(rows)
    for row in rows:
        if any(isinstance(s, int) and s >= 400 for s in row.statuses):
            print(f"  {row.label}: {row.answer}")
    rss = results["rss_mb"]
    burst_info = results["burst"]
    delta = rss["after"] - rss["start"]
    rss_ok = delta <= GOAL_RSS_MB
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(burst_info["statuses"].items()))
    print()
    print(
        f"burst: {burst_info['requests']} hostile photo requests (the refused and at-budget "
        f"cases above in turn), {burst_info['concurrency']} at a time: {statuses}; "
        f"{burst_info['wall_s']:.1f} s, server CPU {burst_info['server_cpu_s']:.1f} s"
    )
    print(
        f"RSS: start {rss['start']:.0f} MB (after warm-up) | before the burst "
        f"{rss['before_burst']:.0f} MB | right after it {rss['right_after_burst']:.0f} MB | "
        f"2 s later {rss['after']:.0f} MB | delta {delta:+.0f} MB | "
        f"goal within {GOAL_RSS_MB:g} MB: {verdict(rss_ok)}"
    )
    load = results["machine"]["load_average"]
    print(f"(load average {load[0]:.2f} on {results['machine']['cpus']} CPUs at the end)")
    print()
    for kind in ("map", "photos"):
        failed = [k for k, v in verdicts.items() if k.startswith(kind) and not v]
        print(f"{kind}: {verdict(not failed)}" + (f" ({'; '.join(failed)})" if failed else ""))
    print(f"memory: {verdict(rss_ok)}")
    results["goals"] = {"rows": verdicts, "rss": rss_ok}
    return all(verdicts.values()) and rss_ok


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the table and the goals, write the JSON."""
    args = parse_args(argv)
    return harness.main(measure, report, args, args.output)


if __name__ == "__main__":
    sys.exit(main())

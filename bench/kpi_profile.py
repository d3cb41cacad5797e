"""Where the KPI page's time goes: cProfile of `GET /ioc/chi-so` (last full month) over a
throwaway database of N synthetic reports, read from the rollup as deployed.

    .venv/bin/python bench/kpi_profile.py [--size 300000] [--runs 10] [--top 30]

Prints the wall time per request and the functions with the most own time. See
bench/README.md (`heatmap_10m.py`) for the page's figures at 1 and 10 million reports.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import harness
from heatmap_10m import pages
from synthetic import HISTORY_COLUMNS, build_world, copy_reports, history_chunks


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args(argv)
    from webapp.extensions import db
    from webapp.services.administration.seed import DEMO_PASSWORD

    with (
        tempfile.TemporaryDirectory(prefix="bench-kpi-") as tmp,
        harness.throwaway_database() as url,
    ):
        app, _, _ = harness.build_app(
            url, str(Path(tmp) / "uploads"), harness.queue_name(), demo_users=True
        )
        app.config.update(TASKS_ENABLED=False, HEATMAP_CACHE_SECONDS=0, IOC_ROLLUP=True)
        world = build_world(app, random.Random(48))
        lines = history_chunks(world, args.size, 48, datetime.now(UTC), start=0)
        copy_reports(url, ", ".join(HISTORY_COLUMNS), lines, app=app)
        page = next(p for p in pages(app) if p.name.startswith("KPI page") and p.query)
        client = app.test_client()
        login = {"email": "giamsat@demo.vn", "password": DEMO_PASSWORD}
        assert client.post("/bo/login", data=login).status_code == 302
        client.get(page.path, query_string=page.query)  # warm-up
        profile, times = cProfile.Profile(), []
        for _ in range(args.runs):
            started = time.perf_counter()
            profile.enable()
            resp = client.get(page.path, query_string=page.query)
            profile.disable()
            times.append((time.perf_counter() - started) * 1000)
            assert resp.status_code == 200
        print(f"{page.name}: {args.size:,} reports, {len(resp.data):,} bytes")
        print("ms per request:", ", ".join(f"{t:.0f}" for t in times))
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(args.top)
        print(out.getvalue())
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

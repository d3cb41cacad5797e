"""Timings of a measured loop and their summary (a Phase), and the shares of a profiled root
function: the intake and classify benches."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness import percentile


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


def run_each(
    app,
    items: Sequence[Any],
    call: Callable[[Any], Any],
    into: Timings,
    counter: Any = None,
    seconds: float | None = None,
) -> list[Any]:
    """`call(item)` for each item in its own app context, as a request or a task runs; its
    latency, the loop's wall and CPU time go `into`; `counter` (counting.StatementCounter)
    counts while it runs; `seconds` caps `into`'s wall time. Returns the results."""
    from webapp.extensions import db

    results = []
    if counter is not None:
        counter.on = True
    start, cpu = time.perf_counter(), time.process_time()
    for item in items:
        with app.app_context():
            t0 = time.perf_counter()
            results.append(call(item))
            into.latencies.append(time.perf_counter() - t0)
            db.session.remove()
        if seconds is not None and into.wall + time.perf_counter() - start >= seconds:
            break
    into.wall += time.perf_counter() - start
    into.cpu += time.process_time() - cpu
    if counter is not None:
        counter.on = False
    return results


def root_shares(breakdown: list[dict[str, Any]], root: str) -> list[tuple[dict[str, Any], float]]:
    """Each entry of a `profile` breakdown with its share of the `root` function's time."""
    whole = next((e["cumulative_s"] for e in breakdown if e["function"] == root), 0)
    return [(e, e["cumulative_s"] / whole if whole else 0.0) for e in breakdown]


def share_line(entry: dict[str, Any], share: float, cpu_ms: float) -> str:
    """'  reports.py:318 submit_report   63.8%  ≈  3.44 ms' (the share of `cpu_ms`)."""
    where = f"{entry['where'].rsplit('/', 1)[-1]} {entry['function']}"
    return f"  {where:44} {share:6.1%}  ≈ {share * cpu_ms:5.2f} ms"

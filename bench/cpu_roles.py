"""Where a load run's CPU went: CPU seconds by role (web, worker, rasa, postgres, …).

A snapshot reads every process's user + system time (psutil). A cluster service is started in
a process group of its own (deploy/cluster/procs.py), so a process belongs to the service whose
pid leads its group (the web's threads, a worker's prefork children, Rasa's); the machine's
shared servers are named by their command (postgres, redis-server); this process is the load
generator (locust). The difference of two snapshots, divided by the reports taken, is the CPU
each role spent on a report, load generator and readers included.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

import psutil

SHARED = {"postgres": "postgres", "redis-server": "redis", "haproxy": "haproxy", "weed": "s3"}


def role_of_service(name: str) -> str:
    """web1 → web, worker3 → worker, rasa2 → rasa."""
    return re.sub(r"\d+$", "", name)


def snapshot(pids: Mapping[str, int | None]) -> dict[int, tuple[str, float]]:
    """pid → (role, CPU seconds so far) for every process this machine runs."""
    leaders = {pid: role_of_service(name) for name, pid in pids.items() if pid}
    me = os.getpid()
    found: dict[int, tuple[str, float]] = {}
    for proc in psutil.process_iter(["name", "cpu_times"]):
        try:
            times = proc.info["cpu_times"]
            if times is None:
                continue
            group = os.getpgid(proc.pid)
        except (psutil.Error, ProcessLookupError, PermissionError):
            continue
        name = proc.info["name"] or ""
        if proc.pid == me:
            role = "load generator"
        elif group in leaders:
            role = leaders[group]
        else:
            role = next((r for prefix, r in SHARED.items() if name.startswith(prefix)), "other")
        found[proc.pid] = (role, times.user + times.system)
    return found


def spent(
    before: Mapping[int, tuple[str, float]], after: Mapping[int, tuple[str, float]]
) -> dict[str, float]:
    """CPU seconds by role between two snapshots (processes born in between count whole)."""
    roles: dict[str, float] = {}
    for pid, (role, cpu) in after.items():
        start = before[pid][1] if pid in before and before[pid][0] == role else 0.0
        roles[role] = roles.get(role, 0.0) + max(cpu - start, 0.0)
    return dict(sorted(roles.items(), key=lambda item: -item[1]))

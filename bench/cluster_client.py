"""What bench/load.py needs around locust: residents' addresses and forms, the cluster (its own
process, or a running one) and the database's timings of routing."""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import random
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import harness
from harness import log
from requests.adapters import HTTPAdapter
from submissions import make_jpegs

_addresses = itertools.count()


def next_address(block: int) -> str:
    """A loopback address no resident used before in this run (127.<block>.x.y): haproxy puts
    it in X-Forwarded-For, so each resident is counted by the app's limits as one address."""
    n = next(_addresses)
    return f"127.{block}.{n // 250 % 250}.{n % 250 + 1}"


def _client_tls() -> ssl.SSLContext:
    """One TLS context for every resident's connection, accepting the self-signed certificate.

    Without it urllib3 builds a context for each new connection and loads the system's CA
    store into it: 18 ms of CPU a report here, in the load generator that shares the two CPUs
    with the cluster it measures. Each connection still makes a full handshake with haproxy."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


CLIENT_TLS = _client_tls()


class SourceAddress(HTTPAdapter):
    """Connections from a chosen local address (requests has no option for it)."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        kwargs["ssl_context"] = CLIENT_TLS
        super().init_poolmanager(*args, **kwargs)


def insecure(session: Any) -> Any:
    """Accept the cluster's self-signed certificate (and ignore REQUESTS_CA_BUNDLE and proxy
    variables, which requests would otherwise let override `verify`)."""
    session.verify = False
    session.trust_env = False
    return session


class Forms:
    """What residents send: the history's words on real streets, a point, a camera JPEG."""

    def __init__(self, seed: int) -> None:
        from webapp.services.administration import history

        self.history = history
        self.rng = random.Random(seed)
        # The gazetteer's streets with their points: a report is placed near the street it
        # names, on land inside the province (a box over the city took in part of the bay, and
        # a point in the sea goes to triage).
        path = history.ROOT / "config" / "provinces" / harness.PROVINCE / "streets.csv"
        with path.open(encoding="utf-8") as handle:
            self.streets = [
                (r["name"], float(r["lat"]), float(r["lon"])) for r in csv.DictReader(handle)
            ]
        self.jpegs = make_jpegs(self.rng, 24)

    def next(self) -> tuple[dict[str, str], bytes]:
        """The fields and the photo of one report."""
        rng, history = self.rng, self.history
        street, lat, lon = rng.choice(self.streets)
        category = history.pick(rng, history.CATEGORY_MIX)
        lat, lon = lat + rng.uniform(-0.001, 0.001), lon + rng.uniform(-0.001, 0.001)
        fields = {
            "description": history.describe(rng, category, street, "Hải Châu"),
            "lat": f"{lat:.6f}",
            "lon": f"{lon:.6f}",
        }
        return fields, rng.choice(self.jpegs)


class ClusterProcess:
    """`python -m deploy.cluster` in a process of its own (outside gevent), or a running one."""

    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        if args.cluster:
            self.info = json.loads(args.cluster.read_text())
            return
        info_file = tmp / "cluster-info.json"
        command = [sys.executable, "-m", "deploy.cluster", "--port", "0", "--no-supervise"]
        command += ["--history-days", str(args.history_days), "--info-file", str(info_file)]
        command += ["--workdir", str(tmp / "cluster")]
        command += ["--fake-nlu"] if args.fake_nlu else []
        log_path = tmp / "cluster.log"
        log(f"starting the cluster (log: {log_path})")
        with open(log_path, "wb") as out:
            self.proc = subprocess.Popen(
                command, cwd=harness.ROOT, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 1800
        while not info_file.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the cluster did not start: {log_path}")
            time.sleep(1)
        self.info = json.loads(info_file.read_text())

    def stop(self) -> None:
        """SIGTERM: it stops every process and drops its database."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(180)


def db_rows(url: str, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        return list(conn.execute(sql, params).fetchall())


def wait_routed(url: str, codes: list[str], timeout: float) -> int:
    """Wait until the reports leave received/classified; how many are still waiting."""
    deadline = time.monotonic() + timeout
    waiting = len(codes)
    while time.monotonic() < deadline:
        waiting = db_rows(
            url,
            "SELECT count(*) FROM reports WHERE code = ANY(%s) AND status IN"
            " ('received', 'classified')",
            (codes,),
        )[0][0]
        if not waiting:
            break
        time.sleep(2)
    return int(waiting)


def triage_reasons(url: str, codes: list[str]) -> dict[str, int]:
    """How many of the reports went to triage, by the reason their triage event gives."""
    rows = db_rows(
        url,
        "SELECT coalesce(e.data->>'reason', '?'), count(DISTINCT r.id)"
        " FROM reports r JOIN report_events e ON e.report_id = r.id AND e.kind = 'status'"
        " AND e.to_status = 'needs_triage' WHERE r.code = ANY(%s) GROUP BY 1 ORDER BY 2 DESC",
        (codes,),
    )
    return {str(reason): int(n) for reason, n in rows}


def routing_times(url: str, sent: dict[str, float]) -> dict[str, list[float]]:
    """Seconds from the resident's first byte to the first `assigned` / `needs_triage` event
    (the submit → assigned of the goal), and from the stored row to `assigned`."""
    rows = db_rows(
        url,
        "SELECT r.code, e.to_status, extract(epoch FROM min(e.created_at)),"
        " extract(epoch FROM r.created_at)"
        " FROM reports r JOIN report_events e ON e.report_id = r.id AND e.kind = 'status'"
        " AND e.to_status IN ('assigned', 'needs_triage')"
        " WHERE r.code = ANY(%s) GROUP BY r.code, e.to_status, r.created_at",
        (list(sent),),
    )
    out: dict[str, list[float]] = {"assigned": [], "needs_triage": [], "stored_assigned": []}
    for code, status, at, created in rows:
        out[status].append(float(at) - sent[code])
        if status == "assigned":
            out["stored_assigned"].append(float(at) - float(created))
    return {k: sorted(v) for k, v in out.items()}

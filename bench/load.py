"""Load on the whole topology (deploy/cluster): residents file reports with a photo at a
sustained rate while staff read their queues and the IOC reads the heatmap, through haproxy,
measured with locust (as a library, headless). Prints throughput, p50/p95/p99 and errors per
kind of request, and submit → assigned (from the database), next to a baseline measured in
the same run on the idle cluster. See bench/README.md.
"""

# locust patches the standard library for gevent when imported: before anything else.
from locust import HttpUser, between, constant_throughput, events, task  # isort: skip

import argparse
import itertools
import math
import os
import random
import re
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cpu_roles
import gevent
import harness
from cluster_client import (
    ClusterProcess,
    Forms,
    SourceAddress,
    insecure,
    next_address,
    routing_times,
    triage_reasons,
    wait_routed,
)
from harness import Col, log, percentile

RESULTS = harness.RESULTS_DIR / "load.json"
GOAL_RATE = 20.0  # reports a second
GOAL_ASSIGNED_P95_S = 2.0
BASELINE_WARMUP = 3  # reports before the baseline's, not counted
# Đà Nẵng's centre at the zoom the IOC's wall screen opens with (bench/heatmap_1m.py's views).
HEATMAP_VIEWS = (
    {"zoom": "11", "bbox": "107.95,15.90,108.45,16.20"},
    {"zoom": "13", "bbox": "108.17,16.03,108.25,16.09"},
    {"zoom": "11", "bbox": "107.95,15.90,108.45,16.20", "status": "open"},
)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def use_address(user: HttpUser, address: str) -> None:
    """Send the user's next requests from `address` (a new connection)."""
    old = user.client.adapters.get("https://")
    user.client.mount("https://", SourceAddress(address))
    if old is not None:
        old.close()


FORMS: Forms | None = None
# Code of each report taken → when its resident started sending it (wall clock, this machine).
SENT: dict[str, float] = {}


def submit(client: Any, name: str = "submit report") -> str | None:
    """One report with one photo; its code, or None."""
    assert FORMS is not None
    fields, photo = FORMS.next()
    files = [("photos", ("IMG.jpg", photo, "image/jpeg"))]
    started = time.time()
    with client.post(
        "/api/v1/reports", data=fields, files=files, name=name, catch_response=True
    ) as answer:
        if answer.status_code != 201:
            answer.failure(f"{answer.status_code}: {answer.text[:120]}")
            return None
        code = str(answer.json()["code"])
        SENT[code] = started
        return code


class Resident(HttpUser):
    """Files a report every 1/rate seconds at most, each time as another resident (a new
    address, a new TLS connection: a phone on the carrier's network)."""

    wait_time = constant_throughput(1 / 3)

    def on_start(self) -> None:
        insecure(self.client)

    @task
    def file_report(self) -> None:
        use_address(self, next_address(30))
        submit(self.client)


def sign_in(user: HttpUser, email: str, password: str) -> None:
    """The back office's form: its CSRF token, then the credentials."""
    insecure(user.client)
    use_address(user, next_address(40))
    page = user.client.get("/bo/login", name="sign in (form)")
    token = CSRF.search(page.text)
    data = {"email": email, "password": password, "csrf_token": token[1] if token else ""}
    # Over HTTPS the CSRF check wants the Referer a browser sends (Flask-WTF's SSL strict).
    referer = {"Referer": f"{user.host}/bo/login"}
    with user.client.post(
        "/bo/login",
        data=data,
        headers=referer,
        name="sign in",
        catch_response=True,
        allow_redirects=False,
    ) as answer:
        if answer.status_code != 302:
            answer.failure(f"sign-in refused: {answer.status_code}")


class Staff(HttpUser):
    """An agency's officer: the open queue, its next page, one report."""

    wait_time = between(2, 5)
    accounts = itertools.cycle(["chieusang@demo.vn", "moitruong@demo.vn", "xaydung@demo.vn"])
    password = ""

    def on_start(self) -> None:
        sign_in(self, next(self.accounts), self.password)
        self.seen: list[str] = []

    @task(3)
    def queue(self) -> None:
        page = self.client.get("/bo/", name="staff: queue")
        self.seen = re.findall(r'href="/bo/r/([A-Z0-9-]+)"', page.text)[:20]

    @task(1)
    def queue_page_two(self) -> None:
        self.client.get("/bo/?status=open&page=2", name="staff: queue page 2")

    @task(2)
    def report(self) -> None:
        if self.seen:
            self.client.get(f"/bo/r/{random.choice(self.seen)}", name="staff: report")


class Ioc(HttpUser):
    """The IOC's wall screen: the heatmap's data every few seconds, now and then the page."""

    wait_time = between(3, 6)
    password = ""

    def on_start(self) -> None:
        sign_in(self, "giamsat@demo.vn", self.password)

    @task(5)
    def heatmap(self) -> None:
        self.client.get(
            "/ioc/ban-do/du-lieu", params=random.choice(HEATMAP_VIEWS), name="IOC: heatmap data"
        )

    @task(1)
    def page(self) -> None:
        self.client.get("/ioc/ban-do", name="IOC: heatmap page")


def quantiles(values: Sequence[float]) -> dict[str, float]:
    """count, p50, p95, p99 (seconds or ms as given)."""
    ordered = sorted(values)
    return {
        "count": len(ordered),
        "p50": round(percentile(ordered, 50), 3),
        "p95": round(percentile(ordered, 95), 3),
        "p99": round(percentile(ordered, 99), 3),
    }


# --------------------------------------------------------------------------- measuring


def baseline(info: dict[str, Any], reports: int) -> dict[str, Any]:
    """One resident at a time on the idle cluster: each report submitted, then waited for
    until routed, so nothing queues behind anything (after BASELINE_WARMUP not counted)."""
    import requests

    session = insecure(requests.Session())
    latencies, sent = [], {}
    for number in range(reports + BASELINE_WARMUP):
        session.mount("https://", SourceAddress(next_address(31)))
        started, wall = time.perf_counter(), time.time()
        assert FORMS is not None
        fields, photo = FORMS.next()
        answer = session.post(
            f"{info['url']}/api/v1/reports",
            data=fields,
            files=[("photos", ("IMG.jpg", photo, "image/jpeg"))],
        )
        elapsed_ms = (time.perf_counter() - started) * 1000
        code = answer.json()["code"] if answer.status_code == 201 else None
        if code:
            wait_routed(info["database_url"], [code], 60)
        if number < BASELINE_WARMUP:  # the first requests fill caches and open connections
            continue
        latencies.append(elapsed_ms)
        if code:
            sent[code] = wall
    times = routing_times(info["database_url"], sent)
    return {
        "submit_ms": quantiles(latencies),
        "assigned_s": quantiles(times["assigned"]),
        "stored_assigned_s": quantiles(times["stored_assigned"]),
        "triage_s": quantiles(times["needs_triage"]),
        "failed": reports - len(sent),
    }


def run_load(info: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """The locust run: residents at the rate, staff and IOC beside them, for `seconds`."""
    from locust.env import Environment

    per_user = 1 / args.resident_interval
    Resident.wait_time = constant_throughput(per_user)
    Resident.fixed_count = math.ceil(args.rate / per_user)
    Staff.fixed_count, Ioc.fixed_count = args.staff, args.ioc
    Staff.password = Ioc.password = info["demo_password"]
    env = Environment(user_classes=[Resident, Staff, Ioc], host=info["url"], events=events)
    runner = env.create_local_runner()
    users = Resident.fixed_count + args.staff + args.ioc
    log(
        f"load: {Resident.fixed_count} residents (one report each {args.resident_interval:g} s:"
        f" {args.rate:g}/s), {args.staff} staff, {args.ioc} IOC, {args.seconds:g} s"
    )
    SENT.clear()
    runner.start(users, spawn_rate=max(users / 10, 1))
    gevent.sleep(10)  # everyone spawned and signed in: the measured window starts now
    runner.stats.reset_all()
    SENT.clear()
    started = time.monotonic()
    load_before = os.getloadavg()
    cpu_before = cpu_roles.snapshot(info.get("pids", {}))
    gevent.sleep(args.seconds)
    wall = time.monotonic() - started
    cpu = cpu_roles.spent(cpu_before, cpu_roles.snapshot(info.get("pids", {})))
    stats = runner.stats
    kinds = {}
    for (name, method), entry in sorted(stats.entries.items()):
        if entry.num_requests == 0:
            continue
        kinds[name] = {
            "method": method,
            "count": entry.num_requests,
            "failures": entry.num_failures,
            "per_s": round(entry.num_requests / wall, 2),
            "p50_ms": entry.get_response_time_percentile(0.5),
            "p95_ms": entry.get_response_time_percentile(0.95),
            "p99_ms": entry.get_response_time_percentile(0.99),
        }
    errors = [
        {"name": e.name, "error": str(e.error)[:200], "count": e.occurrences}
        for e in stats.errors.values()
    ]
    sent = dict(SENT)
    codes = list(sent)
    runner.quit()
    load_after = os.getloadavg()
    log(f"load done: {len(codes)} reports taken in {wall:.0f} s; waiting for them to be routed")
    waiting = wait_routed(info["database_url"], codes, args.drain)
    times = routing_times(info["database_url"], sent)
    return {
        "seconds": round(wall, 1),
        "reports": len(codes),
        "reports_per_s": round(len(codes) / wall, 2),
        "kinds": kinds,
        "errors": errors,
        "assigned_s": quantiles(times["assigned"]),
        "stored_assigned_s": quantiles(times["stored_assigned"]),
        "triage_s": quantiles(times["needs_triage"]),
        "triage_reasons": triage_reasons(info["database_url"], codes),
        "still_waiting": waiting,
        "load_average": {"before": load_before, "after": load_after},
        "cpu_s": {role: round(seconds, 2) for role, seconds in cpu.items()},
    }


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Start (or find) the cluster, the baseline, the load; stop the cluster."""
    global FORMS
    import tempfile

    warnings.filterwarnings("ignore", message="Unverified HTTPS request")
    FORMS = Forms(args.seed)
    with tempfile.TemporaryDirectory(prefix="phananh-load-") as tmp:
        cluster = ClusterProcess(args, Path(tmp))
        try:
            info = cluster.info
            log(f"cluster at {info['url']} (NLU: {info['nlu']}); baseline: {args.baseline} reports")
            base = baseline(info, args.baseline)
            load = run_load(info, args)
        finally:
            cluster.stop()
    return {
        **harness.run_info(args),
        "host": harness.host(load_average=os.getloadavg()),
        "nlu": info["nlu"],
        "baseline": base,
        "load": load,
    }


def report(results: dict[str, Any]) -> bool:
    """The table, the headline; True when the goal is met."""
    load, base = results["load"], results["baseline"]
    columns = [
        Col("request", 26, left=True),
        Col("count", 7, ","),
        Col("per s", 8, ".2f"),
        Col("p50 ms", 9, ".0f"),
        Col("p95 ms", 9, ".0f"),
        Col("p99 ms", 9, ".0f"),
        Col("errors", 8, ","),
    ]
    rows = [
        (name, k["count"], k["per_s"], k["p50_ms"], k["p95_ms"], k["p99_ms"], k["failures"])
        for name, k in load["kinds"].items()
    ]
    b = base["submit_ms"]
    rows.append(
        ("submit report (idle)", b["count"], 0.0, b["p50"], b["p95"], b["p99"], base["failed"])
    )
    print()
    harness.table(columns, rows)
    for error in load["errors"]:
        print(f"  error × {error['count']}: {error['name']}: {error['error']}")
    assigned, idle = load["assigned_s"], base["assigned_s"]
    stored, idle_stored = load["stored_assigned_s"], base["stored_assigned_s"]
    triage = load["triage_s"]
    reasons = ", ".join(f"{k} {v}" for k, v in load.get("triage_reasons", {}).items())
    print(
        f"\nsubmit → assigned (the resident's first byte → the event): p50"
        f" {assigned['p50']:.2f} s, p95 {assigned['p95']:.2f} s, p99 {assigned['p99']:.2f} s"
        f" ({assigned['count']}"
        f" reports; {triage['count']} to triage, p95 {triage['p95']:.2f} s"
        f" ({reasons or 'none'});"
        f" {load['still_waiting']} not routed after the drain)"
    )
    print(
        f"stored → assigned (the workers' and the NLU's share): p50 {stored['p50']:.2f} s,"
        f" p95 {stored['p95']:.2f} s"
    )
    print(
        f"baseline, idle cluster, one report at a time: submit p50 {b['p50']:.0f} ms, submit →"
        f" assigned p50 {idle['p50']:.2f} s, p95 {idle['p95']:.2f} s (stored → assigned p95"
        f" {idle_stored['p95']:.2f} s)"
    )
    taken = max(load["reports"], 1)
    cpu = ", ".join(
        f"{role} {seconds / load['seconds']:.2f} ({seconds * 1000 / taken:.0f} ms)"
        for role, seconds in load.get("cpu_s", {}).items()
    )
    print(f"CPUs busy by role over the window (ms a report taken): {cpu}")
    ok = load["reports_per_s"] >= GOAL_RATE * 0.95 and assigned["p95"] <= GOAL_ASSIGNED_P95_S
    print(
        f"\nthroughput {load['reports_per_s']:.1f} reports/s over {load['seconds']:.0f} s"
        f" (offered {results['args']['rate']:g}/s; NLU: {results['nlu']}), load average"
        f" {load['load_average']['before'][0]:.1f} → {load['load_average']['after'][0]:.1f}"
        f" on {results['host']['cpus']} CPUs | goal: {GOAL_RATE:g} reports/s with submit →"
        f" assigned p95 ≤ {GOAL_ASSIGNED_P95_S:g} s: {harness.met(ok)}"
    )
    return ok


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=GOAL_RATE, help="reports a second [20]")
    parser.add_argument("--seconds", type=float, default=120, help="measured load [120]")
    parser.add_argument(
        "--resident-interval",
        type=float,
        default=3.0,
        help="seconds between one user's reports [3]",
    )
    parser.add_argument("--staff", type=int, default=6, help="staff users [6]")
    parser.add_argument("--ioc", type=int, default=2, help="IOC wall screens [2]")
    parser.add_argument("--baseline", type=int, default=20, help="reports on the idle cluster [20]")
    parser.add_argument(
        "--drain", type=float, default=600, help="seconds to wait for routing [600]"
    )
    parser.add_argument("--history-days", type=int, default=30, help="demo history to seed [30]")
    parser.add_argument("--fake-nlu", action="store_true", help="FakeRasa replicas, not Rasa")
    parser.add_argument(
        "--cluster", type=Path, default=None, help="cluster.json of a running `make cluster`"
    )
    parser.add_argument("--seed", type=int, default=48, help="random seed [48]")
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"JSON file [{RESULTS}]")
    return parser.parse_args(argv)


main = harness.entry(parse_args, measure, report)

if __name__ == "__main__":
    raise SystemExit(main())

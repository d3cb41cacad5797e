"""The production topology on this machine (deploy/cluster): residents file reports with a
photo through haproxy while one web process, one worker, one Rasa replica and the leading
beat are killed with SIGKILL and started again. Afterwards every report that got a 201 is
stored, classified and assigned or in triage, exactly once; every photo is served by every
web process; no reminder or escalation was sent twice; the sweep never stopped for more than
two minutes.

The small version (150 reports, FakeRasa replicas, the clock compressed) runs in `make test`.
The full one (deploy/README.md, "The cluster proof"):

    CLUSTER_REPORTS=1000 .venv/bin/pytest -s tests/integration/test_cluster.py

(1,000 reports or more, real Rasa replicas, production timing). CLUSTER_NLU=fake|rasa and
CLUSTER_RATE (reports a second) override the profile's choice.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime

import pytest

from deploy.cluster import Cluster, Options, database
from deploy.cluster.procs import wait_until
from deploy.cluster.topology import WEBS
from tests.support.cluster_traffic import (
    DeadlineMover,
    SweepWatch,
    Traffic,
    mail_ids,
    mail_subjects,
    photo_problems,
    proxy_log,
    scalar,
)

FINAL = ("assigned", "needs_triage")
MAX_SWEEP_GAP = 120.0


@dataclass(frozen=True)
class Profile:
    """How big the run is and how fast the clock goes."""

    reports: int
    rate: float  # reports a second, offered by the residents
    nlu: str  # "fake" or "rasa"
    sweep_seconds: float
    sweep_min_interval_seconds: float
    beat_lease_seconds: float
    heartbeat_seconds: float
    requeue_after_seconds: float
    due_in: float  # seconds from a moved reminder to the deadline
    timeout: int


SMALL = Profile(150, 2.0, "fake", 15, 12, 15, 10, 30, 20, timeout=1500)
FULL = Profile(1000, 5.0, "rasa", 60, 50, 30, 30, 60, 60, timeout=5400)


def _profile() -> Profile:
    wanted = int(os.environ.get("CLUSTER_REPORTS") or SMALL.reports)
    profile = replace(FULL if wanted >= FULL.reports else SMALL, reports=wanted)
    if os.environ.get("CLUSTER_NLU"):
        profile = replace(profile, nlu=os.environ["CLUSTER_NLU"])
    if os.environ.get("CLUSTER_RATE"):
        profile = replace(profile, rate=float(os.environ["CLUSTER_RATE"]))
    return profile


PROFILE = _profile()
pytestmark = [pytest.mark.integration, pytest.mark.timeout(PROFILE.timeout)]


class Chaos(threading.Thread):
    """Kills one web process, one worker, one Rasa replica and the leading beat in turn,
    each with SIGKILL while residents file reports, and starts each again."""

    def __init__(self, cluster: Cluster, traffic: Traffic, lease: float) -> None:
        super().__init__(name="chaos", daemon=True)
        self.cluster, self.traffic, self.lease = cluster, traffic, lease
        self.events: list[tuple[float, str]] = []
        self.failure: str | None = None
        self.web_back_at = 0.0

    def note(self, what: str) -> None:
        self.events.append((time.monotonic(), what))

    def state(self, server: str) -> str:
        return self.cluster.server_states().get(server, "")

    def run(self) -> None:
        try:
            self._run()
        except Exception as error:  # the test reads it
            self.failure = f"{type(error).__name__}: {error}"

    def _run(self) -> None:
        c = self.cluster
        wait_until(lambda: self.traffic.created >= 10, 600)
        # A web process dies mid-request; the proxy sees it down, it comes back.
        c.kill("web1")
        self.note("killed web1")
        assert wait_until(lambda: self.state("web/web1").startswith("DOWN"), 90), "web1 not down"
        self.note("haproxy: web1 DOWN")
        c.restart("web1")
        assert wait_until(lambda: self.state("web/web1").startswith("UP"), 120), "web1 not up"
        self.web_back_at = time.monotonic()
        self.note("haproxy: web1 UP again")
        time.sleep(5)
        # A worker dies with tasks in hand (intake, outbox and sweep are its kinds).
        c.kill("worker1")
        self.note("killed worker1")
        time.sleep(10)
        c.restart("worker1")
        self.note("worker1 back (heartbeat written)")
        time.sleep(5)
        # A Rasa replica dies; the proxy sends the parses to the other one.
        c.kill("rasa1")
        self.note("killed rasa1")
        assert wait_until(lambda: self.state("rasa/rasa1").startswith("DOWN"), 90), "rasa1 up?"
        self.note("haproxy: rasa1 DOWN")
        c.restart("rasa1")
        assert wait_until(lambda: self.state("rasa/rasa1").startswith("UP"), 300), "rasa1 down"
        self.note("haproxy: rasa1 UP again")
        time.sleep(5)
        # The leading beat dies; the standby takes the lease when it runs out.
        leader = c.leading_beat()
        assert leader, "no beat leads"
        c.kill(leader)
        self.note(f"killed the leading beat {leader}")
        assert wait_until(lambda: c.leading_beat() not in (None, leader), self.lease * 4, 1)
        self.note(f"{c.leading_beat()} leads")
        c.restart(leader)
        self.note(f"{leader} back (standing by)")


def _db_now(url: str) -> datetime:
    return scalar(url, "SELECT now()")


def test_the_topology_survives_kills_under_load(tmp_path):
    p = PROFILE
    if p.nlu == "rasa":
        from nlu import manage

        try:
            manage.find_python310()
        except manage.NluSetupError as exc:
            pytest.skip(str(exc))
    options = Options(
        fake_nlu=p.nlu == "fake",
        workdir=tmp_path / "cluster",
        sweep_seconds=p.sweep_seconds,
        sweep_min_interval_seconds=p.sweep_min_interval_seconds,
        beat_lease_seconds=p.beat_lease_seconds,
        heartbeat_seconds=p.heartbeat_seconds,
        requeue_after_seconds=p.requeue_after_seconds,
    )
    began = time.monotonic()
    with Cluster(options) as cluster:
        url, started = cluster.database_url, time.monotonic()
        watch = SweepWatch(url)
        watch.start()
        first_sweep = wait_until(lambda: watch.seen, p.sweep_seconds * 3 + 60, 1)
        assert first_sweep, "no sweep ran after the start"
        mover = DeadlineMover(url, p.due_in)
        mover.start()
        traffic = Traffic(cluster.url, p.rate)
        chaos = Chaos(cluster, traffic, p.beat_lease_seconds)
        traffic.start(lambda index: index >= p.reports and not chaos.is_alive())
        chaos.start()
        chaos.join(p.timeout)
        traffic.join()
        assert chaos.failure is None, chaos.failure
        traffic_s = time.monotonic() - started
        outcomes = sorted(traffic.outcomes, key=lambda o: o.index)
        codes = [o.code for o in outcomes if o.status == 201 and o.code]
        assert len(codes) >= p.reports * 0.95, "most reports must be taken"

        # Every report that got a 201 reaches assigned or triage (the sweep re-enqueues any a
        # killed worker held), then the clock's reminders and escalations are all sent.
        def finished() -> bool:
            done = scalar(
                url,
                "SELECT count(*) FROM reports WHERE code = ANY(%s) AND status = ANY(%s)",
                (codes, list(FINAL)),
            )
            return done == len(codes)

        assert wait_until(finished, 900, 3), "reports still not classified and routed"
        mover.halt.set()
        mover.join()
        mover.move()  # the last ones, so some fall due after the kills too
        nothing_due = (
            "SELECT count(*) FROM reports WHERE status IN ('assigned','in_progress','reopened',"
            "'transferred') AND waiting_since IS NULL AND ((remind_at <= now() AND reminded_at"
            " IS NULL) OR (due_at <= now() AND escalated_at IS NULL))"
        )
        due_later = p.due_in + p.sweep_seconds * 3 + 120
        time.sleep(p.due_in)
        assert wait_until(lambda: scalar(url, nothing_due) == 0, due_later, 3), "sweep stuck"
        # Delivered, or failing for want of an address (a ward committee has no e-mail: the
        # outbox retries those until it gives up; not this test's business).
        undelivered = (
            "SELECT count(*) FROM outbox_messages WHERE status = 'pending'"
            " OR (status = 'failed' AND address IS NOT NULL)"
        )
        assert wait_until(lambda: scalar(url, undelivered) == 0, 600, 3), "outbox not drained"
        end = _db_now(url)
        watch.halt.set()
        watch.join()

        # ---- stored exactly once, with its photo, its history once
        stored = dict(
            cluster_rows(
                url, "SELECT code, count(*) FROM reports WHERE code = ANY(%s) GROUP BY code", codes
            )
        )
        assert set(stored) == set(codes) and set(stored.values()) == {1}
        orphans = scalar(url, "SELECT count(*) FROM reports WHERE NOT (code = ANY(%s))", (codes,))
        failed = [o for o in outcomes if o.status != 201]
        assert orphans <= len(failed), f"{orphans} reports stored that nobody was answered for"
        twice = cluster_rows(
            url,
            "SELECT r.code, e.to_status, count(*) FROM report_events e JOIN reports r"
            " ON r.id = e.report_id WHERE e.kind = 'status' GROUP BY 1, 2 HAVING count(*) > 1",
        )
        assert twice == [], f"status changes recorded twice: {twice[:10]}"
        received = scalar(
            url,
            "SELECT count(DISTINCT e.report_id) FROM report_events e JOIN reports r"
            " ON r.id = e.report_id WHERE r.code = ANY(%s) AND e.to_status = 'received'",
            (codes,),
        )
        assert received == len(codes)
        photos = cluster_rows(
            url,
            "SELECT r.code, count(p.id) FROM reports r LEFT JOIN photos p ON p.report_id = r.id"
            " WHERE r.code = ANY(%s) GROUP BY r.code HAVING count(p.id) <> 1",
            codes,
        )
        assert photos == [], f"reports without their one photo: {photos[:10]}"
        statuses = dict(
            cluster_rows(
                url,
                "SELECT status, count(*) FROM reports WHERE code = ANY(%s) GROUP BY 1",
                codes,
            )
        )

        # ---- what did not get a 201: only requests the killed web process had in hand
        lines = proxy_log(cluster.logs / "haproxy.log")
        explained, unexplained = [], []
        for o in failed:
            line = lines.get(o.request_id or "")
            if o.error is None and line and line.server == "web/web1" and line.status >= 500:
                explained.append(f"{o.status} from {line.server} ({line.termination})")
            else:
                unexplained.append(f"#{o.index}: {o.status} {o.error} {line}")
        assert unexplained == [], f"failures not caused by the killed process: {unexplained}"
        assert len(failed) <= 12, f"more failures than requests in hand at the kill: {failed}"

        # ---- every photo from every web process directly
        paths = [path for o in outcomes if o.status == 201 for path in o.photos]
        problems = photo_problems({n: cluster.web_url(n) for n in WEBS}, paths)
        assert problems == [], problems[:20]

        # ---- reminders and escalations: each once, each e-mail once
        repeated = cluster_rows(
            url,
            "SELECT report_id, kind, count(*) FROM report_events WHERE kind IN"
            " ('reminder','escalation') GROUP BY 1, 2 HAVING count(*) > 1",
        )
        assert repeated == [], f"reminded or escalated twice: {repeated[:10]}"
        reminders = scalar(url, "SELECT count(*) FROM report_events WHERE kind = 'reminder'")
        escalations = scalar(url, "SELECT count(*) FROM report_events WHERE kind = 'escalation'")
        assert reminders > 0 and escalations > 0, "the run must remind and escalate"
        mails = mail_ids(cluster.mailbox)
        assert [m for m, n in mails.items() if n > 1] == [], "an e-mail was sent twice"
        sent = scalar(
            url, "SELECT count(*) FROM outbox_messages WHERE channel = 'email' AND status = 'sent'"
        )
        assert sum(mails.values()) == sent, (sum(mails.values()), sent)
        deadline_mails = {
            k: n
            for k, n in mail_subjects(cluster.mailbox).items()
            if "Nhắc hạn" in k[1] or "QUÁ HẠN" in k[1]
        }
        assert deadline_mails and max(deadline_mails.values()) == 1

        # ---- the sweep never stopped for more than two minutes
        gaps = watch.gaps(watch.seen[0], end)
        assert max(gaps) <= MAX_SWEEP_GAP, f"the sweep stopped for {max(gaps):.0f} s"

        # ---- and the killed processes are back
        assert wait_until(cluster.all_servers_up, 120, 2), cluster.server_states()
        fresh = scalar(
            url,
            "SELECT count(*) FROM heartbeats WHERE name LIKE 'worker:%%'"
            " AND seen_at > now() - make_interval(secs => %s)",
            (p.heartbeat_seconds * 3,),
        )
        assert fresh == 3
        assert cluster.leading_beat() is not None
        assert all(cluster.services[n].alive for n in cluster.services)

        report = [
            f"cluster proof: {len(outcomes)} submissions, {len(codes)} × 201 in {traffic_s:.0f} s"
            f" ({p.nlu} NLU, {p.rate:g}/s offered); setup {started - began:.0f} s",
            f"  final statuses: {statuses}",
            f"  non-201: {len(failed)} ({'; '.join(explained) or 'none'});"
            f" stored without a 201: {orphans}",
            f"  photos checked: {len(paths)} × {len(WEBS)} web processes",
            f"  reminders {reminders}, escalations {escalations}, e-mails {sum(mails.values())}"
            f" (deadline e-mails {len(deadline_mails)}), deadlines moved {mover.moved}",
            f"  sweeps {len(watch.seen)}, longest gap {max(gaps):.1f} s",
            *[f"  +{t - started:6.1f} s {what}" for t, what in chaos.events],
            f"  total {time.monotonic() - began:.0f} s",
        ]
        (tmp_path / "summary.txt").write_text("\n".join(report) + "\n")
        print("\n" + "\n".join(report))


def cluster_rows(url: str, sql: str, codes: list[str] | None = None) -> list[tuple]:
    """Rows of a query, with the list of codes as its one parameter when given."""
    return [tuple(r) for r in database.query(url, sql, (codes,) if codes is not None else None)]

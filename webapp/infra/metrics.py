"""`/metrics` in Prometheus' text format.

Request latency by endpoint comes from prometheus-flask-exporter. The rest is read at scrape
time from the database and the broker, so every web process reports the same province-wide
figures whichever one Prometheus asks: reports by status and overdue, the outbox by channel
and state, queue depths, the age and duration of the last sweep, live workers, and each
part's health as `phananh_up{part=...}` (1 ok, 0 not), the same parts as `/healthz`. Celery
tasks and NLU calls, which happen in workers, are counted in Redis (`webapp.infra.work_stats`)
and shown from there.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterator
from typing import Any, cast

from flask import Flask, Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector
from prometheus_flask_exporter import PrometheusMetrics
from sqlalchemy import func, select

from webapp.extensions import db

log = logging.getLogger(__name__)


class ProvinceCollector(Collector):
    """Figures read from the database when Prometheus scrapes."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def describe(self) -> list[GaugeMetricFamily]:
        return []  # nothing read at registration: the database may not be migrated yet

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self.app.app_context():
            try:
                yield from self._collect()
            except Exception:  # a scrape must not fail whole because one figure did
                log.exception("metrics: province figures not read")
                db.session.rollback()
                yield _gauge("phananh_metrics_ok", "Whether the app's figures were read", 0)
            finally:
                db.session.remove()

    def _collect(self) -> Iterator[GaugeMetricFamily]:
        from webapp.infra import health
        from webapp.models import OPEN_STATUSES, OutboxMessage, Report
        from webapp.models.types import utcnow
        from webapp.services.ioc.queries import overdue_clause

        state = health.cached_check()
        up = GaugeMetricFamily("phananh_up", "Each part's health: 1 ok, 0 not", labels=["part"])
        for part, value in state.items():
            if part not in ("status", "details"):
                up.add_metric([part], 1.0 if value == "ok" else 0.0)
        yield up
        details: dict[str, Any] = state["details"]
        if not details:  # no database (or not migrated): the parts above say so
            return
        yield _gauge("phananh_workers_alive", "Workers with a recent heartbeat",
                     len(details["workers"]))  # fmt: skip
        age = details["last_sweep_age_s"]
        yield _gauge("phananh_sweep_age_seconds", "Seconds since the last sweep ended",
                     age if age is not None else float("inf"))  # fmt: skip
        last = details["last_sweep"] or {}
        if "duration_s" in last:
            yield _gauge("phananh_sweep_duration_seconds", "The last sweep's duration",
                         last["duration_s"])  # fmt: skip
        yield _gauge("phananh_outbox_backlog", "Outbox messages due and undelivered",
                     details["outbox_backlog"])  # fmt: skip

        reports = GaugeMetricFamily("phananh_reports", "Reports by status", labels=["status"])
        for status, count in db.session.execute(
            select(Report.status, func.count()).group_by(Report.status)
        ):
            reports.add_metric([status], count)
        yield reports
        overdue = db.session.scalar(
            select(func.count())
            .select_from(Report)
            .where(Report.status.in_(OPEN_STATUSES), overdue_clause(utcnow()))
        )
        yield _gauge("phananh_reports_overdue", "Open reports past their deadline", overdue or 0)

        outbox = GaugeMetricFamily(
            "phananh_outbox_messages", "Outbox messages by channel and state",
            labels=["channel", "status"],
        )  # fmt: skip
        for channel, status, count in db.session.execute(
            select(OutboxMessage.channel, OutboxMessage.status, func.count()).group_by(
                OutboxMessage.channel, OutboxMessage.status
            )
        ):
            outbox.add_metric([channel, str(status)], count)
        yield outbox

        yield from _work_stats(self.app)
        depths = _queue_depths(self.app)
        if depths:
            queues = GaugeMetricFamily(
                "phananh_queue_depth",
                "Tasks waiting in the broker, by kind of work",
                labels=["queue"],
            )
            for kind, depth in depths.items():
                queues.add_metric([kind], depth)
            yield queues


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _work_stats(app: Flask) -> Iterator[Any]:
    """Celery task runs by task and outcome, their durations, and the NLU's calls and latency."""
    from webapp.infra.work_stats import NLU_BUCKETS, read

    stats = read(app)
    if not stats:
        return
    runs = CounterMetricFamily(
        "phananh_celery_tasks", "Celery task runs by task and outcome", labels=["task", "outcome"]
    )
    seconds = SummaryMetricFamily(
        "phananh_celery_task_seconds", "Time spent in Celery tasks", labels=["task"]
    )
    nlu = CounterMetricFamily("phananh_nlu_calls", "NLU parses by outcome", labels=["outcome"])
    counts: dict[str, float] = {}
    for field, value in sorted(stats.items()):
        kind, _, rest = field.partition("|")
        if kind == "task":
            task, _, outcome = rest.rpartition("|")
            runs.add_metric([task, outcome], value)
            counts[task] = counts.get(task, 0) + value
        elif kind == "nlu":
            nlu.add_metric([rest], value)
    for field, value in stats.items():
        kind, _, task = field.partition("|")
        if kind == "task_seconds":
            seconds.add_metric([task], count_value=int(counts.get(task, 0)), sum_value=value)
    yield from (runs, seconds, nlu)
    cumulative, buckets = 0.0, []
    for bound in [*map(str, NLU_BUCKETS), "+Inf"]:
        cumulative += stats.get(f"nlu_bucket|{bound}", 0)
        buckets.append((bound, cumulative))
    yield HistogramMetricFamily(
        "phananh_nlu_latency_seconds", "Latency of NLU parses (retries included)",
        buckets=buckets, sum_value=stats.get("nlu_seconds", 0),
    )  # fmt: skip


def _queue_depths(app: Flask) -> dict[str, int]:
    """Length of each kind's queue on a Redis broker (nothing on other brokers)."""
    from webapp.infra.task_names import KINDS, queue_name

    url = app.config["CELERY_BROKER_URL"]
    if not url.startswith(("redis://", "rediss://")):
        return {}
    import redis

    prefix = app.config["CELERY_QUEUE"]
    try:
        client = redis.Redis.from_url(url, socket_timeout=1)
        pipe = client.pipeline()
        for kind in KINDS:
            pipe.llen(queue_name(prefix, kind))
        return {kind: int(cast(int, n)) for kind, n in zip(KINDS, pipe.execute(), strict=True)}
    except redis.RedisError:
        return {}


def _allowed() -> bool:
    """Prometheus only: the METRICS_TOKEN bearer, or (without one) a loopback client."""
    token = current_app.config["METRICS_TOKEN"]
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(given.encode(), token.encode())
    return (request.remote_addr or "") in ("127.0.0.1", "::1")


def init_app(app: Flask) -> None:
    """Serve `/metrics`: request metrics by endpoint, and the province's figures. Each app
    has its own registry (tests and benchmarks build several apps in one process)."""
    registry = CollectorRegistry()
    metrics = PrometheusMetrics(
        app, registry=registry, group_by="endpoint", path=None, excluded_paths=["/metrics"]
    )
    metrics.info("phananh_app_info", "The application", version="1")
    registry.register(ProvinceCollector(app))
    app.extensions["metrics"] = metrics

    @app.get("/metrics")
    def prometheus_metrics() -> Response:
        if not _allowed():
            abort(404)
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)

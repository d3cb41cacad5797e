"""Counters of the work done outside web requests: Celery tasks and NLU calls.

Tasks run in worker processes (prefork children too) on several machines, and `/metrics` is
served by whichever web process Prometheus asks; the counts must therefore live where all of
them meet. prometheus_client's own multi-process mode shares a directory, which processes on
different machines do not have, so the counts are kept in a Redis hash beside the broker
(`<CELERY_QUEUE>:work-stats`): a few HINCRBY per task, read at scrape time by
`webapp.infra.metrics` and turned into Prometheus counters and a histogram. With a broker
that is not Redis (the embedded default) nothing is recorded. Recording never fails the
work it counts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app

log = logging.getLogger(__name__)

# Upper bounds (seconds) of the NLU latency histogram's buckets; +Inf is implied.
NLU_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def _client(app: Flask) -> Any | None:
    """The Redis client of the broker, made once per app; None when the broker is not Redis."""
    if "work_stats" not in app.extensions:
        url = app.config["CELERY_BROKER_URL"]
        client = None
        if url.startswith(("redis://", "rediss://")):
            import redis

            client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        app.extensions["work_stats"] = client
    return app.extensions["work_stats"]


def _key(app: Flask) -> str:
    return f"{app.config['CELERY_QUEUE']}:work-stats"


def _add(app: Flask, counts: dict[str, int], seconds: dict[str, float]) -> None:
    client = _client(app)
    if client is None:
        return
    try:
        pipe = client.pipeline(transaction=False)
        for field, n in counts.items():
            pipe.hincrby(_key(app), field, n)
        for field, value in seconds.items():
            pipe.hincrbyfloat(_key(app), field, value)
        pipe.execute()
    except Exception as error:  # a metric must never fail the work it counts
        log.debug("work stats not recorded: %s", error)


def record_task(app: Flask, name: str, outcome: str, seconds: float) -> None:
    """One task run: its outcome (success, failure, retry) and how long it took."""
    _add(app, {f"task|{name}|{outcome}": 1}, {f"task_seconds|{name}": seconds})


def record_nlu(outcome: str, seconds: float) -> None:
    """One NLU parse: ok, unavailable (after retries) or error, and its latency."""
    bucket = next((str(b) for b in NLU_BUCKETS if seconds <= b), "+Inf")
    counts = {f"nlu|{outcome}": 1, f"nlu_bucket|{bucket}": 1}
    _add(current_app, counts, {"nlu_seconds": seconds})


@contextmanager
def nlu_call() -> Iterator[None]:
    """Time one NLU parse and count its outcome (the exception, if any, goes on)."""
    from nlu.client import NluUnavailable

    started = time.perf_counter()
    outcome = "error"
    try:
        yield
        outcome = "ok"
    except NluUnavailable:
        outcome = "unavailable"
        raise
    finally:
        record_nlu(outcome, time.perf_counter() - started)


def read(app: Flask) -> dict[str, float]:
    """Every counter recorded so far (empty without Redis or when Redis does not answer)."""
    client = _client(app)
    if client is None:
        return {}
    try:
        raw = client.hgetall(_key(app))
    except Exception as error:  # the scrape reports what it can
        log.warning("work stats not read: %s", error)
        return {}
    return {key.decode(): float(value) for key, value in raw.items()}

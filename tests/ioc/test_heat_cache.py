"""The heatmap's shared cache in Redis: one count per view for every web process, fresh keys for
all of them once the rollup is rebuilt; the map still answers when Redis does not."""

from __future__ import annotations

import uuid

import pytest
import redis

from tests.conftest import REDIS_URL
from tests.factories import ReportFactory
from webapp import create_app
from webapp.extensions import db
from webapp.services.ioc import heatmap
from webapp.services.ioc.queries import ReportFilter
from webapp.services.ioc.rollup.rebuild import rebuild

HAI_CHAU = (16.0700, 108.2246)


@pytest.fixture()
def processes(app, app_config):
    """Two apps on the session database sharing the heatmap cache in Redis (two processes)."""
    prefix = f"phananh-test-heat-{uuid.uuid4().hex[:8]}"
    overrides = {
        **app_config,
        "HEATMAP_CACHE_URL": REDIS_URL,
        "HEATMAP_CACHE_SECONDS": 30,
        "CACHE_CHECK_SECONDS": 0,
        "CELERY_QUEUE": prefix,
    }
    made = [create_app("testing", overrides=overrides) for _ in range(2)]
    app.extensions["celery"].set_default()
    app.extensions["celery"].set_current()
    yield made
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{prefix}:heatmap:*"))
    if keys:
        client.delete(*keys)


def province_total(app) -> int:
    with app.app_context():
        return heatmap.view(ReportFilter(), 9, None)["total"]


def add_report(app) -> None:
    with app.app_context():
        ReportFactory(point=HAI_CHAU, status="assigned")
        db.session.commit()


def test_two_processes_share_one_count_until_it_expires_or_the_rollup_is_rebuilt(processes):
    first, second = processes
    add_report(first)
    assert province_total(first) == 1
    add_report(first)
    assert province_total(second) == 1  # the count the first process made, from Redis
    prefix = first.config["CELERY_QUEUE"]
    client = redis.Redis.from_url(REDIS_URL)
    (key,) = client.scan_iter(f"{prefix}:heatmap:*")
    assert 0 < client.pttl(key) <= 30_000  # gone within HEATMAP_CACHE_SECONDS
    with second.app_context():
        rebuild()
        db.session.commit()
    assert province_total(first) == province_total(second) == 2  # a new version, new keys


def test_without_redis_the_map_counts_anyway(processes, caplog):
    first, _ = processes
    first.config["HEATMAP_CACHE_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    add_report(first)
    assert province_total(first) == 1
    assert "heatmap cache unavailable" in caplog.text

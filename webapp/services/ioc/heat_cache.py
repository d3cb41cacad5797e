"""Heatmap answers shared for HEATMAP_CACHE_SECONDS by every screen asking for the same view.

Wall screens refresh every minute and the public map is open to everyone: counting once per
interval per view, not once per visitor, keeps the database free for intake. Where they are
kept: in each process (the default), or in Redis when HEATMAP_CACHE_URL names one, so that
every web process shares one count per view. A key holds the format of the answer and the
rollup's version (bumped by a rebuild: every process moves to fresh keys at once); any other
change shows everywhere within the cache's lifetime, as each entry expires after it.
HEATMAP_CACHE_SECONDS = 0 turns the cache off.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Flask, current_app

from webapp.services.ioc import rollup

T = TypeVar("T")
FORMAT = 1  # bump when what is cached changes shape
MAX_CACHED_VIEWS = 256  # in-process entries (LRU)
REDIS_TIMEOUT_S = 0.5
log = logging.getLogger(__name__)
_lock = threading.Lock()


def cached(
    key: tuple, compute: Callable[[], T], dump: Callable[[T], Any], load: Callable[[Any], T]
) -> T:
    """The value of `key`, computed at most once per HEATMAP_CACHE_SECONDS (per process, or
    for all through Redis); `dump`/`load` turn it into JSON and back for Redis."""
    ttl = float(current_app.config["HEATMAP_CACHE_SECONDS"])
    if ttl <= 0:
        return compute()
    full = (FORMAT, rollup.version(), key)
    url = current_app.config.get("HEATMAP_CACHE_URL") or ""
    if url:
        return _redis_cached(url, full, ttl, compute, dump, load)
    return _memory_cached(full, ttl, compute)


def _memory_cached(key: tuple, ttl: float, compute: Callable[[], T]) -> T:
    cache: OrderedDict = current_app.extensions.setdefault("heatmap_cache", OrderedDict())
    now = time.monotonic()
    with _lock:
        hit = cache.get(key)
        if hit is not None and hit[0] > now:
            return cast(T, hit[1])
    value = compute()
    with _lock:
        cache[key] = (now + ttl, value)
        cache.move_to_end(key)
        while len(cache) > MAX_CACHED_VIEWS:
            cache.popitem(last=False)
    return value


def _client(url: str) -> Any:
    import redis

    clients = current_app.extensions.setdefault("heatmap_redis", {})
    if url not in clients:
        clients[url] = redis.Redis.from_url(
            url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S
        )
    return clients[url]


def redis_key(app: Flask, key: tuple) -> str:
    """The Redis key of a view: the deployment's prefix, the format and version, a digest."""
    digest = hashlib.sha256(repr(key).encode()).hexdigest()[:32]
    return f"{app.config['CELERY_QUEUE']}:heatmap:{key[0]}:{key[1]}:{digest}"


def _redis_cached(
    url: str,
    key: tuple,
    ttl: float,
    compute: Callable[[], T],
    dump: Callable[[T], Any],
    load: Callable[[Any], T],
) -> T:
    import redis

    name = redis_key(current_app, key)
    client = _client(url)
    try:
        found = client.get(name)
        if found is not None:
            return load(json.loads(found))
    except redis.RedisError as exc:  # the map still answers, from the database
        log.warning("heatmap cache unavailable: %s", exc)
        return compute()
    value = compute()
    try:
        client.set(name, json.dumps(dump(value), separators=(",", ":")), px=int(ttl * 1000))
    except redis.RedisError as exc:
        log.warning("heatmap cache unavailable: %s", exc)
    return value

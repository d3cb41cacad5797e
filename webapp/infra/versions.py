"""In-memory caches that every process keeps current: a version per cache in the database.

A process builds its copy once (`cached`), then checks the version at most every
CACHE_CHECK_SECONDS; whoever changes the data behind it (`flask geo import` on any machine)
calls `bump`, and every process rebuilds at its next check. One primary-key read per
interval, instead of a message bus every process would have to listen to.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import select, update

from webapp.extensions import db
from webapp.infra import bulk
from webapp.models.cache_version import CacheVersion

T = TypeVar("T")
_lock = threading.Lock()


@dataclass
class _Entry:
    value: Any
    version: int
    checked_at: float


def current(name: str) -> int:
    """The cache's version (0 before its first bump)."""
    found = db.session.scalar(select(CacheVersion.version).where(CacheVersion.name == name))
    return int(found or 0)


def bump(name: str) -> None:
    """Mark the data behind `name` changed (in the caller's transaction); this process
    rebuilds at once, the others at their next check."""
    bulk.insert_ignore(CacheVersion, ["name"], {"name": name, "version": 0}, returning="name")
    db.session.execute(
        update(CacheVersion)
        .where(CacheVersion.name == name)
        .values(version=CacheVersion.version + 1)
    )
    current_app.extensions.setdefault("versioned", {}).pop(name, None)


def cached(name: str, build: Callable[[], T]) -> T:
    """This process's copy of `name`, rebuilt when its version has moved on."""
    entries: dict[str, _Entry] = current_app.extensions.setdefault("versioned", {})
    interval = float(current_app.config["CACHE_CHECK_SECONDS"])
    entry = entries.get(name)
    now = time.monotonic()
    if entry is not None and now - entry.checked_at < interval:
        return entry.value
    version = current(name)
    if entry is not None and entry.version == version:
        entry.checked_at = now
        return entry.value
    with _lock:
        entry = entries.get(name)
        if entry is None or entry.version != version:
            entry = _Entry(build(), version, now)
            entries[name] = entry
    return entry.value

"""The report rollup: what the province heatmap and the KPI pages count, kept as they change.

Counting the reports' index on every view grows with the reports (10 million: seconds). The
rollup (webapp/models/rollup.py) holds the same counts summed by key — cell, day, status,
category; agency, category or ward with their outcome — and is kept in step by the session in
the transaction of every write (events.py), rebuilt by `flask ioc rollup-rebuild`
(rebuild.py). The heatmap's province views and the KPI tables read it (heat.py, kpi.py) when
it is built and IOC_ROLLUP is on; other views, and filters it does not hold, read the reports.
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app

from webapp.extensions import db
from webapp.infra import versions
from webapp.services.ioc.rollup import events
from webapp.services.ioc.rollup.keys import HORIZON, MEMO, local_day

# cache_versions row: 0 or missing until the rollup is built; bumped by every rebuild.
MARKER = "report_rollup"


def init_app(app: Flask) -> None:
    """Keep the rollup in step with the reports (session events, installed once)."""
    events.listen()


def version() -> int:
    """The rollup's version in this process (checked every CACHE_CHECK_SECONDS); 0: not built."""
    return versions.cached(MARKER, lambda: versions.current(MARKER))


def in_use() -> bool:
    """Whether views read the rollup: IOC_ROLLUP on and the rollup built."""
    return bool(current_app.config["IOC_ROLLUP"]) and version() > 0


def knows_overdue(now: datetime) -> bool:
    """Whether the rollup's deadline days tell what is overdue at `now`: not before the last
    day a deadline was folded into PAST (a moment in the past, or a clock gone back)."""
    memo = db.session.info.setdefault(MEMO, {})
    if "horizon" not in memo:
        memo["horizon"] = versions.current(HORIZON)
    return local_day(now).toordinal() >= memo["horizon"]

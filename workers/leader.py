"""One scheduler at a time: a beat sends the schedule only while it holds the `beat-leader`
lease (`webapp.infra.heartbeats`). Run two beats (`celery beat -S workers.leader:LeaderScheduler`,
as the Procfile does): one leads, the other waits; when the leader dies its lease runs out
(BEAT_LEASE_SECONDS) and the standby takes over, so the sweep never stops for long and never
runs twice a minute."""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from datetime import timedelta
from typing import Any, cast

from celery.beat import PersistentScheduler
from flask import Flask

from workers.celery_app import FlaskCelery

log = logging.getLogger(__name__)


class LeaderScheduler(PersistentScheduler):
    """Celery's file-backed scheduler, gated by the database lease."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.leading = False
        self.checked_at = 0.0
        super().__init__(*args, **kwargs)

    @property
    def flask_app(self) -> Flask:
        return cast(FlaskCelery, self.app).flask_app

    def _lease_seconds(self) -> float:
        return float(self.flask_app.config["BEAT_LEASE_SECONDS"])

    def lead(self) -> bool:
        """Take or renew the lease, at most every third of its length."""
        ttl = self._lease_seconds()
        if time.monotonic() - self.checked_at < ttl / 3:
            return self.leading
        from webapp.infra import heartbeats

        try:
            with self.flask_app.app_context():
                leading = heartbeats.hold_lease(
                    heartbeats.BEAT_LEADER, self.holder, timedelta(seconds=ttl)
                )
        except Exception:  # no database, no lease: stand by rather than risk two leaders
            log.warning("beat lease not reachable; standing by", exc_info=True)
            leading = False
        if leading != self.leading:
            log.warning("beat %s: %s", self.holder, "leading" if leading else "standing by")
        self.leading, self.checked_at = leading, time.monotonic()
        return leading

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if not self.lead():
            return min(self._lease_seconds() / 3, float(self.max_interval or 300))
        delay = float(super().tick(*args, **kwargs))
        return min(delay, self._lease_seconds() / 3)

    def close(self) -> None:
        if self.leading:
            from webapp.infra import heartbeats

            try:
                with self.flask_app.app_context():
                    heartbeats.release_lease(heartbeats.BEAT_LEADER, self.holder)
            except Exception:
                log.warning("beat lease not released", exc_info=True)
        super().close()

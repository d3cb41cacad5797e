"""The one beat schedule of the project."""

from __future__ import annotations

BEAT_SCHEDULE: dict[str, dict] = {
    "requeue-unclassified": {
        "task": "workers.tasks.requeue_unclassified",
        "schedule": 60.0,
    },
}

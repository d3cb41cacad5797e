"""The one beat schedule of the project."""

from __future__ import annotations

BEAT_SCHEDULE: dict[str, dict] = {
    # Reminders, escalations, re-enqueue of unclassified reports, outbox retries.
    "sweep": {"task": "workers.tasks.sweep", "schedule": 60.0},
    # Webhook events the broker did not take, old handled events, abandoned bot drafts.
    "bot-sweep": {"task": "bot.tasks.sweep", "schedule": 60.0},
}

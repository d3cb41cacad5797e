"""The one beat schedule of the project."""

from __future__ import annotations

from celery.schedules import crontab

BEAT_SCHEDULE: dict[str, dict] = {
    # Reminders, escalations, re-enqueue of unclassified reports, outbox retries.
    "sweep": {"task": "workers.tasks.sweep", "schedule": 60.0},
    # Webhook events the broker did not take, old handled events, abandoned bot drafts.
    "bot-sweep": {"task": "bot.tasks.sweep", "schedule": 60.0},
    # Last week's summary workbook to the provincial leadership (LEADERSHIP_EMAILS), Mondays.
    "weekly-summary": {
        "task": "workers.export_tasks.weekly_summary",
        "schedule": crontab(minute=0, hour=7, day_of_week="mon"),
    },
    # Export files older than EXPORT_KEEP_DAYS, every night.
    "export-cleanup": {
        "task": "workers.export_tasks.purge_exports",
        "schedule": crontab(minute=30, hour=2),
    },
}

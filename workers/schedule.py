"""The one beat schedule of the project."""

from __future__ import annotations

from celery.schedules import crontab

from webapp.infra import task_names as names

BEAT_SCHEDULE: dict[str, dict] = {
    # Reminders, escalations, re-enqueue of unclassified reports, outbox retries.
    "sweep": {"task": names.SWEEP, "schedule": 60.0},
    # Webhook events the broker did not take, old handled events, abandoned bot drafts.
    "bot-sweep": {"task": names.BOT_SWEEP, "schedule": 60.0},
    # Last week's summary workbook to the provincial leadership (LEADERSHIP_EMAILS), Mondays.
    "weekly-summary": {
        "task": names.WEEKLY_SUMMARY,
        "schedule": crontab(minute=0, hour=7, day_of_week="mon"),
    },
    # Export files older than EXPORT_KEEP_DAYS, every night.
    "export-cleanup": {
        "task": names.PURGE_EXPORTS,
        "schedule": crontab(minute=30, hour=2),
    },
    # Residents' identities and original photos past RETENTION_*_MONTHS, every night.
    "privacy-retention": {
        "task": names.PRIVACY_RETENTION,
        "schedule": crontab(minute=45, hour=2),
    },
    # The public open dataset (CSV, GeoJSON) up to yesterday, every night after retention.
    "open-data": {
        "task": names.BUILD_OPEN_DATA,
        "schedule": crontab(minute=15, hour=3),
    },
    # The NLU learning loop: a candidate model when enough corrections arrived, every night.
    "nlu-retrain": {
        "task": names.NLU_RETRAIN,
        "schedule": crontab(minute=30, hour=3),
    },
    # Updates from agencies that work in their own Open311 system, every 5 minutes.
    "agency-sync": {"task": names.AGENCY_SYNC, "schedule": 300.0},
}

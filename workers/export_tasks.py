"""Celery tasks of housekeeping: background export files, the weekly summary e-mail, old files
removed, the nightly personal-data retention run, the nightly open dataset and the NLU's
learning loop."""

from __future__ import annotations

from celery import shared_task

from webapp.infra import task_names as names


@shared_task(name=names.RUN_EXPORT, acks_late=True)
def run_export(job_id: int) -> str:
    """Write the file of one ExportJob; a job already done is left alone."""
    from webapp.services.ioc.exports import jobs

    return jobs.run_job(job_id)


@shared_task(name=names.WEEKLY_SUMMARY)
def weekly_summary() -> int:
    """Mail last week's summary to the leadership; a second run the same week sends nothing."""
    from webapp.services.ioc.exports import weekly

    return weekly.mail_weekly_summary()


@shared_task(name=names.PURGE_EXPORTS)
def purge_exports() -> int:
    """Delete export files past EXPORT_KEEP_DAYS."""
    from webapp.services.ioc.exports import jobs

    return jobs.purge_old_files()


@shared_task(name=names.PRIVACY_RETENTION)
def privacy_retention() -> dict[str, int]:
    """Remove residents' identities and original photos past their retention periods."""
    from dataclasses import asdict

    from webapp.services.privacy import retention

    return asdict(retention.run())


@shared_task(name=names.BUILD_OPEN_DATA)
def build_open_data() -> int:
    """Write the public open dataset (CSV, GeoJSON) of reports up to yesterday; the row count."""
    from webapp.services.ioc import opendata

    return int(opendata.build()["count"])


@shared_task(name=names.NLU_RETRAIN)
def nlu_retrain(force: bool = False) -> str:
    """Train, score and maybe promote a candidate NLU model when enough corrections arrived
    (`force`: an administrator asked, however few)."""
    from webapp.services.nlu_models import retrain

    outcome = retrain.run(force=force)
    return f"{outcome.status}: {outcome.detail}"

"""Celery tasks of exports: background files, the weekly summary e-mail, old files removed."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="workers.export_tasks.run_export", acks_late=True)
def run_export(job_id: int) -> str:
    """Write the file of one ExportJob; a job already done is left alone."""
    from webapp.services.ioc import exports

    return exports.run_job(job_id)


@shared_task(name="workers.export_tasks.weekly_summary")
def weekly_summary() -> int:
    """Mail last week's summary to the leadership; a second run the same week sends nothing."""
    from webapp.services.ioc import exports

    return exports.mail_weekly_summary()


@shared_task(name="workers.export_tasks.purge_exports")
def purge_exports() -> int:
    """Delete export files past EXPORT_KEEP_DAYS."""
    from webapp.services.ioc import exports

    return exports.purge_old_files()

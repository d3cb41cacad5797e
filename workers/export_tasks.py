"""Celery task writing background exports (CSV/Excel of large report lists)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="workers.export_tasks.run_export", acks_late=True)
def run_export(job_id: int) -> str:
    """Write the file of one ExportJob; a job already done is left alone."""
    from webapp.services import exports

    return exports.run_job(job_id)

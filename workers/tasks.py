"""Celery tasks. They take ids, re-read the rows, and are safe to run twice."""

from __future__ import annotations

from celery import shared_task

from webapp.services import classification


@shared_task(name="workers.tasks.classify_report", acks_late=True)
def classify_report(report_id: int) -> str:
    """Classify a report with the NLU and route it to its agency (or to triage)."""
    return classification.classify_and_route(report_id)


@shared_task(name="workers.tasks.requeue_unclassified")
def requeue_unclassified() -> int:
    """Re-enqueue reports still waiting for classification (broker or NLU was down)."""
    return classification.requeue_unclassified()

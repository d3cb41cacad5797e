"""Celery tasks. They take ids, re-read the rows, and are safe to run twice."""

from __future__ import annotations

import time
from datetime import timedelta

from celery import shared_task

from webapp.infra import task_names as names


@shared_task(name=names.CLASSIFY_REPORT, acks_late=True)
def classify_report(report_id: int) -> str:
    """Classify a report with the NLU and route it to its agency (or to triage)."""
    from webapp.services.casework import classification

    return classification.classify_and_route(report_id)


@shared_task(name=names.DELIVER_MESSAGE, acks_late=True)
def deliver_message(message_id: int) -> str:
    """Deliver one outbox message through its channel's sender."""
    from webapp.services.messaging import outbox

    return outbox.deliver(message_id)


@shared_task(name=names.DELIVER_MESSAGES, acks_late=True)
def deliver_messages(message_ids: list[int]) -> dict:
    """Deliver a batch of outbox messages (one task for a burst, e.g. the sweep's)."""
    from webapp.services.messaging import outbox

    results: dict[str, int] = {}
    for message_id in message_ids:
        outcome = outbox.deliver(message_id)
        results[outcome] = results.get(outcome, 0) + 1
    return results


@shared_task(name=names.SWEEP)
def sweep() -> dict:
    """Reminders, escalations, unclassified reports and outbox retries, once a minute at most
    whoever sends it (a second beat, a redelivery); its end is the beat's sign of life."""
    from flask import current_app

    from webapp.infra import heartbeats
    from webapp.services.sla.sweep import run_sweep

    every = timedelta(seconds=current_app.config["SWEEP_MIN_INTERVAL_SECONDS"])
    if not heartbeats.claim_run("sweep-run", every):
        return {"skipped": True}
    started = time.monotonic()
    result = run_sweep()
    outcome = {"reminded": result.reminded, "escalated": result.escalated}
    duration = round(time.monotonic() - started, 3)
    heartbeats.beat(heartbeats.SWEEP, {**outcome, "duration_s": duration})
    return outcome


@shared_task(name=names.AGENCY_SYNC)
def agency_sync() -> dict[str, int]:
    """Pull the updates of agencies that work in their own Open311 system."""
    from webapp.services.partners import delivery

    return delivery.sync_all()

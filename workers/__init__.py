"""Celery workers: classification and routing, deadline sweeps, outbox delivery."""

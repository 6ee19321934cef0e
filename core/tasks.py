"""Celery tasks of the job plumbing. Thin: one call each."""

from __future__ import annotations

from celery import shared_task

from . import jobs


@shared_task(name="core.tasks.reap_stale_jobs", acks_late=True)
def reap_stale_jobs() -> dict[str, dict[str, int]]:
    """Send again lost queued jobs; queue again, or fail, running jobs whose worker died — of
    every kind (Celery beat, every minute)."""
    return jobs.reap()

"""Celery tasks for 督办. Thin: plain arguments, one service call, idempotent (each alert is a
unique row per task, lamp, deadline and recipient)."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.utils import timezone

from . import services


@shared_task(name="duban.tasks.alert_task_lamps", acks_late=True)
def alert_task_lamps(as_of: str | None = None) -> int:
    """Tell lead units and leaders of tasks that turned yellow or red (Celery beat, daily).
    ``as_of`` (ISO date) defaults to today in the portal's time zone. Returns alerts claimed."""
    day = date.fromisoformat(as_of) if as_of else timezone.localdate()
    return services.task_alerts_claim(as_of=day).claimed

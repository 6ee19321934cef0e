"""Celery tasks for supervision. Thin: plain arguments, one service call, idempotent (the
reminder job claims each step with a unique row, so a second run sends nothing twice)."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.utils import timezone

from . import services


@shared_task(name="supervision.tasks.send_reminders", acks_late=True)
def send_reminders(as_of: str | None = None, trigger: str = "beat") -> int:
    """Remind officials before and after deadlines and escalate to reviewers (Celery beat,
    daily). ``as_of`` (ISO date) defaults to today in the portal's time zone."""
    day = date.fromisoformat(as_of) if as_of else timezone.localdate()
    return services.reminders_send(as_of=day, trigger=trigger).id


@shared_task(name="supervision.tasks.run_reminders", acks_late=True)
def run_reminders(run_id: int) -> int | None:
    """A reminder run queued again by the reaper after its worker died."""
    run = services.reminders_run(run_id=run_id)
    return run.id if run else None

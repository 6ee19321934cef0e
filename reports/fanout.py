"""The full recompute split across Celery workers: one part per plan, sent as a Celery group, so
any number of workers share it (no scheduler of our own).

Each part is an ordinary scoped run of :func:`reports.services.progress_recompute` (its own
:class:`ProgressRun`, triggered ``part i/n #parent``); the parent run records the whole. Parts
store side by side: their rows are disjoint (a plan's indicators) and the store step locks per
plan, then rebuilds the dashboards' summaries under one short lock (see reports/services.py).
There is no result backend: the last part to finish closes the parent run, found under a row
lock on the parent so two parts finishing together cannot both (or neither) close it.
"""

from __future__ import annotations

from datetime import date

from celery import group
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from core import jobs
from targets.models import Plan

from .models import ProgressRun

FANOUT = "fanout"


def part_trigger(index: int, parts: int, parent_id: int) -> str:
    return f"part {index}/{parts} #{parent_id}"


def parts_of(parent: ProgressRun):
    return ProgressRun.objects.filter(
        trigger__endswith=f" #{parent.pk}", trigger__startswith="part "
    )


def _plans_by_size() -> list[str]:
    """The plans with indicators, largest first, so the long parts start early."""
    return list(
        Plan.objects.annotate(n=Count("indicators"))
        .filter(n__gt=0)
        .order_by("-n", "code")
        .values_list("code", flat=True)
    )


def start(*, as_of: date | None = None, trigger: str = FANOUT) -> ProgressRun:
    """Create the parent run and send one task per plan (after commit). Returns the parent; it
    stays ``running`` until the last part closes it."""
    as_of = as_of or timezone.localdate()
    plans = _plans_by_size()
    # The parent is bookkeeping, not a job a worker runs: it is running from the start (never
    # queued, so the reaper does not send it) until the last part closes it.
    parent = ProgressRun.objects.create(
        trigger=trigger, as_of=as_of, state=ProgressRun.RUNNING, started_at=timezone.now()
    )
    if not plans:
        close(parent.pk)
        return parent
    # By name (core.jobs): the task module imports this one, so this one does not import it.
    recompute_part = jobs.registered_task("reports.tasks.recompute_part")
    signatures = [
        recompute_part.si(
            plan_code=code,
            as_of=as_of.isoformat(),
            parent_id=parent.pk,
            index=i,
            parts=len(plans),
        )
        for i, code in enumerate(plans, start=1)
    ]

    transaction.on_commit(lambda: group(signatures).apply_async())
    return parent


def close(parent_id: int, parts: int = 0) -> bool:
    """Close the parent run when every part has finished; ``True`` when this call closed it."""
    with transaction.atomic():
        parent = ProgressRun.objects.select_for_update().get(pk=parent_id)
        if parent.state != ProgressRun.RUNNING:
            return False
        finished = parts_of(parent).exclude(state=ProgressRun.RUNNING)
        if finished.count() < parts:
            return False
        totals = finished.aggregate(
            rows=Sum("rows_written"), values=Sum("values_read"), indicators=Sum("indicators_count")
        )
        failed = list(finished.filter(state=ProgressRun.FAILED).values_list("trigger", "error")[:5])
        parent.state = ProgressRun.FAILED if failed else ProgressRun.SUCCEEDED
        parent.error = "\n".join(f"{t}: {e}" for t, e in failed)[:4000]
        parent.rows_written = totals["rows"] or 0
        parent.values_read = totals["values"] or 0
        parent.indicators_count = totals["indicators"] or 0
        parent.finished_at = timezone.now()
        parent.duration_ms = int((parent.finished_at - parent.started_at).total_seconds() * 1000)
        parent.save()
        return True

"""Celery tasks for progress. Thin: take plain ids/codes, call the service, idempotent (a
recompute replaces the rows of its scope, so running one twice changes nothing)."""

from __future__ import annotations

from datetime import date

from celery import shared_task

from . import services


@shared_task(name="reports.tasks.recompute_progress", acks_late=True)
def recompute_progress(
    *,
    plan_code: str = "",
    indicator_codes: list[str] | None = None,
    unit_codes: list[str] | None = None,
    as_of: str | None = None,
    trigger: str = "task",
) -> int:
    run = services.progress_recompute(
        as_of=date.fromisoformat(as_of) if as_of else None,
        scope=services.Scope(
            plan_code=plan_code,
            indicator_codes=tuple(indicator_codes or ()),
            unit_codes=tuple(unit_codes or ()),
        ),
        trigger=trigger,
    )
    return run.id


@shared_task(name="reports.tasks.recompute_all_progress", acks_late=True)
def recompute_all_progress() -> int:
    """The nightly full recompute (Celery beat): catches anything an incremental run missed."""
    return services.progress_recompute(trigger="nightly").id

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


@shared_task(name="reports.tasks.recompute_progress_fanout", acks_late=True)
def recompute_progress_fanout(*, as_of: str | None = None) -> int:
    """The full recompute split into one task per plan across the workers (reports.fanout)."""
    from . import fanout

    return fanout.start(as_of=date.fromisoformat(as_of) if as_of else None).id


@shared_task(name="reports.tasks.recompute_part", acks_late=True)
def recompute_part(
    *, plan_code: str, as_of: str, parent_id: int, index: int, parts: int
) -> int | None:
    """One plan of a split full recompute; the last part to finish closes the parent run."""
    from . import fanout

    try:
        run = services.progress_recompute(
            as_of=date.fromisoformat(as_of),
            scope=services.Scope(plan_code=plan_code),
            trigger=fanout.part_trigger(index, parts, parent_id),
        )
    finally:
        fanout.close(parent_id, parts)
    return run.id

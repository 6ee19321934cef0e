"""Celery tasks for progress and report packs (found by autodiscovery). Thin: take plain ids or
codes, call the service, idempotent (a job row is claimed by one worker; a recompute replaces
the rows of its scope, so running one twice changes nothing)."""

from __future__ import annotations

from datetime import date

from celery import shared_task

from . import fanout, packs, services


@shared_task(name="reports.tasks.run_progress", acks_late=True)
def run_progress(run_id: int) -> int | None:
    """A queued recompute (its scope is on the ``ProgressRun`` row, see reports.triggers)."""
    run = services.progress_run(run_id=run_id)
    return run.id if run else None


@shared_task(name="reports.tasks.recompute_progress", acks_late=True)
def recompute_progress(
    *,
    plan_code: str = "",
    indicator_codes: list[str] | None = None,
    unit_codes: list[str] | None = None,
    as_of: str | None = None,
    trigger: str = "task",
) -> int:
    """A recompute of a scope given by hand (the jobs the portal enqueues use run_progress)."""
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


@shared_task(name="reports.build_report_pack", acks_late=True)
def build_report_pack(pack_id: int) -> bool:
    """Build one report pack (safe to run twice, see reports.packs.report_pack_build)."""
    return packs.report_pack_build(pack_id=pack_id)


@shared_task(name="reports.tasks.recompute_progress_fanout", acks_late=True)
def recompute_progress_fanout(*, as_of: str | None = None) -> int:
    """The full recompute split into one task per plan across the workers (reports.fanout)."""
    return fanout.start(as_of=date.fromisoformat(as_of) if as_of else None).id


@shared_task(name="reports.tasks.recompute_part", acks_late=True)
def recompute_part(
    *, plan_code: str, as_of: str, parent_id: int, index: int, parts: int
) -> int | None:
    """One plan of a split full recompute; the last part to finish closes the parent run."""
    try:
        run = services.progress_recompute(
            as_of=date.fromisoformat(as_of),
            scope=services.Scope(plan_code=plan_code),
            trigger=fanout.part_trigger(index, parts, parent_id),
        )
    finally:
        fanout.close(parent_id, parts)
    return run.id

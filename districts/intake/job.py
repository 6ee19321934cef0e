"""The life of an upload job (:class:`~districts.models.UploadJob`, a :class:`core.models.Job`):
queued, claimed by one worker, beating while it runs, finished (succeeded or failed), or found
abandoned by the reaper (:func:`core.jobs.reap`, one for every job kind) and queued again.
Everything that touches the job row's state lives here, on the job base's claim, heartbeat,
finish and fail; what is particular to uploads is the page's message and :func:`salvage`.
"""

from __future__ import annotations

import logging
import time

from django.db.models import Count, Q

from core import jobs

from ..models import DataValueChange, UploadJob
from ..signals import announce_approved_values_changed

log = logging.getLogger("districts.intake")

PROCESS_TASK = UploadJob.TASK_NAME
# An approved upload touching more units than this recomputes the affected indicators for every
# unit rather than listing the units.
INCREMENTAL_UNITS_LIMIT = 500


def enqueue(job_id: int) -> None:
    """Send the job to a worker once the transaction that queued it commits (core.jobs: by the
    task's name; an unreachable broker leaves it queued, saying so, until the reaper sends it)."""
    jobs.enqueue(UploadJob, job_id)


def crashed(job: UploadJob, exc: BaseException) -> None:
    """The processing raised: a failure must never vanish, it is on the job row."""
    error = f"{type(exc).__name__}: {exc}"
    job.fail(error, message=f"处理失败（processing failed）：{error}"[:2000])


def recompute_progress(*, element_codes: set[str], unit_codes: set[str], trigger: str = "upload"):
    """Official progress counts approved values: recompute what an approved upload fed, after
    commit (for every unit when it touched too many to list)."""
    announce_approved_values_changed(
        element_codes=element_codes,
        unit_codes=unit_codes if len(unit_codes) <= INCREMENTAL_UNITS_LIMIT else set(),
        trigger=trigger,
    )


def claim(job_id: int) -> UploadJob | None:
    """Take a queued job, or a running one abandoned by a dead worker (no heartbeat for
    settings.UPLOAD_STALE_AFTER) that has claims left — a message redelivered after its worker
    was killed (``Job.claim``: one conditional UPDATE, so two workers never process one file)."""
    return UploadJob.claim(job_id, percent=1)


def progress(job: UploadJob, percent: int, **fields) -> None:
    """The page's percent and step; a beat too."""
    job.heartbeat(percent=min(percent, 100), **fields)


def heartbeat(job: UploadJob):
    """Beat every UPLOAD_STALE_AFTER / 10 seconds while the block runs, from a thread of its own:
    the write is one long transaction on the worker's connection, where a beat would stay
    invisible until the commit (``core.jobs.heartbeat``)."""
    return jobs.heartbeat(job)


def reap_stale(*, stale_after: float | None = None) -> dict[str, int]:
    """The reaper's pass over uploads (Celery beat runs it over every kind): queue again those
    running without a heartbeat for ``stale_after`` seconds (settings.UPLOAD_STALE_AFTER), or
    fail them once they have been claimed settings.UPLOAD_MAX_ATTEMPTS times, or finish those
    whose write had committed (:func:`salvage`); send again queued ones the broker never got.
    Returns how many were requeued, failed and finished."""
    done = jobs.reap(models=[UploadJob], stale_after=stale_after)[UploadJob._meta.label_lower]
    return {key: done[key] for key in ("requeued", "failed", "finished")}


def salvage(job_id: int, still, now) -> int | None:
    """Nothing of a dead worker's upload was written — the write is one transaction, which
    PostgreSQL rolls back when the worker's connection goes — unless the write had committed
    just before it died: then the job succeeded, with the counts of the history it wrote (the
    file's warnings are not kept). None when nothing was written (the reaper requeues or
    fails it)."""
    changes = DataValueChange.objects.filter(upload_id=job_id)
    if not changes.exists():
        return None
    counts = changes.aggregate(
        created=Count("pk", filter=Q(action="create")),
        updated=Count("pk", filter=Q(action="update")),
    )
    created, updated = counts["created"], counts["updated"]
    finished = still.update(
        state=UploadJob.SUCCEEDED,
        percent=100,
        finished_at=now,
        created_count=created,
        updated_count=updated,
        message=f"已导入：新增 {created}，修改 {updated}（处理结束前中断）"
        f"（imported: {created} new, {updated} changed; the worker stopped before finishing）",
    )
    approve = UploadJob.objects.filter(pk=job_id).values_list("approve", flat=True).first()
    if finished and approve and (created or updated):
        recompute_progress(
            element_codes=set(changes.values_list("element_code", flat=True).distinct()),
            unit_codes=set(changes.values_list("org_unit_code", flat=True).distinct()),
        )
    return finished


def succeed(
    job: UploadJob,
    rows_total: int,
    counts: tuple[int, int, int],
    warnings,
    warnings_total: int,
    keys: dict[str, set] | None,
    started: float,
    compared_with_stored: bool,
    skipped: int = 0,
) -> UploadJob:
    message = (
        f"已导入：新增 {counts[0]}，修改 {counts[1]}，未变 {counts[2]}"
        f"（imported: {counts[0]} new, {counts[1]} changed, {counts[2]} unchanged）"
        + (
            ""
            if compared_with_stored
            else "；离群值只在文件内比较（outliers checked within the file only）"
        )
        + (
            f"；跳过 {skipped} 行没有数值的行（{skipped} rows without a value skipped）"
            if skipped
            else ""
        )
        + (
            f"；另有 {warnings_total - len(warnings)} 条提示未列出"
            f"（{warnings_total - len(warnings)} more warnings not listed）"
            if warnings_total > len(warnings)
            else ""
        )
    )
    finished = job.finish(
        percent=100,
        total_rows=rows_total,
        created_count=counts[0],
        updated_count=counts[1],
        unchanged_count=counts[2],
        warnings=[w.as_dict() for w in warnings],
        message=message,
    )
    # A job the reaper took back meanwhile is finished by its salvage, which recomputes.
    if finished and keys is not None and (counts[0] or counts[1]):
        recompute_progress(element_codes=keys["elements"], unit_codes=keys["units"])
    log.info("upload %s: %s rows in %.2fs", job.pk, rows_total, time.perf_counter() - started)
    return job


def fail(job, message, errors, errors_total, rows_total, warnings=()) -> UploadJob:
    """The job failed with the file's errors (nothing was written)."""
    job.fail(
        message,
        percent=100,
        message=message,
        errors=[e.as_dict() for e in errors],
        error_count=errors_total or len(errors),
        total_rows=rows_total,
        warnings=[w.as_dict() for w in warnings],
    )
    return job

"""The life of an upload job (:class:`~districts.models.UploadJob`): queued, claimed by one
worker, beating while it runs, finished (succeeded or failed), or found abandoned by the reaper
and queued again. Everything that touches the job row's state lives here, so the upload can move
to a shared job base by swapping this one module.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

from celery import signature
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from reports.triggers import progress_recompute_for_keys

from ..models import DataValueChange, UploadJob

log = logging.getLogger("districts.intake")

PROCESS_TASK = "districts.tasks.process_upload"
# An approved upload touching more units than this recomputes the affected indicators for every
# unit rather than listing the units.
INCREMENTAL_UNITS_LIMIT = 500


def enqueue(job_id: int) -> None:
    """Send the job to a worker once the transaction that queued it commits. By the task's name:
    the task (:mod:`districts.intake.tasks`) runs the pipeline, which uses this module."""
    transaction.on_commit(lambda: signature(PROCESS_TASK, args=(job_id,)).delay())


def crashed(job: UploadJob, exc: BaseException) -> None:
    """The processing raised: a failure must never vanish, it is on the job row."""
    UploadJob.objects.filter(pk=job.pk).update(
        state=UploadJob.FAILED,
        finished_at=timezone.now(),
        message=f"处理失败（processing failed）：{type(exc).__name__}: {exc}"[:2000],
    )


def recompute_progress(*, element_codes: set[str], unit_codes: set[str], trigger: str = "upload"):
    """Official progress counts approved values: recompute what an approved upload fed, after
    commit (for every unit when it touched too many to list)."""
    progress_recompute_for_keys(
        element_codes=element_codes,
        unit_codes=unit_codes if len(unit_codes) <= INCREMENTAL_UNITS_LIMIT else set(),
        trigger=trigger,
    )


def _abandoned(cutoff) -> Q:
    """Running uploads whose worker has given no sign of life since ``cutoff`` (one claimed
    before heartbeats existed counts from its start)."""
    return Q(state=UploadJob.RUNNING) & (
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )


def claim(job_id: int) -> UploadJob | None:
    """Take a queued job, or a running one abandoned by a dead worker (no heartbeat for
    settings.UPLOAD_STALE_AFTER) that has claims left — a message redelivered after its worker
    was killed. One conditional UPDATE: of two workers racing for a job the second finds the
    row changed and updates nothing, so two never process one file at the same time."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.UPLOAD_STALE_AFTER)
    claimable = Q(state=UploadJob.QUEUED) | (
        _abandoned(cutoff) & Q(attempts__lt=settings.UPLOAD_MAX_ATTEMPTS)
    )
    claimed = UploadJob.objects.filter(claimable, pk=job_id).update(
        state=UploadJob.RUNNING,
        started_at=now,
        heartbeat_at=now,
        percent=1,
        attempts=F("attempts") + 1,
    )
    return UploadJob.objects.select_related("created_by").get(pk=job_id) if claimed else None


def progress(job: UploadJob, percent: int, **fields) -> None:
    UploadJob.objects.filter(pk=job.pk).update(
        percent=min(percent, 100), heartbeat_at=timezone.now(), **fields
    )


@contextmanager
def heartbeat(job: UploadJob):
    """Beat on the job row every UPLOAD_STALE_AFTER / 10 seconds while the block runs.

    The beats come from a thread with its own database connection, not only with the progress:
    the write phase is one long transaction on the worker's connection, where a beat would stay
    invisible until the commit. (Making the stale threshold cover the longest write instead
    would keep the official of a killed worker waiting as long as the largest file takes.) The
    thread dies with its process, so a killed worker stops beating.
    """
    if connection.vendor != "postgresql":
        # SQLite (the quick start: uploads in-process, no reaper) has one writer at a time;
        # there the progress is the only beat.
        yield
        return
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(max(settings.UPLOAD_STALE_AFTER / 10, 1)):
                try:
                    alive = UploadJob.objects.filter(
                        pk=job.pk, state=UploadJob.RUNNING, attempts=job.attempts
                    ).update(heartbeat_at=timezone.now())
                except Exception:  # a missed beat is tried again; nine in a row are tolerated
                    log.warning("upload %s: heartbeat failed", job.pk, exc_info=True)
                    connection.close()
                    continue
                if not alive:  # finished, or reaped and claimed again meanwhile
                    return
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"upload-{job.pk}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def reap_stale(*, stale_after: float | None = None) -> dict[str, int]:
    """Uploads whose worker died mid-way (killed, out of memory, host lost) stay RUNNING: queue
    those without a heartbeat for ``stale_after`` seconds (settings.UPLOAD_STALE_AFTER) again,
    or fail them once they have been claimed settings.UPLOAD_MAX_ATTEMPTS times.

    Nothing of theirs was written: the write is one transaction, which PostgreSQL rolls back
    when the dead worker's connection goes. One whose write had committed just before its
    worker died is finished from the history it wrote instead. Every change is a conditional
    UPDATE on what was read, so a job that beats or is claimed meanwhile is left alone. Celery
    beat runs this every minute; returns how many were requeued, failed and finished.
    """
    now = timezone.now()
    cutoff = now - timedelta(
        seconds=settings.UPLOAD_STALE_AFTER if stale_after is None else stale_after
    )
    limit = settings.UPLOAD_MAX_ATTEMPTS
    done = {"requeued": 0, "failed": 0, "finished": 0}
    stale = UploadJob.objects.filter(_abandoned(cutoff)).values_list("pk", "attempts", "approve")
    for job_id, attempts, approve in stale:
        still = UploadJob.objects.filter(_abandoned(cutoff), pk=job_id, attempts=attempts)
        if DataValueChange.objects.filter(upload_id=job_id).exists():
            done["finished"] += _finish_written(still, job_id, approve, now)
        elif attempts < limit:
            requeued = still.update(
                state=UploadJob.QUEUED,
                percent=0,
                heartbeat_at=None,
                message=f"处理中断，正在重试（第 {attempts + 1} 次，共 {limit} 次）"
                f"（the worker stopped: retrying, attempt {attempts + 1} of {limit}）",
            )
            if requeued:
                enqueue(job_id)
            done["requeued"] += requeued
        else:
            done["failed"] += still.update(
                state=UploadJob.FAILED,
                percent=100,
                finished_at=now,
                message=f"处理中断，已尝试 {attempts} 次，未导入任何数据，请重新上传"
                f"（the worker stopped {attempts} times: nothing was written, upload again）",
            )
    if any(done.values()):
        log.warning("stale uploads: %s", done)
    return done


def _finish_written(still, job_id: int, approve: bool, now) -> int:
    """The worker died after its write committed but before it marked the job: the job
    succeeded, with the counts of the history it wrote (the file's warnings are not kept)."""
    changes = DataValueChange.objects.filter(upload_id=job_id)
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
) -> UploadJob:
    job.state = UploadJob.SUCCEEDED
    job.percent = 100
    job.total_rows = rows_total
    job.created_count, job.updated_count, job.unchanged_count = counts
    job.warnings = [w.as_dict() for w in warnings]
    job.message = (
        f"已导入：新增 {counts[0]}，修改 {counts[1]}，未变 {counts[2]}"
        f"（imported: {counts[0]} new, {counts[1]} changed, {counts[2]} unchanged）"
        + (
            ""
            if compared_with_stored
            else "；离群值只在文件内比较（outliers checked within the file only）"
        )
        + (
            f"；另有 {warnings_total - len(warnings)} 条提示未列出"
            f"（{warnings_total - len(warnings)} more warnings not listed）"
            if warnings_total > len(warnings)
            else ""
        )
    )
    job.finished_at = timezone.now()
    job.save()
    if keys is not None and (counts[0] or counts[1]):
        recompute_progress(element_codes=keys["elements"], unit_codes=keys["units"])
    log.info("upload %s: %s rows in %.2fs", job.pk, rows_total, time.perf_counter() - started)
    return job


def fail(job, message, errors, errors_total, rows_total, warnings=()) -> UploadJob:
    """The job failed with the file's errors (nothing was written)."""
    job.state = UploadJob.FAILED
    job.percent = 100
    job.message = message
    job.errors = [e.as_dict() for e in errors]
    job.error_count = errors_total or len(errors)
    job.total_rows = rows_total
    job.warnings = [w.as_dict() for w in warnings]
    job.finished_at = timezone.now()
    job.save()
    return job

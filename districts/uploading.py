"""Data-values uploads (SPEC §4.3): from a stored file to written values, all or nothing.

The pure validator (:mod:`districts.uploads`) reads the file in chunks; valid rows are spooled
to a temporary file in PostgreSQL's COPY text format, so memory stays flat whatever the file
size and no transaction is open while parsing (the job row's percent stays visible to the page
that polls it). Only when the whole file is valid is it written, in one transaction: COPY into
a temporary table, then one INSERT … ON CONFLICT for the values that change and one INSERT for
their history. Unchanged rows are not touched, so re-importing a file changes nothing.
Other databases (the SQLite quick start) take the same rows through the ORM.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from core.exporting import safe_cell
from core.numbers import shown_number
from core.periods import Period
from core.text import bilingual
from targets.models import DataElement

from . import scopes, upload_checks
from .models import DataValue, DataValueChange, OrgUnit, UploadJob
from .tabular import RowError, TabularError
from .uploads import MAX_ERRORS, ValuesValidator, element_rule, errors_to_csv

log = logging.getLogger(__name__)

# Above this many stored values in the uploader's scope, outliers are checked within the file
# only: loading every stored value of a whole city to compare would cost more than the upload.
EXISTING_VALUES_LIMIT = 500_000
# An approved upload touching more units than this recomputes the affected indicators for every
# unit rather than listing the units.
INCREMENTAL_UNITS_LIMIT = 500


def can_approve_uploads(user) -> bool:
    return scopes.is_admin(user) or scopes.scope_paths(user, scopes.REVIEW) != []


def upload_create(
    *, actor, uploaded_file, approve: bool = False, source: str = "upload"
) -> UploadJob:
    """Store the file, create the job row and enqueue processing after commit."""
    if not (actor and actor.is_authenticated):
        raise PermissionDenied("请先登录（sign in first）")
    if approve and not can_approve_uploads(actor):
        raise PermissionDenied(
            "只有管理员和审核员可以直接审核上传的数值（only administrators and reviewers may approve）"
        )
    if scopes.scope_paths(actor, scopes.WRITE) == [] and not approve:
        raise PermissionDenied("您没有填报权限（you have no unit to report for）")
    name = os.path.basename(getattr(uploaded_file, "name", "") or "upload.csv")
    job = UploadJob(original_name=name[:255], created_by=actor, approve=approve, source=source)
    job.file.save(name, uploaded_file, save=False)
    job.save()
    from .tasks import process_upload

    transaction.on_commit(lambda: process_upload.delay(job.id))
    return job


def _reviews_every_unit_of(user, job: UploadJob) -> bool:
    """Whether ``user`` reviews every unit the upload wrote (and it wrote something)."""
    if not scopes.scope_paths(user, scopes.REVIEW):
        return False
    written = DataValueChange.objects.filter(upload=job)
    outside = written.exclude(
        org_unit_code__in=scopes.units_in_scope(user, scopes.REVIEW).values("code")
    )
    return written.exists() and not outside.exists()


def upload_visible_to(user, job: UploadJob) -> bool:
    """An upload is seen by its creator, administrators, and reviewers of every unit it wrote
    (a reviewer in one city never sees an upload that touched another)."""
    if not (user and user.is_authenticated):
        return False
    if scopes.is_admin(user) or job.created_by_id == user.id:
        return True
    return _reviews_every_unit_of(user, job)


def upload_can_rollback(user, job: UploadJob) -> bool:
    """The same people may undo it: the creator, administrators, reviewers of all its units."""
    return upload_visible_to(user, job)


def upload_errors_csv(job: UploadJob) -> bytes:
    errors = [RowError(**e) for e in job.errors]
    return errors_to_csv(errors, total=job.error_count)


def _abandoned(cutoff) -> Q:
    """Running uploads whose worker has given no sign of life since ``cutoff`` (one claimed
    before heartbeats existed counts from its start)."""
    return Q(state=UploadJob.RUNNING) & (
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )


def _claim(job_id: int) -> UploadJob | None:
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


def _progress(job: UploadJob, percent: int, **fields) -> None:
    UploadJob.objects.filter(pk=job.pk).update(
        percent=min(percent, 100), heartbeat_at=timezone.now(), **fields
    )


@contextmanager
def _heartbeat(job: UploadJob):
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


def upload_reap_stale(*, stale_after: float | None = None) -> dict[str, int]:
    """Uploads whose worker died mid-way (killed, out of memory, host lost) stay RUNNING: queue
    those without a heartbeat for ``stale_after`` seconds (settings.UPLOAD_STALE_AFTER) again,
    or fail them once they have been claimed settings.UPLOAD_MAX_ATTEMPTS times.

    Nothing of theirs was written: the write is one transaction, which PostgreSQL rolls back
    when the dead worker's connection goes. One whose write had committed just before its
    worker died is finished from the history it wrote instead. Every change is a conditional
    UPDATE on what was read, so a job that beats or is claimed meanwhile is left alone. Celery
    beat runs this every minute; returns how many were requeued, failed and finished.
    """
    from .tasks import process_upload

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
                transaction.on_commit(lambda job_id=job_id: process_upload.delay(job_id))
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
        from reports.triggers import progress_recompute_for_keys

        units = set(changes.values_list("org_unit_code", flat=True).distinct())
        progress_recompute_for_keys(
            element_codes=set(changes.values_list("element_code", flat=True).distinct()),
            unit_codes=units if len(units) <= INCREMENTAL_UNITS_LIMIT else set(),
            trigger="upload",
        )
    return finished


def upload_process(*, job_id: int) -> UploadJob:
    """Validate and write one upload; idempotent (a job that is neither queued nor abandoned by
    a dead worker is skipped)."""
    job = _claim(job_id)
    if job is None:
        return UploadJob.objects.get(pk=job_id)
    started = time.perf_counter()
    try:
        with _heartbeat(job):
            return _process(job, started)
    except Exception as exc:  # a failure must never vanish: it is on the job row
        log.exception("upload %s failed", job_id)
        UploadJob.objects.filter(pk=job.pk).update(
            state=UploadJob.FAILED,
            finished_at=timezone.now(),
            message=f"处理失败（processing failed）：{type(exc).__name__}: {exc}"[:2000],
        )
        raise


def _is_system(actor) -> bool:
    """``import_values`` without ``--user`` acts as the administrator (no user row)."""
    return actor is None


def _lookups(actor, approve: bool, in_database: bool):
    elements = {e.code: element_rule(e) for e in DataElement.objects.select_related("not_above")}
    org_units = dict(OrgUnit.objects.values_list("code", "id"))
    paths = (
        None
        if _is_system(actor)
        else scopes.scope_paths(actor, scopes.REVIEW if approve else scopes.WRITE)
    )
    if approve and paths is not None:
        # A reviewer approving an upload writes within their review scope.
        scope = scopes.codes_in_scope(actor, scopes.REVIEW)
    else:
        scope = None if paths is None else scopes.codes_in_scope(actor, scopes.WRITE)
    stored = DataValue.objects.all()
    if scope is not None and not _is_system(actor):
        stored = scopes.filter_in_scope(stored, actor, scopes.REVIEW if approve else scopes.WRITE)
    existing = None
    if in_database:
        # Compared in the database, with every stored value (districts.upload_checks).
        return elements, org_units, scope, existing
    if stored.count() <= EXISTING_VALUES_LIMIT:
        existing = {
            (e, u, p): v
            for e, u, p, v in stored.values_list(
                "element__code", "org_unit__code", "period", "value"
            )
        }
    return elements, org_units, scope, existing


def _process(job: UploadJob, started: float) -> UploadJob:
    actor = job.created_by
    # On PostgreSQL the rows are compared with each other and with stored values where they
    # are staged (districts.upload_checks), so the validator remembers nothing per row.
    in_database = connection.vendor == "postgresql"
    elements, org_units, scope, existing = _lookups(actor, job.approve, in_database)
    validator = ValuesValidator(
        elements=elements,
        org_units=org_units,
        scope=scope,
        existing=existing,
        cross_row=not in_database,
    )
    no_outliers = {rule.id for rule in elements.values() if rule.value_type == "boolean"}
    previous_periods: dict[str, str] = {}
    size = max(job.file.size, 1)
    spool = tempfile.TemporaryFile(mode="w+", encoding="utf-8", newline="\n")
    # Which elements and units an approved upload touched, for the progress recompute.
    keys: dict[str, set] | None = {"elements": set(), "units": set()} if job.approve else None
    periods: set[str] = set()
    # The page shows the percent and, while the job runs, the step it is at. Reading takes
    # about a fifth of a big upload, the checks against stored values a fifth, the write the
    # rest (bench/ingest.py), and the write is one transaction nobody sees into: the percent
    # stands at WRITING until it commits.
    _progress(job, 1, message=_READING)
    try:
        with job.file.open("rb") as raw:
            try:
                for chunk in validator.chunks(raw):
                    # Valid rows are spooled even once errors are found: the check against
                    # approved values below runs on them, so every problem is reported at once.
                    keep_comments = "comment" not in validator.report.columns
                    _spool(
                        spool, chunk, periods, keys, keep_comments, previous_periods, no_outliers
                    )
                    _progress(
                        job,
                        1 + int((COMPARING - 1) * raw.tell() / size),
                        total_rows=validator.report.rows_total,
                    )
            except TabularError as exc:
                return _finish_failed(job, str(exc), [], 0, 0)
        report = validator.report
        log.info("upload %s: read and checked in %.2fs", job.pk, time.perf_counter() - started)
        _progress(job, COMPARING, message=_COMPARING)
        spool.seek(0)
        with _staged(spool, _period_dates(periods)) as stage:
            if in_database:
                found = upload_checks.staged_checks(labels=report.columns)
                report.merge_errors(found.errors, found.errors_total)
                report.warnings, report.warnings_total = found.warnings, found.warnings_total
            if not job.approve:
                label = report.columns.get("value", "value")
                conflicts, conflicts_total = _approved_conflicts(stage, label)
                report.merge_errors(conflicts, conflicts_total)
            if not report.ok:
                return _finish_failed(
                    job,
                    f"文件有 {report.errors_total} 处错误，未导入任何数据"
                    f"（{report.errors_total} errors: nothing was written）",
                    report.errors,
                    report.errors_total,
                    report.rows_total,
                    warnings=report.warnings,
                )
            _progress(job, WRITING, message=_writing(report.rows_total))
            try:
                counts = _write(job, stage, report.rows_total)
            except ValidationError as exc:
                # Found only while writing (approved or entered meanwhile): the job fails
                # cleanly.
                return _finish_failed(job, "；".join(exc.messages), [], 0, report.rows_total)
    finally:
        spool.close()
    return _finish_succeeded(
        job,
        report.rows_total,
        counts,
        report.warnings,
        report.warnings_total,
        keys,
        started,
        in_database or existing is not None,
    )


COMPARING = 35
WRITING = 50
_READING = bilingual("正在读取并检查文件", "reading and checking the file")
_COMPARING = bilingual("正在与已有数据比对", "comparing with the stored values")


def _writing(rows: int) -> str:
    return bilingual(
        f"正在写入 {rows} 行，完成前不会有任何数据生效",
        f"writing {rows} rows: nothing counts until all are in",
    )


def _finish_succeeded(
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
        from reports.triggers import progress_recompute_for_keys

        units = keys["units"] if len(keys["units"]) <= INCREMENTAL_UNITS_LIMIT else set()
        progress_recompute_for_keys(
            element_codes=keys["elements"], unit_codes=units, trigger="upload"
        )
    log.info("upload %s: %s rows in %.2fs", job.pk, rows_total, time.perf_counter() - started)
    return job


def _finish_failed(job, message, errors, errors_total, rows_total, warnings=()) -> UploadJob:
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


def _copy_text(text: str) -> str:
    """Escape a text field for COPY's text format."""
    if not text:
        return ""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _spool(
    spool,
    chunk,
    periods: set[str],
    keys: dict[str, set] | None,
    keep_comments: bool,
    previous_periods: dict[str, str],
    no_outliers: set[int],
) -> None:
    """Append valid rows to the spool in COPY text format: element id, unit id, period, value,
    comment, line, previous period (NULL where no outlier is looked for). Period dates are not
    repeated on every row: they join in from a small table. A file without a comment column
    leaves stored comments as they are: its rows carry NULL (``\\N``), not an empty comment.
    This runs once per row of the file, so it is one comprehension and no calls per row."""
    in_chunk = {row[2] for row in chunk}
    periods.update(in_chunk)
    for period in in_chunk - previous_periods.keys():
        previous_periods[period] = str(Period.parse(period).previous())
    if keys is not None:
        keys["elements"].update({row[0] for row in chunk})
        keys["units"].update({row[1] for row in chunk})
    previous = previous_periods
    null = "\\N"  # COPY's NULL
    if keep_comments:
        spool.writelines(
            [
                f"{e_id}\t{u_id}\t{period}\t{value}\t{null}\t{line}\t"
                f"{null if e_id in no_outliers else previous[period]}\n"
                for _e, _u, period, value, _comment, line, e_id, u_id in chunk
            ]
        )
        return
    escape = _copy_text
    spool.writelines(
        [
            f"{e_id}\t{u_id}\t{period}\t{value}\t{escape(comment) if comment else ''}\t{line}\t"
            f"{null if e_id in no_outliers else previous[period]}\n"
            for _e, _u, period, value, comment, line, e_id, u_id in chunk
        ]
    )


def _period_dates(periods: set[str]) -> dict[str, tuple[date, date]]:
    return {p: (Period.parse(p).start, Period.parse(p).end) for p in periods}


def _drop_upload_tables(cursor) -> None:
    cursor.execute("DROP TABLE IF EXISTS upload_rows, upload_periods, upload_repeats")


@dataclass
class _Stage:
    """The valid rows of a file, where the checks against stored values and the write read
    them: on PostgreSQL the session's temporary tables ``upload_rows`` and ``upload_periods``;
    elsewhere (the SQLite quick start) the spool itself."""

    spool: object
    periods: dict[str, tuple[date, date]]
    on_postgresql: bool

    def lines(self):
        """The spooled rows (ORM path): (element id, unit id, period, value, comment or None
        for "keep the stored one", line)."""
        self.spool.seek(0)
        for text in self.spool:
            e_id, u_id, period, value, comment, line, _previous = text.rstrip("\n").split("\t")
            yield (
                int(e_id),
                int(u_id),
                period,
                Decimal(value),
                None if comment == "\\N" else _uncopy_text(comment),
                int(line),
            )


@contextmanager
def _staged(spool, periods: dict[str, tuple[date, date]]):
    """COPY the spool into the session's own temporary tables (PostgreSQL): nobody else sees
    them, and a worker that dies takes them with its connection. Dropped on the way out."""
    stage = _Stage(spool, periods, connection.vendor == "postgresql")
    if not stage.on_postgresql:
        yield stage
        return
    with connection.cursor() as cursor:
        _drop_upload_tables(cursor)
        cursor.execute(
            "CREATE TEMP TABLE upload_rows (element_id bigint, org_unit_id bigint, "
            "period varchar(10), value numeric(20, 6), comment text, line integer, "
            "prev_period varchar(10))"
        )
        cursor.cursor.copy_expert("COPY upload_rows FROM STDIN", spool)
        cursor.execute("ANALYZE upload_rows")
        cursor.execute(
            "CREATE TEMP TABLE upload_periods (period varchar(10) PRIMARY KEY, "
            "period_start date, period_end date)"
        )
        cursor.executemany(
            "INSERT INTO upload_periods VALUES (%s, %s, %s)",
            [(p, start, end) for p, (start, end) in periods.items()],
        )
    try:
        yield stage
    finally:
        with connection.cursor() as cursor:
            _drop_upload_tables(cursor)


def _approved_locked(value: Decimal, comment: str | None, stored: DataValue) -> bool:
    """The rule, for one row: an official's row may not change an approved value (value or
    comment); the same figure again is simply unchanged. A reviewer reopens it first."""
    return stored.state == DataValue.APPROVED and (
        stored.value != value or (comment is not None and stored.comment != comment)
    )


_APPROVED_REASON = bilingual(
    "该数值已审核通过并锁定，需审核员重新开放后才能修改",
    "approved value: a reviewer must reopen it before it can change",
)

# The same rule as _approved_locked, for every row at once.
_APPROVED_CONFLICTS_SQL = """
SELECT r.line, r.value, count(*) OVER ()
FROM upload_rows r
JOIN districts_datavalue d
  ON d.org_unit_id = r.org_unit_id AND d.period = r.period AND d.element_id = r.element_id
WHERE d.state = 'approved' AND (d.value <> r.value OR d.comment <> coalesce(r.comment, d.comment))
ORDER BY r.line
LIMIT %(limit)s
"""


def _approved_conflicts(stage: _Stage, label: str) -> tuple[list[RowError], int]:
    """Rows of an official's file that would change an approved value, as errors on their
    value cell, and how many there are. Only the values themselves are locked, as in the entry
    form: other values of the same unit and period may still be corrected."""

    def error(line: int, value: Decimal) -> RowError:
        return RowError(line, label, shown_number(value), _APPROVED_REASON, "value")

    if stage.on_postgresql:
        with connection.cursor() as cursor:
            cursor.execute(_APPROVED_CONFLICTS_SQL, {"limit": MAX_ERRORS})
            found = cursor.fetchall()
        return [error(line, value) for line, value, _total in found], (found[0][2] if found else 0)
    errors: list[RowError] = []
    total = 0
    for e_id, u_id, period, value, comment, line in stage.lines():
        stored = DataValue.objects.filter(
            element_id=e_id, org_unit_id=u_id, period=period, state=DataValue.APPROVED
        ).first()
        if stored is not None and _approved_locked(value, comment, stored):
            total += 1
            if len(errors) < MAX_ERRORS:
                errors.append(error(line, value))
    return errors, total


def _write(job: UploadJob, stage: _Stage, total: int) -> tuple[int, int, int]:
    if stage.on_postgresql:
        return _write_postgresql(job, total)
    return _write_orm(job, stage, total)


# The merge, in one transaction, from the checked rows in the temporary table ``upload_rows``
# (and their periods' dates in ``upload_periods``):
# 1. the elements and units the rows reference are locked FOR KEY SHARE — what a foreign key
#    would do row by row (the values table has none: see DataValue) — so none is deleted
#    under the upload;
# 2. values whose value, comment or state would change: one UPDATE, and their history from its
#    RETURNING (rows that would not change are not touched: re-importing a file writes
#    nothing). An official's upload never overwrites an approved value: one approved since the
#    file was checked is skipped here and refused by the check after the writes;
# 3. new values: one INSERT in index order (a value entered meanwhile under the same key fails
#    the whole upload rather than being overwritten silently), their history from RETURNING.
# Element and unit codes for the history come from hash joins on the two small tables.
_LOCK_REFERENCED_SQL = """
SELECT 1 FROM targets_dataelement
WHERE id IN (SELECT DISTINCT element_id FROM upload_rows) FOR KEY SHARE;
SELECT 1 FROM districts_orgunit
WHERE id IN (SELECT DISTINCT org_unit_id FROM upload_rows) FOR KEY SHARE;
"""

_UPDATE_SQL = """
WITH changed AS (
    UPDATE districts_datavalue d
    SET value = c.value, comment = c.comment, state = %(state)s, source = %(source)s,
        upload_id = %(job)s, updated_by_id = %(actor)s, reviewed_by_id = %(reviewer)s,
        reviewed_at = %(reviewed_at)s, review_comment = '', version = d.version + 1,
        updated_at = %(now)s
    FROM (
        SELECT r.element_id, r.org_unit_id, r.period, r.value,
               coalesce(r.comment, v.comment) AS comment,
               v.id AS value_id, v.value AS old_value, v.state AS old_state
        FROM upload_rows r
        JOIN districts_datavalue v
          ON v.org_unit_id = r.org_unit_id AND v.period = r.period
         AND v.element_id = r.element_id
        WHERE (v.value <> r.value OR v.comment <> coalesce(r.comment, v.comment)
               OR v.state <> %(state)s) {unchanged_approved}
    ) c
    WHERE d.id = c.value_id {not_approved}
    RETURNING d.id, c.element_id, c.org_unit_id, c.period, c.old_value, c.value, c.old_state,
              c.comment
)
INSERT INTO districts_datavaluechange
    (data_value_id, element_code, org_unit_code, period, action, old_value, new_value,
     old_state, new_state, source, upload_id, actor_id, comment, at)
SELECT c.id, e.code, o.code, c.period, 'update', c.old_value, c.value, c.old_state,
       %(state)s, %(source)s, %(job)s, %(actor)s, c.comment, %(now)s
FROM changed c
JOIN targets_dataelement e ON e.id = c.element_id
JOIN districts_orgunit o ON o.id = c.org_unit_id;
"""

_INSERT_SQL = """
WITH created AS (
    INSERT INTO districts_datavalue
        (element_id, org_unit_id, period, period_start, period_end, value, state, comment,
         review_comment, source, upload_id, created_by_id, updated_by_id, reviewed_by_id,
         reviewed_at, version, created_at, updated_at)
    SELECT r.element_id, r.org_unit_id, r.period, p.period_start, p.period_end, r.value,
           %(state)s, coalesce(r.comment, ''), '', %(source)s, %(job)s, %(actor)s, %(actor)s, %(reviewer)s,
           %(reviewed_at)s, 1, %(now)s, %(now)s
    FROM upload_rows r
    JOIN upload_periods p ON p.period = r.period
    WHERE NOT EXISTS (
        SELECT 1 FROM districts_datavalue v
        WHERE v.org_unit_id = r.org_unit_id AND v.period = r.period
          AND v.element_id = r.element_id
    )
    ORDER BY r.org_unit_id, r.period, r.element_id
    RETURNING id, element_id, org_unit_id, period, value, comment
)
INSERT INTO districts_datavaluechange
    (data_value_id, element_code, org_unit_code, period, action, old_value, new_value,
     old_state, new_state, source, upload_id, actor_id, comment, at)
SELECT c.id, e.code, o.code, c.period, 'create', NULL, c.value, '', %(state)s, %(source)s,
       %(job)s, %(actor)s, c.comment, %(now)s
FROM created c
JOIN targets_dataelement e ON e.id = c.element_id
JOIN districts_orgunit o ON o.id = c.org_unit_id;
"""


def _write_postgresql(job: UploadJob, total: int) -> tuple[int, int, int]:
    state = DataValue.APPROVED if job.approve else DataValue.SUBMITTED
    now = timezone.now()
    params = {
        "state": state,
        "source": job.source,
        "job": job.pk,
        "actor": job.created_by_id,
        "reviewer": job.created_by_id if job.approve else None,
        "reviewed_at": now if job.approve else None,
        "now": now,
    }
    # An official's upload leaves approved values alone: the same figure again is unchanged
    # (a different one was refused by the check before the write).
    not_approved = "" if job.approve else "AND d.state <> 'approved'"
    unchanged_approved = "" if job.approve else "AND v.state <> 'approved'"
    started = time.perf_counter()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_LOCK_REFERENCED_SQL)
            cursor.execute(
                _UPDATE_SQL.replace("{not_approved}", not_approved).replace(
                    "{unchanged_approved}", unchanged_approved
                ),
                params,
            )
            updated = cursor.rowcount
            cursor.execute(_INSERT_SQL, params)
            created = cursor.rowcount
            if not job.approve:
                _refuse_locked(cursor)
            merged = time.perf_counter()
        log.info(
            "upload %s: merge %.2fs, commit %.2fs",
            job.pk,
            merged - started,
            time.perf_counter() - merged,
        )
    except IntegrityError as exc:
        raise ValidationError(
            "导入时有数值被同时填报，未导入任何数据，请重新上传"
            f"（a value was entered meanwhile; nothing was written, upload again）: {exc}"
        ) from exc
    return created, updated, total - created - updated


def _refuse_locked(cursor) -> None:
    """After the writes, inside the transaction: a value of the file still approved but
    different was approved while the file was being checked, and the UPDATE skipped it. The
    whole upload fails rather than leave it out silently."""
    cursor.execute(
        "SELECT u.line FROM upload_rows u JOIN districts_datavalue d "
        "ON d.org_unit_id = u.org_unit_id AND d.period = u.period "
        "AND d.element_id = u.element_id "
        "WHERE d.state = 'approved' "
        "AND (d.value <> u.value OR d.comment <> coalesce(u.comment, d.comment)) "
        "ORDER BY u.line LIMIT 20"
    )
    lines = [row[0] for row in cursor.fetchall()]
    if lines:
        raise ValidationError(
            f"第 {', '.join(map(str, lines))} 行的数值刚被审核锁定（approved meanwhile: lines "
            f"{', '.join(map(str, lines))}）"
        )


_COPY_ESCAPES = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


def _uncopy_text(text: str) -> str:
    """The inverse of :func:`_copy_text`."""
    if "\\" not in text:
        return text
    return re.sub(r"\\(.)", lambda m: _COPY_ESCAPES.get(m.group(1), m.group(1)), text)


def _write_orm(job: UploadJob, stage: _Stage, total: int) -> tuple[int, int, int]:
    """The same merge through the ORM, for databases without COPY (the SQLite quick start)."""
    state = DataValue.APPROVED if job.approve else DataValue.SUBMITTED
    now = timezone.now()
    element_codes = dict(DataElement.objects.values_list("id", "code"))
    unit_codes = dict(OrgUnit.objects.values_list("id", "code"))
    created = updated = 0
    with transaction.atomic():
        for e_id, u_id, period, value, comment, line in stage.lines():
            start, end = stage.periods[period]
            row = DataValue.objects.filter(element_id=e_id, org_unit_id=u_id, period=period).first()
            if row is not None and not job.approve and row.state == DataValue.APPROVED:
                if _approved_locked(value, comment, row):
                    raise ValidationError(f"line {line}: approved meanwhile")
                continue
            if comment is None:
                comment = row.comment if row is not None else ""
            if row is not None and (row.value, row.comment, row.state) == (value, comment, state):
                continue
            old_value, old_state = (row.value, row.state) if row else (None, "")
            if row is None:
                row = DataValue(
                    element_id=e_id,
                    org_unit_id=u_id,
                    period=period,
                    period_start=start,
                    period_end=end,
                    created_by=job.created_by,
                )
                created += 1
            else:
                row.version += 1
                updated += 1
            row.value, row.comment, row.state, row.source = value, comment, state, job.source
            row.upload, row.updated_by = job, job.created_by
            if job.approve:
                row.reviewed_by, row.reviewed_at = job.created_by, now
            row.save()
            DataValueChange.objects.create(
                data_value=row,
                element_code=element_codes[e_id],
                org_unit_code=unit_codes[u_id],
                period=period,
                action="create" if old_state == "" else "update",
                old_value=old_value,
                new_value=value,
                old_state=old_state,
                new_state=state,
                source=job.source,
                upload=job,
                actor=job.created_by,
                comment=comment,
            )
    return created, updated, total - created - updated


def upload_rollback(*, actor, job: UploadJob, reason: str = "") -> int:
    """Undo what an upload wrote: values it created are removed, values it changed get their
    previous value and state back. Refused for a value changed again since the upload (that
    later change would be lost silently). Returns the number of values restored."""
    if not upload_can_rollback(actor, job):
        raise PermissionDenied("无权撤销该上传（you may not roll back this upload）")
    if job.state != UploadJob.SUCCEEDED:
        raise ValidationError("只能撤销已导入的上传（only a succeeded upload can be rolled back）")
    with transaction.atomic():
        changes = list(
            DataValueChange.objects.filter(upload=job, action__in=("create", "update"))
            .select_related("data_value__element", "data_value__org_unit")
            .order_by("id")
        )
        values = [c.data_value for c in changes if c.data_value is not None]
        later = set(
            DataValueChange.objects.filter(
                data_value__in=values, id__gt=min((c.id for c in changes), default=0)
            )
            .exclude(upload=job)
            .values_list("data_value_id", flat=True)
        )
        if later:
            raise ValidationError(
                f"{len(later)} 个数值在上传后又被修改，不能撤销（changed again since the upload）"
            )
        touched_units, touched_elements = set(), set()
        for change in changes:
            value = DataValue.objects.select_for_update().get(pk=change.data_value_id)
            touched_units.add(value.org_unit.code)
            touched_elements.add(value.element.code)
            DataValueChange.objects.create(
                data_value=None if change.action == "create" else value,
                element_code=change.element_code,
                org_unit_code=change.org_unit_code,
                period=change.period,
                action="rollback",
                old_value=value.value,
                new_value=change.old_value,
                old_state=value.state,
                new_state=change.old_state,
                source="upload",
                upload=job,
                actor=actor,
                comment=reason,
            )
            if change.action == "create":
                value.delete()
            else:
                value.value, value.state = change.old_value, change.old_state
                value.version += 1
                value.updated_by = actor
                value.save()
        UploadJob.objects.filter(pk=job.pk).update(
            state=UploadJob.ROLLED_BACK, message=f"已撤销（rolled back）{reason}"[:2000]
        )
        audit_record(
            actor=actor,
            action="upload.rollback",
            target=job,
            detail={"values": len(changes), "reason": reason, "file": job.original_name},
        )
        if job.approve:
            from reports.triggers import progress_recompute_for_keys

            progress_recompute_for_keys(
                element_codes=touched_elements, unit_codes=touched_units, trigger="rollback"
            )
    return len(changes)


# --- templates -------------------------------------------------------------------------------

TEMPLATE_HEADER = ("单位代码", "期间", "数据项", "数值", "备注")
TEMPLATE_FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class TemplateFile:
    content: bytes
    filename: str
    content_type: str
    rows: int


def upload_template(*, actor, org_unit: OrgUnit, period: Period, fmt: str = "csv") -> TemplateFile:
    """A values file to fill in (SPEC §4.3, Chinese headers): one row for every unit of
    ``org_unit``'s subtree and every element it must report for ``period``.

    Values already entered and not yet approved are filled in, so a corrected file re-uploads
    cleanly; approved values are left out, since an official's upload may not change them any
    more (a reviewer reopens them first). The XLSX has a second sheet naming the units and
    elements; the importer reads only the first sheet.
    """
    from core.numbers import plain
    from core.text import name_of

    from .selectors import reporting_plan

    if not scopes.can(actor, scopes.WRITE, org_unit):
        raise PermissionDenied(f"{org_unit.code} 不在您的填报范围内（outside your scope）")
    if fmt not in TEMPLATE_FORMATS:
        raise ValidationError(f"未知格式 {fmt}（unknown format: use csv or xlsx）")
    plan = reporting_plan(root=org_unit, period=period)
    key = str(period)
    stored = DataValue.objects.filter(
        org_unit__path__startswith=org_unit.path, period=key
    ).values_list("org_unit_id", "element_id", "value", "comment", "state")
    values: dict[tuple[int, int], tuple[Decimal, str]] = {}
    approved: set[tuple[int, int]] = set()
    for unit_id, element_id, value, comment, state in stored:
        if state == DataValue.APPROVED:
            approved.add((unit_id, element_id))
        values[(unit_id, element_id)] = (value, comment)
    rows: list[tuple[str, str, str, str, str]] = []
    listed: set[int] = set()
    for unit, elements in plan.units:
        for element in elements:
            if (unit.id, element.id) in approved:
                continue
            listed.add(unit.id)
            value, comment = values.get((unit.id, element.id), (None, ""))
            rows.append((unit.code, key, element.code, plain(value), comment))
    stem = f"values-template-{org_unit.code}-{key}"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(TEMPLATE_HEADER)
        writer.writerows((u, p, e, v, safe_cell(c)) for u, p, e, v, c in rows)
        # UTF-8 with BOM: what Excel on Chinese Windows opens without garbling.
        return TemplateFile(
            out.getvalue().encode("utf-8-sig"), f"{stem}.csv", "text/csv; charset=utf-8", len(rows)
        )

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("数据")
    sheet.column_dimensions["A"].width = 16
    sheet.column_dimensions["C"].width = 32
    sheet.column_dimensions["E"].width = 30

    def text(ws, value: str):
        # Codes and periods are text: Excel would turn 441900003001 into 4.419E+11 and
        # 2015-07 into a date.
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = "@"
        return cell

    sheet.append([text(sheet, h) for h in TEMPLATE_HEADER])
    for unit_code, period_text, element_code, value, comment in rows:
        sheet.append(
            [
                text(sheet, unit_code),
                text(sheet, period_text),
                text(sheet, element_code),
                Decimal(value) if value else None,
                text(sheet, safe_cell(comment)) if comment else None,
            ]
        )
    notes = workbook.create_sheet("说明")
    notes.append([_("填写说明（只导入第一个工作表“数据”）")])
    notes.append(
        [_("每行一个数值；可写千分位（1,234）、全角数字或百分数（15%）。不填报的行请删除。")]
    )
    notes.append([_("已审核通过的数值已省略：如需修改，请先请审核员重新开放。")])
    notes.append([])
    notes.append([_("数据项代码"), _("名称"), _("英文名称"), _("计量单位"), _("数值类型")])
    for element in plan.elements:
        notes.append(
            [
                element.code,
                safe_cell(element.name_zh),
                safe_cell(element.name_en),
                element.unit,
                str(element.get_value_type_display()),
            ]
        )
    notes.append([])
    notes.append([_("单位代码"), _("名称"), _("层级")])
    for unit, _elements in plan.units:
        if unit.id in listed:
            notes.append([unit.code, safe_cell(name_of(unit)), str(unit.get_level_display())])
    out = io.BytesIO()
    workbook.save(out)
    return TemplateFile(
        out.getvalue(),
        f"{stem}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        len(rows),
    )

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

import logging
import os
import tempfile
import time
from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from targets.models import DataElement

from . import scopes
from .models import DataValue, DataValueChange, OrgUnit, UploadJob
from .periods import Period
from .tabular import TabularError
from .uploads import ElementRule, ValuesValidator, errors_to_csv

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


def upload_errors_csv(job: UploadJob) -> bytes:
    from .tabular import RowError

    errors = [RowError(**e) for e in job.errors]
    return errors_to_csv(errors, total=job.error_count)


def _claim(job_id: int) -> UploadJob | None:
    """Take a queued job (a conditional UPDATE, so two workers never process one file)."""
    claimed = UploadJob.objects.filter(pk=job_id, state=UploadJob.QUEUED).update(
        state=UploadJob.RUNNING, started_at=timezone.now(), percent=1
    )
    return UploadJob.objects.select_related("created_by").get(pk=job_id) if claimed else None


def _progress(job: UploadJob, percent: int, **fields) -> None:
    UploadJob.objects.filter(pk=job.pk).update(percent=min(percent, 100), **fields)


def upload_process(*, job_id: int) -> UploadJob:
    """Validate and write one upload; idempotent (a job that is no longer queued is skipped)."""
    job = _claim(job_id)
    if job is None:
        return UploadJob.objects.get(pk=job_id)
    started = time.perf_counter()
    try:
        return _process(job, started)
    except Exception as exc:  # a failure must never vanish: it is on the job row
        log.exception("upload %s failed", job_id)
        UploadJob.objects.filter(pk=job.pk).update(
            state=UploadJob.FAILED, finished_at=timezone.now(),
            message=f"处理失败（processing failed）：{type(exc).__name__}: {exc}"[:2000],
        )  # fmt: skip
        raise


def _is_system(actor) -> bool:
    """``import_values`` without ``--user`` acts as the administrator (no user row)."""
    return actor is None


def _lookups(actor, approve: bool):
    elements = {
        e.code: ElementRule(
            code=e.code,
            value_type=e.value_type,
            period_type=e.period_type,
            unit=e.unit,
            not_above=e.not_above.code if e.not_above else None,
            id=e.id,
        )
        for e in DataElement.objects.select_related("not_above")
    }
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
    locked: set[tuple[str, str]] = set()
    if not approve:
        # Approved values are locked for officials until a reviewer reopens them.
        locked = set(
            stored.filter(state=DataValue.APPROVED)
            .values_list("org_unit__code", "period")
            .distinct()
        )
    existing = None
    if stored.count() <= EXISTING_VALUES_LIMIT:
        existing = {
            (e, u, p): v
            for e, u, p, v in stored.values_list(
                "element__code", "org_unit__code", "period", "value"
            )
        }
    return elements, org_units, scope, locked, existing


def _process(job: UploadJob, started: float) -> UploadJob:
    actor = job.created_by
    elements, org_units, scope, locked, existing = _lookups(actor, job.approve)
    validator = ValuesValidator(
        elements=elements, org_units=org_units, scope=scope, existing=existing, locked=locked
    )
    size = max(job.file.size, 1)
    spool = tempfile.TemporaryFile(mode="w+", encoding="utf-8", newline="\n")
    keys: dict[str, set] = {"elements": set(), "units": set()}
    period_dates: dict[str, tuple[date, date]] = {}
    try:
        with job.file.open("rb") as raw:
            try:
                for chunk in validator.chunks(raw):
                    if validator.report.errors_total == 0:
                        _spool(spool, chunk, period_dates, keys)
                    _progress(job, 1 + int(79 * raw.tell() / size),
                              total_rows=validator.report.rows_total)  # fmt: skip
            except TabularError as exc:
                return _finish_failed(job, str(exc), [], 0, 0)
        report = validator.report
        if not report.ok:
            return _finish_failed(
                job, f"文件有 {report.errors_total} 处错误，未导入任何数据"
                     f"（{report.errors_total} errors: nothing was written）",
                report.errors, report.errors_total, report.rows_total,
                warnings=report.warnings,
            )  # fmt: skip
        _progress(job, 80)
        spool.seek(0)
        counts = _write(job, spool, report.rows_total)
    finally:
        spool.close()
    job.state = UploadJob.SUCCEEDED
    job.percent = 100
    job.total_rows = report.rows_total
    job.created_count, job.updated_count, job.unchanged_count = counts
    job.warnings = [w.as_dict() for w in report.warnings]
    job.message = (
        f"已导入：新增 {counts[0]}，修改 {counts[1]}，未变 {counts[2]}"
        f"（imported: {counts[0]} new, {counts[1]} changed, {counts[2]} unchanged）"
        + (
            ""
            if existing is not None
            else "；离群值只在文件内比较（outliers checked within the file only）"
        )
    )
    job.finished_at = timezone.now()
    job.save()
    if job.approve and (counts[0] or counts[1]):
        from reports.triggers import progress_recompute_for_keys

        units = keys["units"] if len(keys["units"]) <= INCREMENTAL_UNITS_LIMIT else set()
        progress_recompute_for_keys(element_codes=keys["elements"], unit_codes=units,
                                    trigger="upload")  # fmt: skip
    log.info(
        "upload %s: %s rows in %.2fs", job.pk, report.rows_total, time.perf_counter() - started
    )
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


def _spool(spool, chunk, period_dates, keys) -> None:
    lines = []
    elements, units = keys["elements"], keys["units"]
    for element_code, unit_code, period, value, comment, line, element_id, unit_id in chunk:
        dates = period_dates.get(period)
        if dates is None:
            p = Period.parse(period)
            dates = period_dates[period] = (p.start, p.end)
        elements.add(element_code)
        units.add(unit_code)
        lines.append(
            f"{element_id}\t{unit_id}\t{period}\t{dates[0]}\t{dates[1]}\t{value}\t"
            f"{_copy_text(comment)}\t{line}\n"
        )
    spool.writelines(lines)


def _write(job: UploadJob, spool, total: int) -> tuple[int, int, int]:
    if connection.vendor == "postgresql":
        return _write_postgresql(job, spool, total)
    return _write_orm(job, spool, total)


_MERGE_SQL = """
CREATE TEMP TABLE upload_changes ON COMMIT DROP AS
SELECT u.*, d.id AS value_id, d.value AS old_value, d.state AS old_state
FROM upload_rows u
LEFT JOIN districts_datavalue d
       ON d.element_id = u.element_id AND d.org_unit_id = u.org_unit_id AND d.period = u.period
WHERE d.id IS NULL OR d.value <> u.value OR d.comment <> u.comment OR d.state <> %(state)s;

INSERT INTO districts_datavalue AS d
    (element_id, org_unit_id, period, period_start, period_end, value, state, comment,
     review_comment, source, upload_id, created_by_id, updated_by_id, reviewed_by_id,
     reviewed_at, version, created_at, updated_at)
SELECT element_id, org_unit_id, period, period_start, period_end, value, %(state)s, comment,
       '', %(source)s, %(job)s, %(actor)s, %(actor)s, %(reviewer)s, %(reviewed_at)s, 1,
       %(now)s, %(now)s
FROM upload_changes
ON CONFLICT (element_id, org_unit_id, period) DO UPDATE SET
    value = EXCLUDED.value, comment = EXCLUDED.comment, state = EXCLUDED.state,
    source = EXCLUDED.source, upload_id = EXCLUDED.upload_id, updated_by_id = EXCLUDED.updated_by_id,
    reviewed_by_id = EXCLUDED.reviewed_by_id, reviewed_at = EXCLUDED.reviewed_at,
    review_comment = '', version = d.version + 1, updated_at = EXCLUDED.updated_at;

INSERT INTO districts_datavaluechange
    (data_value_id, element_code, org_unit_code, period, action, old_value, new_value,
     old_state, new_state, source, upload_id, actor_id, comment, at)
SELECT d.id, e.code, o.code, c.period,
       CASE WHEN c.value_id IS NULL THEN 'create' ELSE 'update' END,
       c.old_value, c.value, coalesce(c.old_state, ''), %(state)s, %(source)s, %(job)s,
       %(actor)s, c.comment, %(now)s
FROM upload_changes c
JOIN districts_datavalue d
  ON d.element_id = c.element_id AND d.org_unit_id = c.org_unit_id AND d.period = c.period
JOIN targets_dataelement e ON e.id = c.element_id
JOIN districts_orgunit o ON o.id = c.org_unit_id;
"""


def _write_postgresql(job: UploadJob, spool, total: int) -> tuple[int, int, int]:
    state = DataValue.APPROVED if job.approve else DataValue.SUBMITTED
    now = timezone.now()
    params = {
        "state": state, "source": job.source, "job": job.pk, "actor": job.created_by_id,
        "reviewer": job.created_by_id if job.approve else None,
        "reviewed_at": now if job.approve else None, "now": now,
    }  # fmt: skip
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE upload_rows (element_id bigint, org_unit_id bigint, "
            "period varchar(10), period_start date, period_end date, value numeric(20, 6), "
            "comment text, line integer) ON COMMIT DROP"
        )
        cursor.cursor.copy_expert("COPY upload_rows FROM STDIN", spool)
        if not job.approve:
            _refuse_locked(cursor)
        cursor.execute(_MERGE_SQL, params)
        cursor.execute(
            "SELECT count(*) FILTER (WHERE value_id IS NULL), count(*) FILTER (WHERE value_id "
            "IS NOT NULL) FROM upload_changes"
        )
        created, updated = cursor.fetchone()
        # ON COMMIT DROP does not fire when this runs inside an outer transaction.
        cursor.execute("DROP TABLE upload_rows, upload_changes")
    return created, updated, total - created - updated


def _refuse_locked(cursor) -> None:
    """Re-check the lock inside the transaction: a value approved while the file was being
    parsed must not be overwritten by an official's upload."""
    cursor.execute(
        "SELECT u.line FROM upload_rows u JOIN districts_datavalue d ON d.element_id = "
        "u.element_id AND d.org_unit_id = u.org_unit_id AND d.period = u.period "
        "WHERE d.state = 'approved' ORDER BY u.line LIMIT 20"
    )
    lines = [row[0] for row in cursor.fetchall()]
    if lines:
        raise ValidationError(
            f"第 {', '.join(map(str, lines))} 行的数值刚被审核锁定（approved meanwhile: lines "
            f"{', '.join(map(str, lines))}）"
        )


def _write_orm(job: UploadJob, spool, total: int) -> tuple[int, int, int]:
    """The same merge through the ORM, for databases without COPY (the SQLite quick start)."""
    state = DataValue.APPROVED if job.approve else DataValue.SUBMITTED
    now = timezone.now()
    element_codes = dict(DataElement.objects.values_list("id", "code"))
    unit_codes = dict(OrgUnit.objects.values_list("id", "code"))
    created = updated = 0
    with transaction.atomic():
        for line in spool:
            e_id, u_id, period, start, end, value, comment, _line = line.rstrip("\n").split("\t")
            comment = comment.replace("\\n", "\n").replace("\\t", "\t").replace("\\\\", "\\")
            value = Decimal(value)
            row = DataValue.objects.filter(element_id=e_id, org_unit_id=u_id, period=period).first()
            if row is not None and (row.value, row.comment, row.state) == (value, comment, state):
                continue
            if row is not None and row.state == DataValue.APPROVED and not job.approve:
                raise ValidationError(f"line {_line}: approved meanwhile")
            old_value, old_state = (row.value, row.state) if row else (None, "")
            if row is None:
                row = DataValue(element_id=e_id, org_unit_id=u_id, period=period,
                                period_start=start, period_end=end, created_by=job.created_by)  # fmt: skip
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
                data_value=row, element_code=element_codes[int(e_id)],
                org_unit_code=unit_codes[int(u_id)], period=period,
                action="create" if old_state == "" else "update", old_value=old_value,
                new_value=value, old_state=old_state, new_state=state, source=job.source,
                upload=job, actor=job.created_by, comment=comment,
            )  # fmt: skip
    return created, updated, total - created - updated


def upload_rollback(*, actor, job: UploadJob, reason: str = "") -> int:
    """Undo what an upload wrote: values it created are removed, values it changed get their
    previous value and state back. Refused for a value changed again since the upload (that
    later change would be lost silently). Returns the number of values restored."""
    if not (scopes.is_admin(actor) or job.created_by_id == actor.id or can_approve_uploads(actor)):
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
                element_code=change.element_code, org_unit_code=change.org_unit_code,
                period=change.period, action="rollback", old_value=value.value,
                new_value=change.old_value, old_state=value.state, new_state=change.old_state,
                source="upload", upload=job, actor=actor, comment=reason,
            )  # fmt: skip
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
        if job.approve:
            from reports.triggers import progress_recompute_for_keys

            progress_recompute_for_keys(element_codes=touched_elements, unit_codes=touched_units,
                                        trigger="rollback")  # fmt: skip
    return len(changes)

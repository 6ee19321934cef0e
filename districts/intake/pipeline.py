"""Processing one upload (SPEC §4.3): from a stored file to written values, all or nothing.

The pure validator (:mod:`.validator`) reads the file in chunks; valid rows are spooled
(:mod:`.staging`) to a temporary file in PostgreSQL's COPY text format, so memory stays flat
whatever the file size and no transaction is open while parsing (the job row's percent stays
visible to the page that polls it). The rows that compare rows with each other and with stored
values are checked where the rows are staged (:mod:`.checks`). Only when the whole file is valid
is it written, in one transaction: on PostgreSQL by one merge (:mod:`.write_postgresql`),
elsewhere (the SQLite quick start) through the ORM (:mod:`.write_orm`). Unchanged rows are not
touched, so re-importing a file changes nothing.
"""

from __future__ import annotations

import logging
import tempfile
import time

from django.core.exceptions import ValidationError
from django.db import connection

from core.text import bilingual
from targets.models import DataElement

from .. import scopes
from ..models import DataValue, OrgUnit, UploadJob
from ..rules import element_rule
from .checks import approved_conflicts, staged_checks
from .job import claim, crashed, fail, heartbeat, progress, succeed
from .staging import Stage, period_dates, spool_rows, staged
from .tables import TabularError
from .validator import ValuesValidator
from .write_orm import write as write_orm
from .write_postgresql import write as write_postgresql

log = logging.getLogger("districts.intake")

# Above this many stored values in the uploader's scope, outliers are checked within the file
# only: loading every stored value of a whole city to compare would cost more than the upload.
EXISTING_VALUES_LIMIT = 500_000
# An approved upload touching more units than this recomputes the affected indicators for every
# unit rather than listing the units.


def upload_process(*, job_id: int) -> UploadJob:
    """Validate and write one upload; idempotent (a job that is neither queued nor abandoned by
    a dead worker is skipped)."""
    job = claim(job_id)
    if job is None:
        return UploadJob.objects.get(pk=job_id)
    started = time.perf_counter()
    try:
        with heartbeat(job):
            return _process(job, started)
    except Exception as exc:  # a failure must never vanish: it is on the job row
        log.exception("upload %s failed", job_id)
        crashed(job, exc)
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
        # Compared in the database, with every stored value (districts.intake.checks).
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
    # are staged (districts.intake.checks), so the validator remembers nothing per row.
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
    progress(job, 1, message=_READING)
    try:
        with job.file.open("rb") as raw:
            try:
                for chunk in validator.chunks(raw):
                    # Valid rows are spooled even once errors are found: the check against
                    # approved values below runs on them, so every problem is reported at once.
                    keep_comments = "comment" not in validator.report.columns
                    spool_rows(
                        spool, chunk, periods, keys, keep_comments, previous_periods, no_outliers
                    )
                    progress(
                        job,
                        1 + int((COMPARING - 1) * raw.tell() / size),
                        total_rows=validator.report.rows_total,
                    )
            except TabularError as exc:
                return fail(job, str(exc), [], 0, 0)
        report = validator.report
        log.info("upload %s: read and checked in %.2fs", job.pk, time.perf_counter() - started)
        progress(job, COMPARING, message=_COMPARING)
        spool.seek(0)
        with staged(spool, period_dates(periods)) as stage:
            if in_database:
                found = staged_checks(labels=report.columns)
                report.merge_errors(found.errors, found.errors_total)
                report.warnings, report.warnings_total = found.warnings, found.warnings_total
            if not job.approve:
                label = report.columns.get("value", "value")
                conflicts, conflicts_total = approved_conflicts(stage, label)
                report.merge_errors(conflicts, conflicts_total)
            if not report.ok:
                return fail(
                    job,
                    f"文件有 {report.errors_total} 处错误，未导入任何数据"
                    f"（{report.errors_total} errors: nothing was written）",
                    report.errors,
                    report.errors_total,
                    report.rows_total,
                    warnings=report.warnings,
                )
            progress(job, WRITING, message=_writing(report.rows_total))
            try:
                counts = _write(job, stage, report.rows_total)
            except ValidationError as exc:
                # Found only while writing (approved or entered meanwhile): the job fails
                # cleanly.
                return fail(job, "；".join(exc.messages), [], 0, report.rows_total)
    finally:
        spool.close()
    return succeed(
        job,
        report.rows_total,
        counts,
        report.warnings,
        report.warnings_total,
        keys,
        started,
        in_database or existing is not None,
        skipped=report.rows_skipped,
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


def _write(job: UploadJob, stage: Stage, total: int) -> tuple[int, int, int]:
    if stage.on_postgresql:
        return write_postgresql(job, total)
    return write_orm(job, stage, total)

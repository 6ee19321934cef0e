"""Writing a checked upload through the ORM, row by row in one transaction: the same merge as
:mod:`.write_postgresql`, for databases without COPY (the SQLite quick start)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from targets.models import DataElement

from ..models import DataValue, DataValueChange, OrgUnit, UploadJob
from .checks import approved_locked
from .staging import Stage


def write(job: UploadJob, stage: Stage, total: int) -> tuple[int, int, int]:
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
                if approved_locked(value, comment, row):
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

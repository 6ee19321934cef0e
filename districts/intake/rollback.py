"""Undoing an upload: what it wrote goes back to what was there before."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from audit.services import audit_record

from .. import scopes
from ..models import DataValue, DataValueChange, UploadJob
from .job import recompute_progress


def upload_can_rollback(user, job: UploadJob) -> bool:
    """Those who may see an upload (:func:`districts.scopes.upload_visible_to`) may undo it."""
    return scopes.upload_visible_to(user, job)


def upload_rollback(*, actor, job: UploadJob, reason: str = "") -> int:
    """Undo what an upload wrote: values it created are removed, values it changed get their
    previous value and state back. Refused for a value changed again since the upload (that
    later change would be lost silently). Returns the number of values restored."""
    if not scopes.upload_visible_to(actor, job):
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
            recompute_progress(
                element_codes=touched_elements, unit_codes=touched_units, trigger="rollback"
            )
    return len(changes)

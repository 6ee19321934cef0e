"""Accepting a values file: who may upload, and the job row that carries it to a worker."""

from __future__ import annotations

import os

from django.core.exceptions import PermissionDenied

from .. import scopes
from ..models import UploadJob
from .job import enqueue


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
    enqueue(job.pk)
    return job

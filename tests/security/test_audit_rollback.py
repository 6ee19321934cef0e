"""The audit log: rolling back an upload (districts.intake.upload_rollback)."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from tests.districts.test_upload_job import elements  # noqa: F401


@pytest.mark.usefixtures("elements")
def test_an_upload_rollback_is_recorded(tmp_path, cast):
    from districts.models import UploadJob
    from districts.services import upload_rollback
    from tests.districts.test_upload_job import GOOD, import_file

    import_file(tmp_path, GOOD, "--user", "alice")
    job = UploadJob.objects.get()
    upload_rollback(actor=cast["alice"], job=job, reason="错传")
    event = AuditEvent.objects.get(action="upload.rollback")
    assert (event.actor, event.object_id) == (cast["alice"], str(job.pk))
    assert event.detail["reason"] == "错传"

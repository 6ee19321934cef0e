"""Data-values uploads (SPEC §4.3), all or nothing: the public face of the upload feature.

One module per concern:

* :mod:`.submit` — who may upload; the job row that carries a file to a worker;
* :mod:`.job` — the job's life: enqueue, claim, heartbeat, finish, the reaper;
* :mod:`.pipeline` — processing one file: read and check, stage, cross-row checks, write;
* :mod:`.tables` — reading CSV and XLSX files into header and rows (also org-unit files,
  :mod:`.orgunits`);
* :mod:`.validator` — the per-row checks as a file streams by, and the error report;
* :mod:`.staging` — the spool of valid rows and the session's temporary tables;
* :mod:`.checks` — the checks that compare rows with each other and with stored values, in SQL;
* :mod:`.write_postgresql` and :mod:`.write_orm` — the write, as one merge or through the ORM;
* :mod:`.rollback` — undoing an upload; :mod:`.template` — the file to fill in.

What a value may be is decided in :mod:`districts.rules`; who may see an upload in
:mod:`districts.scopes`.
"""

from .job import reap_stale as upload_reap_stale
from .pipeline import upload_process
from .rollback import upload_can_rollback, upload_rollback
from .submit import can_approve_uploads, upload_create
from .tasks import process_upload, reap_stale_uploads
from .template import TEMPLATE_FORMATS, TemplateFile, upload_template
from .validator import upload_errors_csv

__all__ = [
    "TEMPLATE_FORMATS",
    "TemplateFile",
    "can_approve_uploads",
    "process_upload",
    "reap_stale_uploads",
    "upload_can_rollback",
    "upload_create",
    "upload_errors_csv",
    "upload_process",
    "upload_reap_stale",
    "upload_rollback",
    "upload_template",
]

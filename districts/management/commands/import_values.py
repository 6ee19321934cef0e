from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from districts.intake import can_approve_uploads, upload_errors_csv, upload_process
from districts.models import UploadJob


class Command(BaseCommand):
    help = (
        "Import a data-values file (CSV in UTF-8/UTF-8-BOM/GB18030, or XLSX), all or nothing. "
        "Without --user the command acts as an administrator."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--user", help="act under this user's scopes")
        parser.add_argument(
            "--approve", action="store_true", help="approve at once (administrators, reviewers)"
        )
        parser.add_argument("--errors-csv", help="write the error report to this CSV file")

    def handle(self, *args, file, user, approve, errors_csv, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user, is_active=True).first()
            if actor is None:
                raise CommandError(f"--user: no active user “{user}”")
            if approve and not can_approve_uploads(actor):
                raise CommandError(f"--approve: {user} is neither an administrator nor a reviewer")
        with path.open("rb") as handle:
            job = UploadJob(
                original_name=path.name, created_by=actor, approve=approve, source="import"
            )
            job.file.save(path.name, File(handle), save=False)
            job.save()
        job = upload_process(job_id=job.pk)
        if job.state != UploadJob.SUCCEEDED:
            if errors_csv:
                Path(errors_csv).write_bytes(upload_errors_csv(job))
            shown = "\n".join(
                f"  line {e['line']}, {e['column'] or '-'}: {e['value'] and repr(e['value']) + ': '}{e['reason']}"
                for e in job.errors[:200]
            )
            more = f"\n  … and {job.error_count - 200} more" if job.error_count > 200 else ""
            raise CommandError(f"{path}: {job.message}\n{shown}{more}")
        self.stdout.write(f"{path}: {job.total_rows} rows; {job.message} (upload #{job.pk})")

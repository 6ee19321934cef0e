from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accountability.selectors import allocation_warnings
from accountability.services import AllocationFileError, allocations_import
from targets.models import Indicator


class Command(BaseCommand):
    help = (
        "Load an allocations file (目标任务分解, SPEC §7): CSV or XLSX with columns "
        "indicator,org_unit,target[,deadline][,note]; all or nothing, idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--reason", default="", help="why (kept in each allocation's history)")

    def handle(self, *args, file, reason, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        try:
            result = allocations_import(
                data=path.read_bytes(), filename=str(path), user=None, reason=reason
            )
        except AllocationFileError as exc:
            raise CommandError(f"rejected, nothing written:\n{exc}") from exc
        self.stdout.write(
            f"{path}: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged"
        )
        for ind in Indicator.objects.filter(code__in=result.indicators).select_related("element"):
            for warning in allocation_warnings(indicator=ind):
                self.stderr.write(f"warning: {warning}")

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from districts.services import OrgUnitImportError, orgunits_import


class Command(BaseCommand):
    help = "Create or update org units from a CSV (UTF-8, UTF-8-BOM, GB18030) or XLSX file."

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        try:
            result = orgunits_import(data=path.read_bytes(), filename=str(path))
        except OrgUnitImportError as exc:
            raise CommandError(f"rejected, nothing written:\n{exc}") from exc
        self.stdout.write(
            f"{path}: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged"
        )

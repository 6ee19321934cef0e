from django.core.management.base import BaseCommand, CommandError

from accountability.files import PlanFileError
from accountability.services import schemes_load
from core.files import yaml_files


class Command(BaseCommand):
    help = "Create or update assessment schemes (考评方案, SPEC §7) from YAML files."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="scheme files or folders of *.yaml")

    def handle(self, *args, paths, **options):
        try:
            results = schemes_load(paths=yaml_files(paths))
        except PlanFileError as exc:
            raise CommandError(f"rejected, nothing written from this file:\n{exc}") from exc
        for r in results:
            state = "changed" if r.changed else "unchanged"
            self.stdout.write(
                f"{r.filename}: scheme {r.code}, {r.items} items, version {r.version} ({state})"
            )

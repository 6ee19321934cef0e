from django.core.management.base import BaseCommand, CommandError

from accountability.files import PlanFileError
from accountability.services import departments_load
from core.files import yaml_files


class Command(BaseCommand):
    help = "Create or update responsible departments (责任单位) from departments YAML files."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="departments files or folders of *.yaml")

    def handle(self, *args, paths, **options):
        try:
            results = departments_load(paths=yaml_files(paths))
        except PlanFileError as exc:
            raise CommandError(f"rejected, nothing written from this file:\n{exc}") from exc
        for r in results:
            state = "changed" if r.changed else "unchanged"
            self.stdout.write(f"{r.filename}: {r.departments} departments of {r.city} ({state})")

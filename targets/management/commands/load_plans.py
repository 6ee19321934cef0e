from django.core.management.base import BaseCommand, CommandError

from core.files import yaml_files
from targets.plan_schema import PlanFileError
from targets.services import plan_files_load


class Command(BaseCommand):
    help = "Create or update plans, goals, indicators and data elements from plan YAML files."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="plan files or folders of *.yaml files")

    def handle(self, *args, paths, **options):
        files = yaml_files(paths)
        try:
            results = plan_files_load(paths=files)
        except PlanFileError as exc:
            raise CommandError(f"rejected, nothing written from this file:\n{exc}") from exc
        for r in results:
            what = (
                f"plan {r.plan_code}: {r.goals} goals, {r.indicators} indicators"
                if r.plan_code
                else "vocabulary"
            )
            state = "changed" if r.changed else "unchanged"
            self.stdout.write(f"{r.filename}: {what}, {r.elements} data elements ({state})")

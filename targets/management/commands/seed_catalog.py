from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from districts.services import OrgUnitImportError
from targets.plan_schema import PlanFileError
from targets.services import catalog_seed


class Command(BaseCommand):
    help = "Load the four cities' real org units and every catalog plan (idempotent, no values)."

    def handle(self, *args, **options):
        try:
            summary = catalog_seed()
        except (PlanFileError, OrgUnitImportError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(summary)
        # Reporting deadlines come with the catalog: without schedules nothing is chased.
        call_command("seed_schedules", stdout=self.stdout)

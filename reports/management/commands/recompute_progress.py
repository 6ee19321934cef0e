from django.core.management.base import BaseCommand, CommandError

from core.periods import Period, PeriodError
from reports.services import Scope, progress_recompute
from targets.models import Plan


class Command(BaseCommand):
    help = "Compute progress now (synchronously) and print a one-line summary."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", help="a period (2015, 2015Q3, 2015-07); default today")
        parser.add_argument("--plan", default="", help="only this plan's indicators")

    def handle(self, *args, as_of, plan, **options):
        try:
            as_of_date = Period.parse(as_of).end if as_of else None
        except PeriodError as exc:
            raise CommandError(f"--as-of: {exc}") from exc
        if plan and not Plan.objects.filter(code=plan).exists():
            raise CommandError(f"--plan: no plan “{plan}”")
        run = progress_recompute(as_of=as_of_date, scope=Scope(plan_code=plan), trigger="command")
        self.stdout.write(
            f"progress run #{run.id}: {run.indicators_count} indicators, {run.values_read} values "
            f"read, {run.rows_written} rows written as of {run.as_of} in {run.duration_ms} ms"
        )

import io

from django.core.management.base import BaseCommand, CommandError

from core.exporting import write_csv, write_json
from core.periods import Period, PeriodError
from reports.exports import PROGRESS_EXPORT_COLUMNS, progress_export_rows
from targets.models import Plan


class Command(BaseCommand):
    help = "Print the latest computed progress rows (JSON or CSV)."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["json", "csv"], default="json")
        parser.add_argument("--plan", default="")
        parser.add_argument(
            "--as-of",
            help="only rows of periods ending on or before this one (default: each plan's "
            "as-of period on the dashboards, the latest complete enough)",
        )

    def handle(self, *args, format, plan, as_of, **options):
        try:
            as_of_date = Period.parse(as_of).end if as_of else None
        except PeriodError as exc:
            raise CommandError(f"--as-of: {exc}") from exc
        if plan and not Plan.objects.filter(code=plan).exists():
            raise CommandError(f"--plan: no plan “{plan}”")
        rows = progress_export_rows(plan_code=plan, as_of=as_of_date)
        buffer = io.StringIO()
        if format == "csv":
            write_csv(buffer, PROGRESS_EXPORT_COLUMNS, rows)
        else:
            write_json(buffer, rows)
        self.stdout.write(buffer.getvalue(), ending="")

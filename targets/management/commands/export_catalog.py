import io

from django.core.management.base import BaseCommand

from core.exporting import write_csv, write_json
from targets.selectors import CATALOG_COLUMNS, catalog_rows


class Command(BaseCommand):
    help = "Print every plan, goal and indicator with target, deadline, kind and quote."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["json", "csv"], default="json")

    def handle(self, *args, format, **options):
        rows = catalog_rows()
        buffer = io.StringIO()
        if format == "csv":
            write_csv(buffer, CATALOG_COLUMNS, rows)
        else:
            write_json(buffer, rows)
        self.stdout.write(buffer.getvalue(), ending="")

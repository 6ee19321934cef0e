from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from supervision.services import reminders_send


class Command(BaseCommand):
    help = (
        "Run the reminder job now (what Celery beat runs daily): remind officials before and "
        "after deadlines, escalate to reviewers. Idempotent: nothing is sent twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--as-of", default="", help="ISO date (default: today)")

    def handle(self, *args, as_of: str, **options):
        try:
            day = date.fromisoformat(as_of) if as_of else timezone.localdate()
        except ValueError as exc:
            raise CommandError(f"--as-of: {exc}") from exc
        run = reminders_send(as_of=day, trigger="command")
        self.stdout.write(
            f"reminders {day}: {run.claimed} new, {run.emailed} e-mailed, "
            f"{run.email_failed} failed, {run.units_late} units late"
        )

from django.core.management.base import BaseCommand, CommandError

from demo.services import DemoError, demo_seed


class Command(BaseCommand):
    help = (
        "Add demo communities (marked as generated), values across several years and demo users "
        "to the loaded catalog, then compute progress. Deterministic and idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-progress", action="store_true", help="do not run the progress job afterwards"
        )

    def handle(self, *args, no_progress, **options):
        try:
            summary = demo_seed(recompute=not no_progress)
        except DemoError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(summary.line())

from django.core.management.base import BaseCommand, CommandError

from accountability.services import accountability_demo_seed


class Command(BaseCommand):
    help = (
        "Demo accountability data: departments of the four cities, allocations for Dongguan's and "
        "Zhongshan's towns, and a published 2015 assessment of Dongguan's towns (idempotent; run "
        "after seed_catalog and seed_demo)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, no_progress, **options):
        try:
            self.stdout.write(accountability_demo_seed(recompute=not no_progress))
        except ValueError as exc:
            raise CommandError(str(exc)) from exc

from django.core.management.base import BaseCommand

from supervision.services import schedules_seed


class Command(BaseCommand):
    help = (
        "Create the default reporting schedules (monthly by the 10th of the next month, "
        "quarterly 15 days after the quarter, yearly by 31 March); idempotent, never changes "
        "an existing schedule."
    )

    def handle(self, *args, **options):
        created = schedules_seed()
        self.stdout.write(f"reporting schedules: {created} created")

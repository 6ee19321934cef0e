from django.core.management.base import BaseCommand, CommandError

from accountability.allocating import RULES
from accountability.selectors import allocation_warnings
from accountability.services import allocations_generate
from targets.models import Indicator


class Command(BaseCommand):
    help = "Allocate an indicator's target to the units below its city by a rule."

    def add_arguments(self, parser):
        parser.add_argument("indicator")
        parser.add_argument("--rule", choices=RULES, required=True)
        parser.add_argument("--level", default="town", help="the units' level (default: town)")
        parser.add_argument("--by", default="", help="pro_rata/by_gap: element to share by")
        parser.add_argument("--period", default="", help="the period of --by values / progress")
        parser.add_argument("--reason", default="")

    def handle(self, *args, indicator, rule, level, by, period, reason, **options):
        ind = Indicator.objects.select_related("plan__city", "element").filter(code=indicator)
        if not ind:
            raise CommandError(f"no indicator {indicator}")
        try:
            result = allocations_generate(
                indicator=ind[0],
                rule=rule,
                level=level,
                element=by,
                period=period,
                reason=reason,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{indicator}: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged"
        )
        for ind in Indicator.objects.filter(code__in=result.indicators).select_related("element"):
            for warning in allocation_warnings(indicator=ind):
                self.stderr.write(f"warning: {warning}")

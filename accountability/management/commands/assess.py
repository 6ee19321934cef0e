import csv
import json

from django.core.management.base import BaseCommand, CommandError

from accountability.models import AssessmentScheme
from accountability.services import assessment_compute, assessment_publish, published_scores

UNIT_COLUMNS = ["unit", "group", "score", "max_score", "rank", "vetoed"]
ITEM_COLUMNS = ["indicator", "status", "points", "earned"]


class Command(BaseCommand):
    help = (
        "Score an assessment scheme (SPEC §7) from the progress rows at its period and print, per "
        "unit: unit, group, score, max_score, rank, vetoed and its items. --publish freezes it "
        "(a new publication recording who, why and what moved)."
    )

    def add_arguments(self, parser):
        parser.add_argument("code")
        parser.add_argument("--publish", action="store_true")
        parser.add_argument("--reason", default="", help="why it is (re)published")
        parser.add_argument("--format", choices=["json", "csv"], default="json")

    def handle(self, *args, code, publish, reason, format, **options):
        scheme = AssessmentScheme.objects.select_related("city").filter(code=code).first()
        if scheme is None:
            raise CommandError(f"no assessment scheme {code}")
        if publish:
            assessment = assessment_publish(scheme=scheme, user=None, reason=reason)
            scores = published_scores(assessment)
            self.stderr.write(f"published {code} #{assessment.number}")
        else:
            scores = assessment_compute(scheme=scheme)
        if format == "json":
            self.stdout.write(
                json.dumps(
                    [
                        {
                            "unit": s.unit,
                            "group": s.group,
                            "score": float(s.score),
                            "max_score": float(s.max_score),
                            "rank": s.rank,
                            "vetoed": s.vetoed,
                            "items": [
                                {
                                    "indicator": i.indicator,
                                    "status": i.status,
                                    "points": float(i.points),
                                    "earned": float(i.earned),
                                }
                                for i in s.items
                            ],
                        }
                        for s in scores
                    ],
                    ensure_ascii=False,
                    indent=2,
                )
            )
            return
        writer = csv.writer(self.stdout, lineterminator="\n")
        writer.writerow(UNIT_COLUMNS + ITEM_COLUMNS)
        for s in scores:
            head = [s.unit, s.group, s.score, s.max_score, s.rank, str(s.vetoed).lower()]
            for i in s.items:
                writer.writerow([*head, i.indicator, i.status, i.points, i.earned])

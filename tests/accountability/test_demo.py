"""seed_accountability_demo on the real catalog and demo: departments of the four cities,
allocations for Dongguan's and Zhongshan's towns (judged by them), a published 2015 ranking of
Dongguan's towns ranked apart from its subdistricts; a second run changes nothing."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    from demo.services import demo_seed
    from reports.services import progress_recompute

    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_catalog", stdout=io.StringIO())
        demo_seed(recompute=False)
        progress_recompute(as_of=date(2015, 12, 31), trigger="test")
        first = io.StringIO()
        call_command("seed_accountability_demo", stdout=first)
        second = io.StringIO()
        call_command("seed_accountability_demo", stdout=second)
        yield first.getvalue(), second.getvalue()
        transaction.set_rollback(True)


def test_refuses_without_the_catalog(db):
    with pytest.raises(CommandError, match="seed_catalog"):
        call_command("seed_accountability_demo", stdout=io.StringIO())


def test_demo_departments_allocations_and_a_published_ranking(seeded, django_db_blocker):
    from accountability.models import Allocation, Assessment, Department
    from reports.models import ProgressRow

    first, second = seeded
    assert "assessments published: 1" in first
    assert "0 created, 0 updated" in second and "assessments published: 0" in second
    with django_db_blocker.unblock():
        cities = set(Department.objects.values_list("city__code", flat=True))
        assert {"350200", "441900", "442000", "440308"} <= cities
        towns = Allocation.objects.filter(indicator__code="dg.social_workers.per_10k")
        assert towns.count() > 20 and {a.target for a in towns} == {5}
        assert Allocation.objects.filter(indicator__plan__city__code="442000").exists()
        # A town's row now carries its own target.
        some = towns.first()
        row = ProgressRow.objects.filter(
            indicator=some.indicator, org_unit=some.org_unit, period="2015"
        ).first()
        assert row is not None and row.target == some.target
        [assessment] = Assessment.objects.filter(scheme__code="dongguan-2015-towns")
        groups = set(assessment.units.values_list("group", flat=True))
        assert {"town", "subdistrict"} <= groups
        ranks = sorted(assessment.units.filter(group="town").values_list("rank", flat=True))
        assert ranks[0] == 1
    out = io.StringIO()
    with django_db_blocker.unblock():
        call_command("assess", "dongguan-2015-towns", "--format", "json", stdout=out)
    rows = json.loads(out.getvalue())
    assert rows and all(r["max_score"] == 100 for r in rows)

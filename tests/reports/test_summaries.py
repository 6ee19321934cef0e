"""Dashboard summaries (issue 18): what the progress job precomputes for the city and unit
pages equals what the pages computed from the rows, and an incremental recompute after an
approval keeps it current."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from core.periods import Period
from districts.models import DataValue, OrgUnit
from districts.services import value_save, values_approve
from reports import services, summaries
from reports.dashboards.city import city_dashboard
from reports.dashboards.unit import unit_overview
from reports.models import DashboardSummary
from targets.models import DataElement
from tests.reports.test_dashboard_data import AS_OF, grow, make_catalog, make_progress
from tests.reports.test_progress_job import COMMUNITIES, plan, put  # noqa: F401

pytestmark = pytest.mark.django_db


def city_picture(city):
    d = city_dashboard(city=city, as_of=AS_OF)
    return (
        d.counts,
        [line.indicator_id for line in d.attention],
        [(line.indicator_id, line.draggers, line.draggers_more) for line in d.attention],
        d.children,
        d.missing_reports,
    )


def unit_picture(unit, user):
    d = unit_overview(unit=unit, user=user, as_of=AS_OF)
    return d.counts, [line.indicator_id for line in d.attention], d.children


def test_summary_gives_the_pages_what_they_computed_from_rows(cast, tree):
    catalog = make_catalog()
    make_progress(catalog, tree)
    grow(catalog, tree, towns=4, indicators=3)
    city = OrgUnit.objects.get(code="441900")
    town = OrgUnit.objects.get(code="441900003")
    assert not DashboardSummary.objects.exists()
    before_city = city_picture(city)
    before_unit = unit_picture(town, cast["admin"])

    written = summaries.refresh(unit_ids=OrgUnit.objects.values_list("id", flat=True))

    assert written and DashboardSummary.objects.filter(org_unit=city, period=AS_OF).exists()
    # The pages now read the children from the summary (no query of the children's rows) ...
    summary = summaries.summary_for(city.id, AS_OF)
    assert summary["children"] and summary["own"]
    # ... and show exactly what they computed before: same counts, same needs-attention set,
    # same children and the same units behind each indicator.
    assert city_picture(city) == before_city
    assert unit_picture(town, cast["admin"]) == before_unit
    assert before_city[3], "the fixture has children with rows"


def test_incremental_recompute_after_an_approval_updates_the_summary(
    plan,  # noqa: F811
    cast,
    django_capture_on_commit_callbacks,
):
    rng = random.Random(18)
    for year in (2011, 2012, 2013):
        for unit in COMMUNITIES:
            put("population.resident", unit, year, rng.randint(1000, 5000))
            put("volunteers.registered", unit, year, rng.randint(0, 500))
    services.progress_recompute()
    city = OrgUnit.objects.get(code="441900")
    before = summaries.summary_for(city.id, "2013")
    assert before is not None

    # A new 2013 value at a community that had none of this element: approved, the
    # incremental job (enqueued on commit) recomputes its unit and ancestors only.
    unit = OrgUnit.objects.get(code=COMMUNITIES[0])
    DataValue.objects.filter(
        element__code="volunteers.registered", org_unit=unit, period="2013"
    ).delete()
    value = value_save(
        actor=cast["alice"],
        element=DataElement.objects.get(code="volunteers.registered"),
        org_unit=unit,
        period=Period.year_of(2013),
        value=Decimal(4999),
        submit=True,
    )
    with django_capture_on_commit_callbacks(execute=True):
        values_approve(actor=cast["bob"], values=[value])
    incremental = {
        (s.org_unit_id, s.period): s.data for s in DashboardSummary.objects.order_by("id")
    }
    assert summaries.summary_for(city.id, "2013") != before

    # What the incremental run left is what a full rebuild from the rows gives.
    services.progress_recompute()
    full = {(s.org_unit_id, s.period): s.data for s in DashboardSummary.objects.order_by("id")}
    assert incremental == full


def test_paged_city_page_shows_what_the_whole_page_showed(cast, tree):
    """The first paint (``?page=``) carries the same counts and attention list as the whole
    page, and its lines are the whole page's lines, built in full; the rest come by page."""
    catalog = make_catalog()
    make_progress(catalog, tree)
    grow(catalog, tree, towns=3, indicators=50)
    summaries.refresh(unit_ids=OrgUnit.objects.values_list("id", flat=True))
    city = OrgUnit.objects.get(code="441900")
    whole = city_dashboard(city=city, as_of=AS_OF)
    first = city_dashboard(city=city, as_of=AS_OF, page=1)
    second = city_dashboard(city=city, as_of=AS_OF, page=2)
    assert whole.pager is None and first.pager["pages"] == 2 and first.pager["next"] == 2
    assert (first.counts, first.total, first.share_good, first.completeness_pct) == (
        whole.counts,
        whole.total,
        whole.share_good,
        whole.completeness_pct,
    )
    assert first.chart == whole.chart
    assert [line.indicator_id for line in first.attention] == [
        line.indicator_id for line in whole.attention
    ]
    assert first.attention[:40] == whole.attention[:40]

    def shown(d):
        return [line for p in d.plans for g in p.goals for line in g.lines]

    assert shown(first) + shown(second) == shown(whole)
    assert len(shown(first)) == 40

"""One as-of rule for every page, pack and export (reports.selectors.default_as_of), and one
definition of "needs attention" counted the same way on the home card, the city dashboard and
the city's unit page."""

from __future__ import annotations

import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from reports import selectors
from reports.dashboards import packs as pack_data
from tests.reports.test_dashboard_data import AS_OF, make_catalog, make_progress, put_row

CITY_DG = reverse("reports:city", args=["441900"])
UNIT_DG = reverse("reports:unit", args=["441900"])
NEW = "2015"


@pytest.fixture
def data(cast, tree):
    catalog = make_catalog()
    make_progress(catalog, tree)
    return catalog


def approve_a_handful_of_new_values(data, tree):
    """What a reviewer approving three 2015 values for one community leaves in the progress
    rows: a 2015 row per indicator at the city, almost none of them with anything in."""
    city = tree["441900"]
    for code, ind in data["ind"].items():
        if not code.startswith("dg."):
            continue
        has_value = code == "dg.volunteers.share"
        put_row(
            ind,
            city,
            NEW,
            0.53 if has_value else None,
            "off_track" if has_value else "no_data",
            completeness=0.03 if has_value else 0,
        )


# --- the rule --------------------------------------------------------------------------------


class Row:
    def __init__(self, period, completeness, indicator_id=1):
        self.indicator_id = indicator_id
        self.period = period
        self.period_end = date(int(period), 12, 31)
        self.completeness = Decimal(str(completeness))


def states(rows, on):
    return {s.period: s for s in selectors.period_states(rows, {}, on=on)}


def test_a_period_is_complete_enough_at_the_threshold_or_at_half_of_it_after_its_deadline():
    rows = [
        *(Row("2014", 0.5, i) for i in (1, 2)),
        *(Row("2015", 0.85, i) for i in (1, 2)),
        *(Row("2016", 0.03, i) for i in (1, 2)),
    ]
    # The default yearly deadline falls in January of the next year.
    before = states(rows, date(2015, 1, 5))
    assert not before["2014"].complete_enough  # 50% before the deadline: still coming in
    assert before["2015"].complete_enough  # 85% ≥ 80%
    after = states(rows, date(2026, 1, 1))
    assert after["2014"].complete_enough  # the deadline has passed and 50% ≥ 40%
    assert not after["2016"].complete_enough  # long past its deadline, but a handful
    assert after["2016"].completeness == 3


def test_a_period_with_rows_for_few_indicators_is_not_complete_however_full_those_rows_are():
    # 2016: one milestone approved (its row 100% complete); the other 19 indicators have no
    # row that year. Averaging the rows present would call 2016 complete.
    rows = [*(Row("2015", 1, i) for i in range(20)), Row("2016", 1, 0)]
    after = states(rows, date(2026, 1, 1))
    assert after["2016"].completeness == 5 and not after["2016"].complete_enough
    assert selectors.as_of_from_rows(rows, {}).default == "2015"


def test_the_threshold_is_a_setting(settings):
    settings.ASOF_COMPLETENESS_THRESHOLD = 40
    assert states([Row("2014", 0.5)], date(2015, 1, 5))["2014"].complete_enough


def test_the_default_is_the_latest_complete_period_and_the_newer_one_is_in_progress():
    rows = [Row("2013", 1), Row("2014", 0.9), Row("2015", 0.03)]
    as_of = selectors.as_of_from_rows(rows, {})
    assert as_of.period == as_of.default == "2014"
    assert as_of.in_progress.period == "2015" and as_of.in_progress.completeness == 3
    chosen = selectors.as_of_from_rows(rows, {}, "2015")
    assert chosen.period == "2015" and chosen.chosen_by_reader and chosen.default == "2014"


# --- every page, pack and export -------------------------------------------------------------


def test_a_handful_of_new_values_moves_no_page_pack_or_export(client, data, cast, tree):
    approve_a_handful_of_new_values(data, tree)
    client.force_login(cast["carol"])
    city = tree["441900"]
    assert selectors.default_as_of(city) == AS_OF

    home = client.get("/")
    card = next(c for c in home.context["cards"] if c.unit.code == "441900")
    assert card.as_of == AS_OF and card.period.in_progress.period == NEW
    text = home.content.decode()
    assert "截至 2014（完整度" in text and "2015 进行中（完整度 1%）" in text

    response = client.get(CITY_DG)
    d = response.context["d"]
    assert d.as_of == AS_OF and d.period.completeness == 90
    assert d.period.in_progress.period == NEW
    text = response.content.decode()
    assert "2015 进行中（完整度 1%）" in text and "as_of=2015" in text

    assert client.get(UNIT_DG).context["o"].as_of == AS_OF
    detail = client.get(reverse("reports:indicator", args=["dg.volunteers.share"])).context["i"]
    assert detail.as_of == AS_OF and detail.line.value == 8.6

    # The reader may still open the newer period.
    assert client.get(CITY_DG, {"as_of": NEW}).context["d"].as_of == NEW

    cities = {c["code"]: c for c in selectors.pack_cities_for(cast["carol"])}
    assert cities["441900"]["default"] == AS_OF
    assert pack_data.pack_content(city=city, as_of="")["dashboard"].as_of == AS_OF
    client.post(reverse("reports:packs"), {"city": "441900", "as_of": "", "language": "zh-hans"})
    from reports.models import ReportPack

    assert ReportPack.objects.latest("id").as_of == AS_OF

    out = io.StringIO()
    call_command("export_progress", "--format", "json", stdout=out)
    exported = {(r["indicator"], r["org_unit"]): r for r in json.loads(out.getvalue())}
    assert exported[("dg.volunteers.share", "441900")]["period"] == AS_OF


def test_home_city_and_unit_page_count_the_same_needs_attention(client, data, cast, tree):
    from targets.models import Indicator

    city = tree["441900"]
    dg = data["plans"]["dg"]
    goal = data["goals"]["20"]
    # One indicator not reported in the as-of year (a no_data row), one with no row there.
    for code, periods in (("dg.extra.nodata", ["2013", AS_OF]), ("dg.extra.gap", ["2013"])):
        ind = Indicator.objects.create(
            code=code, plan=dg, goal=goal, position=9, name_zh=code, kind="value",
            element=data["el"]["social_orgs.count"], comparator=">=", target=Decimal(10),
            deadline=date(2015, 12, 31), quote="…",
        )  # fmt: skip
        for period in periods:
            value, status = (5, "on_track") if period != AS_OF else (None, "no_data")
            put_row(ind, city, period, value, status)
    client.force_login(cast["carol"])
    card = next(c for c in client.get("/").context["cards"] if c.unit.code == "441900")
    city_attention = client.get(CITY_DG).context["d"].attention
    unit_attention = client.get(UNIT_DG).context["o"].attention
    codes = {line.code for line in city_attention}
    assert {"dg.extra.nodata", "dg.extra.gap"} <= codes
    assert card.attention == len(city_attention) == len(unit_attention)
    assert codes == {line.code for line in unit_attention}

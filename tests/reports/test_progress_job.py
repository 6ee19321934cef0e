"""The progress job on the real database: only approved values count, rows are stored and
exported, incremental recomputes equal a full one, and approvals reach a live worker."""

from __future__ import annotations

import io
import json
import random
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from core.periods import Period
from districts.models import DataValue, OrgUnit
from districts.services import value_save, values_approve, values_reopen
from reports import services
from reports.models import ProgressRow, ProgressRun
from targets.models import DataElement, Goal, Indicator, Plan

COMMUNITIES = ["441900003001", "441900003002", "441900101001"]


@pytest.fixture
def plan(tree):
    def element(code, **kw):
        defaults = dict(
            name_zh=code,
            value_type="integer",
            period_type="year",
            aggregation="sum",
            temporal="last",
            level="community",
        )
        return DataElement.objects.create(code=code, **{**defaults, **kw})

    pop = element("population.resident")
    vol = element("volunteers.registered", not_above=pop)
    trainees = element("trainees.count", period_type="month", temporal="sum")
    p = Plan.objects.create(code="dg-test", city=tree["441900"], title_zh="测试规划")
    goal = Goal.objects.create(plan=p, code="19", title_zh="志愿服务")
    Indicator.objects.create(
        code="dg.vol.share",
        plan=p,
        goal=goal,
        name_zh="志愿者占比",
        kind="ratio",
        numerator=vol,
        denominator=pop,
        factor=100,
        comparator=">=",
        target=12,
        deadline=date(2015, 12, 31),
        quote="12%以上",
        unit="%",
    )
    Indicator.objects.create(
        code="dg.trainees",
        plan=p,
        goal=goal,
        name_zh="培训人次",
        kind="value",
        element=trainees,
        comparator=">=",
        target=1000,
        deadline=date(2015, 12, 31),
        quote="1000人次",
    )
    return p


def put(element_code, unit_code, period, value, state="approved"):
    p = Period.parse(period)
    return DataValue.objects.update_or_create(
        element=DataElement.objects.get(code=element_code),
        org_unit=OrgUnit.objects.get(code=unit_code),
        period=str(p),
        defaults=dict(value=Decimal(value), state=state, period_start=p.start, period_end=p.end),
    )[0]


def row(indicator, unit, period):
    return ProgressRow.objects.get(indicator__code=indicator, org_unit__code=unit, period=period)


def test_city_ratio_sums_numerators_and_denominators_and_ignores_unapproved(plan):
    for year, vols in ((2011, (500, 300, 100)), (2013, (900, 700, 300))):
        for unit, pop, vol in zip(COMMUNITIES, (10000, 8000, 2000), vols, strict=True):
            put("population.resident", unit, year, pop)
            put("volunteers.registered", unit, year, vol)
    put("population.resident", "441900003001", 2012, 1000, state="submitted")  # not counted
    put("volunteers.registered", "441900003001", 2012, 900, state="submitted")

    out = io.StringIO()
    call_command("recompute_progress", "--as-of", "2013", stdout=out)
    assert "progress run #" in out.getvalue() and "rows written as of 2013-12-31" in out.getvalue()

    city_2013 = row("dg.vol.share", "441900", "2013")
    # (900 + 700 + 300) / (10000 + 8000 + 2000) × 100 = 9.5 — not the mean of 9, 8.75, 15
    assert city_2013.value == Decimal("9.5")
    assert (city_2013.numerator, city_2013.denominator) == (1900, 20000)
    # baseline 2011: 900/20000 = 4.5; line to 12 by 2015-12-31; expected at 2013-12-31:
    # days 2011-12-31 → 2013-12-31 = 731, → 2015-12-31 = 1461: 4.5 + 7.5 × 731/1461 = 8.25257
    assert float(city_2013.expected) == pytest.approx(4.5 + 7.5 * 731 / 1461, abs=1e-6)
    assert city_2013.status == "on_track"
    town = row("dg.vol.share", "441900003", "2013")
    assert town.value == Decimal("8.888889")  # 1600 / 18000 × 100
    assert town.completeness == 1
    unapproved = row("dg.vol.share", "441900003", "2012")  # its community's 2012 is submitted only
    assert unapproved.value is None and unapproved.status == "no_data"
    # below the first level, "no data" is not stored
    assert not ProgressRow.objects.filter(org_unit__code="441900003001", period="2012").exists()
    run = ProgressRun.objects.get()
    assert run.state == "succeeded" and run.rows_written == ProgressRow.objects.count()


def test_monthly_flow_sums_into_the_year(plan):
    for month in range(1, 13):
        put("trainees.count", "441900003001", f"2014-{month:02d}", 10)
        put("trainees.count", "441900101001", f"2014-{month:02d}", 5)
    services.progress_recompute(as_of=date(2014, 12, 31))
    assert row("dg.trainees", "441900", "2014").value == 180  # 12 × (10 + 5)
    assert row("dg.trainees", "441900003001", "2014").status == "no_target"


def test_sql_roll_up_matches_the_engine_on_raw_periods(plan):
    rng = random.Random(7)
    for unit in COMMUNITIES:
        for month in rng.sample(range(1, 13), 7):
            put("trainees.count", unit, f"2014-{month:02d}", rng.randint(0, 50))
        put("trainees.count", unit, "2014Q1", 999)  # another sub-period type loses to months
    put("trainees.count", "441900003002", "2014", 77)  # the year's own value wins
    put("population.resident", "441900003001", "2014-06", 1000)  # a stock: last month
    put("population.resident", "441900003001", "2014-09", 1200)
    indicators = list(Indicator.objects.all())
    element_ids = services._element_ids(indicators)
    unit_ids = list(OrgUnit.objects.values_list("id", flat=True))
    as_of = date(2014, 12, 31)
    rolled = services._load_values(element_ids, unit_ids, as_of, services.APPROVED_ONLY)
    raw = services.load_values_raw(element_ids, unit_ids, as_of, services.APPROVED_ONLY)
    assert rolled[("population.resident", "441900003001", "2014")] == 1200
    assert rolled[("trainees.count", "441900003002", "2014")] == 77

    def computed(values):
        from reports import progress as engine

        nodes = [
            engine.OrgUnitNode(u.code, u.parent.code if u.parent else None, u.level)
            for u in OrgUnit.objects.select_related("parent")
        ]
        elements = {
            e.code: engine.ElementSpec(e.code, e.aggregation, None, e.temporal, e.period_type)
            for e in DataElement.objects.all()
        }
        return engine.compute_progress(
            indicators=[services.indicator_spec(i) for i in indicators],
            elements=elements,
            units=nodes,
            values=values,
            years=[2014],
            as_of=as_of,
        )

    assert computed(rolled) == computed(raw)


def test_export_progress_prints_latest_rows(plan):
    put("population.resident", "441900003001", 2012, 1000)
    put("volunteers.registered", "441900003001", 2012, 100)
    put("population.resident", "441900003001", 2014, 1000)
    put("volunteers.registered", "441900003001", 2014, 130)
    services.progress_recompute(as_of=date(2014, 12, 31))
    out = io.StringIO()
    # Named: without --as-of the export takes the dashboards' as-of period (2014 is not complete
    # enough here: one indicator of two has values; see tests/reports/test_dashboard_asof.py).
    call_command(
        "export_progress", "--format", "json", "--plan", "dg-test", "--as-of", "2014", stdout=out
    )
    rows = {(r["indicator"], r["org_unit"]): r for r in json.loads(out.getvalue())}
    city = rows[("dg.vol.share", "441900")]
    assert city["period"] == "2014" and city["value"] == 13.0 and city["status"] == "achieved"
    assert list(city) == [
        "indicator",
        "org_unit",
        "period",
        "value",
        "numerator",
        "denominator",
        "target",
        "comparator",
        "deadline",
        "expected",
        "status",
        "forecast",
        "completeness",
    ]
    out = io.StringIO()
    call_command("export_progress", "--format", "csv", "--as-of", "2013", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == (
        "indicator,org_unit,period,value,numerator,denominator,target,comparator,deadline,"
        "expected,status,forecast,completeness"
    )
    assert all(",2014," not in line for line in lines)


def snapshot():
    return {
        (r.indicator.code, r.org_unit.code, r.period): (
            r.value,
            r.numerator,
            r.denominator,
            r.status,
            r.expected,
            r.forecast,
            r.completeness,
        )
        for r in ProgressRow.objects.select_related("indicator", "org_unit")
    }


def test_incremental_recompute_after_approvals_equals_a_full_recompute(
    plan, cast, django_capture_on_commit_callbacks
):
    rng = random.Random(20150101)
    for year in (2011, 2012, 2013):
        for unit in COMMUNITIES:
            put("population.resident", unit, year, rng.randint(1000, 5000))
            put("volunteers.registered", unit, year, rng.randint(0, 500))
    services.progress_recompute()  # as of today, like the incremental runs
    official = {
        "441900003001": cast["alice"],
        "441900003002": cast["alice"],
        "441900101001": cast["dave"],
    }
    for _round in range(6):
        unit = OrgUnit.objects.get(code=rng.choice(COMMUNITIES))
        element = DataElement.objects.get(
            code=rng.choice(["population.resident", "volunteers.registered"])
        )
        period = Period.year_of(rng.choice([2011, 2012, 2013, 2014]))
        existing = DataValue.objects.filter(
            element=element, org_unit=unit, period=str(period)
        ).first()
        if existing and existing.state == "approved":
            with django_capture_on_commit_callbacks(execute=True):
                values_reopen(actor=cast["bob"], values=[existing], comment="更正")
        value = value_save(
            actor=official[unit.code],
            element=element,
            org_unit=unit,
            period=period,
            value=Decimal(rng.randint(1, 900)),
            submit=True,
        )
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            values_approve(actor=cast["bob"], values=[value])
        assert len(callbacks) == 1  # the incremental job was enqueued
        last = ProgressRun.objects.order_by("-id").first()
        assert last.org_unit_codes == [unit.code] and last.trigger == "approval"
        incremental = snapshot()
        services.progress_recompute()  # as of today, like the incremental runs
        assert incremental == snapshot()


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_approval_is_computed_by_the_live_worker(plan, cast, live_celery):
    from tests.conftest import wait_for

    put("population.resident", "441900003001", 2013, 1000)
    value = value_save(
        actor=cast["alice"],
        element=DataElement.objects.get(code="volunteers.registered"),
        org_unit=OrgUnit.objects.get(code="441900003001"),
        period=Period.year_of(2013),
        value=Decimal(150),
        submit=True,
    )
    values_approve(actor=cast["bob"], values=[value])
    city = wait_for(
        lambda: ProgressRow.objects.filter(
            indicator__code="dg.vol.share", org_unit__code="441900", period="2013"
        ).first()
    )
    assert city.value == 15 and city.status == "achieved"
    assert ProgressRun.objects.filter(trigger="approval", state="succeeded").exists()

"""seed_demo on the real catalog: generated communities under the real towns, values for every
element the plans use, the reported outcomes kept, every status on the dashboards, demo users —
and a second run that changes nothing.

The catalog and the demo are loaded once for the module, inside a transaction rolled back at the
end; each test runs in a savepoint inside it. The progress job runs as of the end of 2015 (the
last year of most demo figures), which keeps the module well under a minute.
"""

from __future__ import annotations

import io
import math
from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

pytestmark = pytest.mark.postgres

MAIN_STATUSES = {"achieved", "on_track", "at_risk", "off_track", "missed", "no_data"}


def _snapshot() -> dict:
    from django.contrib.auth import get_user_model

    from districts.models import DataValue, OrgUnit, RoleAssignment

    return {
        "units": sorted(
            OrgUnit.objects.filter(is_generated=True).values_list(
                "id", "code", "name_zh", "name_en", "level", "parent_id", "path", "population"
            )
        ),
        "values": sorted(
            DataValue.objects.values_list(
                "id",
                "element_id",
                "org_unit_id",
                "period",
                "value",
                "state",
                "comment",
                "review_comment",
                "source",
                "created_by_id",
                "reviewed_by_id",
                "reviewed_at",
                "created_at",
                "updated_at",
                "version",
            )
        ),
        "users": sorted(get_user_model().objects.values_list("id", "username", "password")),
        "roles": sorted(RoleAssignment.objects.values_list("user_id", "role", "org_unit_id")),
    }


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    from demo.services import demo_seed
    from reports.services import progress_recompute

    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_catalog", stdout=io.StringIO())
        first = demo_seed(recompute=False)
        before = _snapshot()
        out = io.StringIO()
        call_command("seed_demo", "--no-progress", stdout=out)
        after = _snapshot()
        run = progress_recompute(as_of=date(2015, 12, 31), trigger="test")
        # Check the deferred foreign keys of all that once, here, rather than again at the end
        # of every test's savepoint.
        connection.check_constraints()
        yield SimpleNamespace(first=first, second_line=out.getvalue(), before=before,
                              after=after, run=run)  # fmt: skip
        transaction.set_rollback(True)


# Runs before the module's fixture loads anything (tests run in file order).
@pytest.mark.django_db
def test_seed_demo_refuses_to_run_without_the_catalog():
    with pytest.raises(CommandError, match="seed_catalog"):
        call_command("seed_demo", stdout=io.StringIO())


def _units():
    from districts.models import OrgUnit

    return {u.code: u for u in OrgUnit.objects.all()}


def _city_of(unit, units) -> str:
    from demo.generate import CITY_CODES, LANGXIA

    for code in unit.path.strip("/").split("/"):
        if code in (*CITY_CODES, LANGXIA):
            return code
    return ""


def test_generated_units_are_marked_and_sit_under_the_real_towns(seeded, db):
    units = _units()
    by_id = {u.id: u for u in units.values()}
    generated = [u for u in units.values() if u.is_generated]
    assert 300 < len(generated) < 3000  # a few thousand at most
    per_city = Counter(_city_of(u, units) for u in generated)
    assert set(per_city) == {"441900", "442000", "440300", "350200", "310116107"}
    for u in generated:
        parent = by_id[u.parent_id]
        assert u.name_zh.endswith("（演示）") and u.name_en.endswith("(demo)"), u.code
        assert u.code.startswith(parent.code) and len(u.code) == len(parent.code) + 3, u.code
        assert u.path == f"{parent.path}{u.code}/"
        if u.level == "subdistrict":
            assert parent.level == "district" and not parent.is_generated
        else:
            assert u.level in ("community", "village")
            assert parent.level in ("town", "subdistrict")
    # 东城街道 keeps its reference count of communities; every populated real town has some.
    assert sum(1 for u in generated if u.parent_id == units["441900003"].id) == 24
    for u in units.values():
        if u.level in ("town", "subdistrict") and not u.is_generated and u.population:
            assert any(g.parent_id == u.id for g in generated), u.code


def test_community_populations_sum_to_each_real_units_population(seeded, db):
    from demo.generate import unit_population
    from districts.models import DataValue

    units = _units()
    by_id = {u.id: u for u in units.values()}
    real = [u for u in units.values() if not u.is_generated and u.population and u.level != "city"
            and u.level not in ("province", "country")]  # fmt: skip
    leaves = [u for u in units.values() if u.is_generated and u.level in ("community", "village")]
    pops = defaultdict(dict)
    for unit_id, period, value in DataValue.objects.filter(
        element__code="population.resident"
    ).values_list("org_unit_id", "period", "value"):
        pops[period][unit_id] = value
    checked = 0
    for unit in real:
        mine = [c for c in leaves if c.path.startswith(unit.path)]
        if not mine:
            continue
        assert sum(c.population for c in mine) == unit.population, unit.code
        for period, by_unit in pops.items():
            reported = [by_unit[c.id] for c in mine if c.id in by_unit]
            if len(reported) == len(mine):
                expected = unit_population(unit.population, unit.population_year, int(period))
                assert sum(reported) == expected, (unit.code, period)
                checked += 1
    assert checked > 100
    # Xiamen's demo years include the census year: there the communities add up to the census.
    siming = units["350203"]
    in_siming = [c.id for c in leaves if c.path.startswith(siming.path)]
    assert sum(pops["2020"][i] for i in in_siming) == siming.population
    assert all(by_id[i].level in ("community", "village") for i in pops["2015"])


def test_every_element_the_catalog_uses_has_values_of_its_type_at_its_level(seeded, db):
    from districts.models import DataValue
    from targets.models import DataElement, Indicator

    used = set()
    for ind in Indicator.objects.all():
        used |= {
            i
            for i in (ind.element_id, ind.numerator_id, ind.denominator_id,
                      ind.condition_element_id, ind.condition_numerator_id,
                      ind.condition_denominator_id)
            if i
        }  # fmt: skip
    elements = {e.id: e for e in DataElement.objects.all()}
    used |= {elements[i].weight_id for i in used if elements[i].weight_id}
    with_values = set(DataValue.objects.values_list("element_id", flat=True).distinct())
    assert used - with_values == set(), [elements[i].code for i in used - with_values]

    tiers = {"community": {"community", "village"}, "town": {"town", "subdistrict"},
             "district": {"district"}, "city": {"city", "district", "town"}}  # fmt: skip
    rows = DataValue.objects.values_list("element_id", "org_unit__level", "value", "period")
    for element_id, level, value, period in rows.iterator(chunk_size=20000):
        e = elements[element_id]
        assert level in tiers[e.level], (e.code, level)
        if e.value_type == "boolean":
            assert value in (0, 1), e.code
        elif e.value_type == "integer":
            assert value == value.to_integral_value(), e.code
        assert value >= 0, e.code
        assert len(period) == (7 if e.period_type == "month" else 4), (e.code, period)


def test_no_part_exceeds_its_whole(seeded, db):
    """Every (part, whole) pair of the vocabulary, compared at the part's unit: the whole's own
    value there or the sum of it below."""
    from districts.models import DataValue, OrgUnit
    from targets.models import DataElement

    pairs = list(
        DataElement.objects.filter(not_above__isnull=False).values_list("id", "not_above_id")
    )
    assert len(pairs) > 60
    ids = {i for pair in pairs for i in pair}
    parent = dict(OrgUnit.objects.values_list("id", "parent_id"))
    own: dict[tuple[int, str], dict[int, Decimal]] = defaultdict(dict)
    for element_id, unit_id, period, value in DataValue.objects.filter(
        element_id__in=ids
    ).values_list("element_id", "org_unit_id", "period", "value"):
        own[(element_id, period)][unit_id] = value

    def totals(element_id: int, period: str) -> dict[int, Decimal]:
        out = dict(own.get((element_id, period), {}))
        summed: dict[int, Decimal] = defaultdict(Decimal)
        for unit_id, value in own.get((element_id, period), {}).items():
            p = parent.get(unit_id)
            while p is not None:
                summed[p] += value
                p = parent.get(p)
        for unit_id, value in summed.items():
            out.setdefault(unit_id, value)
        return out

    compared = 0
    for part, whole in pairs:
        for (element_id, period), values in list(own.items()):
            if element_id != part:
                continue
            caps = totals(whole, period)
            for unit_id, value in values.items():
                if unit_id in caps:
                    assert value <= caps[unit_id], (part, whole, unit_id, period)
                    compared += 1
    assert compared > 10_000


def test_reported_outcomes_are_kept_with_their_source(seeded, db):
    from districts.models import DataValue
    from reports.models import ProgressRow

    shenzhen = DataValue.objects.filter(
        element__code="social_workers.certified", period="2014",
        org_unit__path__startswith=_units()["440300"].path,
    )  # fmt: skip
    assert sum(v.value for v in shenzhen) == 5929
    assert all(v.comment.startswith("演示数据，参照：http://app.swchina.org") for v in shenzhen)
    life = ProgressRow.objects.get(
        indicator__code="zs.health.life_expectancy", org_unit__code="442000", period="2015"
    )
    assert math.isclose(float(life.value), 78.8, abs_tol=0.05)
    assert DataValue.objects.filter(
        element__code="health.life_expectancy", period="2015", comment__contains="hbsztv.com",
        org_unit__path__startswith=_units()["442000"].path,
    ).exists()  # fmt: skip
    dongguan_agencies = DataValue.objects.get(
        element__code="social_work.agencies", org_unit__code="441900", period="2012"
    )
    assert dongguan_agencies.value == 10


def test_a_second_run_changes_nothing(seeded, db):
    first, line = seeded.first, seeded.second_line
    assert first.values > 50_000 and first.values_created == first.values
    assert f"{first.units} generated units (+0 ~0 -0)" in line
    assert f"{first.values} values (+0 ~0 -0;" in line
    assert f"{first.users} users (+0)" in line
    for key in ("units", "values", "users", "roles"):
        assert seeded.before[key] == seeded.after[key], key


def test_every_status_appears_among_the_city_rows(seeded, db):
    from django.db.models import F

    from reports.models import ProgressRow

    city_rows = ProgressRow.objects.filter(org_unit_id=F("indicator__plan__city_id"))
    statuses = set(city_rows.values_list("status", flat=True).distinct())
    assert MAIN_STATUSES | {"not_assessable"} <= statuses
    # Some towns did not report the latest year: the city's figure is incomplete.
    assert city_rows.filter(period="2015", completeness__lt=1, value__isnull=False).exists()
    # Each big plan shows more than finished targets in its last demo year.
    for plan in ("dongguan-2012-14", "zhongshan-2014-ssyj"):
        latest = set(
            city_rows.filter(indicator__plan__code=plan, period="2014").values_list(
                "status", flat=True
            )
        )
        assert {"on_track", "at_risk", "off_track"} <= latest, (plan, latest)


def test_demo_users_hold_their_roles_and_the_reviewers_have_work(seeded, db):
    from django.contrib.auth import get_user_model

    from districts.models import DataValue, RoleAssignment

    User = get_user_model()
    expected = {
        ("leader_all", "leader", "CN"),
        ("leader_dongguan", "leader", "441900"),
        ("reviewer_dongguan", "reviewer", "441900"),
        ("official_dongcheng", "official", "441900003"),
        ("leader_zhongshan", "leader", "442000"),
        ("reviewer_xiamen", "reviewer", "350200"),
        ("official_yantian", "official", "440308"),
        ("official_langxia", "official", "310116107"),
    }
    held = set(RoleAssignment.objects.values_list("user__username", "role", "org_unit__code"))
    assert expected <= held
    for username, *_ in expected:
        user = User.objects.get(username=username)
        assert user.check_password("demo") and "演示" in user.first_name
    values = DataValue.objects.filter(source="demo")
    assert values.filter(state="approved").count() > 0.99 * values.count()
    pending = values.filter(state="submitted")
    assert 10 < pending.count() < 300
    assert pending.filter(org_unit__path__startswith=_units()["441900003"].path).exists()
    assert all(v.reviewed_by_id is None for v in pending)
    rejected = values.filter(state="rejected")
    assert 1 <= rejected.count() <= 2
    assert all(v.review_comment and v.reviewed_by_id for v in rejected)
    approved = values.filter(state="approved").select_related("created_by", "reviewed_by").first()
    assert approved.created_by.username.startswith("official_")
    assert approved.reviewed_by.username.startswith("reviewer_")


def test_demo_logins_lists_every_demo_user(seeded, db):
    out = io.StringIO()
    call_command("demo_logins", stdout=out)
    text = out.getvalue()
    for username in ("leader_all", "leader_dongguan", "reviewer_zhongshan", "official_siming"):
        assert username in text
    assert "demo" in text


def test_units_carry_their_groups_and_dates(seeded, db):
    # Generated communities are urban (社区) or rural (村); real towns, subdistricts and zones
    # are told apart by their names (镇 / 街道 / anything else at that tier).
    from districts.models import OrgUnit, OrgUnitGroup

    members = {
        g.code: set(g.units.values_list("code", flat=True)) for g in OrgUnitGroup.objects.all()
    }
    for u in OrgUnit.objects.filter(is_generated=True, level__in=["community", "village"]):
        expected = "urban_community" if u.level == "community" else "rural_village"
        assert u.code in members[expected], u.code
    assert members["urban_community"] and members["rural_village"]
    assert members["urban_community"].isdisjoint(members["rural_village"])
    assert {"441900101", "442000101"} <= members["town"]  # 石碣镇, 黄圃镇
    assert {"441900003", "442000001"} <= members["subdistrict"]  # 东城街道, 石岐街道
    assert {"441900401", "441900402", "441900403", "441900404", "440300-dapeng"} <= members["zone"]
    units = _units()
    assert units["441900402"].opened_on == date(2023, 1, 1) and units["441900402"].dates_source
    assert units["440309"].opened_on == date(2017, 1, 7)
    assert [p.code for p in units["440311"].predecessors.all()] == ["440306"]
    # No demo figures for a unit in years before it existed.
    from districts.models import DataValue

    assert not DataValue.objects.filter(
        org_unit__path__startswith=units["440311"].path, period__startswith="2015"
    ).exists()


def test_the_engine_counts_the_right_population_on_the_demo(seeded, db):
    # Issue 13's figures: the three Dongguan zones with 2023 codes no longer hold the
    # volunteer share's 2015 completeness down, and a ratio rests on the towns reporting both
    # parts ("n of m").
    from reports.models import ProgressRow

    share = ProgressRow.objects.get(
        indicator__code="dg.volunteers.registered_share", org_unit__code="441900", period="2015"
    )
    assert share.expected_units == 33  # 36 first-level units less the three opened in 2017/2023
    assert share.reporting_units <= share.expected_units
    rows = ProgressRow.objects.filter(
        indicator__code="dg.officials.leaders_sw_trained_share", org_unit__code="441900"
    )
    for row in rows:
        if row.reporting_units:
            towns = ProgressRow.objects.filter(
                indicator_id=row.indicator_id, period=row.period,
                org_unit__parent__code="441900", value__isnull=False,
            ).values_list("value", flat=True)  # fmt: skip
            assert min(towns) - Decimal("0.0001") <= row.value <= max(towns) + Decimal("0.0001")

"""The right population behind a figure (issue 13): ratios with missing children, org-unit
groups (urban communities, villages, towns…), and units that did not exist yet. Pure engine."""

from __future__ import annotations

from datetime import date

import pytest

from reports.progress import (
    ACHIEVED,
    NO_DATA,
    ConditionSpec,
    ElementSpec,
    IndicatorSpec,
    OrgUnitNode,
    RatioSpec,
    compute_progress,
)

D2015 = date(2015, 12, 31)
ELEMENTS = {
    "trained": ElementSpec("trained", "sum"),
    "leaders": ElementSpec("leaders", "sum"),
    "vol": ElementSpec("vol", "sum"),
    "pop": ElementSpec("pop", "sum"),
    "centre": ElementSpec("centre", "sum"),
}


def run(indicators, values, units, years=(2015,), as_of=date(2016, 6, 30)):
    rows = compute_progress(
        indicators=indicators,
        elements=ELEMENTS,
        units=units,
        values=values,
        years=list(years),
        as_of=as_of,
    )
    return {(r.indicator, r.org_unit, r.period): r for r in rows}


def test_leader_training_share_counts_only_towns_that_report_both_parts():
    # Dongguan on the demo data: 28 towns trained all their leading cadres, 8 gave their cadres
    # but no trained figure. The city stood at 86.54% (off track) while every reporting town
    # was at 100%; counted over the towns reporting both parts it is 100%, "28 of 36 towns".
    units = [OrgUnitNode("DG", None, "city")]
    values = {}
    for i in range(36):
        code = f"T{i:02d}"
        units.append(OrgUnitNode(code, "DG", "town"))
        values[("leaders", code, "2015")] = 10.0 + i
        if i < 28:
            values[("trained", code, "2015")] = 10.0 + i
    ind = IndicatorSpec(
        code="share", kind="ratio", city="DG", comparator=">=", target=100.0,
        deadline=date(2015, 6, 12), ratio=RatioSpec("trained", "leaders", 100),
    )  # fmt: skip
    city = run([ind], values, units)[("share", "DG", "2015")]
    assert city.value == pytest.approx(100.0)
    assert city.status == ACHIEVED
    assert (city.reporting_units, city.expected_units) == (28, 36)
    assert city.completeness == pytest.approx(28 / 36)
    assert city.numerator == sum(10.0 + i for i in range(28))
    assert city.denominator == city.numerator


def test_a_unit_reporting_both_parts_itself_keeps_them():
    units = [OrgUnitNode("C", None, "city"), OrgUnitNode("T", "C", "town")]
    values = {("trained", "C", "2015"): 5.0, ("leaders", "C", "2015"): 10.0,
              ("trained", "T", "2015"): 1.0, ("leaders", "T", "2015"): 1.0}  # fmt: skip
    ind = IndicatorSpec(
        code="share", kind="ratio", city="C", comparator=">=", target=100.0,
        deadline=D2015, ratio=RatioSpec("trained", "leaders", 100),
    )  # fmt: skip
    city = run([ind], values, units)[("share", "C", "2015")]
    assert city.value == pytest.approx(50.0)
    # Its own figure does not rest on its children: no "n of m" for it.
    assert (city.reporting_units, city.expected_units) == (None, None)


# C ─ T1 (town) ─ U1, U2 (urban communities), V1 (village)
#   └ S1 (subdistrict) ─ U3 (urban community)
#   └ T2 (town) ─ V2 (village)
URBAN, RURAL = frozenset({"urban_community"}), frozenset({"rural_village"})
TREE = [
    OrgUnitNode("C", None, "city"),
    OrgUnitNode("T1", "C", "town", frozenset({"town"})),
    OrgUnitNode("U1", "T1", "community", URBAN),
    OrgUnitNode("U2", "T1", "community", URBAN),
    OrgUnitNode("V1", "T1", "village", RURAL),
    OrgUnitNode("S1", "C", "subdistrict", frozenset({"subdistrict"})),
    OrgUnitNode("U3", "S1", "community", URBAN),
    OrgUnitNode("T2", "C", "town", frozenset({"town"})),
    OrgUnitNode("V2", "T2", "village", RURAL),
]


def test_a_coverage_restricted_to_a_group_counts_only_its_members():
    values = {("centre", u, "2015"): v for u, v in
              (("U1", 1), ("U2", 0), ("U3", 1), ("V1", 1), ("V2", 0))}  # fmt: skip
    common = dict(city="C", kind="coverage", level="community", comparator=">=", target=100.0,
                  deadline=D2015, condition=ConditionSpec(">=", 1, element="centre"))  # fmt: skip
    rows = run(
        [
            IndicatorSpec(code="all", **common),
            IndicatorSpec(code="urban", group="urban_community", **common),
            IndicatorSpec(code="rural", group="rural_village", **common),
        ],
        values,
        TREE,
    )
    assert rows[("all", "C", "2015")].value == pytest.approx(60.0)
    urban = rows[("urban", "C", "2015")]
    assert urban.value == pytest.approx(200 / 3)
    assert (urban.numerator, urban.denominator) == (2.0, 3.0)
    assert (urban.reporting_units, urban.expected_units) == (3, 3)
    assert rows[("rural", "C", "2015")].value == pytest.approx(50.0)
    assert rows[("rural", "T1", "2015")].value == pytest.approx(100.0)
    # Villages get no row for an urban target, urban communities none for a rural one, and
    # a subdistrict without villages none for a rural one.
    assert ("urban", "V1", "2015") not in rows
    assert ("rural", "U1", "2015") not in rows
    assert ("rural", "S1", "2015") not in rows
    assert ("urban", "T2", "2015") not in rows


def test_a_ratio_restricted_to_a_group_sums_its_parts_only_over_members():
    # Volunteers 10% of residents in urban communities, 7% in rural ones: each share over its
    # own communities, never over the whole town.
    values = {}
    for u, vol, pop in (("U1", 12, 100), ("U2", 8, 100), ("U3", 30, 200),
                        ("V1", 7, 100), ("V2", 3, 100)):  # fmt: skip
        values[("vol", u, "2015")] = float(vol)
        values[("pop", u, "2015")] = float(pop)
    values[("pop", "T1", "2015")] = 1000.0  # a town's own population does not enter the share
    common = dict(city="C", kind="ratio", comparator=">=", deadline=D2015,
                  ratio=RatioSpec("vol", "pop", 100))  # fmt: skip
    rows = run(
        [
            IndicatorSpec(code="urban", target=10.0, group="urban_community", **common),
            IndicatorSpec(code="rural", target=7.0, group="rural_village", **common),
        ],
        values,
        TREE,
    )
    assert rows[("urban", "C", "2015")].value == pytest.approx(50 / 400 * 100)
    assert rows[("urban", "T1", "2015")].value == pytest.approx(20 / 200 * 100)
    assert rows[("rural", "C", "2015")].value == pytest.approx(10 / 200 * 100)
    assert rows[("rural", "T1", "2015")].value == pytest.approx(7.0)
    assert (rows[("urban", "T1", "2015")].reporting_units,
            rows[("urban", "T1", "2015")].expected_units) == (2, 2)  # fmt: skip
    assert (rows[("urban", "C", "2015")].reporting_units,
            rows[("urban", "C", "2015")].expected_units) == (2, 2)  # T1 and S1, not T2  # fmt: skip
    assert ("urban", "V1", "2015") not in rows
    assert ("rural", "S1", "2015") not in rows


def test_a_unit_does_not_count_before_it_opened_nor_after_it_closed():
    # Dongguan's three zones with 2023 codes held the volunteer share's 2015 completeness at
    # 33 of 36; a Shenzhen district set up in 2017 counted in every year before.
    units = [
        OrgUnitNode("C", None, "city"),
        OrgUnitNode("A", "C", "town"),
        OrgUnitNode("B", "C", "town"),
        OrgUnitNode("NEW", "C", "town", opened=date(2017, 1, 7)),
        OrgUnitNode("OLD", "C", "town", closed=date(2014, 6, 30)),
    ]
    values = {}
    for y in (2014, 2015, 2017):
        for u in ("A", "B"):
            values[("vol", u, str(y))] = 10.0
            values[("pop", u, str(y))] = 100.0
            values[("centre", u, str(y))] = 1.0
    values[("vol", "OLD", "2014")] = 1.0
    values[("pop", "OLD", "2014")] = 100.0
    share = IndicatorSpec(
        code="share", kind="ratio", city="C", comparator=">=", target=10.0,
        deadline=date(2020, 12, 31), ratio=RatioSpec("vol", "pop", 100),
    )  # fmt: skip
    towns = IndicatorSpec(
        code="towns", kind="coverage", city="C", level="town", comparator=">=", target=100.0,
        deadline=date(2020, 12, 31), condition=ConditionSpec(">=", 1, element="centre"),
    )  # fmt: skip
    for years in ((2014, 2015, 2016, 2017), (2015,)):
        rows = run([share, towns], values, units, years=years, as_of=date(2018, 6, 30))
        city = rows[("share", "C", "2015")]
        assert city.completeness == 1.0
        assert (city.reporting_units, city.expected_units) == (2, 2)
        assert rows[("towns", "C", "2015")].value == 100.0
        assert rows[("towns", "C", "2015")].denominator == 2.0
        assert ("share", "NEW", "2015") not in rows
        assert ("share", "OLD", "2015") not in rows
    rows = run(
        [share, towns], values, units, years=(2014, 2015, 2016, 2017), as_of=date(2018, 6, 30)
    )
    assert rows[("share", "C", "2014")].expected_units == 3  # OLD closed mid-2014
    assert rows[("share", "C", "2017")].expected_units == 3  # NEW opened in 2017
    assert rows[("share", "NEW", "2017")].status == NO_DATA
    assert rows[("towns", "C", "2017")].denominator == 3.0


def test_figures_of_a_unit_for_a_year_before_it_existed_do_not_count():
    # A district set up in 2017 (and the communities under it) cannot have reported for 2015:
    # such figures are left out of every sum, ratio and coverage.
    units = [
        OrgUnitNode("C", None, "city"),
        OrgUnitNode("A", "C", "district"),
        OrgUnitNode("NEW", "C", "district", opened=date(2017, 1, 7)),
        OrgUnitNode("NEWK", "NEW", "community"),
    ]
    values = {("pop", "A", "2015"): 100.0, ("vol", "A", "2015"): 10.0,
              ("pop", "NEWK", "2015"): 100.0, ("vol", "NEWK", "2015"): 90.0,
              ("pop", "NEWK", "2017"): 100.0, ("vol", "NEWK", "2017"): 90.0,
              ("pop", "A", "2017"): 100.0, ("vol", "A", "2017"): 10.0}  # fmt: skip
    common = dict(city="C", comparator=">=", deadline=date(2020, 12, 31))
    rows = run(
        [
            IndicatorSpec(code="pop", kind="value", element="pop", target=1.0, **common),
            IndicatorSpec(
                code="share",
                kind="ratio",
                target=10.0,
                ratio=RatioSpec("vol", "pop", 100),
                **common,
            ),
        ],
        values,
        units,
        years=(2015, 2017),
        as_of=date(2018, 6, 30),
    )
    assert rows[("pop", "C", "2015")].value == 100.0
    assert rows[("share", "C", "2015")].value == pytest.approx(10.0)
    assert ("pop", "NEWK", "2015") not in rows
    assert rows[("pop", "C", "2017")].value == 200.0
    assert rows[("share", "C", "2017")].value == pytest.approx(50.0)

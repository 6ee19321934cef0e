"""The small pure rules of the progress engine, one by one."""

from __future__ import annotations

from datetime import date

import pytest

from reports.progress import (
    ACHIEVED,
    AT_RISK,
    COVERAGE_LEVEL_MEMBERS,
    MISSED,
    NO_DATA,
    NOT_ASSESSABLE,
    OFF_TRACK,
    ON_TRACK,
    ElementSpec,
    IndicatorSpec,
    OrgTree,
    OrgUnitNode,
    classify,
    compute_progress,
    expected_value,
    forecast_at,
    growth_value,
    percent_of_target,
    satisfies,
)

T0 = date(2012, 12, 31)
T1 = date(2013, 12, 31)  # 365 days after T0
D = date(2014, 12, 31)  # 730 days after T0


def test_classify_order_of_rules():
    # ≥ 10 from 4 at T0; at T1 the line expects 4 + 6 × 365/730 = 7.
    assert classify(None, T1, 10, ">=", D, 4, T0) == (NO_DATA, 7.0)
    assert classify(10, T1, 10, ">=", D, 4, T0) == (ACHIEVED, 7.0)
    assert classify(7, T1, 10, ">=", D, 4, T0) == (ON_TRACK, 7.0)  # exactly on the line
    assert classify(5.5, T1, 10, ">=", D, 4, T0) == (AT_RISK, 7.0)  # exactly half the way
    assert classify(5.49, T1, 10, ">=", D, 4, T0) == (OFF_TRACK, 7.0)
    assert classify(9, D, 10, ">=", D, 4, T0) == (MISSED, 10)  # on the deadline day
    assert classify(9, T1, 10, ">=", D, None, None) == (NOT_ASSESSABLE, None)
    # A baseline dated on t itself is not "earlier than t".
    assert classify(9, T1, 10, ">=", D, 4, T1) == (NOT_ASSESSABLE, None)
    # Achieved beats missed; missed beats not assessable.
    assert classify(11, date(2016, 1, 1), 10, ">=", D, None, None)[0] == ACHIEVED
    assert classify(9, date(2016, 1, 1), 10, ">=", D, None, None)[0] == MISSED


def test_classify_mirrors_for_ceilings():
    # ≤ 2 from 8: e = 8 − 6 × 365/730 = 5.
    assert classify(5, T1, 2, "<=", D, 8, T0) == (ON_TRACK, 5.0)
    assert classify(6.5, T1, 2, "<=", D, 8, T0) == (AT_RISK, 5.0)
    assert classify(6.6, T1, 2, "<=", D, 8, T0) == (OFF_TRACK, 5.0)
    assert classify(2, T1, 2, "<", D, 8, T0)[0] == ON_TRACK  # 2 is not < 2, but below the line
    # "=" takes its direction from the baseline: from 8 down to 2 behaves like a ceiling.
    assert classify(5, T1, 2, "=", D, 8, T0) == (ON_TRACK, 5.0)
    assert classify(6.6, T1, 2, "=", D, 8, T0)[0] == OFF_TRACK


def test_expected_value_line_and_after_deadline():
    assert expected_value(4, T0, 10, D, T1) == pytest.approx(7.0)
    assert expected_value(4, T0, 10, D, D) == 10
    assert expected_value(4, T0, 10, D, date(2020, 1, 1)) == 10


def test_percent_of_target_both_directions():
    assert percent_of_target(9, 12, ">=") == pytest.approx(75.0)
    assert percent_of_target(4, 3, "<=") == pytest.approx(75.0)  # 3 / 4
    assert percent_of_target(0, 3, "<=") is None
    assert percent_of_target(5, 0, ">=") is None
    assert percent_of_target(None, 3, ">=") is None


def test_growth_value_modes():
    assert growth_value(121, 100, 2, "percent") == pytest.approx(10.0)  # 1.1² = 1.21
    assert growth_value(26, 20, 3, "points") == pytest.approx(2.0)
    assert growth_value(26, 20, 0, "points") is None
    assert growth_value(5, 0, 2, "percent") is None
    assert growth_value(-5, 10, 2, "percent") is None  # no real root of a negative ratio
    with pytest.raises(ValueError):
        growth_value(1, 1, 1, "bogus")


def test_forecast_uneven_spacing():
    # Points at −730 d (10) and −365 d (12) and 0 d (15) before the deadline D = 2014-12-31:
    # x̄ = −365, ȳ = 37/3; slope = Σ(x−x̄)(y−ȳ) / Σ(x−x̄)² = 365 × 5 / (2 × 365²) = 5/730;
    # at 0: 37/3 + 5/730 × 365 = 37/3 + 2.5 = 14.8333.
    pts = [(T0, 10.0), (T1, 12.0), (D, 15.0)]
    assert forecast_at(pts, D) == pytest.approx(37 / 3 + 2.5)
    # Uneven: (0 d, 0), (100 d, 1), (400 d, 4) is a line of slope 0.01/day: at 730 d → 7.3.
    d0 = date(2012, 1, 1)
    uneven = [(d0, 0.0), (date.fromordinal(d0.toordinal() + 100), 1.0)]
    uneven.append((date.fromordinal(d0.toordinal() + 400), 4.0))
    assert forecast_at(uneven, date.fromordinal(d0.toordinal() + 730)) == pytest.approx(7.3)
    assert forecast_at(pts[:1], D) is None


def test_satisfies_comparators():
    assert satisfies(1, ">=", 1) and not satisfies(1, ">", 1)
    assert satisfies(1, "<=", 1) and not satisfies(1, "<", 1)
    assert satisfies(0.1 + 0.2, "=", 0.3)
    with pytest.raises(ValueError):
        satisfies(1, "!=", 1)


def test_tree_roots_subtrees_and_cycles():
    tree = OrgTree(
        [
            OrgUnitNode("C", "PROVINCE-NOT-LOADED", "city"),  # unknown parent → a root
            OrgUnitNode("B", "C", "district"),
            OrgUnitNode("A", "C", "district"),
            OrgUnitNode("A1", "A", "town"),
        ]
    )
    assert tree.roots == ["C"]
    assert tree.subtree("C") == ["C", "A", "A1", "B"]
    assert tree.ancestors("A1") == ("A", "C")
    assert tree.subtree("missing") == []
    with pytest.raises(ValueError, match="cycle"):
        OrgTree([OrgUnitNode("X", "Y", "town"), OrgUnitNode("Y", "X", "town")])


def test_aggregation_none_keeps_only_own_values():
    units = [OrgUnitNode("C", None, "city"), OrgUnitNode("K", "C", "community")]
    common = dict(city="C", comparator=">=", target=1.0, deadline=date(2030, 12, 31))

    def values_of(rule: str) -> dict[str, float | None]:
        rows = compute_progress(
            indicators=[IndicatorSpec(code="x", kind="value", element="e", **common)],
            elements={"e": ElementSpec("e", rule)},
            units=units,
            values={("e", "K", "2014"): 1.0, ("e", "stranger", "2014"): 2.0},
            years=[2014],
            as_of=date(2030, 1, 1),
        )
        return {r.org_unit: r.value for r in rows}

    assert values_of("none") == {"C": None, "K": 1.0}
    assert values_of("sum") == {"C": 1.0, "K": 1.0}
    with pytest.raises(ValueError):
        values_of("median")


def test_coverage_tiers_agree_with_districts_levels():
    levels = pytest.importorskip("districts.levels")  # imports Django's lazy gettext only
    assert {k: set(v) for k, v in COVERAGE_LEVEL_MEMBERS.items()} == {
        k: set(v) for k, v in levels.COVERAGE_LEVEL_MEMBERS.items()
    }


def test_a_unit_reporting_a_figure_itself_is_complete_though_its_children_never_do():
    """A town-level figure (reported by the town, not its communities) is complete at the
    town; the city is complete in the share of its towns that reported it."""
    from datetime import date

    from reports.progress import ElementSpec, IndicatorSpec, OrgUnitNode, compute_progress

    units = [
        OrgUnitNode("C", None, "city"),
        OrgUnitNode("T1", "C", "town"),
        OrgUnitNode("T2", "C", "town"),
        OrgUnitNode("T1a", "T1", "community"),
        OrgUnitNode("T2a", "T2", "community"),
    ]
    elements = {"centres.count": ElementSpec("centres.count", "sum", None, "last", "year")}
    indicator = IndicatorSpec(
        code="i",
        kind="value",
        city="C",
        comparator=">=",
        target=10,
        deadline=date(2015, 12, 31),
        element="centres.count",
    )
    rows = compute_progress(
        indicators=[indicator],
        elements=elements,
        units=units,
        values={("centres.count", "T1", "2015"): 4.0},
        years=[2015],
        as_of=date(2015, 12, 31),
    )
    completeness = {r.org_unit: r.completeness for r in rows}
    assert completeness["T1"] == 1.0  # reported itself; its community was never asked
    assert completeness["T2"] == 0.0
    assert completeness["C"] == 0.5  # one of two towns

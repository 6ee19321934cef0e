"""Hand-worked examples for the pure progress engine (reports.progress), every kind and status.

Each test spells out the arithmetic it expects, so a failing assertion says which rule broke.
Day counts used below: 2011-12-31 → 2012-12-31 = 366 (2012 is a leap year), → 2013-12-31 = 731,
→ 2014-12-31 = 1096, → 2015-12-31 = 1461; 2012-12-31 → 2015-12-31 = 1095 and each later
year-end → the next = 365.
"""

from __future__ import annotations

from datetime import date

import pytest

from reports.progress import (
    ACHIEVED,
    AT_RISK,
    MISSED,
    NO_DATA,
    NO_TARGET,
    NOT_ASSESSABLE,
    OFF_TRACK,
    ON_TRACK,
    ConditionSpec,
    ElementSpec,
    IndicatorSpec,
    OrgUnitNode,
    ProgressResult,
    RatioSpec,
    compute_progress,
)

D2015 = date(2015, 12, 31)
LATE = date(2030, 1, 1)  # an as_of after every year used, unless a test is about as_of


def tree(*triples: tuple[str, str | None, str]) -> list[OrgUnitNode]:
    return [OrgUnitNode(code, parent, level) for code, parent, level in triples]


# C (city) ─ D1 (district) ─ K1, K2 (communities)
#          └ D2 (district) ─ K3, K4 (communities; K4 never reports)
BASIC = tree(
    ("C", None, "city"),
    ("D1", "C", "district"),
    ("D2", "C", "district"),
    ("K1", "D1", "community"),
    ("K2", "D1", "community"),
    ("K3", "D2", "community"),
    ("K4", "D2", "community"),
)


def run(indicators, elements, values, years, as_of=LATE, units=BASIC, **kw):
    rows = compute_progress(
        indicators=indicators,
        elements=elements,
        units=units,
        values=values,
        years=years,
        as_of=as_of,
        **kw,
    )
    return {(r.indicator, r.org_unit, r.period): r for r in rows}


def row(rows: dict, unit: str, year: int, indicator: str | None = None) -> ProgressResult:
    matches = [r for (i, u, p), r in rows.items() if u == unit and p == str(year)]
    if indicator is not None:
        matches = [r for r in matches if r.indicator == indicator]
    assert len(matches) == 1, (unit, year, matches)
    return matches[0]


# ---------------------------------------------------------------------------------------------
# Ratio: registered volunteers as a share of resident population, ≥ 12% by end-2015
# ---------------------------------------------------------------------------------------------

VOLUNTEERS = {2012: {"K1": 800, "K2": 700, "K3": 500}, 2013: {"K1": 1000, "K2": 900, "K3": 600}}
VOLUNTEERS[2014] = {"K1": 1300, "K2": 1300, "K3": 760}
RATIO_ELEMENTS = {"vol": ElementSpec("vol", "sum"), "pop": ElementSpec("pop", "sum")}


def ratio_values() -> dict:
    values = {}
    for year, per_unit in VOLUNTEERS.items():
        for unit, vol in per_unit.items():
            values[("vol", unit, str(year))] = float(vol)
            values[("pop", unit, str(year))] = 10000.0  # every community has 10,000 residents
    return values


SHARE = IndicatorSpec(
    code="vol.share",
    kind="ratio",
    city="C",
    comparator=">=",
    target=12,
    deadline=D2015,
    ratio=RatioSpec("vol", "pop", 100),
    baseline_value=6.5,
    baseline_period="2011",
)


@pytest.fixture(scope="module")
def share_rows():
    return run([SHARE], RATIO_ELEMENTS, ratio_values(), [2012, 2013, 2014])


def test_ratio_city_divides_summed_parts_and_uses_declared_baseline(share_rows):
    # 2014: (1300 + 1300 + 760) / (3 × 10000) × 100 = 3360 / 30000 × 100 = 11.2
    r = row(share_rows, "C", 2014)
    assert r.numerator == 3360 and r.denominator == 30000
    assert r.value == pytest.approx(11.2)
    # Declared baseline 6.5 at 2011-12-31: e = 6.5 + 5.5 × 1096/1461 = 10.62594…; 11.2 ≥ e.
    assert r.expected == pytest.approx(6.5 + 5.5 * 1096 / 1461)
    assert r.status == ON_TRACK
    assert (r.baseline, r.baseline_period) == (6.5, "2011")
    assert r.percent_of_target == pytest.approx(11.2 / 12 * 100)  # 93.33
    assert r.completeness == 1.0  # both districts have both parts
    assert r.target == 12 and r.comparator == ">=" and r.deadline == D2015


def test_ratio_city_at_risk_and_off_track(share_rows):
    # 2013: 2500 / 30000 × 100 = 8.333; e = 6.5 + 5.5 × 731/1461 = 9.25188;
    # gained 1.8333 ≥ 0.5 × (e − 6.5) = 1.37594 → at risk.
    r = row(share_rows, "C", 2013)
    assert r.value == pytest.approx(25 / 3)
    assert r.expected == pytest.approx(6.5 + 5.5 * 731 / 1461)
    assert r.status == AT_RISK
    # 2012: 2000 / 30000 × 100 = 6.667; e = 6.5 + 5.5 × 366/1461 = 7.87782;
    # gained 0.1667 < 0.5 × 1.37782 = 0.68891 → off track.
    r = row(share_rows, "C", 2012)
    assert r.value == pytest.approx(20 / 3)
    assert r.status == OFF_TRACK


def test_ratio_district_uses_its_earliest_value_as_baseline(share_rows):
    # D1 = (K1 + K2): 2012 1500/20000 = 7.5%, 2013 9.5%, 2014 13%.
    d1 = [row(share_rows, "D1", y) for y in (2012, 2013, 2014)]
    assert [r.value for r in d1] == pytest.approx([7.5, 9.5, 13.0])
    # 2012 is its own baseline: nothing earlier to judge by.
    assert d1[0].status == NOT_ASSESSABLE and d1[0].expected is None
    # 2013: e = 7.5 + 4.5 × 365/1095 = 9.0; 9.5 ≥ 9.0.
    assert d1[1].expected == pytest.approx(9.0)
    assert d1[1].status == ON_TRACK
    assert (d1[1].baseline, d1[1].baseline_period) == (7.5, "2012")
    assert d1[2].status == ACHIEVED  # 13 ≥ 12
    # D2 = K3 only (K4 never reports): 5.0, 6.0, 7.6.
    # 2013: e = 5 + 7 × 365/1095 = 7.333; gained 1.0 < 0.5 × 2.333 → off track.
    # 2014: e = 5 + 7 × 730/1095 = 9.667; gained 2.6 ≥ 0.5 × 4.667 = 2.333 → at risk.
    d2 = [row(share_rows, "D2", y) for y in (2012, 2013, 2014)]
    assert [r.value for r in d2] == pytest.approx([5.0, 6.0, 7.6])
    assert [r.status for r in d2] == [NOT_ASSESSABLE, OFF_TRACK, AT_RISK]


def test_ratio_missing_child_lowers_completeness_and_gets_no_data(share_rows):
    # D2 has two communities and only K3 reported: completeness 1/2.
    assert row(share_rows, "D2", 2014).completeness == 0.5
    k4 = row(share_rows, "K4", 2014)
    assert (k4.value, k4.status, k4.completeness) == (None, NO_DATA, 0.0)
    assert k4.percent_of_target is None and k4.forecast is None
    k3 = row(share_rows, "K3", 2014)
    assert k3.completeness == 1.0  # a leaf that has its inputs


def test_ratio_community_statuses(share_rows):
    # K1: 8%, 10%, 13%; 2013: e = 8 + 4 × 365/1095 = 9.333 → on track; 2014 achieved.
    k1 = [row(share_rows, "K1", y) for y in (2012, 2013, 2014)]
    assert [r.value for r in k1] == pytest.approx([8.0, 10.0, 13.0])
    assert [r.status for r in k1] == [NOT_ASSESSABLE, ON_TRACK, ACHIEVED]
    assert k1[1].expected == pytest.approx(28 / 3)


def test_forecast_is_least_squares_line_at_deadline(share_rows):
    # City values 20/3, 25/3, 11.2 at 1095, 730, 365 days before the deadline (equal spacing):
    # mean 26.2/3 at −730 days, slope (11.2 − 20/3) / 730 per day, so at the deadline
    # 26.2/3 + (11.2 − 20/3) = 39.8/3 = 13.2667.
    assert row(share_rows, "C", 2014).forecast == pytest.approx(39.8 / 3)
    # A year's forecast uses the values up to that year: 2013 has two points, 20/3 and 25/3,
    # 365 days apart: 25/3 + (5/3) × 730/365 = 35/3.
    assert row(share_rows, "C", 2013).forecast == pytest.approx(35 / 3)
    assert row(share_rows, "C", 2012).forecast is None  # one point is not a line


def test_rows_cover_city_subtree_in_preorder(share_rows):
    units = []
    for _i, u, _p in share_rows:
        if u not in units:
            units.append(u)
    assert units == ["C", "D1", "K1", "K2", "D2", "K3", "K4"]
    assert len(share_rows) == 7 * 3


# ---------------------------------------------------------------------------------------------
# Every status at the city, a district and a community (own values, element not aggregated)
# ---------------------------------------------------------------------------------------------

# ≥ 10 by end-2015; the baseline is the 2013 value 4 (the earliest), measured on 2014-12-31:
# e = 4 + 6 × 365/730 = 7, and "at risk" needs a gain of 0.5 × 3 = 1.5.
UP_CASES = {
    ACHIEVED: ({2013: 4, 2014: 10}, D2015),
    ON_TRACK: ({2013: 4, 2014: 7.5}, D2015),
    AT_RISK: ({2013: 4, 2014: 6}, D2015),  # gained 2 ≥ 1.5, < 3
    OFF_TRACK: ({2013: 4, 2014: 3}, D2015),  # fell below the baseline
    NOT_ASSESSABLE: ({2014: 5}, D2015),  # no baseline before 2014
    NO_DATA: ({2013: 4}, D2015),
    MISSED: ({2013: 4, 2014: 8}, date(2014, 6, 30)),  # measured on 2014-12-31, past the deadline
}
# ≤ 2 by end-2015 from 8 in 2013: e = 8 − 6 × 365/730 = 5; "at risk" needs a fall of 1.5.
DOWN_CASES = {
    ACHIEVED: ({2013: 8, 2014: 2}, D2015),
    ON_TRACK: ({2013: 8, 2014: 4.5}, D2015),
    AT_RISK: ({2013: 8, 2014: 6}, D2015),  # fell 2 ≥ 1.5, < 3
    OFF_TRACK: ({2013: 8, 2014: 9}, D2015),  # rose above the baseline
    NOT_ASSESSABLE: ({2014: 5}, D2015),
    NO_DATA: ({2013: 8}, D2015),
    MISSED: ({2013: 8, 2014: 3}, date(2014, 6, 30)),
}


@pytest.mark.parametrize("unit", ["C", "D1", "K1"])
@pytest.mark.parametrize(
    ("comparator", "target", "status", "case"),
    [(">=", 10, s, c) for s, c in UP_CASES.items()]
    + [("<=", 2, s, c) for s, c in DOWN_CASES.items()],
)
def test_every_status_at_every_level(unit, comparator, target, status, case):
    series, deadline = case
    elements = {"rate": ElementSpec("rate", "none")}
    values = {("rate", unit, str(y)): float(v) for y, v in series.items()}
    ind = IndicatorSpec(
        code="rate", kind="value", city="C", comparator=comparator, target=target,
        deadline=deadline, element="rate",
    )  # fmt: skip
    r = row(run([ind], elements, values, [2013, 2014]), unit, 2014)
    assert r.status == status
    if status in (ON_TRACK, AT_RISK, OFF_TRACK):
        assert r.expected == pytest.approx(7.0 if comparator == ">=" else 5.0)


def test_strict_comparators_and_equals():
    elements = {"rate": ElementSpec("rate", "none")}
    values = {("rate", "C", "2014"): 10.0}

    def status(comparator: str, target: float) -> str:
        ind = IndicatorSpec(
            code="i", kind="value", city="C", comparator=comparator, target=target,
            deadline=D2015, element="rate",
        )  # fmt: skip
        return row(run([ind], elements, values, [2014]), "C", 2014).status

    assert status(">", 10) == NOT_ASSESSABLE  # 10 is not > 10, and there is no baseline
    assert status(">", 9.99) == ACHIEVED
    assert status("<", 10) == NOT_ASSESSABLE
    assert status("<", 10.01) == ACHIEVED
    assert status("=", 10 + 1e-12) == ACHIEVED  # equal within the tolerance
    assert status("=", 11) == NOT_ASSESSABLE


def test_plan_overrides_the_at_risk_fraction():
    # Same data as the ≥ AT_RISK case (gained 2 of the 3 expected): at risk with the default
    # 0.5, off track when the plan demands 0.8 (2 < 2.4).
    elements = {"rate": ElementSpec("rate", "none")}
    values = {("rate", "C", "2013"): 4.0, ("rate", "C", "2014"): 6.0}
    base = dict(code="i", kind="value", city="C", comparator=">=", target=10, deadline=D2015)
    strict = IndicatorSpec(**base, element="rate", at_risk_fraction=0.8)
    lax = IndicatorSpec(**base, element="rate")
    assert row(run([strict], elements, values, [2013, 2014]), "C", 2014).status == OFF_TRACK
    assert row(run([lax], elements, values, [2013, 2014]), "C", 2014).status == AT_RISK


# ---------------------------------------------------------------------------------------------
# ≤ target on an average element, with a declared baseline at the city
# ---------------------------------------------------------------------------------------------


def test_lower_is_better_average_element_at_every_level():
    # Average days to settle a petition, ≤ 3 by end-2015; declared baseline 6 in 2011.
    elements = {"days": ElementSpec("days", "average")}
    data = {
        2012: {"K1": 5.0, "K2": 6.0, "K3": 6.0},
        2013: {"K1": 4.0, "K2": 5.0, "K3": 5.8},
        2014: {"K1": 2.5, "K2": 3.0, "K3": 4.9},
    }
    values = {("days", u, str(y)): v for y, d in data.items() for u, v in d.items()}
    ind = IndicatorSpec(
        code="days", kind="value", city="C", comparator="<=", target=3, deadline=D2015,
        element="days", baseline_value=6, baseline_period="2011",
    )  # fmt: skip
    rows = run([ind], elements, values, [2012, 2013, 2014])
    # D1 = mean(K1, K2): 5.5, 4.5, 2.75. D2 = mean of the children that have a value (K3):
    # 6.0, 5.8, 4.9. The city averages its districts: 5.75, 5.15, 3.825.
    assert [row(rows, "D1", y).value for y in (2012, 2013, 2014)] == pytest.approx([5.5, 4.5, 2.75])
    assert [row(rows, "D2", y).value for y in (2012, 2013, 2014)] == pytest.approx([6.0, 5.8, 4.9])
    assert [row(rows, "C", y).value for y in (2012, 2013, 2014)] == pytest.approx(
        [5.75, 5.15, 3.825]
    )
    # City 2012: e = 6 − 3 × 366/1461 = 5.24846; fell 0.25 < 0.5 × 0.75154 → off track.
    # City 2013: e = 6 − 3 × 731/1461 = 4.49897; fell 0.85 ≥ 0.5 × 1.50103 = 0.7505 → at risk.
    # City 2014: e = 6 − 3 × 1096/1461 = 3.74949; fell 2.175 < 2.25051 but ≥ 1.1253 → at risk.
    assert [row(rows, "C", y).status for y in (2012, 2013, 2014)] == [OFF_TRACK, AT_RISK, AT_RISK]
    assert row(rows, "C", 2013).expected == pytest.approx(6 - 3 * 731 / 1461)
    # D1 from its own 5.5 in 2012: 2013 e = 5.5 − 2.5 × 365/1095 = 4.6667, 4.5 ≤ e → on track;
    # 2014: 2.75 ≤ 3 → achieved.
    assert [row(rows, "D1", y).status for y in (2012, 2013, 2014)] == [
        NOT_ASSESSABLE,
        ON_TRACK,
        ACHIEVED,
    ]
    # D2 from 6.0: 2013 e = 5.0, fell 0.2 < 0.5 → off track; 2014 e = 4.0, fell 1.1 ≥ 1.0 → at risk.
    assert [row(rows, "D2", y).status for y in (2013, 2014)] == [OFF_TRACK, AT_RISK]
    # Ceilings report target / value: 3 / 3.825 × 100 = 78.43; a community at 2.5 → 120.
    assert row(rows, "C", 2014).percent_of_target == pytest.approx(3 / 3.825 * 100)
    assert row(rows, "K1", 2014).percent_of_target == pytest.approx(120.0)
    assert row(rows, "K1", 2014).status == ACHIEVED
    # An average is a rate, not a total: it gets a status below the city too.
    assert row(rows, "K3", 2014).status != NO_TARGET


# ---------------------------------------------------------------------------------------------
# Totals: value of a sum element; monthly flows; stocks taking the last month
# ---------------------------------------------------------------------------------------------


def test_totals_below_city_carry_share_and_no_status():
    elements = {"orgs": ElementSpec("orgs", "sum")}
    values = {
        ("orgs", "K1", "2014"): 30.0,
        ("orgs", "K2", "2014"): 10.0,
        ("orgs", "K3", "2014"): 60.0,
    }
    ind = IndicatorSpec(
        code="orgs", kind="value", city="C", comparator=">=", target=120, deadline=D2015,
        element="orgs",
    )  # fmt: skip
    rows = run([ind], elements, values, [2014])
    city = row(rows, "C", 2014)
    assert city.value == 100.0  # 30 + 10 + 60
    assert city.status == NOT_ASSESSABLE and city.target == 120
    assert city.share_of_total is None
    assert city.percent_of_target == pytest.approx(100 / 120 * 100)
    d1 = row(rows, "D1", 2014)
    assert (d1.value, d1.status, d1.target, d1.expected) == (40.0, NO_TARGET, None, None)
    assert d1.share_of_total == pytest.approx(40.0)  # 40 of 100
    assert d1.percent_of_target is None
    assert row(rows, "K3", 2014).share_of_total == pytest.approx(60.0)
    k4 = row(rows, "K4", 2014)
    assert (k4.value, k4.status, k4.share_of_total) == (None, NO_DATA, None)


def test_monthly_flow_sums_into_the_year_and_running_year_counts_to_as_of():
    # New volunteers registered each month (a flow).
    elements = {"new": ElementSpec("new", "sum", temporal="sum", period_type="month")}
    values = {}
    for m in range(1, 13):
        values[("new", "K1", f"2014-{m:02d}")] = 10.0  # K1: 12 × 10 = 120
    for m in range(1, 7):
        values[("new", "K2", f"2014-{m:02d}")] = 5.0  # K2: 6 × 5 = 30 (half a year reported)
    for m in range(1, 6):
        values[("new", "K1", f"2015-{m:02d}")] = 7.0  # only Jan–Mar count as of 2015-03-15
    ind = IndicatorSpec(
        code="new", kind="value", city="C", comparator=">=", target=500, deadline=D2015,
        element="new",
    )  # fmt: skip
    rows = run([ind], elements, values, [2014, 2015, 2016], as_of=date(2015, 3, 15))
    assert row(rows, "K1", 2014).value == 120.0
    assert row(rows, "K2", 2014).value == 30.0
    assert row(rows, "D1", 2014).value == 150.0
    assert row(rows, "C", 2014).value == 150.0
    # 2015 is still running on 2015-03-15: what has been reported for the periods begun by then
    # counts — January to March (March is under way), 3 × 7 = 21; April and May have not begun.
    # 2016 has not begun: no rows at all.
    assert row(rows, "K1", 2015).value == 21.0
    assert row(rows, "C", 2015).value == 21.0
    assert not [k for k in rows if k[2] == "2016"]
    # The running year is measured on as_of: baseline 150 at 2014-12-31, 74 days earlier, so
    # e = 150 + 350 × 74/365 = 220.96; 21 fell below the baseline → off track.
    city_2015 = row(rows, "C", 2015)
    assert city_2015.expected == pytest.approx(150 + 350 * 74 / 365)
    assert city_2015.status == OFF_TRACK


def test_stock_takes_latest_month_and_year_value_wins():
    # Certified social workers (a stock): the latest month reported is the year's figure.
    elements = {"sw": ElementSpec("sw", "sum", temporal="last", period_type="month")}
    values = {
        ("sw", "K1", "2014-11"): 58.0,  # inserted first on purpose: order must not matter
        ("sw", "K1", "2014-01"): 50.0,
        ("sw", "K1", "2014-06"): 55.0,
        ("sw", "K2", "2014-12"): 20.0,
        ("sw", "K2", "2014"): 25.0,  # a figure for the whole year beats the months
        ("sw", "K3", "2014Q2"): 9.0,  # another sub-period type fills in where no month exists
        ("sw", "K3", "2014Q3"): 11.0,
    }
    ind = IndicatorSpec(
        code="sw", kind="value", city="C", comparator=">=", target=100, deadline=D2015,
        element="sw",
    )  # fmt: skip
    rows = run([ind], elements, values, [2014])
    assert row(rows, "K1", 2014).value == 58.0
    assert row(rows, "K2", 2014).value == 25.0
    assert row(rows, "K3", 2014).value == 11.0
    assert row(rows, "C", 2014).value == 58.0 + 25.0 + 11.0


def test_sub_period_type_priority():
    # Declared quarterly: quarters win over months; declared yearly (no year value): months win.
    elements = {
        "q": ElementSpec("q", "sum", temporal="sum", period_type="quarter"),
        "y": ElementSpec("y", "sum", temporal="sum", period_type="year"),
    }
    values = {}
    for code in ("q", "y"):
        values[(code, "K1", "2014Q1")] = 30.0
        values[(code, "K1", "2014Q2")] = 40.0
        values[(code, "K1", "2014-01")] = 1.0
        values[(code, "K1", "2014-02")] = 2.0
    common = dict(kind="value", city="C", comparator=">=", target=1, deadline=D2015)
    inds = [IndicatorSpec(code=code, element=code, **common) for code in ("q", "y")]
    rows = run(inds, elements, values, [2014])
    assert row(rows, "K1", 2014, "q").value == 70.0  # 30 + 40
    assert row(rows, "K1", 2014, "y").value == 3.0  # 1 + 2


def test_own_value_of_a_parent_wins_over_its_children():
    elements = {"orgs": ElementSpec("orgs", "sum")}
    values = {
        ("orgs", "K1", "2014"): 30.0,
        ("orgs", "K2", "2014"): 10.0,
        ("orgs", "D1", "2014"): 45.0,  # the district's own audited figure
        ("orgs", "K3", "2014"): 5.0,
    }
    ind = IndicatorSpec(
        code="orgs", kind="value", city="C", comparator=">=", target=1, deadline=D2015,
        element="orgs",
    )  # fmt: skip
    rows = run([ind], elements, values, [2014])
    assert row(rows, "D1", 2014).value == 45.0
    assert row(rows, "C", 2014).value == 50.0  # 45 + 5, not 30 + 10 + 5


# ---------------------------------------------------------------------------------------------
# Weighted average
# ---------------------------------------------------------------------------------------------


def test_weighted_average_by_population():
    elements = {
        "life": ElementSpec("life", "weighted_average", weight="pop"),
        "pop": ElementSpec("pop", "sum"),
    }
    values = {
        ("life", "K1", "2014"): 80.0,
        ("pop", "K1", "2014"): 10000.0,
        ("life", "K2", "2014"): 78.0,
        ("pop", "K2", "2014"): 30000.0,
        ("life", "K3", "2014"): 76.0,
        ("pop", "K3", "2014"): 20000.0,
        ("life", "K4", "2014"): 60.0,  # no population figure: left out of the weighting
    }
    ind = IndicatorSpec(
        code="life", kind="value", city="C", comparator=">=", target=78, deadline=D2015,
        element="life",
    )  # fmt: skip
    rows = run([ind], elements, values, [2014])
    # D1 = (80 × 10000 + 78 × 30000) / 40000 = 78.5; D2 = 76 (K4 has no weight).
    assert row(rows, "D1", 2014).value == pytest.approx(78.5)
    assert row(rows, "D2", 2014).value == pytest.approx(76.0)
    # City weighs the districts by their aggregated population (40000, 20000):
    # (78.5 × 40000 + 76 × 20000) / 60000 = 77.6667 = (80 + 3 × 78 + 2 × 76) / 6.
    city = row(rows, "C", 2014)
    assert city.value == pytest.approx(466 / 6)
    # A weighted average is a rate: it has a status at every level, not a share of a total.
    assert row(rows, "D1", 2014).status == ACHIEVED
    assert city.status == NOT_ASSESSABLE and city.share_of_total is None
    # Completeness counts children that reported the indicator's own input (life).
    assert row(rows, "D2", 2014).completeness == 1.0


# ---------------------------------------------------------------------------------------------
# Coverage
# ---------------------------------------------------------------------------------------------

# C ─ D1 ─ K1 (─ grid G1), K2, K5        D2 ─ T3 (town) ─ K3 (village), K4 (community)
COVER_TREE = tree(
    ("C", None, "city"),
    ("D1", "C", "district"),
    ("K1", "D1", "community"),
    ("G1", "K1", "grid"),
    ("K2", "D1", "community"),
    ("K5", "D1", "community"),
    ("D2", "C", "district"),
    ("T3", "D2", "town"),
    ("K3", "T3", "village"),
    ("K4", "T3", "community"),
)


def test_coverage_with_a_ratio_condition():
    # Communities with at least 20 m² of indoor service space per 100 households.
    elements = {"space": ElementSpec("space", "sum"), "hh": ElementSpec("hh", "sum")}
    data = {"K1": (500, 2000), "K2": (300, 2000), "K5": (420, 1400), "K3": (450, 1500)}
    values = {}
    for unit, (space, hh) in data.items():
        values[("space", unit, "2014")] = float(space)
        values[("hh", unit, "2014")] = float(hh)
    # K1 25 ✓, K2 15 ✗, K5 30 ✓, K3 (a village counts as a community) 30 ✓, K4 no data ✗.
    ind = IndicatorSpec(
        code="space", kind="coverage", city="C", comparator=">=", target=100, deadline=D2015,
        level="community",
        condition=ConditionSpec(">=", 20, ratio=RatioSpec("space", "hh", 100)),
    )  # fmt: skip
    rows = run([ind], elements, values, [2014], units=COVER_TREE)
    city = row(rows, "C", 2014)
    assert city.value == pytest.approx(60.0)  # 3 of 5
    assert (city.numerator, city.denominator) == (3.0, 5.0)
    assert city.completeness == pytest.approx(0.8)  # 4 of 5 reported
    assert row(rows, "D1", 2014).value == pytest.approx(200 / 3)  # 2 of 3
    assert row(rows, "D1", 2014).completeness == 1.0
    assert row(rows, "D2", 2014).value == pytest.approx(50.0)  # 1 of 2 (K4 reported nothing)
    assert row(rows, "T3", 2014).completeness == 0.5
    # A unit at the level is covered (100) or not (0) by itself.
    assert (row(rows, "K1", 2014).value, row(rows, "K1", 2014).status) == (100.0, ACHIEVED)
    assert row(rows, "K2", 2014).value == 0.0
    assert row(rows, "K2", 2014).completeness == 1.0
    k4 = row(rows, "K4", 2014)
    assert (k4.value, k4.status, k4.completeness) == (None, NO_DATA, 0.0)
    # Units below the level get no coverage rows.
    assert not [k for k in rows if k[1] == "G1"]
    assert len(rows) == 9


def test_coverage_with_an_element_condition_and_town_tier():
    # Every town/subdistrict (镇/街道) with at least one social work station.
    units = tree(
        ("C", None, "city"),
        ("T1", "C", "town"),
        ("S1", "C", "subdistrict"),
        ("T2", "C", "town"),
        ("K1", "T1", "community"),
    )
    elements = {"stations": ElementSpec("stations", "sum")}
    values = {
        ("stations", "K1", "2013"): 0.0,
        ("stations", "K1", "2014"): 2.0,  # T1 gets its figure from K1
        ("stations", "S1", "2013"): 1.0,
        ("stations", "S1", "2014"): 1.0,
        ("stations", "T2", "2014"): 0.0,
    }
    ind = IndicatorSpec(
        code="st", kind="coverage", city="C", comparator=">=", target=100, deadline=D2015,
        level="town", condition=ConditionSpec(">=", 1, element="stations"),
    )  # fmt: skip
    rows = run([ind], elements, values, [2013, 2014], units=units)
    # 2013: S1 ✓, T1 ✗ (0), T2 no data → 1 of 3; 2014: T1 ✓, S1 ✓, T2 ✗ → 2 of 3.
    assert row(rows, "C", 2013).value == pytest.approx(100 / 3)
    assert row(rows, "C", 2013).completeness == pytest.approx(2 / 3)
    c14 = row(rows, "C", 2014)
    assert c14.value == pytest.approx(200 / 3)
    # Baseline 33.3 at 2013-12-31; e = 33.3 + 66.7 × 365/730 = 66.67; 66.67 ≥ e → on track.
    assert c14.expected == pytest.approx(100 / 3 + (200 / 3) * 0.5)
    assert c14.status == ON_TRACK
    assert [row(rows, "T1", y).value for y in (2013, 2014)] == [0.0, 100.0]
    assert not [k for k in rows if k[1] == "K1"]


# ---------------------------------------------------------------------------------------------
# Growth and milestones
# ---------------------------------------------------------------------------------------------


def test_growth_percent_of_an_element():
    # Disposable income, +8% a year from 2011, by end-2015.
    elements = {"income": ElementSpec("income", "none")}
    values = {
        ("income", "C", "2011"): 30000.0,
        ("income", "C", "2012"): 31500.0,  # +5%
        ("income", "C", "2013"): 34000.0,  # (34000/30000)^(1/2) − 1 = 6.4581%
        ("income", "C", "2014"): 40000.0,  # (4/3)^(1/3) − 1 = 10.0642%
    }
    ind = IndicatorSpec(
        code="inc", kind="growth", city="C", comparator=">=", target=8, deadline=D2015,
        growth_of_element="income", growth_mode="percent", growth_from_year=2011,
    )  # fmt: skip
    # The from-year need not be among the years reported: its value is still read.
    rows = run([ind], elements, values, [2012, 2013, 2014])
    assert [row(rows, "C", y).value for y in (2012, 2013, 2014)] == pytest.approx(
        [5.0, ((34000 / 30000) ** 0.5 - 1) * 100, ((4 / 3) ** (1 / 3) - 1) * 100]
    )
    # Baseline = earliest growth value, 5.0 (2012): 2013 e = 5 + 3 × 365/1095 = 6; 6.458 ≥ 6.
    assert row(rows, "C", 2013).status == ON_TRACK
    assert row(rows, "C", 2014).status == ACHIEVED
    # Growth is a rate: districts with no income data have no value, but a status row.
    assert row(rows, "D1", 2014).status == NO_DATA
    # No rows for the from-year or before: growth is undefined there.
    assert not [k for k in run([ind], elements, values, [2011, 2012]) if k[2] == "2011"]


def test_growth_points_of_a_ratio():
    # Social spending share of the budget, +2 points a year from 2011.
    elements = {"soc": ElementSpec("soc", "sum"), "budget": ElementSpec("budget", "sum")}
    values = {
        ("soc", "K1", "2011"): 100.0,
        ("budget", "K1", "2011"): 500.0,
        ("soc", "K3", "2011"): 100.0,
        ("budget", "K3", "2011"): 500.0,  # city 2011: 200 / 1000 = 20%
        ("soc", "K1", "2014"): 150.0,
        ("budget", "K1", "2014"): 500.0,
        ("soc", "K3", "2014"): 120.0,
        ("budget", "K3", "2014"): 500.0,  # city 2014: 270 / 1000 = 27%
    }
    ind = IndicatorSpec(
        code="soc", kind="growth", city="C", comparator=">=", target=2, deadline=D2015,
        growth_of_ratio=RatioSpec("soc", "budget", 100), growth_mode="points",
        growth_from_year=2011,
    )  # fmt: skip
    rows = run([ind], elements, values, [2012, 2013, 2014])
    # (27 − 20) / 3 = 2.333 points a year at the city; K1 (30 − 20) / 3 = 3.333;
    # K3 (24 − 20) / 3 = 1.333.
    assert row(rows, "C", 2014).value == pytest.approx(7 / 3)
    assert row(rows, "K1", 2014).value == pytest.approx(10 / 3)
    assert row(rows, "K3", 2014).value == pytest.approx(4 / 3)
    assert row(rows, "C", 2014).status == ACHIEVED
    # K3: its only growth value is 2014's, so there is no earlier baseline.
    assert row(rows, "K3", 2014).status == NOT_ASSESSABLE
    assert row(rows, "C", 2013).status == NO_DATA  # no 2013 data
    assert row(rows, "D1", 2014).completeness == 0.5  # K1 reported, K2 did not


def test_milestone_done_and_not_done():
    # "All towns set up community service centres by end-2012": a boolean per town; the city's
    # value is the share of towns done (average), done only when every town is.
    units = tree(
        ("C", None, "city"),
        ("T1", "C", "town"),
        ("T2", "C", "town"),
        ("T3", "C", "town"),
    )
    elements = {"centre": ElementSpec("centre", "average")}
    values = {
        ("centre", "T1", "2012"): 1.0,
        ("centre", "T2", "2012"): 0.0,
        ("centre", "T1", "2013"): 1.0,
        ("centre", "T2", "2013"): 1.0,
        ("centre", "T3", "2013"): 1.0,
    }
    ind = IndicatorSpec(
        code="centre", kind="milestone", city="C", comparator="=", target=1,
        deadline=date(2012, 12, 31), element="centre",
    )  # fmt: skip
    rows = run([ind], elements, values, [2012, 2013], units=units)
    c12 = row(rows, "C", 2012)
    assert c12.value == 0.5 and c12.status == MISSED  # half done at the deadline
    assert c12.completeness == pytest.approx(2 / 3)  # T3 had not reported
    assert row(rows, "C", 2013).status == ACHIEVED  # done late still counts as done
    assert row(rows, "T1", 2012).status == ACHIEVED
    assert row(rows, "T2", 2012).status == MISSED
    assert row(rows, "T3", 2012).status == NO_DATA
    assert row(rows, "T1", 2012).percent_of_target == 100.0


def test_milestone_is_on_track_until_its_deadline_then_missed_or_achieved():
    # A task is done or not: before its deadline an unfinished milestone is in progress
    # (on track), never "off track" against a straight line from 0 to 1; from the deadline on
    # it is missed; done is achieved, whenever it happens. Below the city too.
    units = tree(("C", None, "city"), ("T1", "C", "town"), ("T2", "C", "town"))
    elements = {"done": ElementSpec("done", "none")}
    values = {
        ("done", "C", "2013"): 0.0, ("done", "C", "2014"): 0.0, ("done", "C", "2015"): 0.0,
        ("done", "T1", "2013"): 0.0, ("done", "T1", "2014"): 1.0,
        ("done", "T2", "2014"): 0.0,
    }  # fmt: skip
    ind = IndicatorSpec(
        code="m", kind="milestone", city="C", comparator="=", target=1, deadline=D2015,
        element="done",
    )  # fmt: skip
    rows = run([ind], elements, values, [2013, 2014, 2015], units=units)
    assert row(rows, "C", 2013).status == ON_TRACK
    assert row(rows, "C", 2014).status == ON_TRACK
    assert row(rows, "C", 2014).expected is None
    assert row(rows, "C", 2015).status == MISSED
    assert row(rows, "T1", 2013).status == ON_TRACK
    assert row(rows, "T1", 2014).status == ACHIEVED
    assert row(rows, "T2", 2014).status == ON_TRACK
    # The one-year path (rows below the city built column-wise) follows the same rule.
    one = run([ind], elements, values, [2014], units=units)
    assert row(one, "T2", 2014).status == ON_TRACK
    assert row(one, "T1", 2014).status == ACHIEVED


# ---------------------------------------------------------------------------------------------
# Method cagr inside the engine
# ---------------------------------------------------------------------------------------------


def test_cagr_method_reproduces_a_golden_series_at_the_city():
    # Golden series 1-2-1: 14.5 in 2015, 10.2 in 2023, target ≤ 7.25 by 2030:
    # R = 0.95259…, score 2.51856…, substantial progress.
    units = tree(("C", None, "city"), ("D1", "C", "district"))
    elements = {"poor": ElementSpec("poor", "none")}
    values = {
        ("poor", "C", "2023"): 10.2,
        ("poor", "D1", "2014"): 20.0,  # before the plan's base year: not a cagr base
        ("poor", "D1", "2018"): 12.0,
        ("poor", "D1", "2023"): 10.2,
    }
    ind = IndicatorSpec(
        code="poor", kind="value", city="C", comparator="<=", target=7.25,
        deadline=date(2030, 12, 31), element="poor", method="cagr",
        baseline_value=14.5, baseline_period="2015",
    )  # fmt: skip
    rows = run([ind], elements, values, list(range(2014, 2024)), units=units)
    city = row(rows, "C", 2023)
    assert (city.baseline, city.baseline_period) == (14.5, "2015")
    assert city.status == "substantial_progress"
    assert city.ratio == pytest.approx(0.9525901792032172, abs=1e-9)
    assert city.score == pytest.approx(2.5185563910306596, abs=1e-6)
    # The district's base year asked for is the plan's (2015); its first value at or after it is
    # 12.0 in 2018 (the 2014 figure lies before the window).
    # CAGR_o = (10.2/12)^(1/5) − 1 = −0.031981, CAGR_r = (7.25/12)^(1/12) − 1 = −0.041123,
    # R = −1 · CAGR_o / |CAGR_r| = 0.77770: between 0.6 and 0.95 → moderate progress,
    # score 7.1429 × 0.77770 − 4.2857 = 1.26936.
    cagr_o = (10.2 / 12) ** (1 / 5) - 1
    cagr_r = (7.25 / 12) ** (1 / 12) - 1
    d1 = row(rows, "D1", 2023)
    assert (d1.baseline, d1.baseline_period) == (12.0, "2018")
    assert d1.ratio == pytest.approx(-cagr_o / abs(cagr_r))
    assert d1.ratio == pytest.approx(0.7777033, abs=1e-7)
    assert d1.status == "moderate_progress"
    assert d1.score == pytest.approx(7.1429 * d1.ratio - 4.2857)
    assert d1.score == pytest.approx(1.2693569, abs=1e-6)
    # 2018 is its own base: not available (fewer than two years).
    assert row(rows, "D1", 2018).status == "not_available"
    assert row(rows, "D1", 2018).score is None
    # Years without a value are no_data under either method.
    assert row(rows, "C", 2020).status == NO_DATA


def test_cagr_target_met_reports_achieved():
    units = tree(("C", None, "city"))
    elements = {"x": ElementSpec("x", "none")}
    values = {("x", "C", "2015"): 50.0, ("x", "C", "2016"): 95.0}
    ind = IndicatorSpec(
        code="x", kind="value", city="C", comparator=">=", target=90,
        deadline=date(2020, 12, 31), element="x", method="cagr",
    )  # fmt: skip
    r = row(run([ind], elements, values, [2015, 2016], units=units), "C", 2016)
    assert (r.status, r.score) == (ACHIEVED, 5.0)


# ---------------------------------------------------------------------------------------------
# Subsets, options and validation
# ---------------------------------------------------------------------------------------------


def test_only_units_and_include_no_data():
    full = run([SHARE], RATIO_ELEMENTS, ratio_values(), [2012, 2013, 2014])
    part = run([SHARE], RATIO_ELEMENTS, ratio_values(), [2012, 2013, 2014], only_units={"D2", "K4"})
    assert set(part) == {k for k in full if k[1] in {"D2", "K4"}}
    assert all(part[k] == full[k] for k in part)
    lean = run([SHARE], RATIO_ELEMENTS, ratio_values(), [2012, 2013, 2014], include_no_data=False)
    assert set(lean) == {k for k, r in full.items() if r.value is not None}


def test_indicator_outside_the_tree_and_bad_specs():
    ind = IndicatorSpec(
        code="x", kind="value", city="NOPE", comparator=">=", target=1, deadline=D2015,
        element="vol",
    )  # fmt: skip
    assert run([ind], RATIO_ELEMENTS, ratio_values(), [2014]) == {}
    bad = IndicatorSpec(
        code="bad", kind="ratio", city="C", comparator=">=", target=1, deadline=D2015
    )
    with pytest.raises(ValueError, match=r"bad.*needs a ratio"):
        run([bad], RATIO_ELEMENTS, {}, [2014])
    unknown = IndicatorSpec(
        code="u", kind="value", city="C", comparator=">=", target=1, deadline=D2015,
        element="ghost",
    )  # fmt: skip
    with pytest.raises(ValueError, match="ghost"):
        run([unknown], RATIO_ELEMENTS, {}, [2014])

"""Property tests for the progress engine over random org-unit trees and random values."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from progress_oracle import aggregate, roll_into_years

from reports.progress import (
    ConditionSpec,
    ElementSpec,
    IndicatorSpec,
    OrgTree,
    OrgUnitNode,
    RatioSpec,
    classify,
    compute_progress,
)

LEVELS_BY_DEPTH = ["city", "district", "town", "community", "grid", "grid", "grid", "grid"]
YEARS = [2012, 2013, 2014]
PROFILE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def trees(draw, max_units: int = 25) -> list[OrgUnitNode]:
    """A random tree rooted at the city "U0": each unit hangs under an earlier one."""
    n = draw(st.integers(min_value=1, max_value=max_units))
    parents = [None] + [draw(st.integers(min_value=0, max_value=i - 1)) for i in range(1, n)]
    depth = [0] * n
    for i in range(1, n):
        depth[i] = depth[parents[i]] + 1
    return [
        OrgUnitNode(
            f"U{i}",
            None if p is None else f"U{p}",
            LEVELS_BY_DEPTH[min(depth[i], len(LEVELS_BY_DEPTH) - 1)],
        )
        for i, p in enumerate(parents)
    ]


def leaves(units: list[OrgUnitNode]) -> list[str]:
    parents = {u.parent for u in units}
    return [u.code for u in units if u.code not in parents]


amounts = st.floats(min_value=0.5, max_value=1000, allow_nan=False, allow_infinity=False)


@st.composite
def tree_and_values(draw):
    """A tree and values of four elements for some units and years, at any depth."""
    units = draw(trees())
    codes = [u.code for u in units]
    values: dict[tuple[str, str, str], float] = {}
    for element in ("a", "b", "w", "c"):
        reporters = draw(st.lists(st.sampled_from(codes), unique=True, max_size=len(codes)))
        for unit in reporters:
            for year in draw(st.lists(st.sampled_from(YEARS), unique=True, min_size=1)):
                values[(element, unit, str(year))] = draw(amounts)
    return units, values


ELEMENTS = {
    "a": ElementSpec("a", "sum"),
    "b": ElementSpec("b", "average"),
    "w": ElementSpec("w", "sum"),
    "c": ElementSpec("c", "weighted_average", weight="w"),
}


def naive(code: str, element: str, year: int, units, values) -> float | None:
    """The aggregation rule written the obvious recursive way, as an oracle."""
    own = values.get((element, code, str(year)))
    if own is not None:
        return own
    kids = [u.code for u in units if u.parent == code]
    rule = ELEMENTS[element].aggregation
    pairs = []
    for kid in kids:
        v = naive(kid, element, year, units, values)
        if v is None:
            continue
        w = naive(kid, "w", year, units, values) if rule == "weighted_average" else 1.0
        if w is not None:
            pairs.append((v, w))
    if not pairs:
        return None
    if rule == "sum":
        return sum(v for v, _ in pairs)
    if rule == "average":
        return sum(v for v, _ in pairs) / len(pairs)
    total = sum(w for _, w in pairs)
    return sum(v * w for v, w in pairs) / total if total else None


def _engine_values(units, values, years=YEARS) -> dict[tuple[str, str, int], float | None]:
    """The engine's value of each element at every unit and year, read off `value` indicators."""
    common = dict(city="U0", comparator=">=", target=1.0, deadline=date(2030, 12, 31))
    indicators = [
        IndicatorSpec(code=e, kind="value", element=e, **common) for e in ("a", "b", "w", "c")
    ]
    rows = compute_progress(
        indicators=indicators, elements=ELEMENTS, units=units, values=values, years=years,
        as_of=date(2030, 1, 1),
    )  # fmt: skip
    return {(r.indicator, r.org_unit, int(r.period)): r.value for r in rows}


@PROFILE
@given(tree_and_values())
def test_aggregation_matches_recursive_oracle(case):
    # The engine against two oracles: the obvious recursion, and the dict-based roll-up and
    # aggregation of progress_oracle (which must agree with each other too).
    units, values = case
    tree = OrgTree(units)
    engine = _engine_values(units, values)
    own = roll_into_years(values, ELEMENTS, ELEMENTS, YEARS, date(2030, 1, 1))
    for year in YEARS:
        w = aggregate(own["w"].get(year, {}), "sum", tree)
        by_oracle = {
            "a": aggregate(own["a"].get(year, {}), "sum", tree),
            "b": aggregate(own["b"].get(year, {}), "average", tree),
            "w": w,
            "c": aggregate(own["c"].get(year, {}), "weighted_average", tree, w),
        }
        for element, per_unit in by_oracle.items():
            for u in units:
                expected = naive(u.code, element, year, units, values)
                for actual in (per_unit.get(u.code), engine.get((element, u.code, year))):
                    if expected is None:
                        assert actual is None, (element, u.code, year)
                    else:
                        assert actual is not None, (element, u.code, year)
                        assert abs(actual - expected) <= 1e-9 * max(1.0, abs(expected))


@PROFILE
@given(trees(), st.data())
def test_sum_of_a_random_tree_is_the_sum_of_its_leaves(units, data):
    leaf_codes = leaves(units)
    values = {("a", leaf, "2014"): data.draw(amounts) for leaf in leaf_codes}
    ind = IndicatorSpec(
        code="total", kind="value", city="U0", comparator=">=", target=1.0,
        deadline=date(2015, 12, 31), element="a",
    )  # fmt: skip
    rows = compute_progress(
        indicators=[ind], elements=ELEMENTS, units=units, values=values, years=[2014],
        as_of=date(2015, 1, 1),
    )  # fmt: skip
    by_unit = {r.org_unit: r for r in rows}
    root = by_unit["U0"]
    assert abs(root.value - sum(values.values())) <= 1e-9 * sum(values.values())
    # Every unit holds the sum of the leaves below it, and the leaves' shares add up to 100%.
    tree = OrgTree(units)
    for u in units:
        below = [values[("a", x, "2014")] for x in tree.subtree(u.code) if x in leaf_codes]
        assert abs(by_unit[u.code].value - sum(below)) <= 1e-9 * max(1.0, sum(below))
    if len(units) > 1:
        shares = sum(by_unit[leaf].share_of_total for leaf in leaf_codes)
        assert abs(shares - 100.0) <= 1e-6
        assert root.completeness == 1.0


@PROFILE
@given(trees(), st.data())
def test_ratio_is_sum_of_parts_never_mean_of_ratios(units, data):
    leaf_codes = leaves(units)
    values = {}
    for leaf in leaf_codes:
        values[("a", leaf, "2014")] = data.draw(amounts)
        values[("w", leaf, "2014")] = data.draw(amounts)
    ind = IndicatorSpec(
        code="r", kind="ratio", city="U0", comparator=">=", target=50.0,
        deadline=date(2015, 12, 31), ratio=RatioSpec("a", "w", 100),
    )  # fmt: skip
    rows = compute_progress(
        indicators=[ind], elements=ELEMENTS, units=units, values=values, years=[2014],
        as_of=date(2015, 1, 1),
    )  # fmt: skip
    root = next(r for r in rows if r.org_unit == "U0")
    num = sum(values[("a", x, "2014")] for x in leaf_codes)
    den = sum(values[("w", x, "2014")] for x in leaf_codes)
    assert abs(root.value - num / den * 100) <= 1e-9 * (num / den * 100)


@PROFILE
@given(tree_and_values(), st.data())
def test_only_units_rows_equal_the_same_rows_of_a_full_run(case, data):
    units, values = case
    codes = [u.code for u in units]
    subset = set(data.draw(st.lists(st.sampled_from(codes), unique=True)))
    deadline = date(2014, 6, 30)
    common = dict(city="U0", deadline=deadline, comparator=">=")
    indicators = [
        IndicatorSpec(code="total", kind="value", target=500.0, element="a", **common),
        IndicatorSpec(code="avg", kind="value", target=300.0, element="b", **common),
        IndicatorSpec(code="wavg", kind="value", target=300.0, element="c", **common),
        IndicatorSpec(
            code="ratio", kind="ratio", target=80.0, ratio=RatioSpec("a", "w", 100),
            baseline_value=10.0, baseline_period="2011", **common,
        ),
        IndicatorSpec(
            code="cover", kind="coverage", target=100.0, level="community",
            condition=ConditionSpec(">=", 400.0, element="a"), **common,
        ),
        IndicatorSpec(
            code="grow", kind="growth", target=5.0, growth_of_element="a",
            growth_mode="percent", growth_from_year=2012, **common,
        ),
        IndicatorSpec(code="cagr", kind="value", target=900.0, element="b", method="cagr", **common),
    ]  # fmt: skip
    kwargs = dict(
        indicators=indicators, elements=ELEMENTS, units=units, values=values, years=YEARS,
        as_of=date(2014, 9, 30),
    )  # fmt: skip
    full = compute_progress(**kwargs)
    part = compute_progress(**kwargs, only_units=subset)
    assert part == [r for r in full if r.org_unit in subset]
    # A subset of indicators gives the same rows as well.
    assert compute_progress(**{**kwargs, "indicators": indicators[3:5]}) == [
        r for r in full if r.indicator in ("ratio", "cover")
    ]
    # Every row's value is a finite number or None, and every status is a known one.
    for r in full:
        assert r.status
        assert r.completeness is None or 0.0 <= r.completeness <= 1.0


periods = st.sampled_from(
    ["2014", *(f"2014Q{q}" for q in range(1, 5)), *(f"2014-{m:02d}" for m in range(1, 13))]
)


@PROFILE
@given(
    st.dictionaries(
        st.tuples(st.sampled_from(["f", "s"]), st.sampled_from(["U1", "U2"]), periods),
        st.floats(min_value=0, max_value=100, allow_nan=False),
        max_size=30,
    ),
    st.sampled_from(["year", "quarter", "month"]),
)
def test_the_engine_rolls_periods_into_years_as_the_oracle_does(values, period_type):
    # Flows sum their sub-periods, stocks take the latest; the year's own value wins, then the
    # declared sub-period type, then the other one — checked at the units and at their parent.
    elements = {
        "f": ElementSpec("f", "sum", temporal="sum", period_type=period_type),
        "s": ElementSpec("s", "sum", temporal="last", period_type=period_type),
    }
    units = [OrgUnitNode("U0", None, "city"), OrgUnitNode("U1", "U0", "town"),
             OrgUnitNode("U2", "U0", "town")]  # fmt: skip
    tree = OrgTree(units)
    own = roll_into_years(values, elements, elements, [2014], date(2030, 1, 1))
    common = dict(city="U0", comparator=">=", target=1.0, deadline=date(2030, 12, 31))
    rows = compute_progress(
        indicators=[IndicatorSpec(code=e, kind="value", element=e, **common) for e in elements],
        elements=elements, units=units, values=values, years=[2014], as_of=date(2030, 1, 1),
    )  # fmt: skip
    got = {(r.indicator, r.org_unit): r.value for r in rows}
    for e in elements:
        expected = aggregate(own[e].get(2014, {}), "sum", tree)
        for u in ("U0", "U1", "U2"):
            want, have = expected.get(u), got.get((e, u))
            assert (want is None) == (have is None), (e, u)
            if want is not None:
                assert abs(have - want) <= 1e-9 * max(1.0, abs(want))


@PROFILE
@given(
    st.lists(st.floats(min_value=0, max_value=100, allow_nan=False), min_size=12, max_size=12),
    st.integers(min_value=1, max_value=12),
)
def test_monthly_flows_sum_and_stocks_take_the_last_month(months, upto):
    values = {("f", "U0", f"2014-{m:02d}"): v for m, v in enumerate(months[:upto], start=1)}
    values.update({("s", "U0", f"2014-{m:02d}"): v for m, v in enumerate(months[:upto], start=1)})
    elements = {
        "f": ElementSpec("f", "sum", temporal="sum", period_type="month"),
        "s": ElementSpec("s", "sum", temporal="last", period_type="month"),
    }
    common = dict(city="U0", comparator=">=", target=1.0, deadline=date(2030, 12, 31))
    rows = compute_progress(
        indicators=[IndicatorSpec(code=e, kind="value", element=e, **common) for e in elements],
        elements=elements, units=[OrgUnitNode("U0", None, "city")], values=values,
        years=[2014], as_of=date(2030, 1, 1),
    )  # fmt: skip
    got = {r.indicator: r.value for r in rows}
    assert abs(got["f"] - sum(months[:upto])) <= 1e-9 * max(1.0, sum(months))
    assert got["s"] == months[upto - 1]


@PROFILE
@given(trees(), st.data())
def test_a_parents_ratio_lies_between_its_reporting_childrens_ratios(units, data):
    # Some leaves report only the denominator (a town that gave its cadres but not how many
    # were trained): they are left out of both sums, so every parent's ratio of sums lies
    # between the smallest and largest ratio of its children that report both parts.
    leaf_codes = leaves(units)
    values = {}
    for leaf in leaf_codes:
        values[("w", leaf, "2014")] = data.draw(amounts)
        if data.draw(st.booleans()):
            values[("a", leaf, "2014")] = data.draw(amounts)
    ind = IndicatorSpec(
        code="r", kind="ratio", city="U0", comparator=">=", target=50.0,
        deadline=date(2015, 12, 31), ratio=RatioSpec("a", "w", 100),
    )  # fmt: skip
    rows = compute_progress(
        indicators=[ind], elements=ELEMENTS, units=units, values=values, years=[2014],
        as_of=date(2015, 1, 1),
    )  # fmt: skip
    by_unit = {r.org_unit: r for r in rows}
    tree = OrgTree(units)
    for u in units:
        kids = [by_unit[k] for k in tree.children[u.code]]
        reporting = [k.value for k in kids if k.value is not None]
        row = by_unit[u.code]
        if not kids:
            continue
        assert row.reporting_units == len(reporting) or (not reporting and row.value is None)
        if not reporting:
            assert row.value is None
            continue
        assert row.expected_units == len(kids)
        assert min(reporting) - 1e-9 * max(reporting) <= row.value <= max(reporting) * (1 + 1e-9)
        assert row.completeness == len(reporting) / len(kids)


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@PROFILE
@given(finite, finite, finite, st.integers(min_value=1, max_value=3000))
def test_lower_is_better_mirrors_higher_is_better(value, target, baseline, elapsed):
    # Negating value, target and baseline turns a ≥ target into a ≤ target: same status.
    t0 = date(2012, 12, 31)
    t = date.fromordinal(t0.toordinal() + elapsed)
    deadline = date(2018, 12, 31)
    up = classify(value, t, target, ">=", deadline, baseline, t0)
    down = classify(-value, t, -target, "<=", deadline, -baseline, t0)
    assert up[0] == down[0]
    if up[1] is not None:
        assert abs(up[1] + down[1]) <= 1e-9 * max(1.0, abs(up[1]))

"""The engine's fast paths give the same rows as its general path.

With one year and the linear method the rows below the city are built column-wise
(``_rows_below_city_one_year``); every other case goes unit by unit (``_unit_rows``). These
tests run both on the same inputs, and pin the edge cases of the column-wise path.
"""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reports.progress import (
    NO_DATA,
    NO_TARGET,
    ConditionSpec,
    ElementSpec,
    IndicatorSpec,
    OrgTree,
    OrgUnitNode,
    RatioSpec,
    _Engine,
    _unit_rows,
    compute_progress,
)

PROFILE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LEVELS = ["city", "town", "community", "grid", "grid", "grid"]
ELEMENTS = {
    "a": ElementSpec("a", "sum"),
    "b": ElementSpec("b", "average"),
    "w": ElementSpec("w", "sum"),
    "c": ElementSpec("c", "weighted_average", weight="w"),
}


@st.composite
def cases(draw):
    n = draw(st.integers(min_value=1, max_value=20))
    parents = [None] + [draw(st.integers(min_value=0, max_value=i - 1)) for i in range(1, n)]
    depth = [0] * n
    for i in range(1, n):
        depth[i] = depth[parents[i]] + 1
    units = [
        OrgUnitNode(f"U{i}", None if p is None else f"U{p}", LEVELS[min(depth[i], 5)])
        for i, p in enumerate(parents)
    ]
    codes = [u.code for u in units]
    amounts = st.one_of(
        st.floats(min_value=-5, max_value=1000), st.sampled_from([0.0, 500.0, 1e308])
    )
    values = {}
    for element in ELEMENTS:
        for unit in draw(st.lists(st.sampled_from(codes), unique=True)):
            values[(element, unit, "2014")] = draw(amounts)
    common = dict(
        city=draw(st.sampled_from(codes[:3])),
        comparator=draw(st.sampled_from([">=", ">", "<=", "<", "="])),
        target=draw(st.sampled_from([None, 0.0, 50.0, 500.0])),
        deadline=draw(st.sampled_from([date(2014, 6, 30), date(2014, 12, 31), date(2016, 12, 31)])),
    )
    if draw(st.booleans()):
        common.update(baseline_value=10.0, baseline_period="2012")
    element = draw(st.sampled_from(list(ELEMENTS)))
    ratio = RatioSpec(element, draw(st.sampled_from(list(ELEMENTS))), 100)
    kind = draw(st.sampled_from(["value", "ratio", "coverage", "milestone"]))
    if kind in ("value", "milestone"):
        ind = IndicatorSpec(code="i", kind=kind, element=element, **common)
    elif kind == "ratio":
        ind = IndicatorSpec(code="i", kind=kind, ratio=ratio, **common)
    else:
        cond = ConditionSpec(">=", draw(st.sampled_from([0.0, 500.0])), element=element)
        level = draw(st.sampled_from(["town", "community", "grid"]))
        ind = IndicatorSpec(code="i", kind=kind, level=level, condition=cond, **common)
    return units, values, ind, draw(st.booleans())


@PROFILE
@given(cases())
def test_one_year_rows_equal_the_unit_by_unit_rows(case):
    units, values, ind, include_no_data = case
    as_of = date(2014, 12, 31)
    rows = compute_progress(
        indicators=[ind], elements=ELEMENTS, units=units, values=values, years=[2014],
        as_of=as_of, include_no_data=include_no_data,
    )  # fmt: skip
    engine = _Engine([ind], ELEMENTS, OrgTree(units), values, [2014], as_of)
    city = engine.frame.pos[ind.city]
    positions = range(city, city + engine.frame.size[city])
    if ind.kind == "coverage":
        below = engine.coverage_frame(ind.level)[2]
        positions = [i for i in positions if not below[i]]
    is_total = ind.kind == "value" and ind.element in ("a", "w")
    per_year = [engine.indicator_year(ind, 2014)]
    general = _unit_rows(engine, ind, positions, [2014], per_year, is_total, include_no_data)
    # (repr: a NaN value, e.g. inf / inf, is equal to itself there)
    assert [repr(r) for r in rows] == [repr(r) for r in general]


def test_one_year_with_no_values_and_no_empty_rows_gives_no_rows():
    units = [OrgUnitNode("C", None, "city"), OrgUnitNode("T", "C", "town")]
    ind = IndicatorSpec(
        code="i", kind="value", city="C", comparator=">=", target=None,
        deadline=date(2015, 12, 31), element="a",
    )  # fmt: skip
    kwargs = dict(indicators=[ind], elements=ELEMENTS, units=units, years=[2014])
    assert (
        compute_progress(**kwargs, values={}, as_of=date(2014, 9, 30), include_no_data=False) == []
    )
    rows = compute_progress(**kwargs, values={}, as_of=date(2014, 9, 30))
    assert [(r.org_unit, r.status) for r in rows] == [("C", NO_DATA), ("T", NO_DATA)]
    rows = compute_progress(**kwargs, values={("a", "T", "2014"): 3.0}, as_of=date(2014, 9, 30))
    assert [(r.org_unit, r.status, r.value) for r in rows] == [
        ("C", NO_TARGET, 3.0),
        ("T", NO_TARGET, 3.0),
    ]
    assert rows[1].share_of_total == 100.0

"""The engine judges a unit against its own allocated target (目标任务分解) by the §3 rule; a
total below the city, which otherwise has no status, gets one once allocated. Pure."""

from __future__ import annotations

from datetime import date

from reports import progress as engine

UNITS = [
    engine.OrgUnitNode("C", None, "city"),
    engine.OrgUnitNode("T1", "C", "town"),
    engine.OrgUnitNode("T2", "C", "town"),
]
ELEMENTS = {"vol": engine.ElementSpec("vol", aggregation="sum")}
VALUES = {
    ("vol", "T1", "2012"): 100.0,
    ("vol", "T1", "2013"): 140.0,
    ("vol", "T2", "2012"): 100.0,
    ("vol", "T2", "2013"): 110.0,
}


def spec(**kw):
    return engine.IndicatorSpec(
        code="vol.total",
        kind="value",
        city="C",
        comparator=">=",
        target=500.0,
        deadline=date(2015, 12, 31),
        element="vol",
        **kw,
    )


def rows(ind, years=(2012, 2013)):
    out = engine.compute_progress(
        indicators=[ind],
        elements=ELEMENTS,
        units=UNITS,
        values=VALUES,
        years=list(years),
        as_of=date(2014, 6, 30),
    )
    return {(r.org_unit, r.period): r for r in out}


def test_a_total_below_the_city_has_no_status_until_allocated():
    plain = rows(spec())
    assert plain["T1", "2013"].status == engine.NO_TARGET and plain["T1", "2013"].target is None

    allocated = rows(spec(allocations=(("T1", 200.0, date(2015, 12, 31)),)))
    t1 = allocated["T1", "2013"]
    # From 100 at end-2012 to 200 at end-2015: 2013's line expects 100 + 100·365/1095 ≈ 133.3;
    # 140 is on it.
    assert t1.target == 200.0 and t1.status == engine.ON_TRACK
    assert abs(t1.expected - (100 + 100 * 365 / 1095)) < 1e-9
    assert t1.percent_of_target == 70.0
    # T2 was not allocated: still a share of the total, no status.
    assert allocated["T2", "2013"].status == engine.NO_TARGET
    # The city keeps the indicator's own target.
    assert allocated["C", "2013"].target == 500.0


def test_a_unit_is_judged_by_its_own_target_and_deadline():
    tight = rows(spec(allocations=(("T2", 200.0, date(2013, 12, 31)),)))
    # T2's own deadline is end-2013 and 110 < 200: missed (the city's deadline is 2015).
    assert tight["T2", "2013"].status == engine.MISSED
    assert tight["T2", "2013"].deadline == date(2013, 12, 31)
    easy = rows(spec(allocations=(("T2", 105.0, date(2015, 12, 31)),)))
    assert easy["T2", "2013"].status == engine.ACHIEVED


def test_one_year_allocated_rows_equal_the_general_path():
    """With one year the engine has a column-wise path; an allocation takes the general one,
    and unallocated units come out as that path gives them."""
    one = rows(spec(allocations=(("T1", 200.0, date(2015, 12, 31)),)), years=(2013,))
    assert one["T1", "2013"].status == engine.NOT_ASSESSABLE  # no earlier baseline
    assert one["T1", "2013"].target == 200.0
    assert one["T2", "2013"].status == engine.NO_TARGET
    assert one["T2", "2013"].share_of_total == 110 / 250 * 100


def test_the_cagr_method_measures_a_unit_against_its_own_target():
    met = rows(spec(method="cagr", allocations=(("T1", 130.0, date(2015, 12, 31)),)))
    assert met["T1", "2013"].target == 130.0 and met["T1", "2013"].status == engine.ACHIEVED
    assert met["T1", "2013"].score == 5
    far = rows(spec(method="cagr", allocations=(("T1", 1000.0, date(2015, 12, 31)),)))
    assert far["T1", "2013"].status != engine.ACHIEVED

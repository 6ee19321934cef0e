"""The gap (缺口): what is left to add by the deadline, and the yearly rate needed vs achieved."""

from datetime import date

from accountability.gaps import gap_of


def test_gap_and_rates():
    g = gap_of(
        indicator="i", org_unit="u", period="2013", t=date(2013, 12, 31), value=140.0,
        target=200.0, comparator=">=", deadline=date(2015, 12, 31), baseline=100.0,
        baseline_date=date(2012, 12, 31), status="on_track",
    )  # fmt: skip
    assert g.remaining == 60.0
    assert abs(g.years_left - 730 / 365.25) < 1e-3
    assert abs(g.required_rate - 60 / (730 / 365.25)) < 1e-9
    assert abs(g.achieved_rate - 40 / (365 / 365.25)) < 1e-9


def test_a_ceiling_and_a_met_target():
    g = gap_of(
        indicator="i", org_unit="u", period="2013", t=date(2013, 12, 31), value=30.0,
        target=20.0, comparator="<=", deadline=date(2014, 12, 31), baseline=None,
        baseline_date=None, status="off_track",
    )  # fmt: skip
    assert g.remaining == 10.0 and g.required_rate < 0 and g.achieved_rate is None
    met = gap_of(
        indicator="i", org_unit="u", period="2016", t=date(2016, 12, 31), value=25.0,
        target=20.0, comparator=">=", deadline=date(2015, 12, 31), baseline=None,
        baseline_date=None, status="achieved",
    )  # fmt: skip
    assert met.remaining == 0 and met.required_rate == 0 and met.years_left == 0

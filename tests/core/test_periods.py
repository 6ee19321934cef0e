"""Reporting periods: parsing, canonical text, dates, order and neighbours (pure, no database)."""

from datetime import date

import pytest

from core.periods import MONTH, QUARTER, YEAR, Period, PeriodError, period_for_date


@pytest.mark.parametrize(
    ("text", "canonical", "period_type"),
    [
        ("2015", "2015", YEAR),
        (" 2015 ", "2015", YEAR),
        (2015, "2015", YEAR),
        ("2015Q3", "2015Q3", QUARTER),
        ("2015q3", "2015Q3", QUARTER),
        ("2015 Q3", "2015Q3", QUARTER),
        ("2015-07", "2015-07", MONTH),
        ("2015-7", "2015-07", MONTH),
        ("2015年", "2015", YEAR),
        ("2015年第3季度", "2015Q3", QUARTER),
        ("2015年三季度", "2015Q3", QUARTER),
        ("2015年7月", "2015-07", MONTH),
    ],
)
def test_period_parses_to_its_canonical_text(text, canonical, period_type):
    period = Period.parse(text)
    assert str(period) == canonical
    assert period.period_type == period_type
    assert Period.parse(str(period)) == period


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "is not a period"),
        ("2015Q5", "is not a period"),
        ("2015Q0", "is not a period"),
        ("2015-13", "month 13 is not 1–12"),
        ("2015-00", "month 0 is not 1–12"),
        ("1899", "outside 1900–2100"),
        ("2101Q1", "outside 1900–2100"),
        ("15", "is not a period"),
        ("2015/07", "is not a period"),
        ("二〇一五", "is not a period"),
    ],
)
def test_bad_period_raises_with_the_reason(text, reason):
    with pytest.raises(PeriodError, match=reason):
        Period.parse(text)


def test_period_error_is_a_value_error():
    assert issubclass(PeriodError, ValueError)


def test_constructors_reject_out_of_range_quarter_and_month():
    with pytest.raises(PeriodError):
        Period.quarter_of(2015, 5)
    with pytest.raises(PeriodError):
        Period.month_of(2015, 13)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2015", date(2015, 1, 1), date(2015, 12, 31)),
        ("2015Q1", date(2015, 1, 1), date(2015, 3, 31)),
        ("2015Q2", date(2015, 4, 1), date(2015, 6, 30)),
        ("2015Q4", date(2015, 10, 1), date(2015, 12, 31)),
        ("2016-02", date(2016, 2, 1), date(2016, 2, 29)),
        ("2015-02", date(2015, 2, 1), date(2015, 2, 28)),
        ("2015-11", date(2015, 11, 1), date(2015, 11, 30)),
    ],
)
def test_period_start_and_end_dates(text, start, end):
    period = Period.parse(text)
    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize(
    ("text", "previous"),
    [
        ("2015", "2014"),
        ("2015Q1", "2014Q4"),
        ("2015Q3", "2015Q2"),
        ("2015-01", "2014-12"),
        ("2015-07", "2015-06"),
    ],
)
def test_previous_period_is_the_same_type_just_before(text, previous):
    assert str(Period.parse(text).previous()) == previous


def test_a_year_contains_its_quarters_and_months_and_itself():
    year = Period.parse("2015")
    assert year.contains(Period.parse("2015Q4"))
    assert year.contains(Period.parse("2015-01"))
    assert year.contains(year)
    assert not year.contains(Period.parse("2016-01"))
    assert Period.parse("2015Q3").contains(Period.parse("2015-09"))
    assert not Period.parse("2015Q3").contains(Period.parse("2015-10"))
    assert not Period.parse("2015-07").contains(year)


def test_periods_of_one_type_sort_chronologically():
    texts = ["2016", "2014", "2015"]
    assert [str(p) for p in sorted(map(Period.parse, texts))] == ["2014", "2015", "2016"]
    months = ["2015-10", "2015-02", "2014-12"]
    assert [str(p) for p in sorted(map(Period.parse, months))] == ["2014-12", "2015-02", "2015-10"]


def test_a_year_sorts_after_its_own_quarters_and_months_and_before_the_next_year():
    year = Period.parse("2015")
    assert Period.parse("2015Q4") < year
    assert Period.parse("2015-12") < year
    assert year < Period.parse("2016-01")


def test_periods_are_hashable_values():
    assert len({Period.parse("2015Q3"), Period.parse("2015q3"), Period.parse("2015年第3季度")}) == 1
    assert Period.parse("2015") != Period.parse("2015Q1")


def test_year_period_of_a_month_is_its_year():
    assert Period.parse("2015-07").year_period() == Period.parse("2015")


@pytest.mark.parametrize(
    ("day", "period_type", "expected"),
    [
        (date(2015, 8, 15), YEAR, "2015"),
        (date(2015, 8, 15), QUARTER, "2015Q3"),
        (date(2015, 12, 31), QUARTER, "2015Q4"),
        (date(2015, 8, 15), MONTH, "2015-08"),
    ],
)
def test_period_for_date(day, period_type, expected):
    assert str(period_for_date(day, period_type)) == expected


def test_period_for_date_rejects_an_unknown_type():
    with pytest.raises(PeriodError, match="unknown period type"):
        period_for_date(date(2015, 1, 1), "week")

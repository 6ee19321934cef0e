"""districts.rules: the one place for not_above and the outlier rule, in every wording."""

from __future__ import annotations

from decimal import Decimal

import pytest

from districts.rules import OUTLIER_FACTOR, not_above_violation, outlier_kind, outlier_reason


def test_not_above_names_where_the_limit_came_from():
    value, limit = Decimal("12"), Decimal("10")
    assert not_above_violation(value, limit, other="pop") == (
        "不能大于同一单位同一期间的 pop（已有数据：10）"
        "（may not exceed pop for the same org unit and period (stored value: 10)）"
    )
    assert "（第 3 行：10）" in not_above_violation(value, limit, other="pop", limit_line=3)
    assert "(this form: 10)" in not_above_violation(value, limit, other="pop", from_form=True)


@pytest.mark.parametrize(("value", "limit"), [("10", "10"), ("9", "10"), ("12", None)])
def test_not_above_keeps_to_the_limit_or_has_none(value, limit):
    limit = None if limit is None else Decimal(limit)
    assert not_above_violation(Decimal(value), limit, other="pop") is None


@pytest.mark.parametrize(
    ("current", "previous", "kind"),
    [
        (31, 10, "high"),
        (30, 10, None),
        (4, 10, None),
        (3, 10, "low"),
        (5, 0, None),
        (-1, 10, None),
    ],
)
def test_the_outlier_rule_is_over_three_times_or_under_a_third(current, previous, kind):
    assert OUTLIER_FACTOR == 3
    assert outlier_kind(current, previous) == kind
    assert outlier_kind(Decimal(str(current)), Decimal(str(previous))) == kind
    assert (outlier_reason(current, previous, "2014", None) is None) == (kind is None)

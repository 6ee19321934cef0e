"""The gap (缺口), pure: what a unit still has to add by its deadline to meet its own target, and
the yearly rate that takes against the yearly rate it achieved so far."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

_YEAR_DAYS = 365.25


@dataclass(frozen=True)
class Gap:
    indicator: str
    org_unit: str
    period: str
    value: float | None
    target: float
    comparator: str
    deadline: date
    status: str
    remaining: float | None
    """How much the value must still move towards the target (0 when met); ``None`` without a
    value."""
    years_left: float
    required_rate: float | None
    """The yearly change needed from the period's end to the deadline (``None`` once the
    deadline has passed with a gap left, or without a value)."""
    achieved_rate: float | None
    """The yearly change achieved from the baseline to the period's end (``None`` without an
    earlier baseline)."""


def gap_of(
    *,
    indicator: str,
    org_unit: str,
    period: str,
    t: date,
    value: float | None,
    target: float,
    comparator: str,
    deadline: date,
    baseline: float | None,
    baseline_date: date | None,
    status: str,
) -> Gap:
    lower = comparator in ("<=", "<")
    years_left = max(0.0, (deadline - t).days / _YEAR_DAYS)
    remaining = required = achieved = None
    if value is not None:
        remaining = max(0.0, (value - target) if lower else (target - value))
        if remaining == 0:
            required = 0.0
        elif years_left > 0:
            required = (-remaining if lower else remaining) / years_left
        if baseline is not None and baseline_date is not None and baseline_date < t:
            achieved = (value - baseline) / ((t - baseline_date).days / _YEAR_DAYS)
    return Gap(
        indicator=indicator,
        org_unit=org_unit,
        period=period,
        value=value,
        target=target,
        comparator=comparator,
        deadline=deadline,
        status=status,
        remaining=remaining,
        years_left=round(years_left, 4),
        required_rate=required,
        achieved_rate=achieved,
    )

"""Reads for exports of computed progress (export_progress and friends)."""

from __future__ import annotations

from datetime import date

from django.db import connection
from django.db.models import Case, Q, Value, When

from districts import scopes
from targets.models import Plan

from . import selectors
from .models import ProgressRow

PROGRESS_EXPORT_COLUMNS = ["indicator", "org_unit", *selectors.PROGRESS_EXPORT_COLUMNS]


def _default_periods(plan_code: str) -> Q:
    """Without ``--as-of``: each plan's rows up to its city's as-of period by the one rule
    (:func:`reports.selectors.default_as_of`), as on the dashboards."""
    plans = Plan.objects.select_related("city")
    if plan_code:
        plans = plans.filter(code=plan_code)
    cities = {p.city_id: p.city for p in plans}
    condition = Q(pk__in=[])
    for city_id, city in cities.items():
        period = selectors.parse_period(selectors.default_as_of(city))
        if period is not None:
            condition |= Q(indicator__plan__city_id=city_id, period_end__lte=period.end)
    return condition


def latest_progress_rows(*, plan_code: str = "", as_of: date | None = None, user=None):
    """For each indicator × org unit, the row of the latest period with a value (ending by
    ``as_of``), or the latest row when no period has a value: later years before the deadline
    carry no data yet and would hide the last known figure.

    With ``user`` the rows are limited to the user's read scope (the one rule)."""
    qs = ProgressRow.objects.select_related("indicator", "org_unit")
    if plan_code:
        qs = qs.filter(indicator__plan__code=plan_code)
    if as_of:
        qs = qs.filter(period_end__lte=as_of)
    else:
        qs = qs.filter(_default_periods(plan_code))
    if user is not None:
        qs = scopes.filter_in_scope(qs, user)
    qs = qs.annotate(
        has_value=Case(When(value__isnull=True, then=Value(0)), default=Value(1))
    ).order_by("indicator__code", "org_unit__path", "-has_value", "-period_end")
    if connection.vendor == "postgresql":
        return list(qs.distinct("indicator__code", "org_unit__path"))
    seen: set[tuple[int, int]] = set()
    latest = []
    for row in qs:
        key = (row.indicator_id, row.org_unit_id)
        if key not in seen:
            seen.add(key)
            latest.append(row)
    return latest


def _exported(value):
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, date):
        return value.isoformat()
    return float(value)


def progress_export_rows(
    *, plan_code: str = "", as_of: date | None = None, user=None
) -> list[dict]:
    return [
        {
            "indicator": r.indicator.code,
            "org_unit": r.org_unit.code,
            **{c: _exported(getattr(r, c)) for c in selectors.PROGRESS_EXPORT_COLUMNS},
        }
        for r in latest_progress_rows(plan_code=plan_code, as_of=as_of, user=user)
    ]

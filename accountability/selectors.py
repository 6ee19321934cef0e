"""Reads of the accountability app: allocation warnings, gaps (缺口), department indicators."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db.models import Q

from core.text import bilingual
from districts import scopes
from districts.levels import COVERAGE_LEVEL_MEMBERS
from reports.models import ProgressRow
from targets.models import Indicator

from .gaps import Gap, gap_of
from .models import Allocation


def allocation_warnings(*, indicator: Indicator) -> list[str]:
    """For a total (a ``value`` of a ``sum`` element): a warning per level whose allocated
    targets do not add up to the city's target."""
    if indicator.kind != "value" or indicator.element.aggregation != "sum":
        return []

    # Towns and subdistricts (镇/街道) are one tier, communities and villages another.
    tier = {lv: t for t, members in COVERAGE_LEVEL_MEMBERS.items() for lv in members}
    sums: dict[str, float] = defaultdict(float)
    for level, target in Allocation.objects.filter(indicator=indicator).values_list(
        "org_unit__level", "target"
    ):
        sums[tier.get(level, level)] += float(target)
    city_target = float(indicator.target)
    out = []
    for level, total in sorted(sums.items()):
        if abs(total - city_target) > 1e-6 * max(1.0, abs(city_target)):
            out.append(
                bilingual(
                    f"{indicator.code}：{level} 级分解目标合计 {total:g}，与全市目标 {city_target:g} 不一致",
                    f"{indicator.code}: the {level} allocations add up to {total:g}, "
                    f"not the city's target {city_target:g}",
                )
            )
    return out


def gaps(
    *, user, period: str, indicator: str = "", org_unit: str = "", city: str = ""
) -> list[Gap]:
    """What each unit in the user's scope still has to add by its deadline, from the progress
    rows of ``period`` that carry a target (its own allocated one, or the indicator's)."""
    qs = (
        ProgressRow.objects.filter(period=period, target__isnull=False)
        .filter(scopes.scope_q(user, scopes.READ))
        .select_related("indicator", "org_unit")
        .order_by("indicator__code", "org_unit__code")
    )
    if indicator:
        qs = qs.filter(indicator__code=indicator)
    if org_unit:
        qs = qs.filter(org_unit__code=org_unit)
    if city:
        qs = qs.filter(indicator__plan__city__code=city)
    rows = list(qs)
    # The achieved rate runs from the earliest value at the unit (the §3 baseline below the city).
    first: dict[tuple[int, int], tuple[float, date]] = {}
    earlier = (
        ProgressRow.objects.filter(
            indicator_id__in={r.indicator_id for r in rows},
            org_unit_id__in={r.org_unit_id for r in rows},
            value__isnull=False,
        )
        .order_by("period_end")
        .values_list("indicator_id", "org_unit_id", "value", "period_end")
    )
    for ind_id, unit_id, value, end in earlier:
        first.setdefault((ind_id, unit_id), (float(value), end))
    out = []
    for r in rows:
        base, base_date = first.get((r.indicator_id, r.org_unit_id), (None, None))
        out.append(
            gap_of(
                indicator=r.indicator.code,
                org_unit=r.org_unit.code,
                period=r.period,
                t=r.period_end,
                value=_f(r.value),
                target=float(r.target),
                comparator=r.comparator,
                deadline=r.deadline,
                baseline=base,
                baseline_date=base_date,
                status=r.status,
            )
        )
    return out


def _f(x):
    return None if x is None else float(x)


@dataclass
class DepartmentIndicator:
    indicator: Indicator
    role: str  # lead / support
    status: str
    overdue: bool


def department_indicators(*, department, user, period: str) -> list[DepartmentIndicator]:
    """The indicators a department leads or supports (directly or through their goal), each
    with its city row's status at ``period``; overdue when its deadline has passed unachieved."""
    qs = (
        Indicator.objects.filter(
            Q(lead=department)
            | Q(support=department)
            | Q(goal__lead=department)
            | Q(goal__support=department)
        )
        .distinct()
        .select_related("plan__city", "goal")
        .order_by("plan__code", "goal__position", "position")
    )
    statuses = dict(
        ProgressRow.objects.filter(
            indicator__in=qs, period=period, org_unit=department.city
        ).values_list("indicator_id", "status")
    )
    lead_ids = set(
        Indicator.objects.filter(Q(lead=department) | Q(goal__lead=department)).values_list(
            "id", flat=True
        )
    )
    today = date.today()
    out = []
    for ind in qs:
        status = statuses.get(ind.pk, "no_data")
        out.append(
            DepartmentIndicator(
                indicator=ind,
                role="lead" if ind.pk in lead_ids else "support",
                status=status,
                overdue=ind.deadline < today and status != "achieved",
            )
        )
    return out

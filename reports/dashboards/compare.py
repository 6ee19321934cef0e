"""The cross-city comparison: like indicators (the same data elements) side by side for the
cities in the user's scope, each city against its own target."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from core.text import name_of, title_of
from districts import scopes
from districts.models import OrgUnit
from reports import selectors
from reports.models import ProgressRow
from reports.selectors import PROGRESS_COLUMNS, period_sort_key
from targets.models import Indicator

from .common import (
    KIND_LABELS,
    build_line,
    level_label,
    plan_kind_label,
    rows_by_indicator,
    unit_ref,
)


def like_key(indicator: Indicator) -> tuple:
    """Indicators are alike when they are computed the same way from the same data elements."""
    return (
        indicator.kind,
        indicator.element_id,
        indicator.numerator_id,
        indicator.denominator_id,
        indicator.condition_element_id,
        indicator.condition_numerator_id,
        indicator.condition_denominator_id,
        indicator.growth_mode,
        indicator.level,
    )


def _like_label(indicator: Indicator) -> str:
    def n(e) -> str:
        return name_of(e) if e is not None else ""

    if indicator.kind == "ratio":
        return f"{n(indicator.numerator)} / {n(indicator.denominator)}"
    if indicator.kind == "coverage":
        cond = indicator.condition_element or indicator.condition_numerator
        return f"{level_label(indicator.level)} · {n(cond)}"
    if indicator.kind == "growth":
        base = indicator.element or indicator.numerator
        return f"{_('增长')} · {n(base)}"
    return n(indicator.element)


def _compare_names(cells: Sequence[dict]) -> list[str]:
    """Chart labels: the city, and its plan when the city has several like indicators."""
    counts = Counter(c["city"]["code"] for c in cells)
    return [
        c["city"]["name"]
        if counts[c["city"]["code"]] == 1
        else f"{c['city']['name']}\n{c['plan'][:14]}"
        for c in cells
    ]


def _city_defaults(cities: list[OrgUnit]) -> dict[int, str | None]:
    """Each city's as-of period by the one rule (:func:`reports.selectors.as_of_from_rows`).
    Two queries."""
    if not cities:
        return {}
    by_city: dict[int, list] = defaultdict(list)
    for row in ProgressRow.objects.filter(org_unit_id__in=[c.id for c in cities]).values_list(
        "org_unit_id", "indicator_id", "period", "period_end", "completeness", named=True
    ):
        by_city[row.org_unit_id].append(row)
    schedules = selectors.active_schedules()
    return {
        c.id: selectors.as_of_from_rows(
            by_city.get(c.id, []), selectors.reporting_deadlines(c, schedules)
        ).default
        for c in cities
    }


@dataclass(slots=True)
class CompareGroup:
    key: str
    label: str
    elements: str
    kind_label: str
    cells: list[dict]
    chart: dict


@dataclass(slots=True)
class Comparison:
    cities: list[dict]
    groups: list[CompareGroup]
    periods: list[str]
    as_of: str
    single_city: bool


def comparison(*, user, as_of: str = "") -> Comparison:
    """Like indicators (the same data elements) side by side for the cities in the user's scope,
    each city against its own target, at its own as-of period unless one is chosen. Four
    queries after the scope."""
    indicators = list(
        scopes.filter_in_scope(
            Indicator.objects.select_related(
                "plan",
                "plan__city",
                *Indicator.ELEMENT_FIELDS,
            ),
            user,
            field="plan__city",
        ).order_by("plan__city__path", "plan__issued_on", "plan__code", "position")
    )
    cities: dict[int, OrgUnit] = {}
    groups: dict[tuple, list[Indicator]] = defaultdict(list)
    for ind in indicators:
        cities[ind.plan.city_id] = ind.plan.city
        groups[like_key(ind)].append(ind)
    alike = {k: v for k, v in groups.items() if len({i.plan.city_id for i in v}) >= 2}
    ids = [i.id for members in alike.values() for i in members]
    rows = (
        list(
            ProgressRow.objects.filter(
                indicator_id__in=ids, org_unit_id=F("indicator__plan__city_id")
            ).values_list("indicator_id", "org_unit_id", *PROGRESS_COLUMNS, named=True)
        )
        if ids
        else []
    )
    all_periods = sorted({r.period for r in rows}, key=period_sort_key)
    chosen = as_of if as_of in all_periods else ""
    rows_by_ind = rows_by_indicator(rows)
    defaults = _city_defaults(list(cities.values())) if not chosen else {}
    result = []
    for key, members in alike.items():
        cells = []
        for ind in members:
            series = rows_by_ind.get(ind.id, [])
            if chosen:
                pick = next((r for r in series if r.period == chosen), None)
            else:
                default = defaults.get(ind.plan.city_id)
                pick = next((r for r in series if r.period == default), None)
            line = build_line(ind, series, pick.period if pick else None, ind.plan.city.code)
            line.binding = ind.plan.is_binding
            line.plan_kind_label = plan_kind_label(ind.plan)
            cells.append(
                {
                    "city": unit_ref(
                        ind.plan.city.code, ind.plan.city.name_zh, ind.plan.city.name_en
                    ),
                    "plan": ind.plan.document_number or title_of(ind.plan),
                    "line": line,
                }
            )
        cells.sort(key=lambda c: (c["city"]["code"], c["line"].code))
        first = members[0]
        result.append(
            CompareGroup(
                key="like-" + "-".join(str(k or "") for k in key),
                label=name_of(first),
                elements=_like_label(first),
                kind_label=str(KIND_LABELS.get(first.kind, first.kind)),
                cells=cells,
                chart={
                    "names": _compare_names(cells),
                    "values": [
                        round(c["line"].pct, 1) if c["line"].pct is not None else None
                        for c in cells
                    ],
                    "status_codes": [c["line"].status.code for c in cells],
                    "statuses": [c["line"].status.label for c in cells],
                    "details": [
                        f"{c['line'].value_display} / {c['line'].target_display}" for c in cells
                    ],
                    "labels": {"pct": _("目标完成度（%）"), "target": pgettext("target", "目标")},
                },
            )
        )
    result.sort(key=lambda g: g.label)
    return Comparison(
        cities=[
            unit_ref(c.code, c.name_zh, c.name_en, c.level)
            for c in sorted(cities.values(), key=lambda c: c.path)
        ],
        groups=result,
        periods=all_periods,
        as_of=chosen,
        single_city=len(cities) < 2,
    )

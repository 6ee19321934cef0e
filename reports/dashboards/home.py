"""The home page: a card for each city (or, for an official below a city, each of their own
units) in the user's scope."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count

from core.text import name_of, title_of
from districts import scopes
from districts.models import OrgUnit
from reports import selectors
from reports.models import ProgressRow
from reports.selectors import AsOf, needs_attention
from targets.models import Indicator, Plan

from .common import plan_kind_label, share_good, status_counts


@dataclass(slots=True)
class HomeCard:
    unit: OrgUnit
    name: str
    is_city: bool
    plans: list[dict]
    indicators: int
    children: int
    as_of: str | None = None
    period: AsOf | None = None
    counts: list[dict] = field(default_factory=list)
    share_good: int | None = None
    completeness_pct: int | None = None
    attention: int = 0
    next_deadlines: list[dict] = field(default_factory=list)
    proposals: int = 0
    """Indicators of research reports or proposals left out of the card's counts."""
    proposals_only: bool = False
    """The unit's only plans are research reports or proposals: counted, but no score."""


def cities_for_home(user) -> list[HomeCard]:
    """Cards for the plan-owning units (cities) inside the user's scope; a user whose scope lies
    below a city (a town official) gets a card for each of their own units instead.

    Six queries: the plans, the scope, the sub-city units, the progress rows at the cards'
    units (all periods; a few per indicator), the child counts, the reporting schedules
    (the as-of rule) and the restated targets."""
    paths = scopes.scope_paths(user, scopes.READ)
    plans = list(
        Plan.objects.select_related("city")
        .annotate(indicator_count=Count("indicators"))
        .order_by("city__path", "issued_on", "code")
    )
    by_city: dict[int, list[Plan]] = defaultdict(list)
    cities: dict[int, OrgUnit] = {}
    for plan in plans:
        by_city[plan.city_id].append(plan)
        cities[plan.city_id] = plan.city
    card_units: list[tuple[OrgUnit, bool, list[Plan]]] = []
    sub_paths: dict[str, list[Plan]] = {}
    # Cities first, then plan-owning districts and towns; each in tree order.
    for city_id, city in sorted(cities.items(), key=lambda i: (i[1].level != "city", i[1].path)):
        if scopes.path_in_scope(city.path, paths):
            card_units.append((city, True, by_city[city_id]))
        elif paths:
            for p in paths:
                if p.startswith(city.path):
                    sub_paths.setdefault(p, []).extend(by_city[city_id])
    if sub_paths:
        for unit in OrgUnit.objects.filter(path__in=list(sub_paths)).order_by("path"):
            if unit.id not in cities:
                card_units.append((unit, False, sub_paths[unit.path]))
    if not card_units:
        return []
    unit_ids = [u.id for u, _c, _p in card_units]
    rows = list(
        ProgressRow.objects.filter(org_unit_id__in=unit_ids).values_list(
            "indicator_id",
            "indicator__plan_id",
            "org_unit_id",
            "period",
            "period_end",
            "value",
            "status",
            "completeness",
            "deadline",
            named=True,
        )
    )
    rows_by_unit: dict[int, list] = defaultdict(list)
    for row in rows:
        rows_by_unit[row.org_unit_id].append(row)
    child_counts = dict(
        OrgUnit.objects.filter(parent_id__in=unit_ids)
        .values("parent_id")
        .annotate(n=Count("id"))
        .values_list("parent_id", "n")
    )
    schedules = selectors.active_schedules()
    # A target restated in another document of the same city counts once (as on its pages).
    restated: set[int] = set()
    restated_in_plan: Counter = Counter()
    for ind_id, plan_id, city_id, other_city_id in Indicator.objects.filter(
        same_as__isnull=False
    ).values_list("id", "plan_id", "plan__city_id", "same_as__plan__city_id"):
        if city_id == other_city_id:
            restated.add(ind_id)
            restated_in_plan[plan_id] += 1
    cards = []
    for unit, is_city, all_plans in card_units:
        # Headline counts rest on adopted policy; a unit whose only document is a research
        # report shows its figures, but scores none of them.
        unit_plans = [p for p in all_plans if p.is_binding] or all_plans
        proposals_only = not any(p.is_binding for p in all_plans)
        counted_plans = {p.id for p in unit_plans}
        unit_rows = [
            r
            for r in rows_by_unit.get(unit.id, [])
            if r.indicator_id not in restated and r.indicator__plan_id in counted_plans
        ]
        period = selectors.as_of_from_rows(
            unit_rows, selectors.reporting_deadlines(unit, schedules)
        )
        as_of = period.period
        current = [r for r in unit_rows if r.period == as_of]
        # As on the dashboards: an indicator without a row at the as-of period has no data.
        indicator_count = (
            sum(p.indicator_count for p in unit_plans)
            - sum(restated_in_plan[p.id] for p in unit_plans)
            if is_city
            else len({r.indicator_id for r in unit_rows})
        )
        codes = [r.status for r in current] + ["no_data"] * max(indicator_count - len(current), 0)
        counts = Counter(codes)
        completeness = [float(r.completeness) for r in current if r.completeness is not None]
        as_of_end = current[0].period_end if current else None
        upcoming: Counter = Counter(
            r.deadline
            for r in current
            if r.status not in ("achieved", "no_target", "missed")
            and (as_of_end is None or r.deadline >= date(as_of_end.year, 1, 1))
        )
        card = HomeCard(
            unit=unit,
            name=name_of(unit),
            is_city=is_city,
            plans=[
                {
                    "title": title_of(p),
                    "document_number": p.document_number,
                    "indicators": p.indicator_count,
                    "kind_label": plan_kind_label(p),
                }
                for p in all_plans
            ],
            indicators=indicator_count,
            children=child_counts.get(unit.id, 0),
            as_of=as_of,
            period=period,
            counts=status_counts(counts),
            share_good=None if proposals_only else share_good(codes),
            completeness_pct=(
                round(sum(completeness) / len(completeness) * 100) if completeness else None
            ),
            attention=sum(1 for c in codes if needs_attention(c)),
            next_deadlines=[{"date": d, "n": n} for d, n in sorted(upcoming.items())[:3]],
            proposals=sum(p.indicator_count for p in all_plans if p.id not in counted_plans),
            proposals_only=proposals_only,
        )
        cards.append(card)
    return cards

"""The org-unit page: all indicators with progress at one unit, grouped by plan and goal, and
its children with their status counts."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db.models import Count

from core.text import name_of, title_of
from districts.models import OrgUnit
from reports.models import ProgressRow
from reports.selectors import (
    ATTENTION,
    PROGRESS_COLUMNS,
    AsOf,
    as_of_from_rows,
    reporting_deadlines,
)
from targets.models import Indicator, Plan

from .common import (
    GoalBlock,
    Line,
    PlanBlock,
    attention_lines,
    breadcrumb,
    build_line,
    level_label,
    lines_status_counts,
    name_lines,
    noun_for,
    plan_kind_label,
    proposals_only,
    restatements,
    rows_by_indicator,
    scored,
    share_good,
    status_counts,
    unit_ref,
)


@dataclass(slots=True)
class UnitOverview:
    unit: OrgUnit
    name: str
    level_label: str
    breadcrumb: list[dict]
    is_plan_city: bool
    as_of: str | None
    periods: list[str]
    period: AsOf
    plans: list[PlanBlock]
    counts: list[dict]
    share_good: int | None
    children: list[dict]
    attention: list[Line]
    proposals: int = 0
    include_proposals: bool = False
    proposals_only: bool = False


def unit_overview(
    *, unit: OrgUnit, user, as_of: str = "", include_proposals: bool = False
) -> UnitOverview:
    """All indicators with progress at ``unit`` (grouped by plan and goal) and its children
    with their status counts. Seven queries whatever the unit's size."""
    rows = list(
        ProgressRow.objects.filter(org_unit=unit).values_list(
            "indicator_id", "org_unit_id", *PROGRESS_COLUMNS, named=True
        )
    )
    period = as_of_from_rows(rows, reporting_deadlines(unit), as_of)
    periods, as_of = period.periods, period.period
    rows_by_ind = rows_by_indicator(rows)
    indicators = list(
        Indicator.objects.filter(id__in=list(rows_by_ind))
        .select_related("plan", "goal")
        .order_by("plan__issued_on", "plan__code", "goal__position", "position", "id")
    )
    # As on the city dashboard: a target restated in several documents is one line.
    hidden, restating = restatements(indicators)
    indicators = [ind for ind in indicators if ind.id not in hidden]
    children_units = list(OrgUnit.objects.filter(parent=unit).order_by("path"))
    child_levels = {c.level for c in children_units}
    lines = [
        build_line(ind, rows_by_ind[ind.id], as_of, unit.code, noun=noun_for(ind, child_levels))
        for ind in indicators
    ]
    name_lines(lines, {ind.plan_id: ind.plan for ind in indicators}, restating)
    line_of = {line.indicator_id: line for line in lines}
    plans: dict[int, PlanBlock] = {}
    goals: dict[int, GoalBlock] = {}
    for ind in indicators:
        plan = plans.get(ind.plan_id)
        if plan is None:
            p = ind.plan
            plan = plans[p.id] = PlanBlock(
                id=p.id,
                code=p.code,
                title=title_of(p),
                document_number=p.document_number,
                issuer=name_of(p, "issuer_zh", "issuer_en"),
                issued_on=p.issued_on,
                goals=[],
                kind_label=plan_kind_label(p),
            )
        goal = goals.get(ind.goal_id)
        if goal is None:
            goal = goals[ind.goal_id] = GoalBlock(
                ind.goal_id, ind.goal.code, title_of(ind.goal), []
            )
            plan.goals.append(goal)
        goal.lines.append(line_of[ind.id])

    counted_lines = scored(lines, include_proposals)
    # The children's counts rest on the same indicators as the unit's own.
    counted_ids = {line.indicator_id for line in counted_lines}
    left_out = [
        *hidden,
        *(line.indicator_id for line in lines if line.indicator_id not in counted_ids),
    ]
    counted: dict[int, Counter] = defaultdict(Counter)
    if as_of and children_units:
        for item in (
            # Driven by the children's ids: the (org_unit, period) index, not a scan of every
            # unit's rows of each indicator.
            ProgressRow.objects.filter(org_unit_id__in=[c.id for c in children_units], period=as_of)
            .exclude(indicator_id__in=left_out)
            .values("org_unit_id", "status")
            .annotate(n=Count("id"))
        ):
            counted[item["org_unit_id"]][item["status"]] += item["n"]
    children = []
    for child in children_units:
        counter = counted.get(child.id, Counter())
        ref = unit_ref(child.code, child.name_zh, child.name_en, child.level)
        ref.update(
            counts=status_counts(counter),
            missing=counter["no_data"],
            share_good=share_good(counter.elements()),
            bad=sum(n for c, n in counter.items() if c in ATTENTION and c != "no_data"),
            has_rows=bool(counter),
        )
        children.append(ref)
    attention = attention_lines(counted_lines)
    only_proposals = proposals_only(lines)
    return UnitOverview(
        unit=unit,
        name=name_of(unit),
        level_label=level_label(unit.level),
        breadcrumb=breadcrumb(unit, user),
        is_plan_city=Plan.objects.filter(city=unit).exists(),
        as_of=as_of,
        periods=periods,
        period=period,
        plans=list(plans.values()),
        counts=lines_status_counts(counted_lines),
        share_good=None
        if only_proposals
        else share_good(line.status.code for line in counted_lines),
        children=children,
        attention=attention,
        proposals=0 if only_proposals else sum(1 for line in lines if not line.binding),
        proposals_only=only_proposals,
        include_proposals=include_proposals,
    )

"""The city dashboard: every indicator of the city's plans at the city, as of one period, with
what needs attention and which child units drag it down."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from core.numbers import as_float, format_number
from core.text import name_of, paren, title_of
from districts.models import OrgUnit
from reports.models import ProgressRow
from reports.selectors import (
    ATTENTION,
    PROGRESS_COLUMNS,
    STATUS_ORDER,
    AsOf,
    as_of_from_rows,
    needs_attention,
    reporting_deadlines,
)
from targets.models import Goal, Indicator, Plan

from .common import (
    GoalBlock,
    Line,
    PlanBlock,
    Status,
    attention_lines,
    build_line,
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
    status_of,
    unit_ref,
    value_display,
)


@dataclass(slots=True)
class CityDashboard:
    city: OrgUnit
    name: str
    as_of: str | None
    periods: list[str]
    period: AsOf
    keep: list[tuple[str, str]]
    """The filters the period links keep."""
    plans: list[PlanBlock]
    plan_options: list[dict]
    goal_options: list[dict]
    status_options: list[Status]
    filters: dict
    counts: list[dict]
    total: int
    shown: int
    share_good: int | None
    completeness_pct: int | None
    attention: list[Line]
    missing_reports: list[dict]
    children: list[dict]
    chart: dict
    all_lines: list[Line]
    listed: int = 0
    """Lines in the list (with research reports' and proposals' figures)."""
    proposals: int = 0
    """How many lines come from research reports or proposals (labelled, and left out of the
    headline counts and scores unless ``include_proposals``)."""
    include_proposals: bool = False
    proposals_only: bool = False
    department_options: list[dict] = field(default_factory=list)
    """The city's responsible departments (责任单位), for the department filter."""


def city_dashboard(
    *,
    city: OrgUnit,
    plan_code: str = "",
    goal_id: int | None = None,
    status: str = "",
    as_of: str = "",
    include_proposals: bool = False,
    department: str = "",
) -> CityDashboard | None:
    """Every indicator of the city's plans at the city, as of one period, with what needs
    attention and which child units drag it down. ``None`` when the unit owns no plan.

    Seven queries: plans, goals, indicators, the child units, the city's progress rows (every
    period: sparklines), the reporting schedules (the as-of rule), and their rows at the as-of period (status counts, missing reports and
    the units dragging each indicator that needs attention)."""
    plans = list(Plan.objects.filter(city=city).order_by("issued_on", "code"))
    if not plans:
        return None
    goals = list(Goal.objects.filter(plan__city=city).order_by("plan_id", "position", "id"))
    indicators = list(
        Indicator.objects.filter(plan__city=city).order_by("plan_id", "goal_id", "position", "id")
    )
    # A target restated in several of the city's documents is one line, naming the others.
    hidden, restating = restatements(indicators)
    indicators = [ind for ind in indicators if ind.id not in hidden]
    units = list(OrgUnit.objects.filter(parent=city).order_by("path"))
    child_levels = {u.level for u in units}
    rows = list(
        ProgressRow.objects.filter(org_unit=city, indicator__plan__city=city).values_list(
            "indicator_id", "org_unit_id", *PROGRESS_COLUMNS, named=True
        )
    )
    period = as_of_from_rows(rows, reporting_deadlines(city), as_of)
    periods, as_of = period.periods, period.period
    rows_by_ind = rows_by_indicator(rows)
    lines = [
        build_line(ind, rows_by_ind.get(ind.id, []), as_of, noun=noun_for(ind, child_levels))
        for ind in indicators
    ]
    name_lines(lines, {p.id: p for p in plans}, restating)

    plan_by_code = {p.code: p for p in plans}
    chosen_plan = plan_by_code.get(plan_code)
    goal_ids = {g.id for g in goals}
    chosen_goal = goal_id if goal_id in goal_ids else None
    departments = _departments(city)
    chosen_department = department if department in departments else ""
    led = departments[chosen_department][1] if chosen_department else None
    scoped = [
        line
        for line in lines
        if (chosen_plan is None or line.plan_id == chosen_plan.id)
        and (chosen_goal is None or line.goal_id == chosen_goal)
        and (led is None or line.indicator_id in led)
    ]
    if status == "attention":
        shown = [line for line in scoped if needs_attention(line.status.code)]
    elif status:
        shown = [line for line in scoped if line.status.code == status]
    else:
        shown = scoped

    # Headline counts and scores rest on adopted policy; a research report's figures are
    # listed (labelled) but counted only on request.
    counted = scored(scoped, include_proposals)
    attention = attention_lines(counted)
    counted_ids = {line.indicator_id for line in scored(lines, include_proposals)}
    children, missing = _city_children(
        units, as_of, [ind.id for ind in indicators if ind.id in counted_ids], attention
    )
    only_proposals = proposals_only(scoped)

    shown_ids = {line.indicator_id for line in shown}
    plan_blocks = []
    for plan in plans:
        goal_blocks = []
        for goal in goals:
            if goal.plan_id != plan.id:
                continue
            goal_lines = [
                line for line in lines if line.goal_id == goal.id and line.indicator_id in shown_ids
            ]
            if goal_lines:
                goal_blocks.append(GoalBlock(goal.id, goal.code, title_of(goal), goal_lines))
        if goal_blocks:
            plan_blocks.append(
                PlanBlock(
                    id=plan.id,
                    code=plan.code,
                    title=title_of(plan),
                    document_number=plan.document_number,
                    issuer=name_of(plan, "issuer_zh", "issuer_en"),
                    issued_on=plan.issued_on,
                    goals=goal_blocks,
                    kind_label=plan_kind_label(plan),
                )
            )
    completeness = [line.completeness_pct for line in counted if line.completeness_pct is not None]
    return CityDashboard(
        city=city,
        name=name_of(city),
        as_of=as_of,
        periods=periods,
        period=period,
        keep=[
            ("plan", chosen_plan.code if chosen_plan else ""),
            ("goal", str(chosen_goal or "")),
            ("status", status),
            ("proposals", "1" if include_proposals else ""),
            ("department", chosen_department),
        ],
        plans=plan_blocks,
        plan_options=[
            {
                "code": p.code,
                "label": title_of(p) + paren(p.document_number),
            }
            for p in plans
        ],
        goal_options=[
            {
                "id": g.id,
                "label": f"{g.code} {title_of(g)}",
                "plan": plan_by_code_of(plans, g.plan_id),
                "plan_title": next((title_of(p) for p in plans if p.id == g.plan_id), ""),
            }
            for g in goals
            if chosen_plan is None or g.plan_id == chosen_plan.id
        ],
        status_options=[status_of(code) for code in STATUS_ORDER],
        filters={
            "plan": chosen_plan.code if chosen_plan else "",
            "goal": chosen_goal,
            "status": status,
            "as_of": as_of or "",
            "department": chosen_department,
        },
        counts=lines_status_counts(counted),
        total=len(counted),
        shown=len(shown),
        share_good=None if only_proposals else share_good(line.status.code for line in counted),
        completeness_pct=round(sum(completeness) / len(completeness)) if completeness else None,
        attention=attention,
        missing_reports=missing,
        children=children,
        chart=_goal_chart(plans, goals, counted),
        all_lines=lines,
        listed=len(scoped),
        proposals=0 if only_proposals else sum(1 for line in scoped if not line.binding),
        proposals_only=only_proposals,
        include_proposals=include_proposals,
        department_options=[
            {"code": code, "label": name} for code, (name, _ids) in departments.items()
        ],
    )


def _departments(city: OrgUnit) -> dict[str, tuple[str, set[int]]]:
    """The city's departments (code → name, ids of the indicators it leads or supports,
    directly or through their goal), in the directory's order."""
    from accountability.models import Department

    out: dict[str, tuple[str, set[int]]] = {}
    ids: dict[int, str] = {}
    for d in Department.objects.filter(city=city).order_by("position", "code"):
        out[d.code] = (name_of(d), set())
        ids[d.id] = d.code
    if not out:
        return out
    links = Indicator.objects.filter(plan__city=city).values_list(
        "id", "lead_id", "support__id", "goal__lead_id", "goal__support__id"
    )
    for indicator_id, *departments in links:
        for d_id in departments:
            if d_id in ids:
                out[ids[d_id]][1].add(indicator_id)
    return out


def plan_by_code_of(plans: Sequence[Plan], plan_id: int) -> str:
    return next((p.code for p in plans if p.id == plan_id), "")


def _city_children(units: list[OrgUnit], as_of: str | None, indicator_ids: list[int], attention):
    """The city's child units with their status counts at ``as_of``; those with missing reports
    (indicators without a value there), most missing first; and, on each indicator needing
    attention, the child units behind it (their own status off track, at risk or missed;
    lowest share of target first). One query: their rows at ``as_of``, read once for all
    three, since those rows lie scattered across the table."""
    if not as_of or not units:
        return [], []
    if not units:
        return [], []
    wanted = set(indicator_ids)
    counters: dict[int, Counter] = defaultdict(Counter)
    behind: dict[int, list[tuple]] = defaultdict(list)
    bad = {code for code in ATTENTION if code != "no_data"}
    for unit_id, indicator_id, status, pct, value in ProgressRow.objects.filter(
        org_unit_id__in=[u.id for u in units], period=as_of
    ).values_list("org_unit_id", "indicator_id", "status", "percent_of_target", "value"):
        if indicator_id not in wanted:
            continue  # a plan of the child unit itself, not one of the city's
        counters[unit_id][status] += 1
        if status in bad:
            behind[indicator_id].append((pct is None, pct, unit_id, status, value))
    children = []
    refs = {}
    for unit in units:
        counter = counters.get(unit.id)
        ref = refs[unit.id] = unit_ref(unit.code, unit.name_zh, unit.name_en, unit.level)
        if counter is None:
            continue
        children.append(
            {
                **ref,
                "counts": status_counts(counter),
                "missing": counter["no_data"],
                "share_good": share_good(counter.elements()),
                "bad": sum(n for c, n in counter.items() if c in bad),
            }
        )
    missing = sorted(
        (c for c in children if c["missing"]), key=lambda c: (-c["missing"], c["code"])
    )
    for line in attention:
        found = sorted(
            behind.get(line.indicator_id, []),
            key=lambda t: (t[0], t[1] or 0, refs[t[2]]["code"]),
        )
        # A town's own value, in the indicator's unit, beside its status: its percent of the
        # target read as a value misled (a town at 71.74% showed "89.67%" against "≥ 80%").
        line.draggers = [
            {
                **refs[unit_id],
                "status": status_of(status),
                "value": as_float(value),
                "value_display": value_display(line, as_float(value)),
                "pct": format_number(pct) if pct is not None else "",
            }
            for _none, pct, unit_id, status, value in found[:3]
        ]
        line.draggers_more = max(len(found) - 3, 0)
    return children, missing


def _goal_chart(plans: Sequence[Plan], goals: Sequence[Goal], lines: Sequence[Line]) -> dict:
    """Status counts per goal for the stacked bar chart, and overall for the donut."""
    present = {line.goal_id for line in lines}
    shown_goals = [g for g in goals if g.id in present]
    multi_plan = len({g.plan_id for g in shown_goals}) > 1
    # Named by the document, never by the plan's code (a slug such as dongguan-2012-csjwh).
    plan_short = {p.id: p.document_number or title_of(p)[:16] for p in plans}
    categories = [
        (f"{plan_short[g.plan_id]} · " if multi_plan else "") + f"{g.code} {title_of(g)}"[:40]
        for g in shown_goals
    ]
    counts: dict[tuple[int, str], int] = Counter((line.goal_id, line.status.code) for line in lines)
    overall = Counter(line.status.code for line in lines)
    series = []
    for code in STATUS_ORDER:
        data = [counts.get((g.id, code), 0) for g in shown_goals]
        if any(data):
            st = status_of(code)
            series.append({"code": code, "name": st.label, "data": data})
    return {
        "categories": categories,
        "series": series,
        "overall": [
            {"code": c, "name": status_of(c).label, "value": overall[c]}
            for c in STATUS_ORDER
            if overall[c]
        ],
        "labels": {"count": _("指标数"), "overall": _("总体状态")},
    }

"""Reads for the leadership pages and report packs: the only place that builds their querysets.

Every page reads the progress rows the background job stored (plus the catalog, the org-unit
tree and, for "who reported what", the data values and their history); nothing here computes
progress. Each selector runs a fixed number of queries whatever the number of org units and
indicators, and returns plain dataclasses so that templates never touch the database.

Access is checked by the views with :mod:`districts.scopes` before a selector is called for a
unit; the selectors that list across units (home, comparison, packs) filter by the same rule.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from urllib.parse import quote

from django.db.models import Count, F, QuerySet
from django.urls import get_script_prefix, reverse
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext as _

from core.numbers import as_float, format_number, with_unit
from core.periods import Period, PeriodError
from core.text import name_of, title_of
from districts import scopes
from districts.levels import LEVEL_CHOICES
from districts.models import DataValue, DataValueChange, OrgUnit
from targets.models import COMPARATORS, Goal, Indicator, Plan

from .models import STATUS_CHOICES, ProgressRow, ReportPack
from .progress import percent_of_target

# ---------------------------------------------------------------------------------------------
# Status vocabulary as shown: a label, an icon and a colour class, so status is never colour alone
# ---------------------------------------------------------------------------------------------

STATUS_ORDER = [
    "achieved",
    "on_track",
    "substantial_progress",
    "moderate_progress",
    "at_risk",
    "limited_progress",
    "off_track",
    "deterioration",
    "missed",
    "not_assessable",
    "not_available",
    "no_data",
    "no_target",
]
STATUS_ICONS = {
    "achieved": "✓",
    "on_track": "→",
    "substantial_progress": "→",
    "moderate_progress": "↗",
    "at_risk": "!",
    "limited_progress": "!",
    "off_track": "↓",
    "deterioration": "↓",
    "missed": "✗",
    "not_assessable": "?",
    "not_available": "?",
    "no_data": "○",
    "no_target": "·",
}
# Shown in the same colour in charts (the page's CSS and the PDF use the same values).
STATUS_COLORS = {
    "achieved": "#1a7f37",
    "on_track": "#1d4ed8",
    "substantial_progress": "#1d4ed8",
    "moderate_progress": "#0e7490",
    "at_risk": "#a15c07",
    "limited_progress": "#a15c07",
    "off_track": "#c2410c",
    "deterioration": "#b91c1c",
    "missed": "#7f1d1d",
    "not_assessable": "#6b7280",
    "not_available": "#6b7280",
    "no_data": "#9ca3af",
    "no_target": "#64748b",
}
GOOD = frozenset({"achieved", "on_track", "substantial_progress"})
"""Statuses that count as "achieved or on track" on the home cards."""
ATTENTION = {
    "missed": 0,
    "deterioration": 1,
    "off_track": 1,
    "at_risk": 2,
    "limited_progress": 2,
    "no_data": 3,
}
"""Statuses that put an indicator on the "needs attention" list, most urgent first."""
UNASSESSED = frozenset({"no_target"})
"""Rows not compared with a target (totals below the city): left out of shares."""

_STATUS_LABELS = dict(STATUS_CHOICES)
_COMPARATOR_SIGNS = dict(COMPARATORS)
_LEVEL_LABELS = dict(LEVEL_CHOICES)
_KIND_LABELS = dict(Indicator.KINDS)


@dataclass(frozen=True, slots=True)
class Status:
    code: str
    label: str
    icon: str
    color: str
    rank: int
    badge: str
    """The status as shown: icon and word in the status colour (safe HTML)."""


@lru_cache(maxsize=256)
def _status(code: str, language: str | None) -> Status:
    label = str(_STATUS_LABELS.get(code, code))
    icon = STATUS_ICONS.get(code, "·")
    return Status(
        code=code,
        label=label,
        icon=icon,
        color=STATUS_COLORS.get(code, "#6b7280"),
        rank=STATUS_ORDER.index(code) if code in STATUS_ORDER else len(STATUS_ORDER),
        badge=format_html(
            '<span class="status st-{}"><span class="st-icon" aria-hidden="true">{}</span>{}</span>',
            code,
            icon,
            label,
        ),
    )


def status_of(code: str | None) -> Status:
    """How a status is shown in the active language (cached: pages show hundreds of them)."""
    return _status(code or "no_data", translation.get_language())


_CODE_SLOT = "__code__"


@lru_cache(maxsize=64)
def _url_pattern(name: str, script_prefix: str) -> str:
    return reverse(name, args=[_CODE_SLOT])


def url_for(name: str, code: str) -> str:
    """``reverse(name, args=[code])`` for the code-keyed pages, resolved once per page name:
    tables link hundreds of rows."""
    return _url_pattern(name, get_script_prefix()).replace(_CODE_SLOT, quote(code, safe=""))


def status_legend() -> list[Status]:
    return [status_of(code) for code in STATUS_ORDER]


# ---------------------------------------------------------------------------------------------
# Small display helpers (pure)
# ---------------------------------------------------------------------------------------------


def level_label(level: str) -> str:
    return str(_LEVEL_LABELS.get(level, level))


def period_sort_key(period: str) -> tuple:
    try:
        return (0, Period.parse(period))
    except PeriodError:
        return (1, period)


def parse_period(text: str | None) -> Period | None:
    if not text:
        return None
    try:
        return Period.parse(text)
    except PeriodError:
        return None


def ancestor_paths(path: str) -> list[str]:
    """``"441900/441900003/"`` → ``["441900/", "441900/441900003/"]``."""
    parts = [p for p in path.split("/") if p]
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def sparkline(values: Sequence[float | None], target: float | None = None) -> dict | None:
    """Polyline points of a 100×24 sparkline (and the target's height), or None with < 2 points."""
    points = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(points) < 2:
        return None
    ys = [v for _i, v in points] + ([target] if target is not None else [])
    low, high = min(ys), max(ys)
    span = (high - low) or 1.0
    steps = max(len(values) - 1, 1)

    def y_of(v: float) -> float:
        return round(22 - (v - low) / span * 20, 2)

    coords = [(round(i / steps * 100, 2), y_of(v)) for i, v in points]
    return {
        "points": " ".join(f"{x},{y}" for x, y in coords),
        "last": coords[-1],
        "target_y": y_of(target) if target is not None else None,
    }


# ---------------------------------------------------------------------------------------------
# One indicator at one unit, as a line of a dashboard table
# ---------------------------------------------------------------------------------------------

_ROW_FIELDS = (
    "id",
    "indicator_id",
    "org_unit_id",
    "period",
    "period_end",
    "value",
    "numerator",
    "denominator",
    "target",
    "comparator",
    "deadline",
    "percent_of_target",
    "expected",
    "status",
    "forecast",
    "completeness",
    "share_of_total",
    "ratio",
    "score",
)


@dataclass(slots=True)
class Line:
    """Where one unit stands on one indicator at the as-of period, ready to show."""

    indicator_id: int
    code: str
    name: str
    kind: str
    kind_label: str
    unit: str
    plan_id: int
    goal_id: int
    url: str
    target_display: str
    deadline: date
    comparator: str
    status: Status
    period: str | None = None
    value: float | None = None
    value_display: str = "—"
    target: float | None = None
    pct: float | None = None
    pct_display: str = "—"
    bar_pct: float = 0.0
    expected_display: str = "—"
    expected_pct: float | None = None
    forecast_display: str = "—"
    completeness_pct: int | None = None
    share_display: str = ""
    overdue: bool = False
    bar_label: str = ""
    deadline_display: str = ""
    spark: dict | None = None
    spark_label: str = ""
    series: list[tuple[str, float | None]] = field(default_factory=list)
    draggers: list[dict] = field(default_factory=list)
    draggers_more: int = 0
    attention_rank: int = 99


@lru_cache(maxsize=8)
def _labels(language: str | None) -> dict:
    """Words every table line needs, translated once per language (pages show hundreds)."""
    return {
        "complete": _("完成"),
        "done": _("已完成"),
        "not_done": _("未完成"),
        "bar": _("完成目标的 %(pct)s"),
        "bar_expected": _("轨迹期望值 %(value)s"),
        "kinds": {code: str(label) for code, label in Indicator.KINDS},
    }


def _target_display(indicator: Indicator, target=None) -> str:
    target = indicator.target if target is None else target
    if indicator.kind == "milestone":
        return _labels(translation.get_language())["complete"]
    sign = _COMPARATOR_SIGNS.get(indicator.comparator, indicator.comparator)
    return f"{sign} {with_unit(format_number(target), indicator.unit)}"


def _value_display(indicator: Indicator, value: float | None) -> str:
    if value is None:
        return "—"
    if indicator.kind == "milestone":
        words = _labels(translation.get_language())
        return words["done"] if value >= 1 else words["not_done"]
    return with_unit(format_number(value), indicator.unit)


def build_line(
    indicator: Indicator, rows: Sequence, as_of: str | None, unit_code: str | None = None
) -> Line:
    """``rows``: the indicator's progress rows at one unit, oldest first (any number of them)."""
    current = next((r for r in rows if r.period == as_of), None) if as_of else None
    url = url_for("reports:indicator", indicator.code)
    if unit_code:
        url += f"?unit={unit_code}" + (f"&as_of={as_of}" if as_of else "")
    elif as_of:
        url += f"?as_of={as_of}"
    line = Line(
        indicator_id=indicator.id,
        code=indicator.code,
        name=name_of(indicator),
        kind=indicator.kind,
        kind_label=_labels(translation.get_language())["kinds"].get(indicator.kind, indicator.kind),
        unit=indicator.unit,
        plan_id=indicator.plan_id,
        goal_id=indicator.goal_id,
        url=url,
        target_display=_target_display(indicator),
        deadline=indicator.deadline,
        comparator=indicator.comparator,
        status=status_of(current.status if current else "no_data"),
        deadline_display=indicator.deadline.isoformat(),
    )
    as_of_end = current.period_end if current else None
    shown = [r for r in rows if as_of_end is None or r.period_end <= as_of_end]
    values = [as_float(r.value) for r in shown]
    line.series = [(r.period, v) for r, v in zip(shown, values, strict=True)]
    # Totals below the city carry no target (SPEC §3): neither shown nor drawn for them.
    reference = current or (shown[-1] if shown else None)
    untargeted = reference is not None and reference.target is None
    if untargeted:
        line.target_display = "—"
    target = None if untargeted or indicator.kind == "milestone" else as_float(indicator.target)
    line.spark = sparkline(values, target)
    line.spark_label = "; ".join(f"{r.period}: {format_number(r.value)}" for r in shown)
    if current is None:
        line.overdue = True
        return line
    line.period = current.period
    line.value = as_float(current.value)
    line.value_display = _value_display(indicator, line.value)
    line.target = as_float(current.target)
    if current.target is not None:
        line.target_display = _target_display(indicator, current.target)
    line.pct = as_float(current.percent_of_target)
    if line.pct is not None:
        line.pct_display = f"{format_number(line.pct)}%"
        line.bar_pct = max(0.0, min(line.pct, 100.0))
    expected = as_float(current.expected)
    if expected is not None:
        line.expected_display = _value_display(indicator, expected)
        exp_pct = percent_of_target(expected, line.target, current.comparator)
        if exp_pct is not None:
            line.expected_pct = round(max(0.0, min(exp_pct, 100.0)), 1)
    words = _labels(translation.get_language())
    line.bar_label = words["bar"] % {"pct": line.pct_display}
    if line.expected_pct is not None:
        line.bar_label += "；" + words["bar_expected"] % {"value": line.expected_display}
    line.forecast_display = _value_display(indicator, as_float(current.forecast))
    if current.completeness is not None:
        line.completeness_pct = round(float(current.completeness) * 100)
    if current.share_of_total is not None:
        line.share_display = f"{format_number(current.share_of_total)}%"
    line.overdue = current.value is None
    line.attention_rank = ATTENTION.get(line.status.code, 99)
    return line


def _rows_by_indicator(rows: Iterable) -> dict[int, list]:
    grouped: dict[int, list] = defaultdict(list)
    for row in rows:
        grouped[row.indicator_id].append(row)
    for series in grouped.values():
        series.sort(key=lambda r: r.period_end)
    return grouped


def _periods_of(rows: Iterable) -> tuple[list[str], str | None]:
    """The periods present (oldest first) and the latest one in which any row has a value."""
    ends: dict[str, date] = {}
    with_value: set[str] = set()
    for row in rows:
        ends[row.period] = row.period_end
        if row.value is not None:
            with_value.add(row.period)
    periods = sorted(ends, key=lambda p: (ends[p], p))
    latest = next((p for p in reversed(periods) if p in with_value), None)
    return periods, latest or (periods[-1] if periods else None)


def _choose_as_of(requested: str | None, periods: list[str], default: str | None) -> str | None:
    return requested if requested in periods else default


def _status_counts(lines: Iterable[Line]) -> list[dict]:
    return status_counts(Counter(line.status.code for line in lines))


def status_counts(counter: Counter) -> list[dict]:
    """Counts by status in display order, each with its share as a CSS width (``"12.50"``)."""
    total = sum(counter.values()) or 1
    return [
        {"status": status_of(c), "n": counter[c], "width": f"{counter[c] / total * 100:.2f}"}
        for c in STATUS_ORDER
        if counter[c]
    ]


def _share_good(codes: Iterable[str]) -> int | None:
    assessed = [c for c in codes if c not in UNASSESSED]
    if not assessed:
        return None
    return round(sum(1 for c in assessed if c in GOOD) / len(assessed) * 100)


def _unit_ref(code: str, name_zh: str, name_en: str, level: str = "") -> dict:
    return {
        "code": code,
        "name": name_of({"name_zh": name_zh, "name_en": name_en}),
        "level": level,
        "level_label": level_label(level) if level else "",
        "url": url_for("reports:unit", code),
    }


# ---------------------------------------------------------------------------------------------
# Home: the cities (or, for an official below a city, their own units) in the user's scope
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class HomeCard:
    unit: OrgUnit
    name: str
    is_city: bool
    url: str
    plans: list[dict]
    indicators: int
    children: int
    as_of: str | None = None
    counts: list[dict] = field(default_factory=list)
    share_good: int | None = None
    completeness_pct: int | None = None
    attention: int = 0
    next_deadlines: list[dict] = field(default_factory=list)


def cities_for_home(user) -> list[HomeCard]:
    """Cards for the plan-owning units (cities) inside the user's scope; a user whose scope lies
    below a city (a town official) gets a card for each of their own units instead.

    Five queries: the plans, the scope, the sub-city units, the progress rows at the cards'
    units (all periods; a few per indicator) and the child counts."""
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
    cards = []
    for unit, is_city, unit_plans in card_units:
        unit_rows = rows_by_unit.get(unit.id, [])
        _periods, as_of = _periods_of(unit_rows)
        current = [r for r in unit_rows if r.period == as_of]
        codes = [r.status for r in current]
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
            url=url_for("reports:city" if is_city else "reports:unit", unit.code),
            plans=[
                {
                    "title": title_of(p),
                    "document_number": p.document_number,
                    "indicators": p.indicator_count,
                }
                for p in unit_plans
            ],
            indicators=(
                sum(p.indicator_count for p in unit_plans)
                if is_city
                else len({r.indicator_id for r in unit_rows})
            ),
            children=child_counts.get(unit.id, 0),
            as_of=as_of,
            counts=status_counts(counts),
            share_good=_share_good(codes),
            completeness_pct=(
                round(sum(completeness) / len(completeness) * 100) if completeness else None
            ),
            attention=sum(1 for c in codes if c in ATTENTION),
            next_deadlines=[{"date": d, "n": n} for d, n in sorted(upcoming.items())[:3]],
        )
        cards.append(card)
    return cards


# ---------------------------------------------------------------------------------------------
# City dashboard
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class GoalBlock:
    id: int
    code: str
    title: str
    lines: list[Line]


@dataclass(slots=True)
class PlanBlock:
    id: int
    code: str
    title: str
    document_number: str
    issuer: str
    issued_on: date | None
    goals: list[GoalBlock]


@dataclass(slots=True)
class CityDashboard:
    city: OrgUnit
    name: str
    as_of: str | None
    periods: list[str]
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


def city_dashboard(
    *,
    city: OrgUnit,
    plan_code: str = "",
    goal_id: int | None = None,
    status: str = "",
    as_of: str = "",
) -> CityDashboard | None:
    """Every indicator of the city's plans at the city, as of one period, with what needs
    attention and which child units drag it down. ``None`` when the unit owns no plan.

    Six queries: plans, goals, indicators, the city's progress rows (every period: sparklines),
    the child units, and their rows at the as-of period (status counts, missing reports and
    the units dragging each indicator that needs attention)."""
    plans = list(Plan.objects.filter(city=city).order_by("issued_on", "code"))
    if not plans:
        return None
    goals = list(Goal.objects.filter(plan__city=city).order_by("plan_id", "position", "id"))
    indicators = list(
        Indicator.objects.filter(plan__city=city).order_by("plan_id", "goal_id", "position", "id")
    )
    rows = list(
        ProgressRow.objects.filter(org_unit=city, indicator__plan__city=city).values_list(
            *_ROW_FIELDS, named=True
        )
    )
    periods, default_as_of = _periods_of(rows)
    as_of = _choose_as_of(as_of, periods, default_as_of)
    rows_by_ind = _rows_by_indicator(rows)
    lines = [build_line(ind, rows_by_ind.get(ind.id, []), as_of) for ind in indicators]

    plan_by_code = {p.code: p for p in plans}
    chosen_plan = plan_by_code.get(plan_code)
    goal_ids = {g.id for g in goals}
    chosen_goal = goal_id if goal_id in goal_ids else None
    scoped = [
        line
        for line in lines
        if (chosen_plan is None or line.plan_id == chosen_plan.id)
        and (chosen_goal is None or line.goal_id == chosen_goal)
    ]
    if status == "attention":
        shown = [line for line in scoped if line.status.code in ATTENTION]
    elif status:
        shown = [line for line in scoped if line.status.code == status]
    else:
        shown = scoped

    attention = sorted(
        (line for line in scoped if line.status.code in ATTENTION),
        key=lambda line: (line.attention_rank, line.deadline, line.code),
    )
    children, missing = _city_children(city, as_of, [ind.id for ind in indicators], attention)

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
                )
            )
    completeness = [line.completeness_pct for line in scoped if line.completeness_pct is not None]
    return CityDashboard(
        city=city,
        name=name_of(city),
        as_of=as_of,
        periods=periods,
        plans=plan_blocks,
        plan_options=[
            {"code": p.code, "label": f"{p.document_number or p.code} {title_of(p)}"} for p in plans
        ],
        goal_options=[
            {
                "id": g.id,
                "label": f"{g.code} {title_of(g)}",
                "plan": plan_by_code_of(plans, g.plan_id),
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
        },
        counts=_status_counts(scoped),
        total=len(scoped),
        shown=len(shown),
        share_good=_share_good(line.status.code for line in scoped),
        completeness_pct=round(sum(completeness) / len(completeness)) if completeness else None,
        attention=attention,
        missing_reports=missing,
        children=children,
        chart=_goal_chart(plans, goals, scoped),
        all_lines=lines,
    )


def plan_by_code_of(plans: Sequence[Plan], plan_id: int) -> str:
    return next((p.code for p in plans if p.id == plan_id), "")


def _city_children(city: OrgUnit, as_of: str | None, indicator_ids: list[int], attention):
    """The city's child units with their status counts at ``as_of``; those with missing reports
    (indicators without a value there), most missing first; and, on each indicator needing
    attention, the child units behind it (their own status off track, at risk or missed;
    lowest share of target first). Two queries: the children, then their rows at ``as_of`` —
    read once for all three, since those rows lie scattered across the table."""
    if not as_of:
        return [], []
    units = list(OrgUnit.objects.filter(parent=city).order_by("path"))
    if not units:
        return [], []
    wanted = set(indicator_ids)
    counters: dict[int, Counter] = defaultdict(Counter)
    behind: dict[int, list[tuple]] = defaultdict(list)
    bad = {code for code in ATTENTION if code != "no_data"}
    for unit_id, indicator_id, status, pct in ProgressRow.objects.filter(
        org_unit_id__in=[u.id for u in units], period=as_of
    ).values_list("org_unit_id", "indicator_id", "status", "percent_of_target"):
        if indicator_id not in wanted:
            continue  # a plan of the child unit itself, not one of the city's
        counters[unit_id][status] += 1
        if status in bad:
            behind[indicator_id].append((pct is None, pct, unit_id, status))
    children = []
    refs = {}
    for unit in units:
        counter = counters.get(unit.id)
        ref = refs[unit.id] = _unit_ref(unit.code, unit.name_zh, unit.name_en, unit.level)
        if counter is None:
            continue
        children.append(
            {
                **ref,
                "url": f"{ref['url']}?as_of={as_of}",
                "counts": status_counts(counter),
                "missing": counter["no_data"],
                "share_good": _share_good(counter.elements()),
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
        line.draggers = [
            {**refs[unit_id], "status": status_of(status), "pct": format_number(pct)}
            for _none, pct, unit_id, status in found[:3]
        ]
        line.draggers_more = max(len(found) - 3, 0)
    return children, missing


def _goal_chart(plans: Sequence[Plan], goals: Sequence[Goal], lines: Sequence[Line]) -> dict:
    """Status counts per goal for the stacked bar chart, and overall for the donut."""
    present = {line.goal_id for line in lines}
    shown_goals = [g for g in goals if g.id in present]
    multi_plan = len({g.plan_id for g in shown_goals}) > 1
    plan_short = {p.id: p.document_number or p.code for p in plans}
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
            series.append({"code": code, "name": st.label, "color": st.color, "data": data})
    return {
        "categories": categories,
        "series": series,
        "overall": [
            {"name": status_of(c).label, "value": overall[c], "color": status_of(c).color}
            for c in STATUS_ORDER
            if overall[c]
        ],
        "labels": {"count": _("指标数"), "overall": _("总体状态")},
    }


# ---------------------------------------------------------------------------------------------
# Org-unit page
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class UnitOverview:
    unit: OrgUnit
    name: str
    level_label: str
    breadcrumb: list[dict]
    is_plan_city: bool
    as_of: str | None
    periods: list[str]
    plans: list[PlanBlock]
    counts: list[dict]
    share_good: int | None
    children: list[dict]
    attention: list[Line]


def breadcrumb(unit: OrgUnit, user) -> list[dict]:
    """The unit's ancestors from the root, each linked when the user may read it. One query."""
    paths = scopes.scope_paths(user, scopes.READ)
    chain = OrgUnit.objects.filter(path__in=ancestor_paths(unit.path)).order_by("depth")
    return [
        {
            **_unit_ref(u.code, u.name_zh, u.name_en, u.level),
            "readable": scopes.path_in_scope(u.path, paths),
            "current": u.id == unit.id,
        }
        for u in chain
    ]


def unit_overview(*, unit: OrgUnit, user, as_of: str = "") -> UnitOverview:
    """All indicators with progress at ``unit`` (grouped by plan and goal) and its children
    with their status counts. Six queries whatever the unit's size."""
    rows = list(ProgressRow.objects.filter(org_unit=unit).values_list(*_ROW_FIELDS, named=True))
    periods, default_as_of = _periods_of(rows)
    as_of = _choose_as_of(as_of, periods, default_as_of)
    rows_by_ind = _rows_by_indicator(rows)
    indicators = list(
        Indicator.objects.filter(id__in=list(rows_by_ind))
        .select_related("plan", "goal")
        .order_by("plan__issued_on", "plan__code", "goal__position", "position", "id")
    )
    lines = [build_line(ind, rows_by_ind[ind.id], as_of, unit.code) for ind in indicators]
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
            )
        goal = goals.get(ind.goal_id)
        if goal is None:
            goal = goals[ind.goal_id] = GoalBlock(
                ind.goal_id, ind.goal.code, title_of(ind.goal), []
            )
            plan.goals.append(goal)
        goal.lines.append(line_of[ind.id])

    children_units = list(OrgUnit.objects.filter(parent=unit).order_by("path"))
    counted: dict[int, Counter] = defaultdict(Counter)
    if as_of and children_units:
        for item in (
            # Driven by the children's ids: the (org_unit, period) index, not a scan of every
            # unit's rows of each indicator.
            ProgressRow.objects.filter(org_unit_id__in=[c.id for c in children_units], period=as_of)
            .values("org_unit_id", "status")
            .annotate(n=Count("id"))
        ):
            counted[item["org_unit_id"]][item["status"]] += item["n"]
    children = []
    for child in children_units:
        counter = counted.get(child.id, Counter())
        ref = _unit_ref(child.code, child.name_zh, child.name_en, child.level)
        if as_of:
            ref["url"] += f"?as_of={as_of}"
        ref.update(
            counts=status_counts(counter),
            missing=counter["no_data"],
            share_good=_share_good(counter.elements()),
            bad=sum(n for c, n in counter.items() if c in ATTENTION and c != "no_data"),
            has_rows=bool(counter),
        )
        children.append(ref)
    attention = sorted(
        (line for line in lines if line.status.code in ATTENTION and line.status.code != "no_data"),
        key=lambda line: (line.attention_rank, line.deadline, line.code),
    )
    return UnitOverview(
        unit=unit,
        name=name_of(unit),
        level_label=level_label(unit.level),
        breadcrumb=breadcrumb(unit, user),
        is_plan_city=Plan.objects.filter(city=unit).exists(),
        as_of=as_of,
        periods=periods,
        plans=list(plans.values()),
        counts=_status_counts(lines),
        share_good=_share_good(line.status.code for line in lines),
        children=children,
        attention=attention,
    )


# ---------------------------------------------------------------------------------------------
# Indicator page
# ---------------------------------------------------------------------------------------------


def indicator_for_page(code: str) -> Indicator | None:
    """The indicator with everything its page shows about it. One query."""
    return (
        Indicator.objects.select_related(
            "plan",
            "plan__city",
            "goal",
            *Indicator.ELEMENT_FIELDS,
        )
        .filter(code=code)
        .first()
    )


def default_unit_for(user, city: OrgUnit) -> OrgUnit | None:
    """The unit an indicator page opens on: the plan's city when the user may read it, else the
    first of the user's own units inside that city."""
    if scopes.can(user, scopes.READ, city):
        return city
    return scopes.scope_roots(user).filter(path__startswith=city.path).order_by("path").first()


@dataclass(slots=True)
class IndicatorDetail:
    indicator: Indicator
    unit: OrgUnit
    unit_name: str
    name: str
    plan_title: str
    issuer: str
    goal_title: str
    kind_label: str
    comparator_sign: str
    target_display: str
    baseline_display: str
    elements: list[dict]
    breadcrumb: list[dict]
    as_of: str | None
    periods: list[str]
    line: Line
    history: list[dict]
    league: list[dict]
    league_kind: str
    trend_chart: dict
    league_chart: dict
    reports: list[dict]
    report_states: list[dict]
    changes: list[dict]
    keep: list[tuple[str, str]]


def _elements_of(indicator: Indicator) -> list[tuple[str, object]]:
    roles = [
        ("element", _("数据项")),
        ("numerator", _("分子")),
        ("denominator", _("分母")),
        ("condition_element", _("条件数据项")),
        ("condition_numerator", _("条件分子")),
        ("condition_denominator", _("条件分母")),
    ]
    found = []
    for attr, label in roles:
        element = getattr(indicator, attr)
        if element is not None:
            found.append((label, element))
    return found


def _rank_key(comparator: str):
    higher_first = comparator not in ("<=", "<")

    def key(item: dict):
        value = item["value"]
        if value is None:
            return (1, 0.0, item["code"])
        if item["pct"] is not None and comparator == "=":
            return (0, abs(item["pct"] - 100), item["code"])
        return (0, -value if higher_first else value, item["code"])

    return key


def indicator_detail(
    *, indicator: Indicator, unit: OrgUnit, user, as_of: str = ""
) -> IndicatorDetail:
    """Everything the indicator page shows at ``unit``: the trend, the league table of the
    unit's children, the source, and who reported what and when. Seven queries whatever the
    number of units and periods."""
    rows = list(
        ProgressRow.objects.filter(indicator=indicator, org_unit=unit)
        .order_by("period_end")
        .values_list(*_ROW_FIELDS, named=True)
    )
    periods, default_as_of = _periods_of(rows)
    as_of = _choose_as_of(as_of, periods, default_as_of)
    line = build_line(indicator, rows, as_of, unit.code)
    # The page looks back from the as-of period: later rows are the future from there.
    as_of_end = next((r.period_end for r in rows if r.period == as_of), None)
    if as_of_end is not None:
        rows = [r for r in rows if r.period_end <= as_of_end]
    history = [
        {
            "period": r.period,
            "value": _value_display(indicator, as_float(r.value)),
            "expected": _value_display(indicator, as_float(r.expected)),
            "pct": f"{format_number(r.percent_of_target)}%"
            if r.percent_of_target is not None
            else "—",
            "status": status_of(r.status),
            "forecast": _value_display(indicator, as_float(r.forecast)),
            "completeness": round(float(r.completeness) * 100)
            if r.completeness is not None
            else None,
            "current": r.period == as_of,
        }
        for r in rows
    ]
    league = []
    if as_of:
        children = ProgressRow.objects.filter(
            indicator=indicator, org_unit__parent=unit, period=as_of
        ).values(
            "value",
            "status",
            "percent_of_target",
            "share_of_total",
            "completeness",
            "target",
            "org_unit__code",
            "org_unit__name_zh",
            "org_unit__name_en",
            "org_unit__level",
        )
        for r in children:
            item = _unit_ref(
                r["org_unit__code"], r["org_unit__name_zh"], r["org_unit__name_en"],
                r["org_unit__level"],
            )  # fmt: skip
            item["url"] = (
                url_for("reports:indicator", indicator.code)
                + f"?unit={r['org_unit__code']}&as_of={as_of}"
            )
            item["unit_url"] = url_for("reports:unit", r["org_unit__code"])
            value = as_float(r["value"])
            item.update(
                value=value,
                value_display=_value_display(indicator, value),
                pct=as_float(r["percent_of_target"]),
                pct_display=f"{format_number(r['percent_of_target'])}%"
                if r["percent_of_target"] is not None
                else "—",
                share=f"{format_number(r['share_of_total'])}%"
                if r["share_of_total"] is not None
                else "",
                status=status_of(r["status"]),
                completeness=round(float(r["completeness"]) * 100)
                if r["completeness"] is not None
                else None,
                has_target=r["target"] is not None,
            )
            league.append(item)
        league.sort(key=_rank_key(indicator.comparator))
        rank = 0
        for item in league:
            if item["value"] is not None:
                rank += 1
                item["rank"] = rank
            else:
                item["rank"] = None
    league_kind = "share" if league and not any(i["has_target"] for i in league) else "status"

    elements = _elements_of(indicator)
    reports, states, changes = _reports_for(indicator, unit, as_of, elements)
    plan = indicator.plan
    baseline_display = "—"
    if indicator.baseline_value is not None and unit.id == plan.city_id:
        baseline_display = (
            f"{_value_display(indicator, as_float(indicator.baseline_value))}"
            f" ({indicator.baseline_period})"
        )
    else:
        first = next((r for r in rows if r.value is not None), None)
        if first is not None:
            baseline_display = (
                f"{_value_display(indicator, as_float(first.value))} ({first.period}, "
                + _("最早数值")
                + ")"
            )
    return IndicatorDetail(
        indicator=indicator,
        unit=unit,
        unit_name=name_of(unit),
        name=name_of(indicator),
        plan_title=title_of(plan),
        issuer=name_of(plan, "issuer_zh", "issuer_en"),
        goal_title=title_of(indicator.goal),
        kind_label=str(_KIND_LABELS.get(indicator.kind, indicator.kind)),
        comparator_sign=_COMPARATOR_SIGNS.get(indicator.comparator, indicator.comparator),
        target_display=_target_display(indicator),
        baseline_display=baseline_display,
        elements=[
            {"role": str(label), "code": e.code, "name": name_of(e), "unit": e.unit}
            for label, e in elements
        ],
        breadcrumb=breadcrumb(unit, user),
        as_of=as_of,
        periods=periods,
        line=line,
        history=history,
        league=league,
        league_kind=league_kind,
        trend_chart=_trend_chart(indicator, unit, rows, as_of),
        league_chart=_league_chart(indicator, league, league_kind),
        reports=reports,
        report_states=states,
        changes=changes,
        keep=[("unit", unit.code)],
    )


def _trend_chart(indicator: Indicator, unit: OrgUnit, rows: Sequence, as_of: str | None) -> dict:
    """Values by year, the target, the straight line from baseline to target and the forecast
    to the deadline, on one category axis of years."""
    by_year: dict[int, float | None] = {}
    for r in rows:
        p = parse_period(r.period)
        if p is not None and p.period_type == "year":
            by_year[p.year] = as_float(r.value)
    target = as_float(indicator.target)
    deadline_year = indicator.deadline.year
    baseline: tuple[int, float] | None = None
    if indicator.baseline_value is not None and unit.id == indicator.plan.city_id:
        p = parse_period(indicator.baseline_period)
        if p is not None:
            baseline = (p.year, float(indicator.baseline_value))
    if baseline is None:
        first = next(((y, v) for y, v in sorted(by_year.items()) if v is not None), None)
        baseline = first
    years = set(by_year) | {deadline_year}
    if baseline:
        years.add(baseline[0])
    if not by_year:
        years = {deadline_year} | ({baseline[0]} if baseline else set())
    span = list(range(min(years), max(years) + 1))
    values = [by_year.get(y) for y in span]
    trajectory: list[float | None] = [None] * len(span)
    if baseline and target is not None and baseline[0] < deadline_year:
        trajectory[span.index(baseline[0])] = baseline[1]
        trajectory[span.index(deadline_year)] = target
    forecast_line: list[float | None] = [None] * len(span)
    as_of_p = parse_period(as_of)
    last = None
    for r in rows:
        p = parse_period(r.period)
        if p is None or p.period_type != "year" or r.value is None:
            continue
        if as_of_p is not None and p.year > as_of_p.year:
            continue
        last = (p.year, float(r.value), as_float(r.forecast))
    if last and last[2] is not None and last[0] < deadline_year:
        forecast_line[span.index(last[0])] = last[1]
        forecast_line[span.index(deadline_year)] = last[2]
    return {
        "categories": [str(y) for y in span],
        "values": values,
        "target": target if indicator.kind != "growth" or target is not None else None,
        "trajectory": trajectory,
        "forecast": forecast_line,
        "deadline": str(deadline_year),
        "as_of": as_of,
        "unit": indicator.unit,
        "labels": {
            "values": _("实际值"),
            "target": _("目标"),
            "trajectory": _("目标轨迹"),
            "forecast": _("预测"),
            "deadline": _("期限"),
        },
    }


def _league_chart(indicator: Indicator, league: list[dict], league_kind: str) -> dict:
    ranked = [item for item in league if item["value"] is not None]
    return {
        "names": [item["name"] for item in ranked],
        "values": [item["value"] for item in ranked],
        "colors": [item["status"].color for item in ranked],
        "statuses": [item["status"].label for item in ranked],
        "target": as_float(indicator.target) if league_kind == "status" else None,
        "unit": indicator.unit,
        "labels": {"target": _("目标"), "value": _("数值")},
    }


def _period_bounds(as_of: str | None) -> tuple[date, date] | None:
    p = parse_period(as_of)
    return (p.start, p.end) if p else None


def _reports_for(indicator: Indicator, unit: OrgUnit, as_of: str | None, elements):
    """Who reported the indicator's figures in the unit's subtree for the as-of period, and
    when: the latest values, their count by review state and the latest changes. Three
    queries."""
    bounds = _period_bounds(as_of)
    element_ids = [e.id for _label, e in elements]
    if not bounds or not element_ids:
        return [], [], []
    start, end = bounds
    values = DataValue.objects.filter(
        element_id__in=element_ids,
        org_unit__path__startswith=unit.path,
        period_end__gte=start,
        period_end__lte=end,
    )
    state_labels = dict(DataValue.STATE_CHOICES)
    source_labels = dict(DataValue.SOURCE_CHOICES)
    states = [
        {"state": s["state"], "label": str(state_labels.get(s["state"], s["state"])), "n": s["n"]}
        for s in values.values("state").annotate(n=Count("id")).order_by("state")
    ]
    latest = values.order_by("-updated_at", "-id").values(
        "period",
        "value",
        "state",
        "source",
        "updated_at",
        "reviewed_at",
        "element__code",
        "element__name_zh",
        "element__name_en",
        "org_unit__code",
        "org_unit__name_zh",
        "org_unit__name_en",
        "updated_by__username",
        "reviewed_by__username",
    )[:30]
    reports = [
        {
            "unit": _unit_ref(v["org_unit__code"], v["org_unit__name_zh"], v["org_unit__name_en"]),
            "element": name_of(
                {"name_zh": v["element__name_zh"], "name_en": v["element__name_en"]}
            ),
            "element_code": v["element__code"],
            "period": v["period"],
            "value": format_number(v["value"]),
            "state": v["state"],
            "state_label": str(state_labels.get(v["state"], v["state"])),
            "source": str(source_labels.get(v["source"], v["source"])),
            "by": v["updated_by__username"] or "—",
            "at": v["updated_at"],
            "reviewed_by": v["reviewed_by__username"] or "",
            "reviewed_at": v["reviewed_at"],
        }
        for v in latest
    ]
    codes = [e.code for _label, e in elements]
    subtree_codes = OrgUnit.objects.filter(path__startswith=unit.path).values("code")
    action_labels = dict(DataValueChange.ACTION_CHOICES)
    year_prefix = str(parse_period(as_of).year)  # type: ignore[union-attr]
    changes = [
        {
            "action": str(action_labels.get(c["action"], c["action"])),
            "element_code": c["element_code"],
            "org_unit_code": c["org_unit_code"],
            "period": c["period"],
            "old": format_number(c["old_value"]) if c["old_value"] is not None else "",
            "new": format_number(c["new_value"]) if c["new_value"] is not None else "",
            "by": c["actor__username"] or "—",
            "at": c["at"],
            "comment": c["comment"],
        }
        for c in DataValueChange.objects.filter(
            element_code__in=codes,
            org_unit_code__in=subtree_codes,
            period__startswith=year_prefix,
        )
        .order_by("-at", "-id")
        .values(
            "action",
            "element_code",
            "org_unit_code",
            "period",
            "old_value",
            "new_value",
            "actor__username",
            "at",
            "comment",
        )[:20]
    ]
    return reports, states, changes


# ---------------------------------------------------------------------------------------------
# Cross-city comparison
# ---------------------------------------------------------------------------------------------


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
    each city against its own target. Two queries after the scope."""
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
            ).values_list(*_ROW_FIELDS, named=True)
        )
        if ids
        else []
    )
    all_periods = sorted({r.period for r in rows}, key=period_sort_key)
    chosen = as_of if as_of in all_periods else ""
    rows_by_ind = _rows_by_indicator(rows)
    result = []
    for key, members in alike.items():
        cells = []
        for ind in members:
            series = rows_by_ind.get(ind.id, [])
            if chosen:
                pick = next((r for r in series if r.period == chosen), None)
            else:
                pick = next((r for r in reversed(series) if r.value is not None), None)
            line = build_line(ind, series, pick.period if pick else None, ind.plan.city.code)
            cells.append(
                {
                    "city": _unit_ref(
                        ind.plan.city.code, ind.plan.city.name_zh, ind.plan.city.name_en
                    ),
                    "city_url": url_for("reports:city", ind.plan.city.code),
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
                kind_label=str(_KIND_LABELS.get(first.kind, first.kind)),
                cells=cells,
                chart={
                    "names": _compare_names(cells),
                    "values": [
                        round(c["line"].pct, 1) if c["line"].pct is not None else None
                        for c in cells
                    ],
                    "colors": [c["line"].status.color for c in cells],
                    "statuses": [c["line"].status.label for c in cells],
                    "details": [
                        f"{c['line'].value_display} / {c['line'].target_display}" for c in cells
                    ],
                    "labels": {"pct": _("完成目标的百分比"), "target": _("目标")},
                },
            )
        )
    result.sort(key=lambda g: g.label)
    return Comparison(
        cities=[
            _unit_ref(c.code, c.name_zh, c.name_en, c.level)
            for c in sorted(cities.values(), key=lambda c: c.path)
        ],
        groups=result,
        periods=all_periods,
        as_of=chosen,
        single_city=len(cities) < 2,
    )


# ---------------------------------------------------------------------------------------------
# Report packs
# ---------------------------------------------------------------------------------------------


def pack_cities_for(user) -> list[dict]:
    """The plan-owning units whose packs the user may build: those inside their scope, each with
    the periods progress exists for. Two queries."""
    cities = list(
        scopes.filter_in_scope(
            OrgUnit.objects.filter(plans__isnull=False).distinct(), user, field=""
        ).order_by("path")
    )
    periods: dict[int, set[str]] = defaultdict(set)
    if cities:
        for unit_id, period in (
            ProgressRow.objects.filter(org_unit_id__in=[c.id for c in cities])
            .values_list("org_unit_id", "period")
            .distinct()
        ):
            periods[unit_id].add(period)
    return [
        {
            "unit": c,
            "code": c.code,
            "name": name_of(c),
            "periods": sorted(periods[c.id], key=period_sort_key, reverse=True),
        }
        for c in cities
    ]


def packs_for(user) -> QuerySet[ReportPack]:
    """The report packs of the cities in the user's scope, newest first."""
    return scopes.filter_in_scope(
        ReportPack.objects.select_related("city", "created_by"), user, field="city"
    ).order_by("-created_at", "-id")


def pack_for(user, pack_id: int) -> ReportPack | None:
    return packs_for(user).filter(pk=pack_id).first()


def city_indicators(*, city: OrgUnit) -> list[Indicator]:
    """The city's indicators with their plan and goal, for a pack's sources. One query."""
    return list(
        Indicator.objects.filter(plan__city=city)
        .select_related("plan", "goal")
        .order_by("plan__issued_on", "plan__code", "goal__position", "position", "id")
    )


def city_children_rows(*, city: OrgUnit, as_of: str | None) -> list[dict]:
    """Every indicator of the city's plans at each child unit, at ``as_of`` (for the workbook
    and the briefing's charts). One query."""
    if not as_of:
        return []
    return list(
        ProgressRow.objects.filter(org_unit__parent=city, period=as_of, indicator__plan__city=city)
        .values(
            "indicator_id",
            "indicator__code",
            "value",
            "target",
            "percent_of_target",
            "status",
            "share_of_total",
            "completeness",
            "org_unit__code",
            "org_unit__name_zh",
            "org_unit__name_en",
            "org_unit__level",
        )
        .order_by("indicator_id", "org_unit__path")
    )

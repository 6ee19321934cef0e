"""Reads shared by the leadership pages, report packs and exports: the progress row's columns,
the status vocabulary that decides what "needs attention" means, periods, and the packs.

The pages' view-models live in :mod:`reports.dashboards` (one module per page) and read through
here for everything more than one page needs; nothing here computes progress (the background
job stores it) or decides how anything looks (badges, colours, links and sparklines are in
``reports/templatetags/dashboard.py`` and the templates).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db.models import QuerySet

from core.periods import Period, PeriodError
from core.text import name_of
from districts import scopes
from districts.models import OrgUnit
from supervision import rules as supervision_rules
from supervision.models import ReportingSchedule
from supervision.selectors import today
from targets.models import Indicator

from .models import ProgressRow, ReportPack

PROGRESS_COLUMNS = (
    "period",
    "period_end",
    "value",
    "numerator",
    "denominator",
    "target",
    "comparator",
    "deadline",
    "expected",
    "status",
    "forecast",
    "completeness",
    "percent_of_target",
    "share_of_total",
    "ratio",
    "score",
    "reporting_units",
    "expected_units",
)
"""A progress row's computed columns, in the one order the pages and the API read them (the
API adds ``computed_at``; its CSV columns follow this order, so new columns go at the end).
``reporting_units`` of ``expected_units``: which children the figure rests on (both empty when
the unit reported the figure itself)."""
PROGRESS_EXPORT_COLUMNS = tuple(
    c for c in PROGRESS_COLUMNS[: PROGRESS_COLUMNS.index("completeness") + 1] if c != "period_end"
)
"""The columns ``export_progress`` prints after the indicator and unit codes (SPEC §4.4): the
row's figures and status, without the derived presentation columns."""

# ---------------------------------------------------------------------------------------------
# Status vocabulary: the order statuses are listed in, and which of them count as what
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


def needs_attention(status: str) -> bool:
    """The one definition of "needs attention" every page, card and pack counts by."""
    return status in ATTENTION


# ---------------------------------------------------------------------------------------------
# The as-of period: which period a page, a pack or an export shows when nobody chose one
# ---------------------------------------------------------------------------------------------


def asof_threshold() -> float:
    """Percent of approved completeness from which a period counts as complete enough before
    its reporting deadline (setting ``ASOF_COMPLETENESS_THRESHOLD``, default 80)."""
    return float(getattr(settings, "ASOF_COMPLETENESS_THRESHOLD", 80))


@dataclass(frozen=True, slots=True)
class PeriodState:
    period: str
    end: date
    completeness: int
    """The period's approved completeness at the unit, in percent: the mean over the unit's
    progress rows of that period of the share of children whose approved values are in."""
    deadline: date | None
    complete_enough: bool


@dataclass(frozen=True, slots=True)
class AsOf:
    """The period a page shows, why, and the newer period it can offer."""

    period: str | None
    completeness: int | None
    default: str | None
    """What the rule chose (the period shown unless the reader picked another)."""
    periods: list[str]
    in_progress: PeriodState | None
    """The newest period after the one shown that is not complete enough yet."""
    chosen_by_reader: bool = False


def active_schedules() -> list[ReportingSchedule]:
    """The active reporting schedules with what places them. One query."""
    return list(
        ReportingSchedule.objects.filter(is_active=True).select_related("root", "plan__city")
    )


def reporting_deadlines(
    unit: OrgUnit, schedules: list[ReportingSchedule] | None = None
) -> dict[str, list[supervision_rules.ScheduleRule]]:
    """The rules of the active schedules covering ``unit`` (or a unit below it), by period
    type. One query unless ``schedules`` (:func:`active_schedules`) are given."""
    found: dict[str, list[supervision_rules.ScheduleRule]] = defaultdict(list)
    for schedule in active_schedules() if schedules is None else schedules:
        root = schedule.root or (schedule.plan.city if schedule.plan_id else None)
        if root is None or unit.path.startswith(root.path) or root.path.startswith(unit.path):
            found[schedule.period_type].append(schedule.rule)
    return found


def _deadline(rules: dict, period: Period) -> date:
    """When ``period``'s reports are all due: the latest deadline of the schedules a page reads
    from (the default rule's when none covers the unit)."""
    covering = rules.get(period.period_type) or [
        supervision_rules.ScheduleRule(period_type=period.period_type)
    ]
    return max(supervision_rules.deadline_for(rule, period) for rule in covering)


def period_states(
    rows: Iterable,
    rules: dict[str, list[supervision_rules.ScheduleRule]],
    *,
    on: date | None = None,
) -> list[PeriodState]:
    """The periods of a unit's progress ``rows`` (anything with ``indicator_id``, ``period``,
    ``period_end`` and ``completeness``), oldest first, each with its completeness and whether
    it is complete enough on ``on`` (today).

    A period's completeness is over every indicator the unit has rows for in any period: an
    indicator without a row in that period counts as 0%. Averaging only the rows present would
    call a year with one approved milestone "100% complete" and move every page to it.

    A period is complete enough when:

    - its approved completeness reaches the threshold, or
    - its reporting deadline has passed and it reaches half the threshold: late reporters do
      not hold the pages on last year for ever, but a handful of early values never make a
      period (a year long past its deadline that got three values is still a handful).
    """
    on = on or today()
    threshold = asof_threshold()
    ends: dict[str, date] = {}
    sums: dict[str, float] = defaultdict(float)
    indicators: set[int] = set()
    for row in rows:
        ends[row.period] = row.period_end
        sums[row.period] += float(row.completeness or 0)
        indicators.add(row.indicator_id)
    states = []
    for period in sorted(ends, key=lambda p: (ends[p], p)):
        pct = sums[period] / len(indicators) * 100 if indicators else 0.0
        parsed = parse_period(period)
        deadline = _deadline(rules, parsed) if parsed else None
        passed = deadline is not None and deadline < on
        states.append(
            PeriodState(
                period=period,
                end=ends[period],
                completeness=round(pct),
                deadline=deadline,
                complete_enough=pct >= threshold or (passed and pct >= threshold / 2),
            )
        )
    return states


def as_of_from_rows(
    rows: Iterable, rules: dict[str, list[supervision_rules.ScheduleRule]], requested: str = ""
) -> AsOf:
    """The as-of rule on rows already read: the latest complete-enough period (or, when none
    is, the latest with any approved value), unless the reader asked for one of the periods
    present."""
    states = period_states(rows, rules)
    if not states:
        return AsOf(None, None, None, [], None)
    ready = [s for s in states if s.complete_enough]
    # Nothing complete enough yet (a new installation): the latest period with anything in.
    started = [s for s in states if s.completeness > 0]
    default = (ready or started or states)[-1]
    later = [s for s in states if s.end > default.end and s.completeness > 0]
    by_period = {s.period: s for s in states}
    shown = by_period.get(requested) or default
    return AsOf(
        period=shown.period,
        completeness=shown.completeness,
        default=default.period,
        periods=[s.period for s in states],
        in_progress=later[-1] if later else None,
        chosen_by_reader=shown is not default,
    )


def unit_as_of(unit: OrgUnit, requested: str = "", *, indicator_ids=None) -> AsOf:
    """:func:`as_of_from_rows` reading the unit's rows (of ``indicator_ids`` when given). Two
    queries."""
    rows = ProgressRow.objects.filter(org_unit=unit)
    if indicator_ids is not None:
        rows = rows.filter(indicator_id__in=indicator_ids)
    return as_of_from_rows(
        rows.values_list("indicator_id", "period", "period_end", "completeness", named=True),
        reporting_deadlines(unit),
        requested,
    )


def default_as_of(unit: OrgUnit) -> str | None:
    """The period every page, pack, export and API shows for ``unit`` when none is asked for:
    the latest period complete enough (see :func:`period_states`). Two queries."""
    return unit_as_of(unit).default


# ---------------------------------------------------------------------------------------------
# Report packs
# ---------------------------------------------------------------------------------------------


def packs_for(user) -> QuerySet[ReportPack]:
    """The report packs of the cities in the user's scope, newest first."""
    return scopes.filter_in_scope(
        ReportPack.objects.select_related("city", "created_by"), user, field="city"
    ).order_by("-created_at", "-id")


def pack_for(user, pack_id: int) -> ReportPack | None:
    return packs_for(user).filter(pk=pack_id).first()


def pack_cities_for(user) -> list[dict]:
    """The plan-owning units whose packs the user may build: those inside their scope, each with
    the periods progress exists for and its as-of period by the one rule (the pack's default).
    Three queries."""
    cities = list(
        scopes.filter_in_scope(
            OrgUnit.objects.filter(plans__isnull=False).distinct(), user, field=""
        ).order_by("path")
    )
    rows: dict[int, list] = defaultdict(list)
    schedules = active_schedules() if cities else []
    if cities:
        for row in ProgressRow.objects.filter(org_unit_id__in=[c.id for c in cities]).values_list(
            "org_unit_id", "indicator_id", "period", "period_end", "completeness", named=True
        ):
            rows[row.org_unit_id].append(row)
    found = []
    for c in cities:
        as_of = as_of_from_rows(rows[c.id], reporting_deadlines(c, schedules))
        found.append(
            {
                "unit": c,
                "code": c.code,
                "name": name_of(c),
                "periods": list(reversed(as_of.periods)),
                "default": as_of.default or "",
                "in_progress": as_of.in_progress,
            }
        )
    return found


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

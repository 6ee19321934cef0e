"""Reads shared by the leadership pages, report packs and exports: the progress row's columns,
the status vocabulary that decides what "needs attention" means, periods, and the packs.

The pages' view-models live in :mod:`reports.dashboards` (one module per page) and read through
here for everything more than one page needs; nothing here computes progress (the background
job stores it) or decides how anything looks (badges, colours, links and sparklines are in
``reports/templatetags/dashboard.py`` and the templates).
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import QuerySet

from core.periods import Period, PeriodError
from core.text import name_of
from districts import scopes
from districts.models import OrgUnit
from targets.models import Indicator

from .models import ProgressRow, ReportPack

PROGRESS_COLUMNS = (
    "period",
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
    "period_end",
    "percent_of_target",
    "share_of_total",
    "ratio",
    "score",
)
"""A progress row's computed columns, in the one order the pages, the export and the API read
them (the API adds ``computed_at``)."""
PROGRESS_EXPORT_COLUMNS = PROGRESS_COLUMNS[: PROGRESS_COLUMNS.index("completeness") + 1]
"""The columns ``export_progress`` prints after the indicator and unit codes: the row's figures
and status, without the derived presentation columns that follow ``completeness``."""

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

"""Dashboard summaries: what the city and unit pages show about a unit's children at one period,
precomputed by the progress job so a page reads one row by key, whatever the size of the tree.

The job calls :func:`refresh` inside the transaction that stores progress rows (full and
incremental runs alike), for the units whose picture the stored rows can move; the summary is
rebuilt from the stored rows themselves, so it is right whatever mix of runs wrote them. A page
calls :func:`summary_for` and, when it gets ``None`` (right after a migrate, before any run),
computes from the rows as before.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Count, Q

from districts.models import OrgUnit
from targets.models import Indicator

from .models import DashboardSummary, ProgressRow
from .selectors import ATTENTION

BAD = frozenset(code for code in ATTENTION if code != "no_data")
"""A child's own status that makes it one of the units "behind" an indicator."""
DRAGGERS = 3
"""How many children behind an indicator a page names (the others are counted)."""


def units_to_refresh(
    *, indicator_ids: Iterable[int], unit_ids: dict[str, int], only: Iterable[str] | None
) -> list[int]:
    """The units whose summaries a store can move: for an incremental run the changed units
    and their ancestors (``only``); for a full run every unit with children under the cities
    of the indicators' plans."""
    if only is not None:
        return sorted({unit_ids[c] for c in only if c in unit_ids})
    q = Q()
    for path in set(
        OrgUnit.objects.filter(plans__indicators__id__in=list(indicator_ids)).values_list(
            "path", flat=True
        )
    ):
        q |= Q(path__startswith=path)
    if not q:
        return []
    return sorted(
        set(
            OrgUnit.objects.filter(q, parent__isnull=False)
            .values_list("parent_id", flat=True)
            .distinct()
        )
    )


def refresh(*, unit_ids: Iterable[int], run=None) -> int:
    """Rebuild the summaries of these units for every period they or their children have rows
    in. Call inside the transaction that stored the rows. Returns the summaries written."""
    ids = sorted(set(unit_ids))
    if not ids:
        return 0
    data: dict[tuple[int, str], dict] = defaultdict(
        lambda: {"own": {}, "children": {}, "restating": {}, "behind": {}}
    )
    for unit_id, indicator_id, period, status, completeness in ProgressRow.objects.filter(
        org_unit_id__in=ids
    ).values_list("org_unit_id", "indicator_id", "period", "status", "completeness"):
        data[(unit_id, period)]["own"][str(indicator_id)] = [
            status,
            None if completeness is None else str(completeness),
        ]
    # The children by id, then their rows by the (org_unit, period) index: a join on the unit's
    # parent let PostgreSQL scan the whole table for an incremental run's four units.
    parent_of: dict[int, int] = {}
    code_of: dict[int, str] = {}
    for child_id, parent_id, code in OrgUnit.objects.filter(parent_id__in=ids).values_list(
        "id", "parent_id", "code"
    ):
        parent_of[child_id] = parent_id
        code_of[child_id] = code
    children = ProgressRow.objects.filter(org_unit_id__in=list(parent_of))
    city_of = dict(Indicator.objects.values_list("id", "plan__city_id"))
    restating = set(Indicator.objects.filter(same_as__isnull=False).values_list("id", flat=True))
    lowest: dict[tuple[int, str, int], list[tuple]] = defaultdict(list)
    for child_id, indicator_id, period, status, n in (
        children.values_list("org_unit_id", "indicator_id", "period", "status")
        .annotate(n=Count("id"))
        .order_by()
    ):
        parent_id = parent_of[child_id]
        summary = data[(parent_id, period)]
        by_city = summary["children"].setdefault(str(child_id), {})
        statuses = by_city.setdefault(str(city_of.get(indicator_id)), {})
        statuses[status] = statuses.get(status, 0) + n
        if indicator_id in restating:
            summary["restating"].setdefault(str(child_id), {})[str(indicator_id)] = status
    # The children behind each indicator: lowest share of target first, those without one
    # last, then by code (as the page ranked them); the page names three and counts the rest.
    for child_id, indicator_id, period, status, pct, value in children.filter(
        status__in=BAD
    ).values_list("org_unit_id", "indicator_id", "period", "status", "percent_of_target", "value"):
        lowest[(parent_of[child_id], period, indicator_id)].append(
            (pct is None, pct or 0, code_of[child_id], child_id, status, pct, value)
        )
    for (parent_id, period, indicator_id), found in lowest.items():
        found.sort(key=lambda t: t[:3])
        data[(parent_id, period)]["behind"][str(indicator_id)] = [
            len(found),
            [
                [child_id, status, _text(pct), _text(value)]
                for _n, _p, _c, child_id, status, pct, value in found[:DRAGGERS]
            ],
        ]
    DashboardSummary.objects.filter(org_unit_id__in=ids).delete()
    DashboardSummary.objects.bulk_create(
        (
            DashboardSummary(org_unit_id=unit_id, period=period, data=summary, run=run)
            for (unit_id, period), summary in data.items()
        ),
        batch_size=500,
    )
    return len(data)


def _text(number: Decimal | None) -> str | None:
    return None if number is None else str(number)


def summary_for(unit_id: int, period: str | None) -> dict | None:
    """The stored summary of a unit at a period, or ``None`` when there is none yet."""
    if not period:
        return None
    return (
        DashboardSummary.objects.filter(org_unit_id=unit_id, period=period)
        .values_list("data", flat=True)
        .first()
    )


def child_counts(
    summary: dict, *, plan_city_id: int | None = None, hidden: Iterable[int] = ()
) -> dict[int, dict[str, int]]:
    """Each child's status counts from a summary: over the indicators of one city's plans (or
    all of them), less the hidden restated indicators."""
    hidden_keys = {str(i) for i in hidden}
    out: dict[int, dict[str, int]] = {}
    for child, by_city in summary.get("children", {}).items():
        counts: dict[str, int] = defaultdict(int)
        for city, statuses in by_city.items():
            if plan_city_id is None or city == str(plan_city_id):
                for status, n in statuses.items():
                    counts[status] += n
        for indicator, status in summary.get("restating", {}).get(child, {}).items():
            if indicator in hidden_keys and counts.get(status):
                counts[status] -= 1
        counts = {s: n for s, n in counts.items() if n}
        if counts:
            out[int(child)] = counts
    return out


def behind(summary: dict, indicator_id: int) -> tuple[int, list[tuple]]:
    """How many children are behind an indicator, and the lowest three as (unit id, status,
    percent of target, value)."""
    total, items = summary.get("behind", {}).get(str(indicator_id), [0, []])
    return total, [
        (child, status, None if pct is None else Decimal(pct), None if v is None else Decimal(v))
        for child, status, pct, v in items
    ]

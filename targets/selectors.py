"""Reads of the catalog."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Indicator, Plan

CATALOG_COLUMNS = [
    "plan",
    "plan_title_zh",
    "city",
    "document_number",
    "goal",
    "goal_title_zh",
    "indicator",
    "name_zh",
    "name_en",
    "kind",
    "comparator",
    "target",
    "unit",
    "deadline",
    "baseline_value",
    "baseline_period",
    "elements",
    "same_as",
    "quote",
]


def plans_with_indicators() -> QuerySet[Plan]:
    return Plan.objects.select_related("city").prefetch_related("goals__indicators")


def indicators_for_catalog() -> QuerySet[Indicator]:
    return Indicator.objects.select_related(
        "plan__city",
        "goal",
        *Indicator.ELEMENT_FIELDS,
        "same_as",
    ).order_by("plan__code", "goal__position", "position")


def indicator_element_codes(indicator: Indicator) -> list[str]:
    """The data elements an indicator is computed from, in a stable order."""
    refs = (getattr(indicator, field) for field in Indicator.ELEMENT_FIELDS)
    return [e.code for e in refs if e is not None]


def catalog_rows() -> list[dict]:
    """Every indicator with its plan, goal, target, deadline, kind and quote (export_catalog)."""
    rows = []
    for i in indicators_for_catalog():
        rows.append(
            {
                "plan": i.plan.code,
                "plan_title_zh": i.plan.title_zh,
                "city": i.plan.city.code,
                "document_number": i.plan.document_number,
                "goal": i.goal.code,
                "goal_title_zh": i.goal.title_zh,
                "indicator": i.code,
                "name_zh": i.name_zh,
                "name_en": i.name_en,
                "kind": i.kind,
                "comparator": i.comparator,
                "target": _plain(i.target),
                "unit": i.unit,
                "deadline": i.deadline.isoformat(),
                "baseline_value": _plain(i.baseline_value),
                "baseline_period": i.baseline_period or None,
                "elements": indicator_element_codes(i),
                "same_as": i.same_as.code if i.same_as else None,
                "quote": i.quote,
            }
        )
    return rows


def _plain(number):
    """A Decimal as the shortest exact JSON number (12, 0.5), or None."""
    if number is None:
        return None
    normal = number.normalize()
    return int(normal) if normal == normal.to_integral_value() else float(normal)

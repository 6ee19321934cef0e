"""Shared factories for catalog rows the tests need: the few data elements most tests use,
with the attributes the catalog gives them, and plans, goals and indicators with sensible
defaults. Keyword arguments override any field; Django is imported lazily so the pure tests
still run with ``-p no:django``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

# The well-known elements, as targets/catalog/elements.yaml declares them (level left out:
# give it where the test's tree needs it).
ELEMENTS: dict[str, dict] = {
    "population.resident": dict(
        name_zh="常住人口", name_en="Resident population", unit="persons",
        value_type="integer", period_type="year", aggregation="sum", temporal="last",
    ),
    "volunteers.registered": dict(
        name_zh="注册志愿者人数", name_en="Registered volunteers", unit="persons",
        value_type="integer", period_type="year", aggregation="sum", temporal="last",
    ),
    "services.online_rate": dict(
        name_zh="网上办理率", name_en="Share handled online", unit="%", value_type="percent",
        period_type="month", aggregation="average", temporal="last",
    ),
    "services.online_items": dict(
        name_zh="网上办理事项数", name_en="Items online", unit="items", value_type="integer",
        period_type="year", aggregation="sum", temporal="last",
    ),
    "spending.balance": dict(
        name_zh="收支结余", name_en="Balance", unit="万元", value_type="number",
        period_type="year", aggregation="sum", temporal="last",
    ),
}  # fmt: skip

_COUNT = dict(unit="items", value_type="integer", period_type="year", aggregation="sum",
              temporal="last")  # fmt: skip


def element(code: str, **fields):
    """A data element: a well-known one with its catalog attributes, any other as a yearly
    count named after its code; ``fields`` override (e.g. ``level="town"``, ``not_above=pop``)."""
    from targets.models import DataElement

    values = {"name_zh": code, **ELEMENTS.get(code, _COUNT), **fields}
    return DataElement.objects.create(code=code, **values)


def plan(city, code: str, **fields):
    from targets.models import Plan

    values = {"title_zh": f"{city.name_zh}测试规划", **fields}
    return Plan.objects.create(code=code, city=city, **values)


def goal(of_plan, code: str = "1", **fields):
    from targets.models import Goal

    values = {"title_zh": "目标", **fields}
    return Goal.objects.create(plan=of_plan, code=code, **values)


def indicator(of_goal, code: str, **fields):
    """An indicator of ``of_goal``'s plan; a ``value`` kind ``>= 1`` by 2020 unless told."""
    from targets.models import Indicator

    values = {
        "name_zh": code,
        "kind": "value",
        "comparator": ">=",
        "target": Decimal(1),
        "deadline": date(2020, 12, 31),
        "quote": "原文",
        **fields,
    }
    return Indicator.objects.create(code=code, plan=of_goal.plan, goal=of_goal, **values)

"""What goes into a report pack: the city dashboard as of the pack's period, with every child
unit's row of every indicator (the workbook's and the briefing's data; the rendering is
:mod:`reports.packs`)."""

from __future__ import annotations

from collections import defaultdict

from django.utils import timezone

from core.text import name_of
from districts.models import OrgUnit
from reports import selectors

from .city import city_dashboard


def pack_content(*, city: OrgUnit, as_of: str) -> dict:
    """The dashboard of the city as of the period, with every child unit's row of every
    indicator. Read in the active language."""
    dashboard = city_dashboard(city=city, as_of=as_of)
    children = selectors.city_children_rows(city=city, as_of=dashboard.as_of if dashboard else None)
    by_indicator: dict[int, list[dict]] = defaultdict(list)
    for row in children:
        by_indicator[row["indicator_id"]].append(row)
    return {
        "city": city,
        "city_name": name_of(city),
        "dashboard": dashboard,
        "children": children,
        "children_by_indicator": by_indicator,
        "indicators": selectors.city_indicators(city=city) if dashboard else [],
        "generated_at": timezone.localtime(),
    }

"""Reads for pages: what a user sees, always through the scope rule."""

from __future__ import annotations

from django.db.models import Count

from districts import scopes
from districts.models import OrgUnit
from targets.models import Plan


def cities_for_home(user) -> list[dict]:
    """The cities (plan-owning units) the user may read, with their plans and indicator counts.

    A city is shown when it lies inside the user's scope or the user's scope lies inside it
    (a town official sees their city's plans: the catalog is public)."""
    paths = scopes.scope_paths(user, scopes.READ)
    plans = (
        Plan.objects.select_related("city")
        .annotate(indicator_count=Count("indicators"))
        .order_by("city__path", "issued_on", "code")
    )
    cities: dict[int, dict] = {}
    for plan in plans:
        city = plan.city
        related = paths is None or any(
            city.path.startswith(p) or p.startswith(city.path) for p in paths
        )
        if not related:
            continue
        entry = cities.setdefault(city.id, {"unit": city, "plans": [], "indicators": 0})
        entry["plans"].append(plan)
        entry["indicators"] += plan.indicator_count
    counts = dict(
        OrgUnit.objects.filter(parent_id__in=list(cities))
        .values("parent_id")
        .annotate(n=Count("id"))
        .values_list("parent_id", "n")
    )
    for city_id, entry in cities.items():
        entry["children"] = counts.get(city_id, 0)
    return list(cities.values())

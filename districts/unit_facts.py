"""Writes of what the portal knows about org units besides the tree: their groups (DHIS2-style
group sets, see :mod:`districts.groups`) and when they existed (opening and closing dates with
their source, predecessors)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import transaction

from .groups import STANDARD_GROUPS, default_groups
from .models import OrgUnit, OrgUnitGroup


@transaction.atomic
def orgunit_groups_ensure(*, codes: Iterable[str] = ()) -> dict[str, OrgUnitGroup]:
    """The standard groups, and any other group ``codes`` name (created empty, its code as its
    name until an administrator names it), by code. Idempotent."""
    out: dict[str, OrgUnitGroup] = {}
    for g in STANDARD_GROUPS:
        group, _created = OrgUnitGroup.objects.get_or_create(
            code=g.code,
            defaults={
                "name_zh": g.name_zh,
                "name_en": g.name_en,
                "group_set": g.group_set,
                "description": g.description,
            },
        )
        out[g.code] = group
    for code in set(codes) - set(out):
        out[code], _created = OrgUnitGroup.objects.get_or_create(
            code=code, defaults={"name_zh": code, "name_en": code}
        )
    return out


@transaction.atomic
def orgunit_groups_assign_defaults(*, units: Iterable[OrgUnit] | None = None) -> int:
    """Put units into the standard groups their level and name imply (a 社区 is an urban
    community, a 村 a rural village, a …镇 a town, a …街道 a subdistrict, a zone otherwise).
    Adds memberships only: one an administrator gave by hand is never taken away. Returns the
    number of memberships added."""
    groups = orgunit_groups_ensure()
    qs = OrgUnit.objects.all() if units is None else units
    Membership = OrgUnitGroup.units.through
    existing = set(Membership.objects.values_list("orgunitgroup_id", "orgunit_id"))
    new = []
    for unit_id, level, name_zh in (
        qs.values_list("id", "level", "name_zh")
        if hasattr(qs, "values_list")
        else ((u.id, u.level, u.name_zh) for u in qs)
    ):
        for code in default_groups(level, name_zh):
            key = (groups[code].id, unit_id)
            if key not in existing:
                existing.add(key)
                new.append(Membership(orgunitgroup_id=key[0], orgunit_id=unit_id))
    Membership.objects.bulk_create(new, batch_size=5000)
    return len(new)


@transaction.atomic
def orgunit_history_load(*, history: dict) -> int:
    """Opening and closing dates, their source and predecessors from
    ``districts/fixtures/orgunit-history.json``; units not in the portal are skipped. Returns
    the number of units changed. Idempotent."""
    changed = 0
    for entry in history.get("units", []):
        unit = OrgUnit.objects.filter(code=entry["code"]).first()
        if unit is None:
            continue
        fields = {
            "opened_on": _day(entry.get("opened_on")),
            "closed_on": _day(entry.get("closed_on")),
            "dates_source": entry.get("source", ""),
        }
        dirty = [k for k, v in fields.items() if getattr(unit, k) != v]
        for k in dirty:
            setattr(unit, k, fields[k])
        if dirty:
            unit.save(update_fields=dirty)
        predecessors = set(
            OrgUnit.objects.filter(code__in=entry.get("predecessors", [])).values_list(
                "id", flat=True
            )
        )
        if predecessors != set(unit.predecessors.values_list("id", flat=True)):
            unit.predecessors.set(predecessors)
            dirty.append("predecessors")
        changed += bool(dirty)
    return changed


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None

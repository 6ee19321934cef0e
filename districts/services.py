"""Writes to the org-unit tree and to roles."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from .models import OrgUnit, RoleAssignment
from .tabular import TabularError, order_orgunit_rows, parse_orgunit_file


class OrgUnitImportError(ValueError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class OrgUnitImportResult:
    created: int
    updated: int
    unchanged: int


def orgunits_import(*, data: bytes, filename: str = "") -> OrgUnitImportResult:
    """Create or update org units from a §4.2 file; all or nothing. Parents may come after
    their children in the file or already exist in the database."""
    try:
        rows, errors = parse_orgunit_file(data)
    except TabularError as exc:
        raise OrgUnitImportError([f"{filename}: {exc}"]) from exc
    if errors:
        raise OrgUnitImportError([f"{filename}: {e}" for e in errors])
    existing = {u.code: u for u in OrgUnit.objects.all()}
    ordered, problems = order_orgunit_rows(rows, set(existing))
    if problems:
        raise OrgUnitImportError([f"{filename}: {p}" for p in problems])
    return _write_orgunits(ordered, existing)


@transaction.atomic
def _write_orgunits(ordered, existing: dict[str, OrgUnit]) -> OrgUnitImportResult:
    created = updated = unchanged = 0
    moved: list[OrgUnit] = []
    for row in ordered:
        parent = existing.get(row.parent_code) if row.parent_code else None
        unit = existing.get(row.code)
        if unit is None:
            unit = OrgUnit(code=row.code)
            created += 1
        fields = {
            "name_zh": row.name_zh,
            "name_en": row.name_en or (unit.name_en if unit.pk else ""),
            "level": row.level,
            "parent_id": parent.id if parent else None,
        }
        dirty = [k for k, v in fields.items() if getattr(unit, k) != v]
        if unit.pk and not dirty:
            unchanged += 1
            continue
        if unit.pk:
            updated += 1
        for k in dirty:
            setattr(unit, k, fields[k])
        was_path = unit.path
        _set_path(unit, parent)
        unit.save()
        if was_path and was_path != unit.path:
            moved.append(unit)
        existing[unit.code] = unit
    for unit in moved:
        orgunit_rebuild_subtree_paths(root=unit)
    return OrgUnitImportResult(created, updated, unchanged)


def _set_path(unit: OrgUnit, parent: OrgUnit | None) -> None:
    unit.path = f"{parent.path if parent else ''}{unit.code}/"
    unit.depth = parent.depth + 1 if parent else 0


def orgunit_save(*, unit: OrgUnit) -> OrgUnit:
    """Save one unit, keeping its ``path`` (and its descendants' paths) consistent."""
    parent = OrgUnit.objects.get(pk=unit.parent_id) if unit.parent_id else None
    if parent and parent.path.startswith(f"{unit.path}") and unit.path:
        raise ValueError(f"{unit.code}: a unit cannot move under its own descendant")
    old_path = unit.path
    _set_path(unit, parent)
    with transaction.atomic():
        unit.save()
        if old_path and old_path != unit.path:
            orgunit_rebuild_subtree_paths(root=unit)
    return unit


def orgunit_rebuild_subtree_paths(*, root: OrgUnit) -> None:
    """Recompute paths below ``root`` after it moved."""
    frontier = [root]
    while frontier:
        children = list(OrgUnit.objects.filter(parent__in=frontier))
        by_id = {u.id: u for u in frontier}
        for child in children:
            _set_path(child, by_id[child.parent_id])
        OrgUnit.objects.bulk_update(children, ["path", "depth"])
        frontier = children


def role_grant(*, username: str, role: str, org_unit_code: str, create: bool = False):
    """Give ``username`` ``role`` on an org unit (its whole subtree); idempotent."""
    if role not in {r for r, _label in RoleAssignment.ROLE_CHOICES}:
        raise ValueError(f"unknown role “{role}”: use official, reviewer or leader")
    try:
        unit = OrgUnit.objects.get(code=org_unit_code)
    except OrgUnit.DoesNotExist:
        raise ValueError(f"org unit “{org_unit_code}” does not exist") from None
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        if not create:
            raise ValueError(f"user “{username}” does not exist (use --create)")
        user = User.objects.create_user(username=username)
    assignment, created = RoleAssignment.objects.get_or_create(user=user, role=role, org_unit=unit)
    return user, assignment, created


# The national root and provinces above the four cities, so that a leader role on a province
# or on the country is how cross-city comparison is granted (SPEC §5).
_ROOTS = [
    ("CN", "中国", "China", "country", None),
    ("440000", "广东省", "Guangdong", "province", "CN"),
    ("350000", "福建省", "Fujian", "province", "CN"),
]
_CITY_PROVINCE = {"442000": "440000", "441900": "440000", "440300": "440000", "350200": "350000"}
_KIND_LEVEL = {"town": "town", "subdistrict": "subdistrict", "district": "district"}


@transaction.atomic
def reference_orgunits_load(*, divisions: dict) -> OrgUnitImportResult:
    """Load the four cities and their real first-level units (official codes, names, and
    resident population with its year and source) from four-cities-divisions.json."""
    created = updated = unchanged = 0

    def upsert(code, parent, **fields) -> OrgUnit:
        nonlocal created, updated, unchanged
        unit = OrgUnit.objects.filter(code=code).first()
        if unit is None:
            unit, is_new = OrgUnit(code=code), True
        else:
            is_new = False
        fields["parent_id"] = parent.id if parent else None
        dirty = [k for k, v in fields.items() if getattr(unit, k) != v]
        if not is_new and not dirty:
            unchanged += 1
            return unit
        for k in dirty:
            setattr(unit, k, fields[k])
        orgunit_save(unit=unit)
        created += is_new
        updated += not is_new
        return unit

    roots: dict[str, OrgUnit] = {}
    for code, name_zh, name_en, level, parent in _ROOTS:
        roots[code] = upsert(code, roots.get(parent), name_zh=name_zh, name_en=name_en, level=level)
    for city in divisions["cities"]:
        city_unit = upsert(
            city["code"],
            roots[_CITY_PROVINCE[city["code"]]],
            name_zh=city["name_zh"],
            name_en=city["name_en"],
            level="city",
            population=city.get("population_2020"),
            population_year=2020 if city.get("population_2020") else None,
            population_source=city.get("source", ""),
        )
        kinds = [d["kind"] for d in city["divisions"] if d["kind"] in _KIND_LEVEL]
        # "other" units (development zones, new areas) sit at the tier of their siblings.
        sibling_level = "district" if "district" in kinds else "town"
        for d in city["divisions"]:
            upsert(
                d["code"],
                city_unit,
                name_zh=d["name_zh"],
                name_en=d["name_en"],
                level=_KIND_LEVEL.get(d["kind"], sibling_level),
                population=d.get("population"),
                population_year=d.get("year"),
                population_source=d.get("source", ""),
            )
    return OrgUnitImportResult(created, updated, unchanged)

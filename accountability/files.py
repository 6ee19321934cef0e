"""Validation of the accountability files, pure: departments files and assessment-scheme files
(SPEC §7). Documents in, normalised definitions or every problem out, each problem naming the
file, the path inside it and what is wrong (the plan files' format, :class:`PlanFileError`).

Departments file::

    city: "350200"
    departments:
      - {code: xm-mzj, name_zh: 厦门市民政局, name_en: Xiamen Civil Affairs Bureau,
         source: "（责任单位：市民政局、财政局……）"}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from targets.plan_schema import Known, PlanFileError, _Checker

__all__ = [
    "DEFAULT_SCORING",
    "STATUSES",
    "DepartmentDef",
    "DepartmentsFile",
    "PlanFileError",
    "SchemeDef",
    "SchemeItemDef",
    "check_departments_document",
    "check_scheme_document",
]

# The statuses a progress row may have that a scheme scores (SPEC §3; the cagr method's own
# statuses score as the scheme says, default zero).
STATUSES = (
    "achieved",
    "on_track",
    "at_risk",
    "off_track",
    "missed",
    "no_data",
    "not_assessable",
    "no_target",
    "substantial_progress",
    "moderate_progress",
    "limited_progress",
    "deterioration",
    "not_available",
)
# Issue 15's defaults: achieved and on track full marks, at risk half, the rest nothing.
DEFAULT_SCORING = {"achieved": 1, "on_track": 1, "at_risk": 0.5}
UNIT_LEVELS = ("district", "town", "subdistrict", "community", "village")


@dataclass
class DepartmentDef:
    code: str
    name_zh: str
    name_en: str = ""
    source: str = ""


@dataclass
class DepartmentsFile:
    city: str
    departments: list[DepartmentDef] = field(default_factory=list)


def check_departments_document(
    document: Any, filename: str, *, org_unit_codes: frozenset[str], taken: dict[str, str]
) -> DepartmentsFile:
    """``taken`` maps department codes already loaded to their city: a code is one department."""
    c = _Checker(Known())
    root = c.mapping(document, "(file)") if document is not None else None
    if document is None:
        c.problem("(file)", "is empty")
    if root is None:
        raise PlanFileError(filename, c.problems)
    c.unknown_keys(root, {"city", "departments"}, "(file)")
    city = c.text(root, "city", "(file)")
    if city and city not in org_unit_codes:
        c.problem("city", f"org unit “{city}” does not exist (import the org units first)")
    out = DepartmentsFile(city=city)
    seen: set[str] = set()
    items = c.sequence(root.get("departments"), "departments")
    if not items:
        c.problem("departments", "lists no department")
    for i, raw in enumerate(items):
        path = f"departments[{i}]"
        obj = c.mapping(raw, path)
        if obj is None:
            continue
        c.unknown_keys(obj, {"code", "name_zh", "name_en", "source"}, path)
        code = c.code(obj, "code", path)
        if code in seen:
            c.problem(f"{path}.code", f"“{code}” is declared twice in this file")
        elif code and taken.get(code, city) != city:
            c.problem(f"{path}.code", f"“{code}” is already a department of {taken[code]}")
        seen.add(code)
        out.departments.append(
            DepartmentDef(
                code=code,
                name_zh=c.text(obj, "name_zh", path),
                name_en=c.text(obj, "name_en", path, required=False),
                source=c.text(obj, "source", path, required=False),
            )
        )
    if c.problems:
        raise PlanFileError(filename, c.problems)
    return out


@dataclass
class SchemeItemDef:
    indicator: str
    points: Decimal
    veto: bool = False


@dataclass
class SchemeDef:
    code: str
    city: str
    period: str
    title_zh: str
    title_en: str = ""
    unit_level: str = ""
    unit_group: str = ""
    rank_by_group: bool = False
    scoring: dict[str, float] = field(default_factory=dict)
    items: list[SchemeItemDef] = field(default_factory=list)


def check_scheme_document(
    document: Any,
    filename: str,
    *,
    org_unit_codes: frozenset[str],
    indicator_cities: dict[str, str],
    group_codes: frozenset[str],
) -> SchemeDef:
    """One assessment-scheme file (SPEC §7). ``indicator_cities`` maps indicator codes to their
    plan's city: a scheme scores its own city's indicators."""
    c = _Checker(Known())
    root = c.mapping(document, "(file)") if document is not None else None
    if document is None:
        c.problem("(file)", "is empty")
    if root is None:
        raise PlanFileError(filename, c.problems)
    c.unknown_keys(root, {"scheme", "items"}, "(file)")
    obj = c.mapping(root.get("scheme"), "scheme") if "scheme" in root else None
    if obj is None:
        if "scheme" not in root:
            c.problem("scheme", "is required")
        raise PlanFileError(filename, c.problems)
    c.unknown_keys(
        obj,
        {"code", "city", "period", "title_zh", "title_en", "units", "rank_by_group", "scoring"},
        "scheme",
    )
    city = c.text(obj, "city", "scheme")
    if city and city not in org_unit_codes:
        c.problem("scheme.city", f"org unit “{city}” does not exist")
    scheme = SchemeDef(
        code=c.code(obj, "code", "scheme"),
        city=city,
        period=c.period(obj, "period", "scheme"),
        title_zh=c.text(obj, "title_zh", "scheme"),
        title_en=c.text(obj, "title_en", "scheme", required=False),
    )
    rank_by_group = obj.get("rank_by_group", False)
    if not isinstance(rank_by_group, bool):
        c.problem("scheme.rank_by_group", "must be true or false")
    scheme.rank_by_group = rank_by_group is True
    units = c.mapping(obj.get("units"), "scheme.units") if "units" in obj else None
    if "units" not in obj:
        c.problem("scheme.units", "is required ({level: town} or {group: …})")
    elif units is not None:
        c.unknown_keys(units, {"level", "group"}, "scheme.units")
        if len(units) != 1:
            c.problem("scheme.units", "needs exactly one of `level:` or `group:`")
        elif "level" in units:
            scheme.unit_level = c.choice(units, "level", "scheme.units", UNIT_LEVELS)
        elif "group" in units:
            group = c.code(units, "group", "scheme.units")
            if group and group not in group_codes:
                c.problem("scheme.units.group", f"unknown org-unit group “{group}”")
            scheme.unit_group = group
    scoring = dict(DEFAULT_SCORING)
    if "scoring" in obj:
        raw = c.mapping(obj["scoring"], "scheme.scoring")
        for status in raw or {}:
            where = f"scheme.scoring.{status}"
            if status not in STATUSES:
                c.problem(where, f"unknown status (known: {', '.join(STATUSES)})")
                continue
            number = c.number(raw, status, "scheme.scoring")
            if number is not None and not 0 <= number <= 1:
                c.problem(where, "must lie between 0 and 1")
            elif number is not None:
                scoring[status] = float(number)
    scheme.scoring = {s: float(scoring.get(s, 0)) for s in STATUSES}
    seen: dict[str, str] = {}
    items = c.sequence(root.get("items"), "items")
    if not items:
        c.problem("items", "a scheme needs at least one item")
    for i, raw in enumerate(items):
        path = f"items[{i}]"
        item = c.mapping(raw, path)
        if item is None:
            continue
        c.unknown_keys(item, {"indicator", "points", "veto"}, path)
        code = c.text(item, "indicator", path)
        if code and code not in indicator_cities:
            c.problem(f"{path}.indicator", f"unknown indicator “{code}”")
        elif code and city and indicator_cities[code] != city:
            c.problem(
                f"{path}.indicator",
                f"indicator “{code}” is a target of city {indicator_cities[code]}, not {city}",
            )
        if code in seen:
            c.problem(f"{path}.indicator", f"“{code}” is already scored at {seen[code]}")
        seen[code] = path
        points = c.number(item, "points", path)
        if points is not None and points < 0:
            c.problem(f"{path}.points", "must not be negative")
        veto = item.get("veto", False)
        if not isinstance(veto, bool):
            c.problem(f"{path}.veto", "must be true or false")
        scheme.items.append(
            SchemeItemDef(indicator=code, points=points or Decimal(0), veto=veto is True)
        )
    if c.problems:
        raise PlanFileError(filename, c.problems)
    return scheme

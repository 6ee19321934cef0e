"""Validation of plan YAML files (SPEC §4.1), pure: documents in, a normalised plan or every
problem out. Each problem names the path inside the file so the author can find it.

The caller passes what already exists (element codes, org-unit codes, indicator codes owned
by other plans) so the check needs no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings

from core.periods import Period, PeriodError
from districts.groups import STANDARD_GROUP_CODES

COMPARATORS = (">=", ">", "<=", "<", "=")
KINDS = ("value", "ratio", "coverage", "growth", "milestone")
VALUE_TYPES = ("number", "integer", "boolean", "percent")
PERIOD_TYPES = ("year", "quarter", "month")
AGGREGATIONS = ("sum", "average", "weighted_average", "none")
TEMPORALS = ("sum", "last")
REPORTING_LEVELS = ("city", "district", "town", "subdistrict", "community", "village", "grid")
COVERAGE_LEVELS = ("district", "town", "community", "grid")
METHODS = ("linear", "cagr")
PLAN_KINDS = ("policy", "implementation", "work_plan", "report", "proposal")  # SPEC §7
GROUPED_KINDS = ("coverage", "ratio")  # the indicator kinds an org-unit group may restrict
GROWTH_MODES = ("percent", "points")
_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


@dataclass
class ElementDef:
    code: str
    name_zh: str
    name_en: str
    unit: str
    value_type: str
    period_type: str
    aggregation: str
    temporal: str
    weight: str | None = None
    level: str = ""
    not_above: str | None = None


@dataclass
class IndicatorDef:
    code: str
    name_zh: str
    name_en: str
    kind: str
    comparator: str
    target: Decimal
    deadline: date
    unit: str
    quote: str
    element: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    factor: Decimal | None = None
    level: str = ""
    condition_element: str | None = None
    condition_numerator: str | None = None
    condition_denominator: str | None = None
    condition_factor: Decimal | None = None
    condition_comparator: str = ""
    condition_value: Decimal | None = None
    growth_mode: str = ""
    growth_from: str = ""
    baseline_value: Decimal | None = None
    baseline_period: str = ""
    method: str = ""
    limit: Decimal | None = None
    note: str = ""
    same_as: str | None = None
    group: str | None = None
    lead: str | None = None
    support: list[str] = field(default_factory=list)
    lead_note: str = ""


@dataclass
class GoalDef:
    code: str
    title_zh: str
    title_en: str
    indicators: list[IndicatorDef] = field(default_factory=list)
    lead: str | None = None
    support: list[str] = field(default_factory=list)
    lead_note: str = ""


@dataclass
class PlanDef:
    code: str
    city: str
    title_zh: str
    title_en: str = ""
    document_number: str = ""
    issuer_zh: str = ""
    issuer_en: str = ""
    issued_on: date | None = None
    source: str = ""
    kind: str = "policy"
    horizon: date | None = None
    method: str = "linear"
    at_risk_fraction: Decimal = Decimal("0.5")
    is_public: bool = False
    goals: list[GoalDef] = field(default_factory=list)


@dataclass
class PlanFile:
    """What one file declares: elements, and a plan unless it is a vocabulary-only file."""

    elements: list[ElementDef]
    plan: PlanDef | None


@dataclass(frozen=True)
class Known:
    """What exists outside the file being checked."""

    element_codes: frozenset[str] = frozenset()
    element_types: dict[str, str] = field(default_factory=dict)  # code -> value_type
    org_unit_codes: frozenset[str] = frozenset()
    # indicator code -> plan code, for indicators already loaded
    indicator_plans: dict[str, str] = field(default_factory=dict)
    # org-unit groups defined in the portal (the standard ones are always known)
    group_codes: frozenset[str] = frozenset()
    # responsible departments (责任单位): code -> its city's org-unit code
    department_cities: dict[str, str] = field(default_factory=dict)


class PlanFileError(ValueError):
    """Every problem in one file, each as ``path: problem``."""

    def __init__(self, filename: str, problems: list[str]):
        self.filename = filename
        self.problems = problems
        super().__init__("\n".join(f"{filename}: {p}" for p in problems))


class _NoAliasLoader(yaml.SafeLoader):
    """YAML without anchors and aliases: a plan file has no use for them, and a few lines of
    aliases nested in one another ("billion laughs") expand to billions of nodes."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None,
                None,
                f"YAML 别名（*{event.anchor}）不允许在计划文件中使用"
                f"（YAML aliases such as *{event.anchor} are not allowed in plan files）",
                event.start_mark,
            )
        return super().compose_node(parent, index)


def parse_plan_yaml(raw: bytes, filename: str, *, max_bytes: int) -> Any:
    """A plan file's document from its bytes: refused, naming the file and where, when it is
    larger than ``max_bytes``, not UTF-8, not YAML, or uses aliases."""
    if len(raw) > max_bytes:
        raise PlanFileError(
            filename,
            [
                f"(file): 文件过大，上限为 {max_bytes:,} 字节"
                f"（the file is too large: the limit is {max_bytes:,} bytes）"
            ],
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PlanFileError(filename, [f"(file): is not UTF-8 text ({exc.reason})"]) from exc
    try:
        return yaml.load(text, Loader=_NoAliasLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        problem = getattr(exc, "problem", None) or str(exc)
        raise PlanFileError(filename, [f"{where}: not valid YAML: {problem}"]) from exc


class _Checker:
    def __init__(self, known: Known):
        self.known = known
        self.problems: list[str] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    # -- scalar readers: each returns a value or None after recording the problem --

    def text(self, obj: dict, key: str, path: str, *, required: bool = True) -> str:
        value = obj.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.problem(f"{path}.{key}", "is required")
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.problem(f"{path}.{key}", f"must be text, not {type(value).__name__}")
            return ""
        return str(value).strip()

    def code(self, obj: dict, key: str, path: str, *, required: bool = True) -> str:
        value = self.text(obj, key, path, required=required)
        if value and not _CODE_RE.match(value):
            self.problem(
                f"{path}.{key}", f"“{value}” may hold only letters, digits, '.', '_' and '-'"
            )
        return value

    def choice(self, obj: dict, key: str, path: str, choices, *, required: bool = True) -> str:
        value = self.text(obj, key, path, required=required)
        if value and value not in choices:
            self.problem(f"{path}.{key}", f"“{value}” is not one of {', '.join(choices)}")
            return ""
        return value

    def number(self, obj: dict, key: str, path: str, *, required: bool = True) -> Decimal | None:
        value = obj.get(key)
        if value is None:
            if required:
                self.problem(f"{path}.{key}", "is required")
            return None
        if isinstance(value, bool):
            self.problem(f"{path}.{key}", "must be a number, not true/false")
            return None
        try:
            number = Decimal(str(value).strip().replace(",", ""))
        except InvalidOperation:
            self.problem(f"{path}.{key}", f"“{value}” is not a number")
            return None
        if not number.is_finite():
            self.problem(f"{path}.{key}", f"“{value}” is not a finite number")
            return None
        return number

    def day(self, obj: dict, key: str, path: str, *, required: bool = True) -> date | None:
        value = obj.get(key)
        if value is None:
            if required:
                self.problem(f"{path}.{key}", "is required")
            return None
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value).strip())
        except ValueError:
            self.problem(f"{path}.{key}", f"“{value}” is not a date (YYYY-MM-DD)")
            return None

    def period(self, obj: dict, key: str, path: str, *, required: bool = True) -> str:
        value = obj.get(key)
        if value is None:
            if required:
                self.problem(f"{path}.{key}", "is required")
            return ""
        try:
            return str(Period.parse(value))
        except PeriodError as exc:
            self.problem(f"{path}.{key}", str(exc))
            return ""

    def mapping(self, value: Any, path: str) -> dict | None:
        if not isinstance(value, dict):
            self.problem(path, f"must be a mapping, not {type(value).__name__}")
            return None
        return value

    def sequence(self, value: Any, path: str) -> list:
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(path, f"must be a list, not {type(value).__name__}")
            return []
        return value

    def unknown_keys(self, obj: dict, allowed: set[str], path: str) -> None:
        for key in obj:
            if key not in allowed:
                self.problem(
                    f"{path}.{key}", f"unknown key (allowed: {', '.join(sorted(allowed))})"
                )


_ELEMENT_KEYS = {
    "code",
    "name_zh",
    "name_en",
    "unit",
    "value_type",
    "period_type",
    "aggregation",
    "temporal",
    "weight",
    "level",
    "not_above",
}
_PLAN_KEYS = {
    "code",
    "city",
    "title_zh",
    "title_en",
    "document_number",
    "issuer_zh",
    "issuer_en",
    "issued_on",
    "source",
    "kind",
    "horizon",
    "method",
    "at_risk_fraction",
    "is_public",
}
# Who answers for a goal or an indicator (SPEC §7): lead (牵头) and support (配合) departments
# by code, or a note saying the document names none.
_RESPONSIBILITY_KEYS = {"lead", "support", "lead_note"}
_GOAL_KEYS = {"code", "title_zh", "title_en", "indicators", *_RESPONSIBILITY_KEYS}
_INDICATOR_KEYS = {
    "code",
    "name_zh",
    "name_en",
    "kind",
    "element",
    "numerator",
    "denominator",
    "factor",
    "level",
    "condition",
    "of",
    "mode",
    "from",
    "unit",
    "comparator",
    "target",
    "deadline",
    "baseline",
    "quote",
    "note",
    "method",
    "limit",
    "same_as",
    "group",
    # Drafts written by extract_targets: where in the source text the quote sits. Kept for the
    # reviewer; not stored.
    "source_span",
    *_RESPONSIBILITY_KEYS,
}


def check_plan_document(document: Any, filename: str, known: Known) -> PlanFile:
    """Validate one parsed YAML document; raise :class:`PlanFileError` with every problem."""
    c = _Checker(known)
    root = c.mapping(document, "(file)") if document is not None else None
    if document is None:
        c.problem("(file)", "is empty")
    if root is None:
        raise PlanFileError(filename, c.problems)
    # ``draft: true`` marks a file written by extract_targets; it loads like any other once
    # reviewed (the flag is informational).
    c.unknown_keys(root, {"plan", "data_elements", "goals", "draft"}, "(file)")
    if "draft" in root and not isinstance(root["draft"], bool):
        c.problem("(file).draft", "must be true or false")
    if "plan" not in root and "data_elements" not in root:
        c.problem("(file)", "needs a `plan:` block (or `data_elements:` for a vocabulary file)")

    elements = _check_elements(c, root.get("data_elements"))
    element_types = dict(known.element_types)
    element_types.update({e.code: e.value_type for e in elements})
    element_codes = set(known.element_codes) | {e.code for e in elements}
    for i, e in enumerate(elements):
        for ref, key in ((e.weight, "weight"), (e.not_above, "not_above")):
            if ref and ref not in element_codes:
                c.problem(f"data_elements[{i}].{key}", f"unknown data element “{ref}”")

    plan = None
    if "plan" in root:
        plan = _check_plan(c, root, element_codes, element_types)
    elif "goals" in root:
        c.problem("goals", "goals need a `plan:` block")
    if c.problems:
        raise PlanFileError(filename, c.problems)
    return PlanFile(elements=elements, plan=plan)


def _check_elements(c: _Checker, raw: Any) -> list[ElementDef]:
    out: list[ElementDef] = []
    seen: set[str] = set()
    for i, item in enumerate(c.sequence(raw, "data_elements")):
        path = f"data_elements[{i}]"
        obj = c.mapping(item, path)
        if obj is None:
            continue
        c.unknown_keys(obj, _ELEMENT_KEYS, path)
        code = c.code(obj, "code", path)
        if code in seen:
            c.problem(f"{path}.code", f"“{code}” is declared twice in this file")
        seen.add(code)
        aggregation = c.choice(obj, "aggregation", path, AGGREGATIONS)
        weight = c.text(obj, "weight", path, required=False) or None
        if aggregation == "weighted_average" and not weight:
            c.problem(f"{path}.weight", "is required for aggregation weighted_average")
        out.append(
            ElementDef(
                code=code,
                name_zh=c.text(obj, "name_zh", path),
                name_en=c.text(obj, "name_en", path, required=False),
                unit=c.text(obj, "unit", path, required=False),
                value_type=c.choice(obj, "value_type", path, VALUE_TYPES),
                period_type=c.choice(obj, "period_type", path, PERIOD_TYPES),
                aggregation=aggregation,
                temporal=c.choice(obj, "temporal", path, TEMPORALS),
                weight=weight,
                level=c.choice(obj, "level", path, REPORTING_LEVELS, required=False),
                not_above=c.text(obj, "not_above", path, required=False) or None,
            )
        )
    return out


def _check_plan(c: _Checker, root: dict, element_codes: set[str], element_types) -> PlanDef:
    obj = c.mapping(root["plan"], "plan") or {}
    c.unknown_keys(obj, _PLAN_KEYS, "plan")
    city = c.text(obj, "city", "plan")
    if city and city not in c.known.org_unit_codes:
        c.problem("plan.city", f"org unit “{city}” does not exist (import the org units first)")
    fraction = c.number(obj, "at_risk_fraction", "plan", required=False)
    if fraction is not None and not 0 <= fraction <= 1:
        c.problem("plan.at_risk_fraction", "must lie between 0 and 1")
    plan = PlanDef(
        code=c.code(obj, "code", "plan"),
        city=city,
        title_zh=c.text(obj, "title_zh", "plan"),
        title_en=c.text(obj, "title_en", "plan", required=False),
        document_number=c.text(obj, "document_number", "plan", required=False),
        issuer_zh=c.text(obj, "issuer_zh", "plan", required=False),
        issuer_en=c.text(obj, "issuer_en", "plan", required=False),
        issued_on=c.day(obj, "issued_on", "plan", required=False),
        source=c.text(obj, "source", "plan", required=False),
        kind=c.choice(obj, "kind", "plan", PLAN_KINDS, required=False) or "policy",
        horizon=c.day(obj, "horizon", "plan", required=False),
        method=c.choice(obj, "method", "plan", METHODS, required=False) or "linear",
        at_risk_fraction=fraction if fraction is not None else Decimal("0.5"),
        is_public=bool(obj.get("is_public", False)),
    )
    goal_codes: set[str] = set()
    indicator_codes: dict[str, str] = {}
    goals_raw = c.sequence(root.get("goals"), "goals")
    if not goals_raw:
        c.problem("goals", "a plan needs at least one goal")
    for gi, graw in enumerate(goals_raw):
        gpath = f"goals[{gi}]"
        gobj = c.mapping(graw, gpath)
        if gobj is None:
            continue
        c.unknown_keys(gobj, _GOAL_KEYS, gpath)
        gcode = c.text(gobj, "code", gpath)
        if gcode in goal_codes:
            c.problem(f"{gpath}.code", f"goal “{gcode}” appears twice in this plan")
        goal_codes.add(gcode)
        goal = GoalDef(
            code=gcode,
            title_zh=c.text(gobj, "title_zh", gpath),
            title_en=c.text(gobj, "title_en", gpath, required=False),
        )
        goal.lead, goal.support, goal.lead_note = _check_responsibility(c, gobj, gpath, plan)
        for ii, iraw in enumerate(c.sequence(gobj.get("indicators"), f"{gpath}.indicators")):
            ipath = f"{gpath}.indicators[{ii}]"
            iobj = c.mapping(iraw, ipath)
            if iobj is None:
                continue
            ind = _check_indicator(c, iobj, ipath, plan, element_codes, element_types)
            if ind.code in indicator_codes:
                c.problem(
                    f"{ipath}.code",
                    f"indicator “{ind.code}” already appears at {indicator_codes[ind.code]}",
                )
            owner = c.known.indicator_plans.get(ind.code)
            if ind.code and owner and owner != plan.code:
                c.problem(f"{ipath}.code", f"indicator “{ind.code}” belongs to plan “{owner}”")
            indicator_codes[ind.code] = ipath
            goal.indicators.append(ind)
        plan.goals.append(goal)
    for goal in plan.goals:
        for ind in goal.indicators:
            if ind.same_as and not (
                ind.same_as in indicator_codes or ind.same_as in c.known.indicator_plans
            ):
                c.problem(
                    f"{indicator_codes[ind.code]}.same_as", f"unknown indicator “{ind.same_as}”"
                )
            if ind.same_as == ind.code:
                c.problem(f"{indicator_codes[ind.code]}.same_as", "may not name itself")
    return plan


def _check_indicator(c: _Checker, obj: dict, path: str, plan: PlanDef, element_codes, types):
    c.unknown_keys(obj, _INDICATOR_KEYS, path)

    def element_ref(container: dict, key: str, cpath: str, *, required: bool = True) -> str | None:
        code = c.text(container, key, cpath, required=required)
        if code and code not in element_codes:
            c.problem(f"{cpath}.{key}", f"unknown data element “{code}”")
            return None
        return code or None

    def factor(container: dict, key: str, cpath: str) -> Decimal | None:
        value = c.number(container, key, cpath)
        if value is not None and value <= 0:
            c.problem(f"{cpath}.{key}", "must be greater than 0")
        return value

    span = obj.get("source_span")
    if span is not None and not (
        isinstance(span, list)
        and len(span) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in span)
        and span[0] <= span[1]
    ):
        c.problem(f"{path}.source_span", "must be [start, end], two character offsets")
    kind = c.choice(obj, "kind", path, KINDS)
    deadline = c.day(obj, "deadline", path, required=plan.horizon is None) or plan.horizon
    ind = IndicatorDef(
        code=c.code(obj, "code", path),
        name_zh=c.text(obj, "name_zh", path),
        name_en=c.text(obj, "name_en", path, required=False),
        kind=kind,
        comparator=c.choice(obj, "comparator", path, COMPARATORS),
        target=c.number(obj, "target", path),
        deadline=deadline,
        unit=c.text(obj, "unit", path, required=False),
        quote=c.text(obj, "quote", path),
        method=c.choice(obj, "method", path, METHODS, required=False),
        limit=c.number(obj, "limit", path, required=False),
        note=c.text(obj, "note", path, required=False),
        same_as=c.text(obj, "same_as", path, required=False) or None,
    )
    if kind in ("value", "milestone"):
        ind.element = element_ref(obj, "element", path)
    if kind == "milestone":
        if ind.element and types.get(ind.element) != "boolean":
            c.problem(
                f"{path}.element", f"a milestone needs a boolean element, “{ind.element}” is not"
            )
        if ind.comparator and ind.comparator != "=":
            c.problem(f"{path}.comparator", 'a milestone uses comparator "="')
        if ind.target is not None and ind.target != 1:
            c.problem(f"{path}.target", "a milestone's target is 1 (done)")
    if kind == "ratio":
        ind.numerator = element_ref(obj, "numerator", path)
        ind.denominator = element_ref(obj, "denominator", path)
        ind.factor = factor(obj, "factor", path)
    if kind == "coverage":
        ind.level = c.choice(obj, "level", path, COVERAGE_LEVELS)
        cond = c.mapping(obj.get("condition"), f"{path}.condition") if "condition" in obj else None
        if "condition" not in obj:
            c.problem(f"{path}.condition", "is required for a coverage indicator")
        if cond is not None:
            cpath = f"{path}.condition"
            c.unknown_keys(
                cond,
                {"element", "numerator", "denominator", "factor", "comparator", "value"},
                cpath,
            )
            ind.condition_comparator = c.choice(cond, "comparator", cpath, COMPARATORS)
            ind.condition_value = c.number(cond, "value", cpath)
            if "element" in cond:
                ind.condition_element = element_ref(cond, "element", cpath)
            elif "numerator" in cond or "denominator" in cond:
                ind.condition_numerator = element_ref(cond, "numerator", cpath)
                ind.condition_denominator = element_ref(cond, "denominator", cpath)
                ind.condition_factor = (
                    factor(cond, "factor", cpath) if "factor" in cond else Decimal(1)
                )
            else:
                c.problem(cpath, "needs `element:` or `numerator:` and `denominator:`")
    if kind == "growth":
        ind.growth_mode = c.choice(obj, "mode", path, GROWTH_MODES)
        ind.growth_from = c.period(obj, "from", path)
        if ind.growth_from and not ind.growth_from.isdigit():
            c.problem(f"{path}.from", 'the base period of a growth is a year, e.g. "2011"')
        of = obj.get("of")
        if of is None:
            c.problem(f"{path}.of", "is required for a growth indicator")
        elif isinstance(of, dict):
            opath = f"{path}.of"
            c.unknown_keys(of, {"numerator", "denominator", "factor"}, opath)
            ind.numerator = element_ref(of, "numerator", opath)
            ind.denominator = element_ref(of, "denominator", opath)
            ind.factor = factor(of, "factor", opath) if "factor" in of else Decimal(1)
        elif isinstance(of, str):
            ind.element = element_ref(obj, "of", path)
        else:
            c.problem(f"{path}.of", "must be an element code or {numerator, denominator, factor}")
    if "group" in obj:
        group = c.code(obj, "group", path, required=False)
        if group and kind and kind not in GROUPED_KINDS:
            c.problem(
                f"{path}.group",
                f"only a {' or '.join(GROUPED_KINDS)} indicator can be restricted to a group",
            )
        elif group and group not in STANDARD_GROUP_CODES | c.known.group_codes:
            known = ", ".join(sorted(STANDARD_GROUP_CODES | c.known.group_codes))
            c.problem(f"{path}.group", f"unknown org-unit group “{group}” (known: {known})")
        else:
            ind.group = group or None
    ind.lead, ind.support, ind.lead_note = _check_responsibility(c, obj, path, plan)
    if "baseline" in obj:
        base = c.mapping(obj["baseline"], f"{path}.baseline")
        if base is not None:
            c.unknown_keys(base, {"value", "period"}, f"{path}.baseline")
            ind.baseline_value = c.number(base, "value", f"{path}.baseline")
            ind.baseline_period = c.period(base, "period", f"{path}.baseline")
            if deadline and ind.baseline_period:
                if Period.parse(ind.baseline_period).end >= deadline:
                    c.problem(f"{path}.baseline.period", "must end before the deadline")
    return ind


def _check_responsibility(
    c: _Checker, obj: dict, path: str, plan: PlanDef
) -> tuple[str | None, list[str], str]:
    """The lead and support departments of a goal or an indicator: known departments of the
    plan's city, none named twice."""

    def department(code: str, where: str) -> bool:
        city = c.known.department_cities.get(code)
        if city is None:
            c.problem(where, f"unknown department “{code}” (load the departments file first)")
            return False
        if plan.city and city != plan.city:
            c.problem(where, f"department “{code}” belongs to city {city}, not {plan.city}")
            return False
        return True

    lead = c.code(obj, "lead", path, required=False) or None
    if lead and not department(lead, f"{path}.lead"):
        lead = None
    support: list[str] = []
    for k, raw in enumerate(c.sequence(obj.get("support"), f"{path}.support")):
        where = f"{path}.support[{k}]"
        if not isinstance(raw, str) or not raw.strip():
            c.problem(where, "must be a department code")
            continue
        code = raw.strip()
        if code == lead:
            c.problem(where, f"“{code}” is already the lead department")
        elif code in support:
            c.problem(where, f"“{code}” is named twice")
        elif department(code, where):
            support.append(code)
    note = c.text(obj, "lead_note", path, required=False)
    return lead, support, note


CATALOG_DIR = Path(__file__).resolve().parent / "catalog"
"""The catalog of the four cities: plan files, departments/, elements.yaml."""


def read_plan_file(path: Path) -> tuple[object, bytes]:
    """A plan file's document and bytes (:func:`targets.plan_schema.parse_plan_yaml`): a file
    past settings.PLAN_MAX_BYTES is refused without being read whole."""
    limit = settings.PLAN_MAX_BYTES
    with path.open("rb") as handle:
        raw = handle.read(limit + 1)
    return parse_plan_yaml(raw, str(path), max_bytes=limit), raw

"""Writes to the catalog: loading plan files."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from accountability.services import departments_load
from core.records import save_if_changed
from districts.models import OrgUnit, OrgUnitGroup
from districts.services import orgunits_import, reference_orgunits_load
from districts.unit_facts import (
    orgunit_groups_assign_defaults,
    orgunit_groups_ensure,
    orgunit_history_load,
)

from .models import DataElement, Goal, Indicator, Plan
from .plan_schema import (
    CATALOG_DIR,
    ElementDef,
    IndicatorDef,
    Known,
    PlanDef,
    check_plan_document,
    read_plan_file,
)


@dataclass
class LoadResult:
    filename: str
    plan_code: str | None
    elements: int
    goals: int
    indicators: int
    changed: bool


def _known() -> Known:
    from accountability.models import Department

    elements = dict(DataElement.objects.values_list("code", "value_type"))
    return Known(
        element_codes=frozenset(elements),
        element_types=elements,
        org_unit_codes=frozenset(OrgUnit.objects.values_list("code", flat=True)),
        indicator_plans=dict(Indicator.objects.values_list("code", "plan__code")),
        group_codes=frozenset(OrgUnitGroup.objects.values_list("code", flat=True)),
        department_cities=dict(Department.objects.values_list("code", "city__code")),
    )


def plan_files_load(*, paths: list[Path]) -> list[LoadResult]:
    """Load plan files in order, each in its own transaction: an invalid file is rejected
    whole (nothing of it written) and the error names the file, the path in it and the problem.
    Files that only declare data elements are loaded before the plans that use them."""
    documents = [(path, *read_plan_file(path)) for path in paths]
    # Vocabulary-only files first, so plan files may rely on them in any order on the command line.
    documents.sort(key=lambda d: 0 if isinstance(d[1], dict) and "plan" not in d[1] else 1)
    return [_load_one(path, document, raw) for path, document, raw in documents]


@transaction.atomic
def _load_one(path: Path, document: object, raw: bytes) -> LoadResult:
    parsed = check_plan_document(document, str(path), _known())
    digest = hashlib.sha256(raw).hexdigest()
    changed = False
    for element in parsed.elements:
        changed |= _upsert_element(element)
    for element in parsed.elements:
        changed |= _link_element(element)
    if parsed.plan is None:
        return LoadResult(str(path), None, len(parsed.elements), 0, 0, changed)
    plan_changed, goals, indicators = _upsert_plan(parsed.plan, digest)
    return LoadResult(
        str(path),
        parsed.plan.code,
        len(parsed.elements),
        goals,
        indicators,
        changed or plan_changed,
    )


def _upsert_element(e: ElementDef) -> bool:
    obj = DataElement.objects.filter(code=e.code).first() or DataElement(code=e.code)
    aggregation = e.aggregation
    if aggregation == "weighted_average" and obj.weight_id is None:
        # Its weight may be declared further down the same file; _link_element sets both.
        aggregation = "none"
    return save_if_changed(
        obj,
        {
            "name_zh": e.name_zh,
            "name_en": e.name_en,
            "unit": e.unit,
            "value_type": e.value_type,
            "period_type": e.period_type,
            "aggregation": aggregation,
            "temporal": e.temporal,
            "level": e.level,
        },
    )


def _link_element(e: ElementDef) -> bool:
    obj = DataElement.objects.get(code=e.code)
    ids = dict(
        DataElement.objects.filter(code__in=[c for c in (e.weight, e.not_above) if c]).values_list(
            "code", "id"
        )
    )
    return save_if_changed(
        obj,
        {
            "weight_id": ids.get(e.weight) if e.weight else None,
            "not_above_id": ids.get(e.not_above) if e.not_above else None,
            "aggregation": e.aggregation,
        },
    )


def _upsert_plan(p: PlanDef, digest: str) -> tuple[bool, int, int]:
    plan = Plan.objects.filter(code=p.code).first() or Plan(code=p.code)
    changed = save_if_changed(
        plan,
        {
            "city_id": OrgUnit.objects.only("id").get(code=p.city).id,
            "title_zh": p.title_zh,
            "title_en": p.title_en,
            "document_number": p.document_number,
            "issuer_zh": p.issuer_zh,
            "issuer_en": p.issuer_en,
            "issued_on": p.issued_on,
            "source": p.source,
            "kind": p.kind,
            "horizon": p.horizon,
            "method": p.method,
            "at_risk_fraction": p.at_risk_fraction,
            "is_public": p.is_public,
            "file_digest": digest,
        },
    )
    element_ids = dict(DataElement.objects.values_list("code", "id"))
    group_ids = {
        code: group.id
        for code, group in orgunit_groups_ensure(
            codes=[i.group for g in p.goals for i in g.indicators if i.group]
        ).items()
    }
    department_ids = _department_ids(p)
    existing_goals = {g.code: g for g in plan.goals.all()}
    existing_indicators = {i.code: i for i in plan.indicators.all()}
    kept_goals: set[str] = set()
    kept_indicators: set[str] = set()
    same_as: list[tuple[str, str | None]] = []
    indicator_count = 0
    for gpos, g in enumerate(p.goals):
        goal = existing_goals.get(g.code) or Goal(plan=plan, code=g.code)
        changed |= save_if_changed(
            goal,
            {
                "title_zh": g.title_zh,
                "title_en": g.title_en,
                "position": gpos,
                "lead_id": department_ids[g.lead] if g.lead else None,
                "lead_note": g.lead_note,
            },
        )
        changed |= _set_support(goal, g.support, department_ids)
        kept_goals.add(g.code)
        for ipos, i in enumerate(g.indicators):
            indicator = existing_indicators.get(i.code) or Indicator(plan=plan, code=i.code)
            fields = _indicator_fields(i, goal.id, ipos, element_ids)
            fields["group_id"] = group_ids[i.group] if i.group else None
            fields["lead_id"] = department_ids[i.lead] if i.lead else None
            fields["lead_note"] = i.lead_note
            changed |= save_if_changed(indicator, fields)
            changed |= _set_support(indicator, i.support, department_ids)
            kept_indicators.add(i.code)
            same_as.append((i.code, i.same_as))
            indicator_count += 1
    # The file is the source of truth: clauses and targets removed from it leave the plan.
    removed = [code for code in existing_indicators if code not in kept_indicators]
    if removed:
        Indicator.objects.filter(plan=plan, code__in=removed).delete()
        changed = True
    stale_goals = [code for code in existing_goals if code not in kept_goals]
    if stale_goals:
        Goal.objects.filter(plan=plan, code__in=stale_goals).delete()
        changed = True
    indicator_ids = dict(
        Indicator.objects.filter(code__in=[s for _c, s in same_as if s]).values_list("code", "id")
    )
    for code, target_code in same_as:
        indicator = Indicator.objects.get(code=code)
        changed |= save_if_changed(
            indicator, {"same_as_id": indicator_ids.get(target_code) if target_code else None}
        )
    return changed, len(p.goals), indicator_count


def _department_ids(p: PlanDef) -> dict[str, int]:
    from accountability.models import Department

    codes = {c for g in p.goals for c in (g.lead, *g.support) if c}
    codes |= {c for g in p.goals for i in g.indicators for c in (i.lead, *i.support) if c}
    return dict(Department.objects.filter(code__in=codes).values_list("code", "id"))


def _set_support(obj, codes: list[str], department_ids: dict[str, int]) -> bool:
    """Make the supporting departments exactly those of the file; True when that changed them."""
    wanted = {department_ids[c] for c in codes}
    current = set(obj.support.values_list("id", flat=True))
    if wanted == current:
        return False
    obj.support.set(wanted)
    return True


def _indicator_fields(i: IndicatorDef, goal_id: int, position: int, element_ids) -> dict:
    def ref(code: str | None) -> int | None:
        return element_ids[code] if code else None

    return {
        "goal_id": goal_id,
        "position": position,
        "name_zh": i.name_zh,
        "name_en": i.name_en,
        "kind": i.kind,
        "element_id": ref(i.element),
        "numerator_id": ref(i.numerator),
        "denominator_id": ref(i.denominator),
        "factor": i.factor,
        "level": i.level,
        "condition_element_id": ref(i.condition_element),
        "condition_numerator_id": ref(i.condition_numerator),
        "condition_denominator_id": ref(i.condition_denominator),
        "condition_factor": i.condition_factor,
        "condition_comparator": i.condition_comparator,
        "condition_value": i.condition_value,
        "growth_mode": i.growth_mode,
        "growth_from": i.growth_from,
        "unit": i.unit,
        "comparator": i.comparator,
        "target": i.target,
        "deadline": i.deadline,
        "baseline_value": i.baseline_value,
        "baseline_period": i.baseline_period,
        "method": i.method,
        "limit": i.limit,
        "quote": i.quote,
        "note": i.note,
    }


DIVISIONS_FILE = (
    Path(__file__).resolve().parent.parent / "districts/fixtures/four-cities-divisions.json"
)
HISTORY_FILE = Path(__file__).resolve().parent.parent / "districts/fixtures/orgunit-history.json"


def catalog_seed() -> str:
    """The four cities' org units, the extra units plans need, and every catalog plan."""
    import json

    units = reference_orgunits_load(divisions=json.loads(DIVISIONS_FILE.read_text("utf-8")))
    extra = CATALOG_DIR / "orgunits-extra.csv"
    if extra.exists():
        orgunits_import(data=extra.read_bytes(), filename=str(extra))
    # When units came into being (so they are not expected to report before), and the
    # standard groups (城市社区/农村社区, 镇/街道/园区) their levels and names imply.
    orgunit_history_load(history=json.loads(HISTORY_FILE.read_text("utf-8")))
    orgunit_groups_assign_defaults()
    # Responsible departments before the plans that name them as lead or support.
    departments = departments_load(paths=sorted((CATALOG_DIR / "departments").glob("*.yaml")))
    files = sorted(CATALOG_DIR.glob("*.yaml"))
    results = plan_files_load(paths=files)
    plans = [r for r in results if r.plan_code]
    return (
        f"org units: {units.created} created, {units.updated} updated, {units.unchanged} unchanged; "
        f"{len(plans)} plans, {sum(r.indicators for r in plans)} indicators, "
        f"{sum(r.elements for r in results)} data elements, "
        f"{sum(r.departments for r in departments)} departments "
        f"({sum(r.changed for r in results)} files changed)"
    )

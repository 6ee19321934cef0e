"""Candidates as JSON, and accepted candidates as a draft plan file (SPEC §4.1 shape, §7).

A draft is marked twice: a comment at the top and ``draft: true``. Each indicator carries its
``quote`` (the source text at its span) and ``source_span: [start, end]``; elements that the
vocabulary does not have are declared under ``data_elements`` with ``draft.*`` codes for the
editor to name. The file validates with ``targets.plan_schema`` as it stands, so ``load_plans``
accepts it once the editor is content with it.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import yaml

from .extractor import Extraction
from .rules import Candidate

COVERAGE_LEVELS = ("district", "town", "community", "grid")
HEADER = (
    "# 草稿：由 extract_targets 从原文抽取，须逐条核对后再载入（draft: extracted from the source\n"
    "# text by extract_targets; review every indicator before loading it with load_plans).\n"
    "# Every indicator quotes its source text; source_span is [start, end) in characters of the\n"
    "# text as read. Elements coded draft.* are proposed, not part of the shared vocabulary.\n"
)


def _number(value):
    if value is None:
        return None
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


def candidate_dict(c: Candidate, text: str, index: int) -> dict:
    """One candidate as JSON-ready data (the API's and the review page's shape)."""
    clause = c.clause
    return {
        "id": index,
        "kind": c.kind,
        "comparator": c.comparator,
        "target": _number(c.target),
        "unit": c.unit,
        "deadline": c.deadline.isoformat() if c.deadline else None,
        "deadline_rule": c.deadline_rule,
        "recurring": c.recurring,
        "start": c.start,
        "end": c.end,
        "quote": text[c.start : c.end],
        "number_span": list(c.number_span) if c.number_span else None,
        "deadline_span": list(c.deadline_span) if c.deadline_span else None,
        "clause": (
            {"path": clause.path, "number": clause.number, "title": clause.title}
            if clause is not None
            else None
        ),
        "rule": c.rule,
        "confidence": round(max(0.05, min(c.confidence, 0.99)), 2),
        "level": c.level,
        "group": c.group,
        "name_zh": _name(c, text),
        "elements": _plain(c.refs),
        "notes": list(c.notes),
    }


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return _number(value)
    return value


def _name(c: Candidate, text: str) -> str:
    name = (c.subject or "").strip() or text[c.start : c.end].strip()
    return re.sub(r"\s+", "", name)[:60]


def extraction_dicts(extraction: Extraction) -> list[dict]:
    return [candidate_dict(c, extraction.text, i) for i, c in enumerate(extraction.candidates)]


def draft_plan(
    candidates: list[dict],
    *,
    code: str,
    city: str,
    title_zh: str,
    issued: date | None = None,
    horizon: date | None = None,
    source: str = "",
    group_key: bool = False,
) -> dict:
    """A plan document from candidate dicts (as :func:`candidate_dict` makes them, possibly
    edited by a reviewer). ``group_key``: write ``group:`` when the schema knows it."""
    plan: dict = {"code": code, "city": str(city), "title_zh": title_zh}
    if issued:
        plan["issued_on"] = issued
    if horizon:
        plan["horizon"] = horizon
    if source:
        plan["source"] = source
    goals: dict[str, dict] = {}
    elements: dict[str, dict] = {}
    counters: dict[str, int] = {}
    for cand in candidates:
        clause = cand.get("clause") or {}
        goal_code = (clause.get("path") or "0").replace("/", ".")
        goal = goals.setdefault(
            goal_code,
            {"code": goal_code, "title_zh": clause.get("title") or "未编号条款", "indicators": []},
        )
        counters[goal_code] = counters.get(goal_code, 0) + 1
        indicator = _indicator(cand, f"{code}.g{goal_code}.{counters[goal_code]}", elements)
        if group_key and cand.get("group"):
            indicator["group"] = cand["group"]
        goal["indicators"].append(indicator)
    document: dict = {"draft": True, "plan": plan}
    if elements:
        document["data_elements"] = list(elements.values())
    document["goals"] = list(goals.values())
    return document


def _ref(ref: dict | None, elements: dict, *, unit: str = "") -> str:
    ref = ref or {}
    code = ref.get("code") or "draft.element"
    if not ref.get("known", False) and code not in elements:
        boolean = ref.get("value_type") == "boolean"
        elements[code] = {
            "code": code,
            "name_zh": ref.get("name_zh") or code,
            "unit": "" if boolean else unit,
            "value_type": ref.get("value_type") or "number",
            "period_type": "year",
            "aggregation": "none" if boolean else "sum",
            "temporal": "last",
        }
    return code


def _indicator(cand: dict, code: str, elements: dict) -> dict:
    kind = cand["kind"]
    refs = cand.get("elements") or {}
    out: dict = {
        "code": code,
        "name_zh": cand.get("name_zh") or cand["quote"][:60],
        "kind": kind,
    }
    base_unit = (cand.get("unit") or "").split("/")[0]
    if kind == "ratio" and base_unit in ("%", "个百分点"):
        base_unit = ""  # the parts of a share are counts, not per cent
    if kind in ("value", "milestone"):
        out["element"] = _ref(refs.get("element"), elements, unit=base_unit)
    elif kind == "ratio":
        out["numerator"] = _ref(refs.get("numerator"), elements, unit=base_unit)
        out["denominator"] = _ref(refs.get("denominator"), elements, unit=base_unit)
        out["factor"] = _number(refs.get("factor") or 100)
    elif kind == "coverage":
        condition = refs.get("condition") or {}
        out["level"] = cand.get("level") if cand.get("level") in COVERAGE_LEVELS else "community"
        out["condition"] = {
            "element": _ref(condition.get("element"), elements),
            "comparator": condition.get("comparator") or "=",
            "value": _number(condition.get("value") if condition.get("value") is not None else 1),
        }
    elif kind == "growth":
        out["of"] = _ref(refs.get("of"), elements)
        out["mode"] = "points" if "百分点" in (cand.get("unit") or "") else "percent"
        deadline = cand.get("deadline")
        out["from"] = str(int(deadline[:4]) - 5) if deadline else "2010"
    if kind == "milestone":
        out.update(comparator="=", target=1, unit="")
    else:
        out.update(
            unit=cand.get("unit") or "",
            comparator=cand["comparator"],
            target=_number(cand["target"]),
        )
    if cand.get("deadline"):
        out["deadline"] = date.fromisoformat(cand["deadline"])
    out["quote"] = cand["quote"].strip()
    out["source_span"] = [int(cand["start"]), int(cand["end"])]
    notes = [f"rule {cand.get('rule', '')}, confidence {cand.get('confidence', '')}"]
    if kind == "growth":
        notes.append("基期取期限前五年，请核对（base period: five years before the deadline)")
    notes += cand.get("notes") or []
    out["note"] = "; ".join(n for n in notes if n)
    return out


def dump_plan(document: dict) -> str:
    """The draft as YAML text, Chinese kept readable, keys in the order written."""
    return HEADER + yaml.safe_dump(
        document, allow_unicode=True, sort_keys=False, width=100, default_flow_style=False
    )

"""Allocations (目标任务分解), pure: reading an allocations file (SPEC §7) and the three rules
that share a city's target among its units. No ORM: the caller passes what exists.

File: CSV (UTF-8, BOM, GB18030) or XLSX, columns ``indicator,org_unit,target[,deadline][,note]``
or ``指标,单位代码,目标值,期限,备注``. Every bad row is named by line, column and reason; a file
with any is refused whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from core.periods import Period, PeriodError
from core.text import bilingual
from districts.intake.tables import RowError, Source, TabularError, map_columns, open_table

__all__ = ["AllocationRow", "RowError", "TabularError", "parse_allocation_file", "share_target"]

ALIASES: dict[str, tuple[str, ...]] = {
    "indicator": ("指标", "指标代码"),
    "org_unit": ("单位代码", "单位", "orgunit"),
    "target": ("目标值", "目标"),
    "deadline": ("期限", "截止日期"),
    "note": ("备注", "说明"),
}
REQUIRED = ("indicator", "org_unit", "target")


@dataclass(frozen=True)
class AllocationRow:
    line: int
    indicator: str
    org_unit: str
    target: Decimal
    deadline: date | None
    note: str


@dataclass(frozen=True)
class IndicatorFacts:
    city_path: str
    deadline: date


def parse_allocation_file(
    data: Source,
    *,
    indicators: Mapping[str, IndicatorFacts],
    unit_paths: Mapping[str, str],
) -> tuple[list[AllocationRow], list[RowError]]:
    """Valid rows and every row error. A unit must lie below the indicator's city (the city
    itself holds the indicator's own target); a deadline is a date or a period (its end) and
    may not fall after the indicator's; an (indicator, unit) pair appears once."""
    rows: list[AllocationRow] = []
    errors: list[RowError] = []
    first: dict[tuple[str, str], int] = {}
    with open_table(data) as table:
        columns = map_columns(table.header, ALIASES, REQUIRED)

        def cell(cells, name: str) -> str:
            i = columns.index.get(name)
            return cells[i].strip() if i is not None and i < len(cells) else ""

        for line, cells in table.rows():
            problems_before = len(errors)

            def bad(name: str, value: str, zh: str, en: str, line: int = line) -> None:
                errors.append(RowError(line, columns.label[name], value, bilingual(zh, en), name))

            code = cell(cells, "indicator")
            facts = indicators.get(code)
            if not code:
                bad("indicator", code, "指标代码为空", "indicator code is empty")
            elif facts is None:
                bad("indicator", code, "指标不存在", "no such indicator")
            unit = cell(cells, "org_unit")
            path = unit_paths.get(unit)
            if not unit:
                bad("org_unit", unit, "单位代码为空", "org-unit code is empty")
            elif path is None:
                bad("org_unit", unit, "单位不存在", "no such org unit")
            elif facts is not None and (
                path == facts.city_path or not path.startswith(facts.city_path)
            ):
                bad(
                    "org_unit",
                    unit,
                    "单位不在该指标所属城市之下",
                    "the unit is not below the indicator's city",
                )
            raw_target = cell(cells, "target")
            target = None
            try:
                target = Decimal(raw_target.replace(",", ""))
                if not target.is_finite():
                    raise InvalidOperation
            except InvalidOperation:
                bad("target", raw_target, "目标值不是数字", "target is not a number")
            raw_deadline = cell(cells, "deadline")
            deadline = None
            if raw_deadline:
                try:
                    deadline = date.fromisoformat(raw_deadline[:10])
                except ValueError:
                    try:
                        deadline = Period.parse(raw_deadline).end
                    except PeriodError:
                        bad(
                            "deadline",
                            raw_deadline,
                            "期限不是日期（YYYY-MM-DD）或期间",
                            "deadline is not a date (YYYY-MM-DD) or a period",
                        )
                if deadline and facts and deadline > facts.deadline:
                    bad(
                        "deadline",
                        raw_deadline,
                        f"期限晚于指标期限 {facts.deadline}",
                        f"deadline is after the indicator's deadline {facts.deadline}",
                    )
            key = (code, unit)
            if code and unit and key in first:
                errors.append(
                    RowError(
                        line,
                        "",
                        "",
                        bilingual(
                            f"与第 {first[key]} 行重复（同一指标、同一单位）",
                            f"same indicator and unit as line {first[key]}",
                        ),
                    )
                )
            first.setdefault(key, line)
            if len(errors) == problems_before:
                rows.append(
                    AllocationRow(line, code, unit, target, deadline, cell(cells, "note"))  # type: ignore[arg-type]
                )
    return rows, errors


# --- rules ------------------------------------------------------------------------------------

SAME = "same"
PRO_RATA = "pro_rata"
BY_GAP = "by_gap"
RULES = (SAME, PRO_RATA, BY_GAP)


class RuleError(ValueError):
    pass


def share_target(
    rule: str,
    *,
    target: float,
    comparator: str,
    units: list[str],
    weights: Mapping[str, float] | None = None,
    values: Mapping[str, float] | None = None,
    city_value: float | None = None,
    is_total: bool = False,
) -> dict[str, float]:
    """Each unit's target under ``rule``.

    - ``same`` — every unit holds the city's target (a rate, an average, a coverage).
    - ``pro_rata`` — a total shared by ``weights`` (e.g. each unit's resident population).
    - ``by_gap`` — the city's remaining gap (its target less ``city_value``) shared among the
      units in proportion to each unit's own gap: for a total, a unit's gap to its pro-rata share
      of the target (``weights``; equal shares without), and its target is its current value plus
      its part of the city's gap; for a rate, its gap to the city's target, and it must close
      the city's gap times its gap over the mean gap. A unit with no gap keeps its value.
    """
    if rule not in RULES:
        raise RuleError(f"unknown rule {rule!r} (known: {', '.join(RULES)})")
    if not units:
        raise RuleError("no units to allocate to")
    if rule == SAME:
        return dict.fromkeys(units, target)
    weights = weights or {}
    missing = [u for u in units if weights.get(u) is None] if rule == PRO_RATA else []
    if missing:
        raise RuleError(bilingual(
            f"以下单位缺少分解依据数值：{'、'.join(missing)}",
            f"no value to share by for {', '.join(missing)}",
        ))  # fmt: skip
    if rule == PRO_RATA:
        total = sum(weights[u] for u in units)
        if total <= 0:
            raise RuleError("the values to share by add up to zero")
        return {u: target * weights[u] / total for u in units}
    # by_gap
    values = values or {}
    missing = [u for u in units if values.get(u) is None]
    if missing or city_value is None:
        raise RuleError(bilingual(
            f"按缺口分解需要各单位及城市的当前值，缺少：{'、'.join(missing) or '城市'}",
            f"by_gap needs the current value of every unit and the city; missing: "
            f"{', '.join(missing) or 'the city'}",
        ))  # fmt: skip
    sign = -1.0 if comparator in ("<=", "<") else 1.0
    city_gap = max(0.0, sign * (target - city_value))
    if is_total:
        if weights and all(weights.get(u) for u in units):
            total = sum(weights[u] for u in units)
            share = {u: target * weights[u] / total for u in units}
        else:
            share = dict.fromkeys(units, target / len(units))
        gaps = {u: max(0.0, sign * (share[u] - values[u])) for u in units}
        total_gap = sum(gaps.values())
        if total_gap == 0:
            return {u: values[u] for u in units}
        return {u: values[u] + sign * city_gap * gaps[u] / total_gap for u in units}
    gaps = {u: max(0.0, sign * (target - values[u])) for u in units}
    mean_gap = sum(gaps.values()) / len(units)
    if mean_gap == 0:
        return {u: values[u] for u in units}
    return {u: values[u] + sign * city_gap * gaps[u] / mean_gap for u in units}

"""What every leadership page builds the same way: a status as shown (code, label, rank), one
indicator at one unit as a table line, status counts and shares, unit references and
breadcrumbs."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from core.numbers import as_float, format_number, with_unit
from core.text import name_of, punct, title_of, unit_label
from districts import scopes
from districts.levels import LEVEL_CHOICES
from districts.models import OrgUnit
from reports.models import STATUS_CHOICES
from reports.progress import percent_of_target
from reports.selectors import ATTENTION, GOOD, STATUS_ORDER, UNASSESSED, needs_attention
from targets.models import COMPARATORS, Indicator

_STATUS_LABELS = dict(STATUS_CHOICES)
COMPARATOR_SIGNS = dict(COMPARATORS)
_LEVEL_LABELS = dict(LEVEL_CHOICES)
KIND_LABELS = dict(Indicator.KINDS)


@dataclass(frozen=True, slots=True)
class Status:
    """A status in the active language; how it looks is the template tag ``status_badge``."""

    code: str
    label: str
    rank: int


@lru_cache(maxsize=256)
def _status(code: str, language: str | None) -> Status:
    return Status(
        code=code,
        label=str(_STATUS_LABELS.get(code, code)),
        rank=STATUS_ORDER.index(code) if code in STATUS_ORDER else len(STATUS_ORDER),
    )


def status_of(code: str | None) -> Status:
    """How a status is named in the active language (cached: pages show hundreds of them)."""
    return _status(code or "no_data", translation.get_language())


def status_legend() -> list[Status]:
    return [status_of(code) for code in STATUS_ORDER]


def level_label(level: str) -> str:
    return str(_LEVEL_LABELS.get(level, level))


def ancestor_paths(path: str) -> list[str]:
    """``"441900/441900003/"`` → ``["441900/", "441900/441900003/"]``."""
    parts = [p for p in path.split("/") if p]
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


# ---------------------------------------------------------------------------------------------
# One indicator at one unit, as a line of a dashboard table
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Line:
    """Where one unit stands on one indicator at the as-of period, ready to show."""

    indicator_id: int
    code: str
    name: str
    kind: str
    kind_label: str
    unit: str
    plan_id: int
    goal_id: int
    target_display: str
    deadline: date
    comparator: str
    status: Status
    unit_code: str = ""
    """The unit the line is about when the page is not the plan's city (for its links)."""
    as_of: str | None = None
    period: str | None = None
    value: float | None = None
    value_display: str = "—"
    target: float | None = None
    pct: float | None = None
    pct_display: str = "—"
    bar_pct: float = 0.0
    expected_display: str = "—"
    expected_pct: float | None = None
    forecast_display: str = "—"
    completeness_pct: int | None = None
    share_display: str = ""
    overdue: bool = False
    bar_label: str = ""
    deadline_display: str = ""
    spark_target: float | None = None
    spark_label: str = ""
    series: list[tuple[str, float | None]] = field(default_factory=list)
    draggers: list[dict] = field(default_factory=list)
    draggers_more: int = 0
    attention_rank: int = 99
    plan_title: str = ""
    """The plan's title, shown beside the name when another line on the page has the same name
    (``homonym``)."""
    homonym: bool = False
    binding: bool = True
    """Whether the plan is adopted policy; a research report's or proposal's figures are
    labelled as such (``plan_kind_label``) and left out of headline counts and scores."""
    plan_kind_label: str = ""
    also_in: list[str] = field(default_factory=list)
    """Other documents restating the same target (``same_as``): the line stands for them."""
    basis: str = ""
    """Which children the figure rests on ("28 of 36 towns"): the row's reporting_units of
    expected_units; empty when the unit reported the figure itself."""
    precision: int = 2
    """Decimals the indicator's figures are shown and exported with (:func:`precision_of`)."""
    change: float | None = None
    """The value's change since the period before the as-of one."""
    change_display: str = ""


@lru_cache(maxsize=8)
def _labels(language: str | None) -> dict:
    """Words every table line needs, translated once per language (pages show hundreds)."""
    return {
        "complete": pgettext("milestone", "完成"),
        "done": _("已完成"),
        "not_done": _("未完成"),
        "bar": _("目标完成度 %(pct)s"),
        "bar_expected": _("轨迹期望值 %(value)s"),
        "kinds": {code: str(label) for code, label in Indicator.KINDS},
    }


def target_display(indicator: Indicator, target=None) -> str:
    target = indicator.target if target is None else target
    if indicator.kind == "milestone":
        return _labels(translation.get_language())["complete"]
    sign = COMPARATOR_SIGNS.get(indicator.comparator, indicator.comparator)
    return f"{sign} {with_unit(format_number(target), unit_label(indicator.unit))}"


def value_display(indicator: Indicator, value: float | None) -> str:
    if value is None:
        return "—"
    if indicator.kind == "milestone":
        words = _labels(translation.get_language())
        return words["done"] if value >= 1 else words["not_done"]
    return with_unit(format_number(value), unit_label(indicator.unit))


def precision_of(indicator) -> int:
    """Decimals an indicator's figures carry: none for milestones and for counts (a
    whole-number target in a unit that is not a percentage), two for shares and ratios."""
    if indicator.kind == "milestone":
        return 0
    target = indicator.target
    if (
        indicator.kind == "value"
        and indicator.unit not in ("%", "‰", "‱")
        and target is not None
        and float(target) == int(float(target))
    ):
        return 0
    return 2


def rounded(value: float | None, precision: int) -> float | int | None:
    """``value`` to ``precision`` decimals (an int at 0), for spreadsheets and the briefing."""
    if value is None:
        return None
    return round(value) if precision == 0 else round(value, precision)


def change_text(change: float | None, indicator) -> str:
    """``+1.2 个百分点`` / ``+1.2 pp`` for shares, ``+3,400 人`` for counts."""
    if change is None:
        return ""
    sign = "+" if change > 0 else ("−" if change < 0 else "±")
    number = format_number(abs(change))
    if indicator.unit == "%":
        return _("%(n)s 个百分点") % {"n": sign + number}
    return with_unit(sign + number, unit_label(indicator.unit))


def children_noun(levels: Iterable[str]) -> str:
    """What a unit's children are called in "28 of 36 …": towns, communities, or units."""
    found = set(levels)
    if found and found <= {"town", "subdistrict", "district", "zone"}:
        return "towns"
    if found and found <= {"community", "village"}:
        return "communities"
    return "units"


def noun_for(indicator, levels: Iterable[str]) -> str:
    """A coverage rests on the units at its level (communities below a city); any other figure
    on the unit's direct children."""
    level = getattr(indicator, "level", "") if getattr(indicator, "kind", "") == "coverage" else ""
    if level:
        return children_noun([level])
    return children_noun(levels)


def basis_text(reporting: int | None, expected: int | None, noun: str = "units") -> str:
    """``"36个镇街中28个"`` / ``"28 of 36 towns"``: how many of the units the figure is computed
    from reported it (the engine's ``reporting_units`` of ``expected_units``). Nothing when the
    unit reported the figure itself (both empty) or nothing was expected."""
    if reporting is None or not expected:
        return ""
    words = {
        "towns": _("%(of)s个镇街中%(n)s个"),
        "communities": _("%(of)s个村（社区）中%(n)s个"),
        "units": _("%(of)s个下级单位中%(n)s个"),
    }
    return words.get(noun, words["units"]) % {
        "of": format_number(expected),
        "n": format_number(reporting),
    }


def build_line(
    indicator: Indicator,
    rows: Sequence,
    as_of: str | None,
    unit_code: str | None = None,
    *,
    noun: str = "units",
) -> Line:
    """``rows``: the indicator's progress rows at one unit, oldest first (any number of them);
    ``noun``: what the units its figure rests on are called (for "28 of 36 towns")."""
    current = next((r for r in rows if r.period == as_of), None) if as_of else None
    line = Line(
        indicator_id=indicator.id,
        code=indicator.code,
        name=name_of(indicator),
        kind=indicator.kind,
        kind_label=_labels(translation.get_language())["kinds"].get(indicator.kind, indicator.kind),
        unit=unit_label(indicator.unit),
        plan_id=indicator.plan_id,
        goal_id=indicator.goal_id,
        target_display=target_display(indicator),
        deadline=indicator.deadline,
        comparator=indicator.comparator,
        status=status_of(current.status if current else "no_data"),
        unit_code=unit_code or "",
        as_of=as_of,
        deadline_display=indicator.deadline.isoformat(),
    )
    as_of_end = current.period_end if current else None
    shown = [r for r in rows if as_of_end is None or r.period_end <= as_of_end]
    values = [as_float(r.value) for r in shown]
    line.series = [(r.period, v) for r, v in zip(shown, values, strict=True)]
    # Totals below the city carry no target (SPEC §3): neither shown nor drawn for them.
    reference = current or (shown[-1] if shown else None)
    untargeted = reference is not None and reference.target is None
    if untargeted:
        line.target_display = "—"
    line.spark_target = (
        None if untargeted or indicator.kind == "milestone" else as_float(indicator.target)
    )
    line.spark_label = punct("；", "; ").join(
        f"{r.period}{punct('：', ': ')}{format_number(r.value)}" for r in shown
    )
    if current is None:
        line.overdue = True
        return line
    line.period = current.period
    line.value = as_float(current.value)
    line.value_display = value_display(indicator, line.value)
    line.target = as_float(current.target)
    if current.target is not None:
        line.target_display = target_display(indicator, current.target)
    line.pct = as_float(current.percent_of_target)
    if line.pct is not None:
        line.pct_display = f"{format_number(line.pct)}%"
        line.bar_pct = max(0.0, min(line.pct, 100.0))
    expected = as_float(current.expected)
    if expected is not None:
        line.expected_display = value_display(indicator, expected)
        exp_pct = percent_of_target(expected, line.target, current.comparator)
        if exp_pct is not None:
            line.expected_pct = round(max(0.0, min(exp_pct, 100.0)), 1)
    words = _labels(translation.get_language())
    line.bar_label = words["bar"] % {"pct": line.pct_display}
    if line.expected_pct is not None:
        line.bar_label += punct("；", "; ") + words["bar_expected"] % {
            "value": line.expected_display
        }
    line.forecast_display = value_display(indicator, as_float(current.forecast))
    line.precision = precision_of(indicator)
    earlier = [v for (p, v) in line.series if p != current.period and v is not None]
    if line.value is not None and earlier and indicator.kind != "milestone":
        line.change = line.value - earlier[-1]
        line.change_display = change_text(line.change, indicator)
    if current.completeness is not None:
        line.completeness_pct = round(float(current.completeness) * 100)
    line.basis = basis_text(
        getattr(current, "reporting_units", None), getattr(current, "expected_units", None), noun
    )
    if current.share_of_total is not None:
        line.share_display = f"{format_number(current.share_of_total)}%"
    line.overdue = current.value is None
    line.attention_rank = ATTENTION.get(line.status.code, 99)
    return line


def attention_lines(lines: Iterable[Line]) -> list[Line]:
    """The lines that need attention (:func:`reports.selectors.needs_attention`, the one
    definition the home cards, the city dashboard and the unit page count by), most urgent
    first."""
    return sorted(
        (line for line in lines if needs_attention(line.status.code)),
        key=lambda line: (line.attention_rank, line.deadline, line.code),
    )


def restatements(indicators: Sequence[Indicator]) -> tuple[set[int], dict[int, list[Indicator]]]:
    """A target restated in several documents (``same_as``) counts once: the ids of the
    indicators that restate another one in ``indicators`` (left out of lists and counts), and
    for each one kept, the indicators restating it."""
    by_id = {ind.id: ind for ind in indicators}

    def root(ind: Indicator) -> Indicator:
        seen = {ind.id}
        while ind.same_as_id in by_id and ind.same_as_id not in seen:
            ind = by_id[ind.same_as_id]
            seen.add(ind.id)
        return ind

    hidden: set[int] = set()
    restating: dict[int, list[Indicator]] = defaultdict(list)
    for ind in indicators:
        kept = root(ind)
        if kept.id != ind.id:
            hidden.add(ind.id)
            restating[kept.id].append(ind)
    return hidden, restating


def name_lines(lines: Sequence[Line], plans: dict[int, object], restating=None) -> None:
    """Give each line its plan's title, mark the lines whose name another line of the page also
    has (互联网普及率 in two plans), and name the documents restating each (亦见于)."""
    names = Counter(line.name for line in lines)
    for line in lines:
        plan = plans.get(line.plan_id)
        line.plan_title = title_of(plan) if plan is not None else ""
        line.binding = getattr(plan, "is_binding", True)
        line.plan_kind_label = "" if line.binding else plan_kind_label(plan)
        line.homonym = names[line.name] > 1
        if restating:
            line.also_in = list(
                dict.fromkeys(
                    title_of(plans[ind.plan_id]) if ind.plan_id in plans else title_of(ind.plan)
                    for ind in restating.get(line.indicator_id, [])
                )
            )


def plan_kind_label(plan) -> str:
    """``研究报告 · 建议`` / ``Research report · proposal``: how a non-binding plan's figures
    are labelled wherever they are shown."""
    if plan is None or getattr(plan, "is_binding", True):
        return ""
    if plan.kind == "proposal":
        return str(plan.get_kind_display())
    return _("%(kind)s · 建议") % {"kind": plan.get_kind_display()}


def scored(lines: Iterable[Line], include_proposals: bool = False) -> list[Line]:
    """The lines headline counts and scores are computed from: adopted policy only, unless the
    reader asks to include research reports and proposals, or the page has nothing else (a
    district whose only document is a research report: its figures are counted, labelled as
    proposals, and the page gives no score)."""
    lines = list(lines)
    binding = [line for line in lines if line.binding]
    return lines if include_proposals or not binding else binding


def proposals_only(lines: Iterable[Line]) -> bool:
    """Whether every line comes from a research report or proposal (no score is given)."""
    lines = list(lines)
    return bool(lines) and not any(line.binding for line in lines)


def rows_by_indicator(rows: Iterable) -> dict[int, list]:
    grouped: dict[int, list] = defaultdict(list)
    for row in rows:
        grouped[row.indicator_id].append(row)
    for series in grouped.values():
        series.sort(key=lambda r: r.period_end)
    return grouped


def periods_of(rows: Iterable) -> tuple[list[str], str | None]:
    """The periods present (oldest first) and the latest one in which any row has a value."""
    ends: dict[str, date] = {}
    with_value: set[str] = set()
    for row in rows:
        ends[row.period] = row.period_end
        if row.value is not None:
            with_value.add(row.period)
    periods = sorted(ends, key=lambda p: (ends[p], p))
    latest = next((p for p in reversed(periods) if p in with_value), None)
    return periods, latest or (periods[-1] if periods else None)


def choose_as_of(requested: str | None, periods: list[str], default: str | None) -> str | None:
    return requested if requested in periods else default


def lines_status_counts(lines: Iterable[Line]) -> list[dict]:
    return status_counts(Counter(line.status.code for line in lines))


def status_counts(counter: Counter) -> list[dict]:
    """Counts by status in display order, each with its share and where its segment starts on
    a 0–100 axis (``"12.50"``): SVG attributes of the stacked bar, which needs no script or
    style attribute (the pages run under a strict CSP)."""
    total = sum(counter.values()) or 1
    out, start = [], 0.0
    for c in STATUS_ORDER:
        if not counter[c]:
            continue
        share = counter[c] / total * 100
        out.append(
            {"status": status_of(c), "n": counter[c], "width": f"{share:.2f}", "x": f"{start:.2f}"}
        )
        start += share
    return out


def share_good(codes: Iterable[str]) -> int | None:
    assessed = [c for c in codes if c not in UNASSESSED]
    if not assessed:
        return None
    return round(sum(1 for c in assessed if c in GOOD) / len(assessed) * 100)


def unit_ref(code: str, name_zh: str, name_en: str, level: str = "") -> dict:
    return {
        "code": code,
        "name": name_of({"name_zh": name_zh, "name_en": name_en}),
        "level": level,
        "level_label": level_label(level) if level else "",
    }


def breadcrumb(unit: OrgUnit, user) -> list[dict]:
    """The unit's ancestors from the root, each linked when the user may read it. One query."""
    paths = scopes.scope_paths(user, scopes.READ)
    chain = OrgUnit.objects.filter(path__in=ancestor_paths(unit.path)).order_by("depth")
    return [
        {
            **unit_ref(u.code, u.name_zh, u.name_en, u.level),
            "readable": scopes.path_in_scope(u.path, paths),
            "current": u.id == unit.id,
        }
        for u in chain
    ]


@dataclass(slots=True)
class GoalBlock:
    id: int
    code: str
    title: str
    lines: list[Line]


@dataclass(slots=True)
class PlanBlock:
    id: int
    code: str
    title: str
    document_number: str
    issuer: str
    issued_on: date | None
    goals: list[GoalBlock]
    kind_label: str = ""
    """Set for a research report or proposal (:func:`plan_kind_label`)."""

"""The indicator page: one indicator at one unit — its trend, the league table of the unit's
children, its source, and who reported what and when."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from core.numbers import as_float, format_number
from core.text import name_of, paren, punct, title_of, unit_label
from districts import scopes
from districts.models import DataValue, DataValueChange, OrgUnit
from reports.models import ProgressRow
from reports.selectors import PROGRESS_COLUMNS, AsOf, parse_period, unit_as_of
from targets.models import Indicator

from .common import (
    COMPARATOR_SIGNS,
    KIND_LABELS,
    Line,
    basis_text,
    breadcrumb,
    build_line,
    noun_for,
    plan_kind_label,
    status_of,
    target_display,
    unit_ref,
    value_display,
)
from .plan_text import has_text


def indicator_for_page(code: str) -> Indicator | None:
    """The indicator with everything its page shows about it. One query."""
    return (
        Indicator.objects.select_related(
            "plan",
            "plan__city",
            "goal",
            *Indicator.ELEMENT_FIELDS,
        )
        .filter(code=code)
        .first()
    )


def default_unit_for(user, city: OrgUnit) -> OrgUnit | None:
    """The unit an indicator page opens on: the plan's city when the user may read it, else the
    first of the user's own units inside that city."""
    if scopes.can(user, scopes.READ, city):
        return city
    return scopes.scope_roots(user).filter(path__startswith=city.path).order_by("path").first()


@dataclass(slots=True)
class IndicatorDetail:
    indicator: Indicator
    unit: OrgUnit
    unit_name: str
    name: str
    plan_title: str
    plan_kind_label: str
    """Set when the plan is a research report or proposal: its figures are labelled so."""
    issuer: str
    goal_title: str
    kind_label: str
    comparator_sign: str
    target_display: str
    baseline_display: str
    elements: list[dict]
    breadcrumb: list[dict]
    as_of: str | None
    periods: list[str]
    period: AsOf
    line: Line
    history: list[dict]
    league: list[dict]
    league_kind: str
    trend_chart: dict
    league_chart: dict
    reports: list[dict]
    report_states: list[dict]
    changes: list[dict]
    keep: list[tuple[str, str]]
    also_in: list[str]
    """The other documents stating the same target (``same_as`` either way)."""
    has_text: bool = False
    """The installation holds the plan's text (the page links to it, the clause highlighted)."""


def _also_in(indicator: Indicator) -> list[str]:
    """The titles of the other documents restating the indicator's target. One query."""
    others = Indicator.objects.filter(
        Q(same_as=indicator) | Q(pk=indicator.same_as_id) | Q(same_as_id=indicator.same_as_id)
        if indicator.same_as_id
        else Q(same_as=indicator)
    ).exclude(pk=indicator.pk)
    return list(dict.fromkeys(title_of(o.plan) for o in others.select_related("plan")))


def _elements_of(indicator: Indicator) -> list[tuple[str, object]]:
    roles = [
        ("element", _("数据项")),
        ("numerator", _("分子")),
        ("denominator", _("分母")),
        ("condition_element", _("条件数据项")),
        ("condition_numerator", _("条件分子")),
        ("condition_denominator", _("条件分母")),
    ]
    found = []
    for attr, label in roles:
        element = getattr(indicator, attr)
        if element is not None:
            found.append((label, element))
    return found


def _rank_key(comparator: str):
    higher_first = comparator not in ("<=", "<")

    def key(item: dict):
        value = item["value"]
        if value is None:
            return (1, 0.0, item["code"])
        if item["pct"] is not None and comparator == "=":
            return (0, abs(item["pct"] - 100), item["code"])
        return (0, -value if higher_first else value, item["code"])

    return key


def indicator_detail(
    *, indicator: Indicator, unit: OrgUnit, user, as_of: str = ""
) -> IndicatorDetail:
    """Everything the indicator page shows at ``unit``: the trend, the league table of the
    unit's children, the source, and who reported what and when. Seven queries whatever the
    number of units and periods."""
    rows = list(
        ProgressRow.objects.filter(indicator=indicator, org_unit=unit)
        .order_by("period_end")
        .values_list("indicator_id", "org_unit_id", *PROGRESS_COLUMNS, named=True)
    )
    # The unit's period, as on its dashboard: one indicator's rows alone would move the page to
    # whichever year that indicator happens to have a value in.
    period = unit_as_of(unit, as_of)
    periods, as_of = period.periods, period.period
    line = build_line(indicator, rows, as_of, unit.code)
    # The page looks back from the as-of period: later rows are the future from there.
    as_of_end = next((r.period_end for r in rows if r.period == as_of), None)
    if as_of_end is not None:
        rows = [r for r in rows if r.period_end <= as_of_end]
    history = [
        {
            "period": r.period,
            "value": value_display(indicator, as_float(r.value)),
            "expected": value_display(indicator, as_float(r.expected)),
            "pct": f"{format_number(r.percent_of_target)}%"
            if r.percent_of_target is not None
            else "—",
            "status": status_of(r.status),
            "forecast": value_display(indicator, as_float(r.forecast)),
            "completeness": round(float(r.completeness) * 100)
            if r.completeness is not None
            else None,
            "current": r.period == as_of,
        }
        for r in rows
    ]
    league = []
    if as_of:
        children = ProgressRow.objects.filter(
            indicator=indicator, org_unit__parent=unit, period=as_of
        ).values(
            "value",
            "status",
            "percent_of_target",
            "share_of_total",
            "completeness",
            "target",
            "org_unit__code",
            "org_unit__name_zh",
            "org_unit__name_en",
            "org_unit__level",
        )
        for r in children:
            item = unit_ref(
                r["org_unit__code"], r["org_unit__name_zh"], r["org_unit__name_en"],
                r["org_unit__level"],
            )  # fmt: skip
            value = as_float(r["value"])
            item.update(
                value=value,
                value_display=value_display(indicator, value),
                pct=as_float(r["percent_of_target"]),
                pct_display=f"{format_number(r['percent_of_target'])}%"
                if r["percent_of_target"] is not None
                else "—",
                share=f"{format_number(r['share_of_total'])}%"
                if r["share_of_total"] is not None
                else "",
                status=status_of(r["status"]),
                completeness=round(float(r["completeness"]) * 100)
                if r["completeness"] is not None
                else None,
                has_target=r["target"] is not None,
            )
            league.append(item)
        league.sort(key=_rank_key(indicator.comparator))
        # "28 of 36 towns": the units are named after the children the league lists.
        current = next((r for r in rows if r.period == as_of), None)
        if current is not None:
            line.basis = basis_text(
                current.reporting_units,
                current.expected_units,
                noun_for(indicator, {i["level"] for i in league}),
            )
        rank = 0
        for item in league:
            if item["value"] is not None:
                rank += 1
                item["rank"] = rank
            else:
                item["rank"] = None
    league_kind = "share" if league and not any(i["has_target"] for i in league) else "status"

    elements = _elements_of(indicator)
    reports, states, changes = _reports_for(indicator, unit, as_of, elements)
    plan = indicator.plan
    line.binding = plan.is_binding
    line.plan_kind_label = plan_kind_label(plan)
    baseline_display = "—"
    if indicator.baseline_value is not None and unit.id == plan.city_id:
        baseline_display = value_display(indicator, as_float(indicator.baseline_value)) + paren(
            indicator.baseline_period
        )
    else:
        first = next((r for r in rows if r.value is not None), None)
        if first is not None:
            baseline_display = value_display(indicator, as_float(first.value)) + paren(
                first.period + punct("，", ", ") + _("最早数值")
            )
    return IndicatorDetail(
        indicator=indicator,
        unit=unit,
        unit_name=name_of(unit),
        name=name_of(indicator),
        plan_title=title_of(plan),
        plan_kind_label=plan_kind_label(plan),
        issuer=name_of(plan, "issuer_zh", "issuer_en"),
        goal_title=title_of(indicator.goal),
        kind_label=str(KIND_LABELS.get(indicator.kind, indicator.kind)),
        comparator_sign=COMPARATOR_SIGNS.get(indicator.comparator, indicator.comparator),
        target_display=target_display(indicator),
        baseline_display=baseline_display,
        elements=[
            {"role": str(label), "code": e.code, "name": name_of(e), "unit": unit_label(e.unit)}
            for label, e in elements
        ],
        breadcrumb=breadcrumb(unit, user),
        as_of=as_of,
        periods=periods,
        period=period,
        line=line,
        history=history,
        league=league,
        league_kind=league_kind,
        trend_chart=_trend_chart(indicator, unit, rows, as_of),
        league_chart=_league_chart(indicator, league, league_kind),
        reports=reports,
        report_states=states,
        changes=changes,
        keep=[("unit", unit.code)],
        also_in=_also_in(indicator),
        has_text=has_text(plan),
    )


def _trend_chart(indicator: Indicator, unit: OrgUnit, rows: Sequence, as_of: str | None) -> dict:
    """Values by year, the target, the straight line from baseline to target and the forecast
    to the deadline, on one category axis of years."""
    by_year: dict[int, float | None] = {}
    for r in rows:
        p = parse_period(r.period)
        if p is not None and p.period_type == "year":
            by_year[p.year] = as_float(r.value)
    target = as_float(indicator.target)
    deadline_year = indicator.deadline.year
    baseline: tuple[int, float] | None = None
    if indicator.baseline_value is not None and unit.id == indicator.plan.city_id:
        p = parse_period(indicator.baseline_period)
        if p is not None:
            baseline = (p.year, float(indicator.baseline_value))
    if baseline is None:
        first = next(((y, v) for y, v in sorted(by_year.items()) if v is not None), None)
        baseline = first
    years = set(by_year) | {deadline_year}
    if baseline:
        years.add(baseline[0])
    if not by_year:
        years = {deadline_year} | ({baseline[0]} if baseline else set())
    span = list(range(min(years), max(years) + 1))
    values = [by_year.get(y) for y in span]
    trajectory: list[float | None] = [None] * len(span)
    if baseline and target is not None and baseline[0] < deadline_year:
        trajectory[span.index(baseline[0])] = baseline[1]
        trajectory[span.index(deadline_year)] = target
    forecast_line: list[float | None] = [None] * len(span)
    as_of_p = parse_period(as_of)
    last = None
    for r in rows:
        p = parse_period(r.period)
        if p is None or p.period_type != "year" or r.value is None:
            continue
        if as_of_p is not None and p.year > as_of_p.year:
            continue
        last = (p.year, float(r.value), as_float(r.forecast))
    if last and last[2] is not None and last[0] < deadline_year:
        forecast_line[span.index(last[0])] = last[1]
        forecast_line[span.index(deadline_year)] = last[2]
    return {
        "categories": [str(y) for y in span],
        "values": values,
        "target": target if indicator.kind != "growth" or target is not None else None,
        "trajectory": trajectory,
        "forecast": forecast_line,
        "deadline": str(deadline_year),
        "as_of": as_of,
        "unit": unit_label(indicator.unit),
        "labels": {
            "values": _("实际值"),
            "target": pgettext("target", "目标"),
            "trajectory": _("目标轨迹"),
            "forecast": _("预测"),
            "deadline": _("期限"),
        },
    }


def _league_chart(indicator: Indicator, league: list[dict], league_kind: str) -> dict:
    ranked = [item for item in league if item["value"] is not None]
    return {
        "names": [item["name"] for item in ranked],
        "values": [item["value"] for item in ranked],
        "status_codes": [item["status"].code for item in ranked],
        "statuses": [item["status"].label for item in ranked],
        "target": as_float(indicator.target) if league_kind == "status" else None,
        "unit": unit_label(indicator.unit),
        "labels": {"target": pgettext("target", "目标"), "value": _("数值")},
    }


def _period_bounds(as_of: str | None) -> tuple[date, date] | None:
    p = parse_period(as_of)
    return (p.start, p.end) if p else None


def _reports_for(indicator: Indicator, unit: OrgUnit, as_of: str | None, elements):
    """Who reported the indicator's figures in the unit's subtree for the as-of period, and
    when: the latest values, their count by review state and the latest changes. Three
    queries."""
    bounds = _period_bounds(as_of)
    element_ids = [e.id for _label, e in elements]
    if not bounds or not element_ids:
        return [], [], []
    start, end = bounds
    values = DataValue.objects.filter(
        element_id__in=element_ids,
        org_unit__path__startswith=unit.path,
        period_end__gte=start,
        period_end__lte=end,
    )
    state_labels = dict(DataValue.STATE_CHOICES)
    source_labels = dict(DataValue.SOURCE_CHOICES)
    states = [
        {"state": s["state"], "label": str(state_labels.get(s["state"], s["state"])), "n": s["n"]}
        for s in values.values("state").annotate(n=Count("id")).order_by("state")
    ]
    latest = values.order_by("-updated_at", "-id").values(
        "period",
        "value",
        "state",
        "source",
        "updated_at",
        "reviewed_at",
        "element__code",
        "element__name_zh",
        "element__name_en",
        "org_unit__code",
        "org_unit__name_zh",
        "org_unit__name_en",
        "updated_by__username",
        "reviewed_by__username",
    )[:30]
    reports = [
        {
            "unit": unit_ref(v["org_unit__code"], v["org_unit__name_zh"], v["org_unit__name_en"]),
            "element": name_of(
                {"name_zh": v["element__name_zh"], "name_en": v["element__name_en"]}
            ),
            "element_code": v["element__code"],
            "period": v["period"],
            "value": format_number(v["value"]),
            "state": v["state"],
            "state_label": str(state_labels.get(v["state"], v["state"])),
            "source": str(source_labels.get(v["source"], v["source"])),
            "by": v["updated_by__username"] or "—",
            "at": v["updated_at"],
            "reviewed_by": v["reviewed_by__username"] or "",
            "reviewed_at": v["reviewed_at"],
        }
        for v in latest
    ]
    codes = [e.code for _label, e in elements]
    subtree_codes = OrgUnit.objects.filter(path__startswith=unit.path).values("code")
    action_labels = dict(DataValueChange.ACTION_CHOICES)
    year_prefix = str(parse_period(as_of).year)  # type: ignore[union-attr]
    changes = [
        {
            "action": str(action_labels.get(c["action"], c["action"])),
            "element_code": c["element_code"],
            "org_unit_code": c["org_unit_code"],
            "period": c["period"],
            "old": format_number(c["old_value"]) if c["old_value"] is not None else "",
            "new": format_number(c["new_value"]) if c["new_value"] is not None else "",
            "by": c["actor__username"] or "—",
            "at": c["at"],
            "comment": c["comment"],
        }
        for c in DataValueChange.objects.filter(
            element_code__in=codes,
            org_unit_code__in=subtree_codes,
            period__startswith=year_prefix,
        )
        .order_by("-at", "-id")
        .values(
            "action",
            "element_code",
            "org_unit_code",
            "period",
            "old_value",
            "new_value",
            "actor__username",
            "at",
            "comment",
        )[:20]
    ]
    return reports, states, changes

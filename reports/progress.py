"""The progress engine: where every org unit stands on every indicator, year by year (SPEC §2–§3).

Pure computation. The ORM side reads plans, data elements, the org-unit tree and the data values
that count (approved only, or also submitted for a preview), builds the plain dataclasses below and
calls :func:`compute_progress`; this module never touches the database or the clock (``as_of`` is a
parameter), so the same inputs always give the same rows.

How a row comes about
=====================

1. **Years.** Progress is measured per calendar year, for each year in ``years`` that has begun by
   ``as_of``. A year still running at ``as_of`` is measured with what is known by then: values of
   periods that have begun by ``as_of`` count, and the row is measured on ``as_of`` instead of
   31 December (``t = min(year end, as_of)``).
2. **Into the year.** Monthly and quarterly values roll into their year by the element's temporal
   rule: ``sum`` for flows (new volunteers registered each month), ``last`` for stocks (the latest
   sub-period's figure). A value entered for the year itself wins over the roll-up; failing that,
   sub-periods of the element's declared period type win over those of the other sub-period type
   (months over quarters for a yearly element).
3. **Up the tree.** A unit's own value for an element and year wins; otherwise it is aggregated
   from its children by the element's rule (``sum``; ``average`` of the children that have a
   value; ``weighted_average`` by the weight element's value at each child; ``none`` = not
   aggregated). Every element is aggregated once per year, bottom-up over the whole tree, so the
   cost grows with the number of values, not with indicators × units × depth.
4. **Indicator value** by kind — ``value``, ``ratio`` (numerator and denominator aggregated
   separately, then divided), ``coverage``, ``growth``, ``milestone``; see :class:`IndicatorSpec`.
5. **Status** by the SPEC §3 straight-line rule (:func:`classify`) or, for ``method='cagr'``, the
   Statistics Canada / Open SDG measure (:mod:`reports.cagr`).

Rows are emitted for the plan's city and every unit below it (units below a coverage's level
excepted, see :class:`IndicatorSpec`).
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from districts.periods import Period

from .cagr import TARGET_ACHIEVED, cagr_progress, select_base

# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------

ACHIEVED = "achieved"
MISSED = "missed"
ON_TRACK = "on_track"
AT_RISK = "at_risk"
OFF_TRACK = "off_track"
NOT_ASSESSABLE = "not_assessable"
NO_DATA = "no_data"
NO_TARGET = "no_target"
"""Rows that are not compared with a target: a total (``value`` of a ``sum`` element) below the
city, where the city-wide target does not apply; or an indicator without a target."""

KINDS = ("value", "ratio", "coverage", "growth", "milestone")
AGGREGATIONS = ("sum", "average", "weighted_average", "none")
TEMPORALS = ("sum", "last")
COMPARATORS = (">=", ">", "<=", "<", "=")
METHODS = ("linear", "cagr")

# Which org-unit levels a coverage level counts. Mirrors districts.levels.COVERAGE_LEVEL_MEMBERS
# (kept here because that module imports Django; a test checks the two agree): towns and
# subdistricts (镇/街道) are one tier, communities and villages (社区/村) another.
COVERAGE_LEVEL_MEMBERS: dict[str, frozenset[str]] = {
    "district": frozenset({"district"}),
    "town": frozenset({"town", "subdistrict"}),
    "community": frozenset({"community", "village"}),
    "grid": frozenset({"grid"}),
}

# Tolerance for "=" comparisons: values arrive as floats from decimals and divisions.
_REL_TOL = 1e-9
_ABS_TOL = 1e-9

_YEAR_RANK, _QUARTER_RANK, _MONTH_RANK = 2, 1, 0
_RANK_OF_TYPE = {"year": _YEAR_RANK, "quarter": _QUARTER_RANK, "month": _MONTH_RANK}


# ---------------------------------------------------------------------------------------------
# Inputs and outputs
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ElementSpec:
    """A data element as the engine needs it.

    ``aggregation`` — how a parent's value comes from its children when the parent has none of
    its own: ``sum``, ``average``, ``weighted_average`` (by the ``weight`` element, e.g. life
    expectancy weighted by resident population) or ``none``. ``temporal`` — how sub-periods
    make a year: ``sum`` for flows, ``last`` for stocks. ``period_type`` — the period it is
    reported for (``year``, ``quarter``, ``month``).
    """

    code: str
    aggregation: str = "sum"
    weight: str | None = None
    temporal: str = "last"
    period_type: str = "year"


@dataclass(frozen=True, slots=True)
class OrgUnitNode:
    """One org unit in the tree: its code, its parent's code (``None`` at a root) and its level
    (country, province, city, district, town, subdistrict, community, village, grid)."""

    code: str
    parent: str | None
    level: str


@dataclass(frozen=True, slots=True)
class RatioSpec:
    """``numerator / denominator × factor`` (100 = percent, 10000 = per 10,000 people)."""

    numerator: str
    denominator: str
    factor: float = 1.0


@dataclass(frozen=True, slots=True)
class ConditionSpec:
    """What a unit must satisfy to count for a coverage: an element's value, or a ratio's,
    compared with ``value`` (e.g. ``social_orgs.count >= 1``)."""

    comparator: str
    value: float
    element: str | None = None
    ratio: RatioSpec | None = None


@dataclass(frozen=True, slots=True)
class IndicatorSpec:
    """A numeric target of a plan, and how its value is computed at any org unit.

    Kinds:

    - ``value`` — ``element``'s aggregated value.
    - ``ratio`` — ``ratio``: numerator and denominator aggregated separately, then divided.
    - ``coverage`` — percent of the units at ``level`` under the unit that satisfy
      ``condition``. Units that reported nothing for the condition count as not satisfying it
      (and lower completeness); a unit with no unit at ``level`` below it that reported anything
      has no value. A unit *at* the level gets 100 or 0 for itself; units *below* the level get
      no rows.
    - ``growth`` — yearly growth of ``growth_of_element`` or ``growth_of_ratio`` since
      ``growth_from_year``: compound percent (``growth_mode='percent'``) or points a year
      (``'points'``). Rows start the year after ``growth_from_year``.
    - ``milestone`` — a boolean ``element``; done when its value is 1.

    ``city`` is the plan's city: the declared baseline applies there, and so does the target of
    a total. ``baseline_period`` is a period string (``"2011"``); its end date is the baseline
    date. ``at_risk_fraction`` is the share of the expected progress that still counts as
    ``at_risk`` (SPEC default 0.5; a plan may override it).
    """

    code: str
    kind: str
    city: str
    comparator: str
    target: float | None
    deadline: date
    element: str | None = None
    ratio: RatioSpec | None = None
    level: str | None = None
    condition: ConditionSpec | None = None
    growth_of_element: str | None = None
    growth_of_ratio: RatioSpec | None = None
    growth_mode: str | None = None
    growth_from_year: int | None = None
    baseline_value: float | None = None
    baseline_period: str | None = None
    method: str = "linear"
    limit: float | None = None
    at_risk_fraction: float = 0.5


@dataclass(slots=True)
class ProgressResult:
    """Where one org unit stands on one indicator in one year.

    ``period`` is the year (``"2015"``). ``numerator``/``denominator`` are the ratio's parts, or
    for a coverage the units satisfying the condition and all units at the level. ``target`` is
    ``None`` on rows with no target (``status == "no_target"``). ``percent_of_target`` is
    ``value / target × 100`` for ``>=``, ``>`` and ``=``, and ``target / value × 100`` for ``<=``
    and ``<`` (so 100 means "reached" both ways); ``None`` for a zero target. ``expected`` is
    the value on the straight line from the baseline to the target at the measurement date
    (the target itself from the deadline on). ``forecast`` is the least-squares line through the
    indicator's yearly values at the unit up to this year, at the deadline. ``completeness`` is
    the share of the direct child units that reported the inputs (for a leaf 1 or 0; for a
    coverage the share of the units at the level that reported). ``share_of_total`` is a total's
    share of the city total in percent. ``ratio`` and ``score`` are the cagr method's ``R``
    (or ``v``) and score. ``baseline``/``baseline_period`` say which baseline was used (under
    the cagr method, the base the growth was measured from).
    """

    indicator: str
    org_unit: str
    period: str
    value: float | None
    numerator: float | None
    denominator: float | None
    target: float | None
    comparator: str
    deadline: date
    percent_of_target: float | None
    expected: float | None
    status: str
    forecast: float | None
    completeness: float | None
    share_of_total: float | None = None
    ratio: float | None = None
    score: float | None = None
    baseline: float | None = None
    baseline_period: str | None = None


# ---------------------------------------------------------------------------------------------
# Small pure rules (public: the web layer and the tests use them directly)
# ---------------------------------------------------------------------------------------------


def satisfies(value: float, comparator: str, target: float) -> bool:
    """Whether ``value`` meets ``comparator target`` (``=`` within a 1e-9 tolerance)."""
    if comparator == ">=":
        return value >= target
    if comparator == ">":
        return value > target
    if comparator == "<=":
        return value <= target
    if comparator == "<":
        return value < target
    if comparator == "=":
        return math.isclose(value, target, rel_tol=_REL_TOL, abs_tol=_ABS_TOL)
    raise ValueError(f"unknown comparator {comparator!r}")


def higher_is_better(comparator: str, baseline: float | None, target: float) -> bool:
    """The direction of progress: up for ``>=``/``>``, down for ``<=``/``<``; for ``=`` towards
    the target from the baseline (up when there is no baseline)."""
    if comparator in (">=", ">"):
        return True
    if comparator in ("<=", "<"):
        return False
    return baseline is None or target >= baseline


def expected_value(baseline: float, t0: date, target: float, deadline: date, t: date) -> float:
    """The value on the straight line from ``baseline`` at ``t0`` to ``target`` at ``deadline``,
    at date ``t`` (time in days); the target itself from the deadline on."""
    if t >= deadline or deadline <= t0:
        return target
    return baseline + (target - baseline) * (t - t0).days / (deadline - t0).days


def classify(
    value: float | None,
    t: date,
    target: float,
    comparator: str,
    deadline: date,
    baseline: float | None,
    baseline_date: date | None,
    at_risk_fraction: float = 0.5,
) -> tuple[str, float | None]:
    """The SPEC §3 status of ``value`` measured at ``t``, and the expected value there.

    In order: ``no_data`` (no value); ``achieved`` (meets the comparator); ``missed`` (the
    deadline has come); ``not_assessable`` (no baseline dated before ``t``); ``on_track`` (at or
    beyond the straight line); ``at_risk`` (at least ``at_risk_fraction`` of the progress the line
    expects since the baseline); ``off_track`` (less, including any fall below the baseline).
    Lower-is-better targets mirror the comparisons. The expected value is returned whenever a
    baseline dated before ``t`` exists, whatever the status.
    """
    has_baseline = baseline is not None and baseline_date is not None and baseline_date < t
    expected = (
        expected_value(baseline, baseline_date, target, deadline, t)  # type: ignore[arg-type]
        if has_baseline
        else None
    )
    if value is None:
        return NO_DATA, expected
    if satisfies(value, comparator, target):
        return ACHIEVED, expected
    if t >= deadline:
        return MISSED, expected
    if not has_baseline or expected is None:
        return NOT_ASSESSABLE, None
    b: float = baseline  # type: ignore[assignment]
    if higher_is_better(comparator, b, target):
        gained, needed = value - b, expected - b
    else:
        gained, needed = b - value, b - expected
    if gained >= needed:
        return ON_TRACK, expected
    if gained >= at_risk_fraction * needed:
        return AT_RISK, expected
    return OFF_TRACK, expected


def percent_of_target(value: float | None, target: float | None, comparator: str) -> float | None:
    """How far ``value`` has come to ``target``, in percent: ``value / target`` for targets to
    reach from below (``>=``, ``>``, ``=``), ``target / value`` for ceilings (``<=``, ``<``), so
    100 means reached either way. ``None`` with no value, a zero target or a zero value under a
    ceiling."""
    if value is None or target is None or target == 0:
        return None
    if comparator in ("<=", "<"):
        return None if value == 0 else _finite(target / value * 100)
    return _finite(value / target * 100)


def growth_value(x: float, x_from: float, years: int, mode: str) -> float | None:
    """Yearly growth over ``years`` years: ``percent`` = compound annual growth in percent,
    ``points`` = change per year in the value's own unit (percentage points for a share)."""
    if years <= 0:
        return None
    if mode == "points":
        return (x - x_from) / years
    if mode == "percent":
        if x_from == 0 or x / x_from < 0:
            return None
        return _finite(((x / x_from) ** (1 / years) - 1) * 100)
    raise ValueError(f"unknown growth mode {mode!r}")


def forecast_at(points: Sequence[tuple[date, float]], deadline: date) -> float | None:
    """The least-squares straight line through ``(date, value)`` points, evaluated at
    ``deadline`` (time in days). ``None`` with fewer than two distinct dates."""
    if len(points) < 2:
        return None
    base = deadline.toordinal()
    xs = [d.toordinal() - base for d, _ in points]
    ys = [v for _, v in points]
    return _fit_at_zero(len(xs), sum(xs), sum(ys), _dot(xs, xs), _dot(xs, ys))


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    return math.fsum(x * y for x, y in zip(a, b, strict=True))


def _fit_at_zero(n: int, sx: float, sy: float, sxx: float, sxy: float) -> float | None:
    # Times are measured from the deadline, so the fitted line's intercept is the forecast.
    denom = n * sxx - sx * sx
    if n < 2 or denom == 0:
        return None
    slope = (n * sxy - sx * sy) / denom
    return _finite((sy - slope * sx) / n)


def _finite(x: float | None) -> float | None:
    # Infinities and NaNs cannot be stored in the decimal columns nor sent as JSON.
    return x if x is not None and math.isfinite(x) else None


# ---------------------------------------------------------------------------------------------
# The org-unit tree
# ---------------------------------------------------------------------------------------------


class OrgTree:
    """The org-unit tree, indexed once: parents, children, depths, preorder subtrees."""

    def __init__(self, units: Iterable[OrgUnitNode]) -> None:
        self.level: dict[str, str] = {}
        raw_parent: dict[str, str | None] = {}
        for unit in units:
            self.level[unit.code] = unit.level
            raw_parent[unit.code] = unit.parent
        # A parent that is not among the units makes the unit a root: callers may pass a
        # city's subtree without the province above it.
        self.parent: dict[str, str | None] = {
            code: (p if p is not None and p in raw_parent and p != code else None)
            for code, p in raw_parent.items()
        }
        self.children: dict[str, list[str]] = {code: [] for code in self.parent}
        for code, p in self.parent.items():
            if p is not None:
                self.children[p].append(code)
        for kids in self.children.values():
            kids.sort()
        self.roots = sorted(code for code, p in self.parent.items() if p is None)
        self.depth: dict[str, int] = {}
        stack = [(root, 0) for root in self.roots]
        while stack:
            code, d = stack.pop()
            self.depth[code] = d
            stack.extend((kid, d + 1) for kid in self.children[code])
        if len(self.depth) != len(self.parent):
            cyclic = sorted(set(self.parent) - set(self.depth))[:5]
            raise ValueError(f"org units form a cycle: {', '.join(cyclic)}")
        self.max_depth = max(self.depth.values(), default=0)
        self._subtrees: dict[str, list[str]] = {}
        self._ancestors: dict[str, tuple[str, ...]] = {}

    def subtree(self, code: str) -> list[str]:
        """``code`` and all units below it, parents before children (a stable preorder)."""
        if code not in self._subtrees:
            out: list[str] = []
            if code in self.parent:
                stack = [code]
                while stack:
                    u = stack.pop()
                    out.append(u)
                    stack.extend(reversed(self.children[u]))
            self._subtrees[code] = out
        return self._subtrees[code]

    def ancestors(self, code: str) -> tuple[str, ...]:
        """The units above ``code``, nearest first."""
        cached = self._ancestors.get(code)
        if cached is None:
            p = self.parent.get(code)
            cached = (p, *self.ancestors(p)) if p is not None else ()
            self._ancestors[code] = cached
        return cached


# ---------------------------------------------------------------------------------------------
# Values: into years, then up the tree
# ---------------------------------------------------------------------------------------------

YearValues = dict[str, float]  # org unit → value, for one element (or indicator) and year


def roll_into_years(
    values: Mapping[tuple[str, str, str], float],
    elements: Mapping[str, ElementSpec],
    needed: Iterable[str],
    data_years: Iterable[int],
    as_of: date,
) -> dict[str, dict[int, YearValues]]:
    """Each needed element's own (reported) value per unit and year, sub-periods rolled into
    the year by the element's temporal rule. Values of periods that begin after ``as_of`` or
    fall outside ``data_years`` are ignored."""
    wanted_years = set(data_years)
    needed = set(needed)
    # routes[element][period string] → (mode, target dict): the period is parsed once per
    # element, so the loop over millions of values does two dict look-ups and one store.
    _SKIP, _SET, _ADD = 0, 1, 2
    routes: dict[str, dict[str, tuple[int, dict[str, float] | None]]] = {e: {} for e in needed}
    own_year: dict[str, dict[int, YearValues]] = {e: {} for e in needed}
    flows: dict[tuple[str, int, int], YearValues] = {}
    stocks: dict[tuple[str, int, int], list[tuple[Period, YearValues]]] = {}

    def route(element: str, text: str) -> tuple[int, dict[str, float] | None]:
        period = Period.parse(text)
        if period.year not in wanted_years or period.start > as_of:
            return _SKIP, None
        rank = period.type_rank
        if rank == _YEAR_RANK:
            return _SET, own_year[element].setdefault(period.year, {})
        if elements[element].temporal == "sum":
            return _ADD, flows.setdefault((element, period.year, rank), {})
        target: YearValues = {}
        stocks.setdefault((element, period.year, rank), []).append((period, target))
        return _SET, target

    for (element, unit, text), value in values.items():
        element_routes = routes.get(element)
        if element_routes is None:
            continue
        r = element_routes.get(text)
        if r is None:
            r = element_routes[text] = route(element, text)
        mode, target = r
        if mode == _SET:
            target[unit] = value  # type: ignore[index]
        elif mode == _ADD:
            target[unit] = target.get(unit, 0.0) + value  # type: ignore[union-attr]

    # Stocks: the latest sub-period's value wins, so merge the sub-periods in date order.
    sub: dict[tuple[str, int, int], YearValues] = dict(flows)
    for key, parts in stocks.items():
        merged: YearValues = {}
        for _period, part in sorted(parts, key=lambda pp: pp[0].end):
            merged.update(part)
        sub[key] = merged

    out: dict[str, dict[int, YearValues]] = {}
    for element in needed:
        declared = _RANK_OF_TYPE.get(elements[element].period_type, _YEAR_RANK)
        # Lowest priority first: the other sub-period type, then the declared one, then the
        # value entered for the whole year. For a yearly element months beat quarters (the
        # finer figure), as in the SQL roll-up of reports.services.
        order = sorted((_MONTH_RANK, _QUARTER_RANK), key=lambda r: (r == declared, -r))
        by_year: dict[int, YearValues] = {}
        years_seen = set(own_year[element]) | {y for (e, y, _r) in sub if e == element}
        for year in years_seen:
            parts = [sub.get((element, year, rank)) for rank in order]
            parts.append(own_year[element].get(year))
            present = [p for p in parts if p]
            if len(present) == 1:
                by_year[year] = present[0]
            elif present:
                merged = {}
                for p in present:
                    merged.update(p)
                by_year[year] = merged
        out[element] = by_year
    return out


def aggregate(
    own: YearValues,
    rule: str,
    tree: OrgTree,
    weights: YearValues | None = None,
) -> YearValues:
    """Every unit's value for one element and year: its own value if it reported one, else its
    children's values combined by ``rule`` (recursively up the tree). Units outside the tree are
    dropped.

    ``average`` averages the children that have a value; ``weighted_average`` weighs each child
    by ``weights`` (the weight element's value there), skipping children without a weight, and
    gives no value when the weights sum to zero; ``none`` does not aggregate.
    """
    depth = tree.depth
    if rule == "none":
        return {u: v for u, v in own.items() if u in depth}
    parent = tree.parent
    layers: list[YearValues] = [{} for _ in range(tree.max_depth + 1)]
    for u, v in own.items():
        d = depth.get(u)
        if d is not None:
            layers[d][u] = v
    out: YearValues = {}
    # Deepest layer first: a layer is complete (own values + aggregates of the layer below)
    # before it is pushed up, so each unit is visited once per element and year.
    for d in range(tree.max_depth, 0, -1):
        layer = layers[d]
        if not layer:
            continue
        out.update(layer)
        up = layers[d - 1]
        if rule == "sum":
            acc: dict[str, float] = {}
            for u, v in layer.items():
                p = parent[u]
                acc[p] = acc.get(p, 0.0) + v  # type: ignore[index]
            for p, s in acc.items():
                if p not in up:
                    up[p] = s
        elif rule == "average":
            sums: dict[str, float] = {}
            counts: dict[str, int] = {}
            for u, v in layer.items():
                p = parent[u]
                sums[p] = sums.get(p, 0.0) + v  # type: ignore[index]
                counts[p] = counts.get(p, 0) + 1  # type: ignore[index]
            for p, s in sums.items():
                if p not in up:
                    up[p] = s / counts[p]
        elif rule == "weighted_average":
            w = weights or {}
            wsum: dict[str, float] = {}
            wtot: dict[str, float] = {}
            for u, v in layer.items():
                weight = w.get(u)
                if weight is None:
                    continue
                p = parent[u]
                wsum[p] = wsum.get(p, 0.0) + weight * v  # type: ignore[index]
                wtot[p] = wtot.get(p, 0.0) + weight  # type: ignore[index]
            for p, s in wsum.items():
                if p not in up and wtot[p] != 0:
                    up[p] = s / wtot[p]
        else:
            raise ValueError(f"unknown aggregation {rule!r}")
    out.update(layers[0])
    return out


# ---------------------------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------------------------


class _Engine:
    """One computation: the aggregated element values per year, shared by all indicators."""

    def __init__(
        self,
        indicators: Sequence[IndicatorSpec],
        elements: Mapping[str, ElementSpec],
        tree: OrgTree,
        values: Mapping[tuple[str, str, str], float],
        out_years: list[int],
        as_of: date,
    ) -> None:
        self.tree = tree
        self.elements = elements
        self.as_of = as_of
        self.out_years = out_years
        self.t_of = {y: min(date(y, 12, 31), as_of) for y in out_years}
        data_years = set(out_years)
        for ind in indicators:
            if ind.kind == "growth" and ind.growth_from_year is not None:
                if date(ind.growth_from_year, 1, 1) <= as_of:
                    data_years.add(ind.growth_from_year)
        order = self._element_order(indicators)
        own = roll_into_years(values, elements, order, data_years, as_of)
        # agg[element][year] — weight elements come first in `order`, so they are ready when a
        # weighted average needs them.
        self.agg: dict[str, dict[int, YearValues]] = {}
        for code in order:
            spec = elements[code]
            per_year: dict[int, YearValues] = {}
            for year in data_years:
                weights = (
                    self.agg[spec.weight].get(year)
                    if spec.aggregation == "weighted_average" and spec.weight
                    else None
                )
                per_year[year] = aggregate(own[code].get(year, {}), spec.aggregation, tree, weights)
            self.agg[code] = per_year
        self._ratio_cache: dict[tuple[str, str, float, int], YearValues] = {}
        self._count_cache: dict[tuple[tuple[str, ...], int], tuple[set[str], dict[str, int]]] = {}
        self._coverage_cache: dict[str, tuple[list[str], dict[str, int], set[str]]] = {}

    # -- set-up ----------------------------------------------------------------------------

    def _element_order(self, indicators: Sequence[IndicatorSpec]) -> list[str]:
        """The elements the indicators need, each after the weight element it depends on."""
        order: list[str] = []
        state: dict[str, int] = {}  # 1 = in progress, 2 = done

        def visit(code: str, via: str) -> None:
            if state.get(code) == 2:
                return
            if state.get(code) == 1:
                raise ValueError(f"data element {code!r} is weighted by itself (via {via!r})")
            spec = self.elements.get(code)
            if spec is None:
                raise ValueError(f"data element {code!r} (needed by {via!r}) is not defined")
            if spec.aggregation not in AGGREGATIONS:
                raise ValueError(f"data element {code!r}: unknown aggregation {spec.aggregation!r}")
            if spec.temporal not in TEMPORALS:
                raise ValueError(f"data element {code!r}: unknown temporal rule {spec.temporal!r}")
            state[code] = 1
            if spec.aggregation == "weighted_average":
                if not spec.weight:
                    raise ValueError(f"data element {code!r} is a weighted average with no weight")
                visit(spec.weight, code)
            state[code] = 2
            order.append(code)

        for ind in indicators:
            for code in _inputs(ind):
                visit(code, ind.code)
        return order

    # -- per-year building blocks ------------------------------------------------------------

    def element_values(self, code: str, year: int) -> YearValues:
        return self.agg[code].get(year, {})

    def ratio_values(self, spec: RatioSpec, year: int) -> YearValues:
        """numerator / denominator × factor at every unit with both (and a non-zero
        denominator) — the parts aggregated separately, never an average of ratios."""
        key = (spec.numerator, spec.denominator, spec.factor, year)
        cached = self._ratio_cache.get(key)
        if cached is None:
            num = self.element_values(spec.numerator, year)
            den = self.element_values(spec.denominator, year)
            factor = spec.factor
            cached = {}
            for u, n in num.items():
                d = den.get(u)
                if d:  # None or zero: no ratio
                    cached[u] = n / d * factor
            self._ratio_cache[key] = cached
        return cached

    def reporters(self, inputs: tuple[str, ...], year: int) -> tuple[set[str], dict[str, int]]:
        """The units that have every input (own or aggregated) in ``year``, and per parent how
        many of its direct children do."""
        key = (inputs, year)
        cached = self._count_cache.get(key)
        if cached is None:
            maps = [self.element_values(e, year) for e in inputs]
            first, rest = maps[0], maps[1:]
            have = {u for u in first if all(u in m for m in rest)} if rest else set(first)
            counts: dict[str, int] = {}
            parent = self.tree.parent
            for u in have:
                p = parent.get(u)
                if p is not None:
                    counts[p] = counts.get(p, 0) + 1
            cached = (have, counts)
            self._count_cache[key] = cached
        return cached

    def coverage_frame(self, level: str) -> tuple[list[str], dict[str, int], set[str]]:
        """For a coverage level: the units at that level, how many of them lie under each unit,
        and the units below the level (which get no coverage rows)."""
        cached = self._coverage_cache.get(level)
        if cached is None:
            members = COVERAGE_LEVEL_MEMBERS.get(level, frozenset({level}))
            at_level = sorted(u for u, lv in self.tree.level.items() if lv in members)
            totals: dict[str, int] = {}
            below: set[str] = set()
            for m in at_level:
                for a in self.tree.ancestors(m):
                    totals[a] = totals.get(a, 0) + 1
                below.update(self.tree.subtree(m)[1:])
            cached = (at_level, totals, below)
            self._coverage_cache[level] = cached
        return cached

    # -- indicator values --------------------------------------------------------------------

    def indicator_year(self, ind: IndicatorSpec, year: int) -> _IndicatorYear:
        """The indicator's value (and parts, and completeness counts) at every unit in ``year``."""
        kind = ind.kind
        if kind in ("value", "milestone"):
            vals = self.element_values(ind.element, year)  # type: ignore[arg-type]
            have, counts = self.reporters((ind.element,), year)  # type: ignore[arg-type]
            return _IndicatorYear(vals, None, None, have, counts)
        if kind == "ratio":
            r: RatioSpec = ind.ratio  # type: ignore[assignment]
            have, counts = self.reporters((r.numerator, r.denominator), year)
            return _IndicatorYear(
                self.ratio_values(r, year),
                self.element_values(r.numerator, year),
                self.element_values(r.denominator, year),
                have,
                counts,
            )
        if kind == "growth":
            return self._growth_year(ind, year)
        if kind == "coverage":
            return self._coverage_year(ind, year)
        raise ValueError(f"indicator {ind.code!r}: unknown kind {kind!r}")

    def _growth_year(self, ind: IndicatorSpec, year: int) -> _IndicatorYear:
        base_year: int = ind.growth_from_year  # type: ignore[assignment]
        span = year - base_year
        if ind.growth_of_ratio is not None:
            r = ind.growth_of_ratio
            x_now = self.ratio_values(r, year) if span > 0 else {}
            x_from = self.ratio_values(r, base_year) if span > 0 else {}
            inputs: tuple[str, ...] = (r.numerator, r.denominator)
        else:
            code: str = ind.growth_of_element  # type: ignore[assignment]
            x_now = self.element_values(code, year) if span > 0 else {}
            x_from = self.element_values(code, base_year) if span > 0 else {}
            inputs = (code,)
        mode: str = ind.growth_mode  # type: ignore[assignment]
        vals: YearValues = {}
        for u, x in x_now.items():
            x0 = x_from.get(u)
            if x0 is not None:
                g = growth_value(x, x0, span, mode)
                if g is not None:
                    vals[u] = g
        have, counts = self.reporters(inputs, year)
        return _IndicatorYear(vals, None, None, have, counts)

    def _coverage_year(self, ind: IndicatorSpec, year: int) -> _IndicatorYear:
        cond: ConditionSpec = ind.condition  # type: ignore[assignment]
        at_level, totals, _below = self.coverage_frame(ind.level)  # type: ignore[arg-type]
        if cond.ratio is not None:
            cvals = self.ratio_values(cond.ratio, year)
            inputs: tuple[str, ...] = (cond.ratio.numerator, cond.ratio.denominator)
        else:
            cvals = self.element_values(cond.element, year)  # type: ignore[arg-type]
            inputs = (cond.element,)  # type: ignore[assignment]
        have, _counts = self.reporters(inputs, year)
        reported: dict[str, int] = {}
        satisfied: dict[str, int] = {}
        vals: YearValues = {}
        num: YearValues = {}
        den: YearValues = {}
        level_units: dict[str, bool] = {}  # unit at the level → reported its inputs
        ancestors = self.tree.ancestors
        for m in at_level:
            reported_m = m in have
            level_units[m] = reported_m
            cv = cvals.get(m)
            ok = cv is not None and satisfies(cv, cond.comparator, cond.value)
            if reported_m:
                # A unit at the level is covered or not by itself.
                vals[m] = 100.0 if ok else 0.0
                num[m] = 1.0 if ok else 0.0
                den[m] = 1.0
                for a in ancestors(m):
                    reported[a] = reported.get(a, 0) + 1
                    if ok:
                        satisfied[a] = satisfied.get(a, 0) + 1
        for a in reported:
            if a in level_units:
                continue  # a level unit nested in another keeps its own 100/0
            total = totals[a]
            s = satisfied.get(a, 0)
            vals[a] = s / total * 100
            num[a] = float(s)
            den[a] = float(total)
        return _IndicatorYear(
            vals, num, den, have, {}, coverage=(totals, reported, level_units, _below)
        )


@dataclass(slots=True)
class _IndicatorYear:
    """An indicator's values at every unit in one year, with what completeness needs."""

    values: YearValues
    numerators: YearValues | None
    denominators: YearValues | None
    reporters: set[str]
    child_counts: dict[str, int]
    coverage: tuple[dict[str, int], dict[str, int], dict[str, bool], set[str]] | None = None

    def completeness(self, unit: str, n_children: int) -> float | None:
        if self.coverage is not None:
            totals, reported, level_units, _below = self.coverage
            if unit in level_units:
                return 1.0 if level_units[unit] else 0.0
            total = totals.get(unit, 0)
            return reported.get(unit, 0) / total if total else None
        if n_children == 0:
            return 1.0 if unit in self.reporters else 0.0
        return self.child_counts.get(unit, 0) / n_children


def _inputs(ind: IndicatorSpec) -> list[str]:
    """The data elements an indicator reads."""
    out: list[str] = []
    if ind.element:
        out.append(ind.element)
    for r in (ind.ratio, ind.growth_of_ratio, ind.condition.ratio if ind.condition else None):
        if r is not None:
            out.extend((r.numerator, r.denominator))
    if ind.condition is not None and ind.condition.element:
        out.append(ind.condition.element)
    if ind.growth_of_element:
        out.append(ind.growth_of_element)
    return out


def _validate(ind: IndicatorSpec) -> None:
    def need(ok: object, what: str) -> None:
        if not ok:
            raise ValueError(f"indicator {ind.code!r} ({ind.kind}): {what}")

    need(ind.kind in KINDS, f"kind must be one of {', '.join(KINDS)}")
    need(ind.comparator in COMPARATORS, f"unknown comparator {ind.comparator!r}")
    need(ind.method in METHODS, f"unknown method {ind.method!r}")
    if ind.kind in ("value", "milestone"):
        need(ind.element, "needs an element")
    elif ind.kind == "ratio":
        need(ind.ratio, "needs a ratio")
    elif ind.kind == "coverage":
        need(ind.level, "needs a level")
        need(ind.condition, "needs a condition")
        cond = ind.condition
        need(cond and (cond.element or cond.ratio), "the condition needs an element or a ratio")
        need(cond and cond.comparator in COMPARATORS, "the condition has an unknown comparator")
    elif ind.kind == "growth":
        need(ind.growth_of_element or ind.growth_of_ratio, "needs an element or a ratio to grow")
        need(ind.growth_mode in ("percent", "points"), "growth mode must be percent or points")
        need(ind.growth_from_year is not None, "needs the year growth is measured from")


def compute_progress(
    *,
    indicators: Sequence[IndicatorSpec],
    elements: Mapping[str, ElementSpec],
    units: Sequence[OrgUnitNode] | OrgTree,
    values: Mapping[tuple[str, str, str], float],
    years: Sequence[int],
    as_of: date,
    only_units: set[str] | frozenset[str] | None = None,
    include_no_data: bool = True,
) -> list[ProgressResult]:
    """Progress rows for every indicator × org unit (the city and everything below it) × year.

    ``values`` maps ``(element code, org unit code, period string)`` to a float and holds only
    the values that count (approved, or also submitted for a preview). ``years`` are the years
    to report; baselines and forecasts are taken from these years too, so pass the whole range
    even when recomputing a single year. ``only_units`` limits the rows emitted (everything is
    still aggregated from the whole tree, so each row equals the same row of a full run); the
    indicator subset is simply the ``indicators`` passed. ``units`` may be a prebuilt
    :class:`OrgTree` to save re-indexing the tree on repeated calls. ``include_no_data=False`` drops rows
    with no value.

    Rows come per indicator in the given order, units in preorder from the city, years
    ascending.
    """
    for ind in indicators:
        _validate(ind)
    with _gc_paused():
        tree = units if isinstance(units, OrgTree) else OrgTree(units)
        out_years = sorted({y for y in years if date(y, 1, 1) <= as_of})
        engine = _Engine(indicators, elements, tree, values, out_years, as_of)
        rows: list[ProgressResult] = []
        for ind in indicators:
            rows.extend(_indicator_rows(engine, ind, only_units, include_no_data))
    return rows


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for one computation.

    The engine allocates hundreds of thousands of small objects (rows, per-unit dicts) while the
    caller's millions of value-key tuples are alive; every full collection re-walks all of them
    and more than doubled the run time at benchmark scale. Nothing here forms reference cycles,
    so reference counting frees everything; the collector's previous state is restored after.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _indicator_rows(
    engine: _Engine,
    ind: IndicatorSpec,
    only_units: set[str] | frozenset[str] | None,
    include_no_data: bool,
) -> list[ProgressResult]:
    tree = engine.tree
    units = tree.subtree(ind.city)
    if not units:
        return []
    years = engine.out_years
    if ind.kind == "growth":
        # Growth is only defined after the year it is measured from.
        years = [y for y in years if y > ind.growth_from_year]  # type: ignore[operator]
    if not years:
        return []
    if ind.kind == "coverage":
        _at, _totals, below = engine.coverage_frame(ind.level)  # type: ignore[arg-type]
        units = [u for u in units if u not in below]
    if only_units is not None:
        units = [u for u in units if u in only_units]
    if not units:
        return []

    per_year = [engine.indicator_year(ind, y) for y in years]
    t_of = [engine.t_of[y] for y in years]
    year_labels = [str(y) for y in years]
    is_total = (
        ind.kind == "value" and engine.elements[ind.element].aggregation == "sum"  # type: ignore[index]
    )
    city_values = [iy.values.get(ind.city) for iy in per_year] if is_total else None

    declared: tuple[float, date, int, str] | None = None
    if ind.baseline_value is not None and ind.baseline_period:
        period = Period.parse(ind.baseline_period)
        declared = (ind.baseline_value, period.end, period.year, str(period))

    deadline = ind.deadline
    deadline_ord = deadline.toordinal()
    x_of = [t.toordinal() - deadline_ord for t in t_of]
    use_cagr = ind.method == "cagr"
    target = ind.target
    comparator = ind.comparator
    rows: list[ProgressResult] = []
    children = tree.children

    for u in units:
        n_children = len(children[u])
        series = [iy.values.get(u) for iy in per_year]
        below_city_total = is_total and u != ind.city
        # The baseline: declared for the plan's city, else the earliest computed value here.
        if declared is not None and u == ind.city:
            b, b_date, b_year, b_label = declared
        else:
            b = b_date = b_year = b_label = None  # type: ignore[assignment]
            for i, v in enumerate(series):
                if v is not None:
                    b, b_date, b_year, b_label = v, t_of[i], years[i], year_labels[i]
                    break
        # Running least-squares sums: the forecast of a year uses the values up to that year.
        n = 0
        sx = sy = sxx = sxy = 0.0
        cagr_series: dict[int, float] = {}
        if use_cagr and declared is not None and u == ind.city:
            cagr_series[declared[2]] = declared[0]
        for i, v in enumerate(series):
            t = t_of[i]
            if v is not None:
                x = x_of[i]
                n += 1
                sx += x
                sy += v
                sxx += x * x
                sxy += x * v
                if use_cagr and not (declared is not None and u == ind.city and years[i] == b_year):
                    cagr_series[years[i]] = v
            if v is None and not include_no_data:
                continue
            iy = per_year[i]
            forecast = _fit_at_zero(n, sx, sy, sxx, sxy) if n >= 2 else None
            num = iy.numerators.get(u) if iy.numerators is not None else None
            den = iy.denominators.get(u) if iy.denominators is not None else None
            completeness = iy.completeness(u, n_children)
            ratio = score = share = expected = pct = None
            row_target = None
            base: tuple[int, float] | None = None  # the cagr base, when the method uses one
            if below_city_total:
                status = NO_DATA if v is None else NO_TARGET
                total = city_values[i] if city_values is not None else None
                if v is not None and total:
                    share = _finite(v / total * 100)
            elif target is None:
                # No target: only the cagr method has something to say (its no-target variant).
                status = NO_DATA if v is None else NO_TARGET
                if use_cagr and v is not None:
                    status, ratio, score, base = _cagr_row(ind, cagr_series, years[i], v, b, b_year)
            else:
                row_target = target
                status, expected = classify(
                    v, t, target, comparator, deadline, b, b_date, ind.at_risk_fraction
                )
                pct = percent_of_target(v, target, comparator)
                if use_cagr and v is not None:
                    status, ratio, score, base = _cagr_row(ind, cagr_series, years[i], v, b, b_year)
            rows.append(
                ProgressResult(
                    indicator=ind.code,
                    org_unit=u,
                    period=year_labels[i],
                    value=v,
                    numerator=num,
                    denominator=den,
                    target=row_target,
                    comparator=comparator,
                    deadline=deadline,
                    percent_of_target=pct,
                    expected=_finite(expected),
                    status=status,
                    forecast=forecast,
                    completeness=completeness,
                    share_of_total=share,
                    ratio=ratio,
                    score=score,
                    baseline=b if base is None else base[1],
                    baseline_period=b_label if base is None else str(base[0]),
                )
            )
    return rows


def _cagr_row(
    ind: IndicatorSpec,
    series: Mapping[int, float],
    year: int,
    value: float,
    baseline: float | None,
    baseline_year: int | None,
) -> tuple[str, float | None, float | None, tuple[int, float] | None]:
    """Status, R (or v), score and base ``(year, value)`` of one row under the cagr method.

    The base year asked for is the indicator's declared baseline period at every unit (one
    window for the whole plan, as an SDG platform configures one base year per series), else
    the unit's earliest year with a value; the base is the first year at or after it with a
    value, up to the row's year. At the city a declared baseline value is that year's value."""
    if ind.baseline_period:
        asked = Period.parse(ind.baseline_period).year
    else:
        asked = baseline_year if baseline_year is not None else year
    visible = {y: v for y, v in series.items() if y <= year}
    base = select_base(visible, asked)
    target = ind.target
    if target is None:
        direction = -1 if ind.comparator in ("<=", "<") else 1
    else:
        direction = 1 if higher_is_better(ind.comparator, baseline, target) else -1
    if base is None:
        result = cagr_progress(None, None, year, value, target, ind.deadline.year, direction)
    else:
        result = cagr_progress(
            base[0], base[1], year, value, target, ind.deadline.year, direction, ind.limit
        )
    status = ACHIEVED if result.status == TARGET_ACHIEVED else result.status
    return status, _finite(result.progress_value), result.score, base

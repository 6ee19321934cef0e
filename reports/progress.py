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
4. **Indicator value** by kind — ``value``, ``ratio``, ``coverage``, ``growth``, ``milestone``;
   see :class:`IndicatorSpec`.
5. **Status** by the SPEC §3 straight-line rule (:func:`classify`) or, for ``method='cagr'``, the
   Statistics Canada / Open SDG measure (:mod:`reports.cagr`). A milestone is a task, not a
   quantity on a line: done is ``achieved``, not done before its deadline ``on_track``, not done
   from the deadline on ``missed``.

Ratios with missing children (the rule, so a parent's figure is explainable from its children)
-----------------------------------------------------------------------------------------------
A ratio is a ratio of sums, never an average of ratios. A unit that reported both parts itself
uses them. Otherwise its numerator and denominator are summed **only over the children that
have both parts** (themselves by this same rule): a child with a denominator but no numerator
(a town that reported its leading cadres but not how many were trained) is left out of both
sums, instead of adding to the denominator alone and dragging the parent down. So a parent's
ratio always lies between its reporting children's smallest and largest ratios. Failing any
child with both parts, the parts as aggregated separately are used (a town that reports a count
itself over the population its communities report). Each row says what the figure rests on:
``reporting_units`` of ``expected_units`` (direct children that exist that year; for a coverage,
the units at the level). Completeness is their quotient.

Groups and dates
----------------
An org unit carries groups (DHIS2-style: ``urban_community``, ``rural_village``, ``town``,
``subdistrict``, ``zone``…) and may carry opening and closing dates. A coverage or ratio
restricted to a group counts only the units of the group: a coverage's units at the level must
be members; a ratio sums its parts only over members (and what lies below them), and units with
no member at or below them get no row. A unit exists in a year when it opened by 31 December and
had not closed before 1 January (and the unit above it existed); in other years its figures do
not count, it is not expected to report (completeness, coverage denominators) and it gets no row.

Rows are emitted for the plan's city and every unit below it (units below a coverage's level
excepted, see :class:`IndicatorSpec`).
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from itertools import compress, repeat

from core.periods import Period

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
    groups: frozenset[str] = frozenset()
    opened: date | None = None
    closed: date | None = None

    def exists_in(self, year: int) -> bool:
        """Whether the unit existed at some time in ``year``."""
        return (self.opened is None or self.opened <= date(year, 12, 31)) and (
            self.closed is None or self.closed >= date(year, 1, 1)
        )


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
    - ``ratio`` — ``ratio``: a ratio of sums over the children that report both parts (see the
      module's "Ratios with missing children").
    - ``coverage`` — percent of the units at ``level`` under the unit that satisfy
      ``condition``. Units that reported nothing for the condition count as not satisfying it
      (and lower completeness); a unit with no unit at ``level`` below it that reported anything
      has no value. A unit *at* the level gets 100 or 0 for itself; units *below* the level get
      no rows.
    - ``growth`` — yearly growth of ``growth_of_element`` or ``growth_of_ratio`` since
      ``growth_from_year``: compound percent (``growth_mode='percent'``) or points a year
      (``'points'``). Rows start the year after ``growth_from_year``.
    - ``milestone`` — a boolean ``element``; done when its value is 1.

    ``group`` restricts a ``coverage`` or ``ratio`` to the units of one org-unit group.

    ``allocations`` are the units below the city that hold a target of their own (目标任务分解):
    ``(unit code, target, deadline)``. Such a unit is judged against its own target and deadline
    by the same rule, from its own earliest value; a total so allocated gets a status too.

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
    group: str | None = None
    allocations: tuple[tuple[str, float, date], ...] = ()


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
    the cagr method, the base the growth was measured from). ``reporting_units`` of
    ``expected_units`` is what the figure rests on: the direct children (existing that year, in
    the indicator's group if it has one) that have the inputs, of all of them; for a coverage,
    the units at the level that reported, of all of them; ``None`` for a unit that reported the
    figure itself with no child reporting.
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
    reporting_units: int | None = None
    expected_units: int | None = None


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


def milestone_status(
    value: float | None, t: date, target: float, comparator: str, deadline: date
) -> str:
    """A dated task: ``achieved`` when done, ``missed`` when not done by the deadline, and
    ``on_track`` (in progress) before it — never judged against a straight line from 0 to 1."""
    if value is None:
        return NO_DATA
    if satisfies(value, comparator, target):
        return ACHIEVED
    return MISSED if t >= deadline else ON_TRACK


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
        self.node: dict[str, OrgUnitNode] = {}
        for unit in units:
            self.level[unit.code] = unit.level
            raw_parent[unit.code] = unit.parent
            self.node[unit.code] = unit
        # Whether any unit has opening or closing dates: without, every unit exists every year.
        self.dated = any(u.opened is not None or u.closed is not None for u in self.node.values())
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
        self._indexed: tuple[list[str], dict[str, int], list[int], list[int]] | None = None

    def _index(self) -> tuple[list[str], dict[str, int], list[int], list[int]]:
        """Every unit in preorder (roots in order, then as :meth:`subtree`), with each unit's
        position, its parent's position (-1 at a root) and its subtree's size: the subtree of
        the unit at position ``i`` is ``order[i : i + size[i]]``. Built once per tree."""
        if self._indexed is None:
            order: list[str] = []
            stack = list(reversed(self.roots))
            children = self.children
            while stack:
                u = stack.pop()
                order.append(u)
                stack.extend(reversed(children[u]))
            pos = {u: i for i, u in enumerate(order)}
            parent = self.parent
            parents = [-1 if (p := parent[u]) is None else pos[p] for u in order]
            size = [1] * len(order)
            for i in range(len(order) - 1, -1, -1):
                p = parents[i]
                if p >= 0:
                    size[p] += size[i]
            self._indexed = (order, pos, parents, size)
        return self._indexed

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
# The engine
# ---------------------------------------------------------------------------------------------

YearValues = dict[str, float]  # org unit → value, for one element and sub-period

Column = list  # one entry per unit of a _Frame, by position: a float, or None for no value


class _Frame:
    """The units one computation reads and reports on: the subtrees of the indicators' cities,
    in the tree's preorder, each known by its position. A parent comes before its children, so
    one backwards sweep over the positions aggregates a whole column bottom-up, and a city's
    subtree is one slice. Units elsewhere in the tree cannot change any row and are left out."""

    __slots__ = ("codes", "groups", "level", "n_children", "nodes", "parent", "pos", "size")

    def __init__(self, tree: OrgTree, cities: Iterable[str]) -> None:
        order, gpos, gparent, gsize = tree._index()
        spans = sorted({(gpos[c], gpos[c] + gsize[gpos[c]]) for c in cities if c in gpos})
        codes: list[str] = []
        parent: list[int] = []
        end = -1
        for a, b in spans:
            if a < end:
                continue  # a subtree inside the previous one
            shift = a - len(codes)
            codes.extend(order[a:b])
            parent.extend(p - shift if p >= a else -1 for p in gparent[a:b])
            end = b
        n = len(codes)
        self.codes = codes
        self.pos = {u: i for i, u in enumerate(codes)}
        # Position -1 (the parent of a subtree's root) indexes the extra last slot of every
        # per-parent accumulator below, so the hot loops need no test for it.
        self.parent = parent
        kids = [0] * (n + 1)
        for p in parent:
            kids[p] += 1
        self.n_children = kids
        size = [1] * n
        for i in range(n - 1, -1, -1):
            p = parent[i]
            if p >= 0:
                size[p] += size[i]
        self.size = size
        self.level = [tree.level[u] for u in codes]
        self.nodes = [tree.node[u] for u in codes]
        self.groups = [node.groups for node in self.nodes]


def _read_own(
    values: Mapping[tuple[str, str, str], float],
    elements: Mapping[str, ElementSpec],
    needed: Iterable[str],
    data_years: set[int],
    as_of: date,
    pos: Mapping[str, int],
) -> dict[str, dict[int, Column]]:
    """The roll-up of months and quarters into years (the one in the engine; the SQL of
    ``reports.services`` pre-applies the same rule on PostgreSQL): each needed element's own
    value per year at every position of the frame (``None`` where the unit reported nothing);
    units outside the frame and periods outside ``data_years`` or beginning after ``as_of`` are
    dropped. A value entered for the year itself wins; failing that, sub-periods of the
    element's declared period type, then those of the other sub-period type (months before
    quarters for a yearly element); ``sum`` for flows, the latest sub-period for stocks."""
    n = len(pos)
    _SKIP, _COLUMN, _SET, _ADD = 0, 1, 2, 3
    routes: dict[str, dict[str, tuple[int, Column | dict[str, float] | None]]] = {
        e: {} for e in needed
    }
    own_year: dict[tuple[str, int], Column] = {}
    flows: dict[tuple[str, int, int], YearValues] = {}
    stocks: dict[tuple[str, int, int], list[tuple[Period, YearValues]]] = {}

    def route(element: str, text: str) -> tuple[int, Column | dict[str, float] | None]:
        period = Period.parse(text)
        if period.year not in data_years or period.start > as_of:
            return _SKIP, None
        rank = period.type_rank
        if rank == _YEAR_RANK:
            column = own_year.get((element, period.year))
            if column is None:
                column = own_year[(element, period.year)] = [None] * n
            return _COLUMN, column
        if elements[element].temporal == "sum":
            return _ADD, flows.setdefault((element, period.year, rank), {})
        target: YearValues = {}
        stocks.setdefault((element, period.year, rank), []).append((period, target))
        return _SET, target

    get_pos = pos.get
    get_routes = routes.get
    # The unit first: a computation for one city skips the other cities' values at once.
    for (element, unit, text), value in values.items():
        i = get_pos(unit)
        if i is None:
            continue
        element_routes = get_routes(element)
        if element_routes is None:
            continue
        r = element_routes.get(text)
        if r is None:
            r = element_routes[text] = route(element, text)
        mode, target = r
        if mode == _COLUMN:
            target[i] = value  # type: ignore[index]
        elif mode == _SET:
            target[unit] = value  # type: ignore[index]
        elif mode == _ADD:
            target[unit] = target.get(unit, 0.0) + value  # type: ignore[union-attr]

    sub: dict[tuple[str, int, int], YearValues] = dict(flows)
    for key, parts in stocks.items():
        merged: YearValues = {}
        for _period, part in sorted(parts, key=lambda pp: pp[0].end):
            merged.update(part)
        sub[key] = merged

    out: dict[str, dict[int, Column]] = {e: {} for e in routes}
    for (element, year), column in own_year.items():
        out[element][year] = column
    for element, year in {(e, y) for (e, y, _rank) in sub}:
        declared = _RANK_OF_TYPE.get(elements[element].period_type, _YEAR_RANK)
        # Lowest priority first; filled here highest first, each part
        # only where nothing of higher priority (the year's own value first) is there yet.
        order = sorted((_MONTH_RANK, _QUARTER_RANK), key=lambda r: (r == declared, -r))
        by_year = out[element]
        column = by_year.get(year)
        if column is None:
            column = by_year[year] = [None] * n
        for rank in reversed(order):
            part = sub.get((element, year, rank))
            if not part:
                continue
            for u, v in part.items():
                i = get_pos(u)
                if i is not None and column[i] is None:
                    column[i] = v
    return out


def _aggregate_column(
    own: Column, rule: str, parent: list[int], weights: Column | None = None
) -> Column:
    """A column up the tree: each unit's own value, else its children's values combined by
    ``rule`` (``sum``; ``average`` of the children with a value; ``weighted_average`` by
    ``weights``, skipping children without a weight, no value when the weights sum to zero;
    ``none``: own values only). One backwards sweep over the positions, each unit's value
    complete before it is passed to its parent."""
    n = len(own)
    if rule == "none":
        return own
    out = own[:]
    if rule == "sum":
        acc: list[float | None] = [None] * (n + 1)
        for i in range(n - 1, -1, -1):
            v = out[i]
            if v is None:
                v = acc[i]
                if v is None:
                    continue
                out[i] = v
            p = parent[i]
            a = acc[p]
            acc[p] = 0.0 + v if a is None else a + v
    elif rule == "average":
        sums: list[float | None] = [None] * (n + 1)
        counts = [0] * (n + 1)
        for i in range(n - 1, -1, -1):
            v = out[i]
            if v is None:
                s = sums[i]
                if s is None:
                    continue
                v = out[i] = s / counts[i]
            p = parent[i]
            a = sums[p]
            sums[p] = 0.0 + v if a is None else a + v
            counts[p] += 1
    elif rule == "weighted_average":
        w = weights if weights is not None else [None] * n
        wsum: list[float | None] = [None] * (n + 1)
        wtot = [0.0] * (n + 1)
        for i in range(n - 1, -1, -1):
            v = out[i]
            if v is None:
                s = wsum[i]
                if s is None or wtot[i] == 0:
                    continue
                v = out[i] = s / wtot[i]
            weight = w[i]
            if weight is None:
                continue
            p = parent[i]
            a = wsum[p]
            wsum[p] = 0.0 + weight * v if a is None else a + weight * v
            wtot[p] += weight
    else:
        raise ValueError(f"unknown aggregation {rule!r}")
    return out


# An indicator in one year at every position of the frame: values, numerators, denominators
# (None for kinds without parts), completeness, and the units reporting and expected (None
# where the unit's figure does not rest on units below it).
_IndicatorYear = tuple[Column, Column | None, Column | None, Column, Column, Column]
# Per unit: has the inputs, completeness, children reporting, children expected.
_Reporters = tuple[list[bool], Column, Column, Column]


class _Engine:
    """One computation: the aggregated element columns per year, shared by all indicators."""

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
        frame = self.frame = _Frame(tree, {ind.city for ind in indicators})
        n = len(frame.codes)
        self.empty: Column = [None] * n  # shared, never written to
        own = self.own = _read_own(values, elements, order, data_years, as_of, frame.pos)
        self._exists_cache: dict[int, list[bool]] = {}
        if tree.dated:
            # Figures of a unit for a year it did not exist in do not count anywhere.
            for per_year_own in own.values():
                for year, column in per_year_own.items():
                    exists = self.exists(year)
                    if not all(exists):
                        per_year_own[year] = [
                            v if e else None for v, e in zip(column, exists, strict=True)
                        ]
        # agg[element][year] — weight elements come first in `order`, so they are ready when a
        # weighted average needs them.
        self.agg: dict[str, dict[int, Column]] = {}
        for code in order:
            spec = elements[code]
            own_columns = own[code]
            per_year: dict[int, Column] = {}
            for year in data_years:
                column = own_columns.get(year)
                if column is None:
                    per_year[year] = self.empty
                    continue
                weights = (
                    self.agg[spec.weight][year]
                    if spec.aggregation == "weighted_average" and spec.weight
                    else None
                )
                per_year[year] = _aggregate_column(column, spec.aggregation, frame.parent, weights)
            self.agg[code] = per_year
        self._ratio_cache: dict[tuple[str, str, float, int, str | None], _IndicatorYear] = {}
        self._count_cache: dict[tuple[tuple[str, ...], int], _Reporters] = {}
        self._expected_cache: dict[int, list[int]] = {}
        self._group_cache: dict[str, tuple[list[bool], list[bool], list[bool]]] = {}
        self._coverage_cache: dict[str, tuple[list[bool], list[int], list[bool]]] = {}
        self._indicator_cache: dict[tuple[object, ...], _IndicatorYear] = {}

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

    def element_values(self, code: str, year: int) -> Column:
        return self.agg[code].get(year, self.empty)

    def exists(self, year: int) -> list[bool]:
        """Whether each unit existed in ``year`` (opened by its end, not closed before it)."""
        cached = self._exists_cache.get(year)
        if cached is None:
            nodes = self.frame.nodes
            if not self.tree.dated:
                cached = [True] * len(nodes)
            else:
                # A unit below one that did not exist did not exist either (parents come first).
                cached = [node.exists_in(year) for node in nodes]
                for i, p in enumerate(self.frame.parent):
                    if p >= 0 and not cached[p]:
                        cached[i] = False
            self._exists_cache[year] = cached
        return cached

    def expected_children(self, year: int) -> list[int]:
        """How many direct children of each unit existed in ``year`` (one extra slot, -1)."""
        cached = self._expected_cache.get(year)
        if cached is None:
            if not self.tree.dated:
                cached = self.frame.n_children
            else:
                cached = [0] * (len(self.frame.parent) + 1)
                for p in compress(self.frame.parent, self.exists(year)):
                    cached[p] += 1
            self._expected_cache[year] = cached
        return cached

    def group_scope(self, group: str) -> tuple[list[bool], list[bool], list[bool]]:
        """For a group: whether each unit is a member, whether it is a member or lies below
        one (its figures belong to the group), and whether it is that or has a member below it
        (it gets a row)."""
        cached = self._group_cache.get(group)
        if cached is None:
            frame = self.frame
            parent = frame.parent
            n = len(parent)
            member = [group in g for g in frame.groups]
            in_scope = member[:]
            for i in range(n):
                p = parent[i]
                if p >= 0 and in_scope[p]:
                    in_scope[i] = True
            relevant = in_scope[:]
            for i in range(n - 1, -1, -1):
                p = parent[i]
                if p >= 0 and relevant[i]:
                    relevant[p] = True
            cached = (member, in_scope, relevant)
            self._group_cache[group] = cached
        return cached

    def ratio_values(self, spec: RatioSpec, year: int) -> Column:
        """numerator / denominator × factor at every unit (see :meth:`ratio_year`)."""
        return self.ratio_year(spec, year)[0]

    def ratio_year(self, spec: RatioSpec, year: int, group: str | None = None) -> _IndicatorYear:
        """A ratio of sums at every unit, by the rule of missing children (module docstring):
        a unit's own two parts; else the sums over its children that have both parts (and a
        non-zero denominator); else the parts as aggregated separately. With a ``group``, only
        members and the units below them count, and the units above them sum their children."""
        key = (spec.numerator, spec.denominator, spec.factor, year, group)
        cached = self._ratio_cache.get(key)
        if cached is not None:
            return cached
        own_n = self.own[spec.numerator].get(year, self.empty)
        own_d = self.own[spec.denominator].get(year, self.empty)
        agg_n = self.element_values(spec.numerator, year)
        agg_d = self.element_values(spec.denominator, year)
        frame = self.frame
        parent = frame.parent
        n = len(parent)
        exists = self.exists(year)
        if group is None:
            in_scope: list[bool] | None = None
            expected = self.expected_children(year)
        else:
            _member, in_scope, relevant = self.group_scope(group)
            expected = [0] * (n + 1)
            for i in range(n):
                if exists[i] and relevant[i]:
                    expected[parent[i]] += 1
        factor = spec.factor
        acc_n = [0.0] * (n + 1)
        acc_d = [0.0] * (n + 1)
        rep = [0] * (n + 1)
        nums: Column = [None] * n
        dens: Column = [None] * n
        vals: Column = [None] * n
        completeness: Column = [None] * n
        reporting: Column = [None] * n
        expecting: Column = [None] * n
        for i in range(n - 1, -1, -1):
            counted = in_scope is None or in_scope[i]
            k = expected[i]
            r = rep[i]
            a, b = own_n[i], own_d[i]
            itself = counted and a is not None and b is not None
            if itself:
                x, y = a, b
            elif r:
                x, y = acc_n[i], acc_d[i]
            elif counted and (a := agg_n[i]) is not None and (b := agg_d[i]) is not None:
                x, y = a, b
            else:
                x = y = None
            has = y is not None and y != 0
            if x is not None:
                nums[i] = x
                dens[i] = y
                if has:
                    vals[i] = x / y * factor  # type: ignore[operator]
            # Completeness: the share of the expected children that report both parts; a unit
            # that has the figure while none of its children do reported it itself.
            if k == 0 or (has and r == 0):
                completeness[i] = 1.0 if has else 0.0
            else:
                completeness[i] = r / k
                if not itself:  # (a figure the unit reported itself does not rest on them)
                    reporting[i] = r
                    expecting[i] = k
            if has and exists[i]:
                p = parent[i]
                acc_n[p] += x  # type: ignore[operator]
                acc_d[p] += y  # type: ignore[operator]
                rep[p] += 1
        cached = (vals, nums, dens, completeness, reporting, expecting)
        self._ratio_cache[key] = cached
        return cached

    def reporters(self, inputs: tuple[str, ...], year: int) -> _Reporters:
        """Whether each unit has every input (own or aggregated) in ``year``; each unit's
        completeness: for a leaf 1 or 0, else the share of its direct children (existing that
        year) that have them (1 when the unit has them and none of its children do: it reported
        them itself); and the children reporting and expected behind that share."""
        key = (inputs, year)
        cached = self._count_cache.get(key)
        if cached is None:
            columns = [self.element_values(e, year) for e in inputs]
            if len(columns) == 1:
                have = [v is not None for v in columns[0]]
            elif len(columns) == 2:
                have = [
                    a is not None and b is not None
                    for a, b in zip(columns[0], columns[1], strict=True)
                ]
            else:
                have = [all(v is not None for v in vs) for vs in zip(*columns, strict=True)]
            frame = self.frame
            counted = have
            if self.tree.dated:
                counted = [h and e for h, e in zip(have, self.exists(year), strict=True)]
            counts = [0] * (len(have) + 1)
            for p in compress(frame.parent, counted):
                counts[p] += 1
            expected = self.expected_children(year)
            # (expected has one more entry, the slot of position -1)
            # A unit that has the inputs while none of its children do reported them itself
            # (a town-level figure): its children were never expected to, so it is complete.
            own = [
                k == 0 or (h and c == 0) for h, c, k in zip(have, counts, expected, strict=False)
            ]
            completeness = [
                (1.0 if h else 0.0) if o else c / k
                for h, c, k, o in zip(have, counts, expected, own, strict=False)
            ]
            # A figure the unit reported itself does not rest on its children either.
            own_columns = [self.own[e].get(year, self.empty) for e in inputs]
            if len(own_columns) == 1:
                itself = [v is not None for v in own_columns[0]]
            else:
                itself = [all(v is not None for v in vs) for vs in zip(*own_columns, strict=True)]
            reporting = [
                None if o or me else c for c, o, me in zip(counts, own, itself, strict=False)
            ]
            expecting = [
                None if o or me else k for k, o, me in zip(expected, own, itself, strict=False)
            ]
            cached = (have, completeness, reporting, expecting)
            self._count_cache[key] = cached
        return cached

    def coverage_frame(self, level: str) -> tuple[list[bool], list[int], list[bool]]:
        """For a coverage level: whether each unit is at that level, how many units at the
        level lie under it, and whether it lies below the level (no coverage rows there)."""
        cached = self._coverage_cache.get(level)
        if cached is None:
            members = COVERAGE_LEVEL_MEMBERS.get(level, frozenset({level}))
            frame = self.frame
            parent = frame.parent
            n = len(parent)
            at_level = [lv in members for lv in frame.level]
            totals = [0] * (n + 1)
            for i in range(n - 1, -1, -1):
                totals[parent[i]] += totals[i] + at_level[i]
            # A subtree's root is below the level when a unit above it (outside the frame) is
            # at the level; everything else follows its parent.
            tree = self.tree
            below = [False] * n
            for i in range(n):
                p = parent[i]
                if p >= 0:
                    below[i] = below[p] or at_level[p]
                else:
                    below[i] = any(tree.level[a] in members for a in tree.ancestors(frame.codes[i]))
            cached = (at_level, totals, below)
            self._coverage_cache[level] = cached
        return cached

    # -- indicator values --------------------------------------------------------------------

    def indicator_year(self, ind: IndicatorSpec, year: int) -> _IndicatorYear:
        """The indicator's values (and parts, completeness, units reporting and expected) at
        every unit in ``year``."""
        kind = ind.kind
        if kind in ("value", "milestone"):
            _have, completeness, reporting, expected = self.reporters((ind.element,), year)  # type: ignore[arg-type]
            values = self.element_values(ind.element, year)  # type: ignore[arg-type]
            return values, None, None, completeness, reporting, expected
        if kind == "ratio":
            return self.ratio_year(ind.ratio, year, ind.group)  # type: ignore[arg-type]
        if kind == "growth":
            key: tuple[object, ...] = (
                "growth",
                ind.growth_of_element,
                ind.growth_of_ratio,
                ind.growth_mode,
                ind.growth_from_year,
                year,
            )
            cached = self._indicator_cache.get(key)
            if cached is None:
                cached = self._indicator_cache[key] = self._growth_year(ind, year)
            return cached
        if kind == "coverage":
            key = ("coverage", ind.level, ind.condition, ind.group, year)
            cached = self._indicator_cache.get(key)
            if cached is None:
                cached = self._indicator_cache[key] = self._coverage_year(ind, year)
            return cached
        raise ValueError(f"indicator {ind.code!r}: unknown kind {kind!r}")

    def _growth_year(self, ind: IndicatorSpec, year: int) -> _IndicatorYear:
        base_year: int = ind.growth_from_year  # type: ignore[assignment]
        span = year - base_year
        if ind.growth_of_ratio is not None:
            r = ind.growth_of_ratio
            x_now = self.ratio_values(r, year) if span > 0 else self.empty
            x_from = self.ratio_values(r, base_year) if span > 0 else self.empty
            inputs: tuple[str, ...] = (r.numerator, r.denominator)
        else:
            code: str = ind.growth_of_element  # type: ignore[assignment]
            x_now = self.element_values(code, year) if span > 0 else self.empty
            x_from = self.element_values(code, base_year) if span > 0 else self.empty
            inputs = (code,)
        mode: str = ind.growth_mode  # type: ignore[assignment]
        vals = [
            None if x is None or x0 is None else growth_value(x, x0, span, mode)
            for x, x0 in zip(x_now, x_from, strict=True)
        ]
        _have, completeness, reporting, expected = self.reporters(inputs, year)
        return vals, None, None, completeness, reporting, expected

    def _coverage_year(self, ind: IndicatorSpec, year: int) -> _IndicatorYear:
        cond: ConditionSpec = ind.condition  # type: ignore[assignment]
        at_level, totals, _below = self.coverage_frame(ind.level)  # type: ignore[arg-type]
        parent = self.frame.parent
        n = len(parent)
        if ind.group is not None or self.tree.dated:
            # Only the units of the group that existed that year are counted, and only they
            # make the denominators.
            exists = self.exists(year)
            member = self.group_scope(ind.group)[0] if ind.group is not None else exists
            at_level = [a and e and m for a, e, m in zip(at_level, exists, member, strict=True)]
            totals = [0] * (n + 1)
            for i in range(n - 1, -1, -1):
                totals[parent[i]] += totals[i] + at_level[i]
        if cond.ratio is not None:
            cvals = self.ratio_values(cond.ratio, year)
            inputs: tuple[str, ...] = (cond.ratio.numerator, cond.ratio.denominator)
        else:
            cvals = self.element_values(cond.element, year)  # type: ignore[arg-type]
            inputs = (cond.element,)  # type: ignore[assignment]
        have = self.reporters(inputs, year)[0]
        met = _meets(cvals, cond.comparator, cond.value)
        # A unit at the level that reported is covered (100) or not (0) by itself, and keeps
        # its own 100/0 even when other units at the level lie under it.
        counted = [lv and h for lv, h in zip(at_level, have, strict=True)]
        vals: Column = [
            (100.0 if m else 0.0) if c else None for c, m in zip(counted, met, strict=True)
        ]
        num: Column = [
            (1.0 if m else 0.0) if c else None for c, m in zip(counted, met, strict=True)
        ]
        den: Column = [1.0 if c else None for c in counted]
        completeness: Column = [
            (1.0 if h else 0.0) if lv else None for lv, h in zip(at_level, have, strict=True)
        ]
        reporting: Column = [None] * n
        expected: Column = [None] * n
        reported = [0] * (n + 1)  # units at the level under each unit that reported
        satisfied = [0] * (n + 1)  # … and satisfy the condition
        for i in range(n - 1, -1, -1):
            r, s = reported[i], satisfied[i]
            if counted[i]:
                r += 1
                s += met[i]
            elif not at_level[i]:
                total = totals[i]
                if r:
                    vals[i] = s / total * 100
                    num[i] = float(s)
                    den[i] = float(total)
                if total:
                    completeness[i] = r / total
                    reporting[i] = r
                    expected[i] = total
            p = parent[i]
            reported[p] += r
            satisfied[p] += s
        return vals, num, den, completeness, reporting, expected


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
    need(
        ind.group is None or ind.kind in ("coverage", "ratio"),
        "only a coverage or a ratio has a group",
    )
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
    frame = engine.frame
    city = frame.pos.get(ind.city)
    if city is None:
        return []
    years = engine.out_years
    if ind.kind == "growth":
        # Growth is only defined after the year it is measured from.
        years = [y for y in years if y > ind.growth_from_year]  # type: ignore[operator]
    if not years:
        return []
    positions: Sequence[int] = range(city, city + frame.size[city])  # the city's subtree
    if ind.kind == "coverage":
        _at, _totals, below = engine.coverage_frame(ind.level)  # type: ignore[arg-type]
        positions = [i for i in positions if not below[i]]
    if ind.group is not None and ind.kind in ("coverage", "ratio"):
        # Units with no member of the group at or below them have nothing to show.
        relevant = engine.group_scope(ind.group)[2]
        positions = [i for i in positions if relevant[i]]
    if only_units is not None:
        codes = frame.codes
        positions = [i for i in positions if codes[i] in only_units]
    if not positions:
        return []

    per_year = [engine.indicator_year(ind, y) for y in years]
    is_total = (
        ind.kind == "value" and engine.elements[ind.element].aggregation == "sum"  # type: ignore[index]
    )
    # Rows in preorder from the city: the city's own row first. With one year and the linear
    # method, the rows below the city need no per-unit history and are built column-wise.
    if len(years) == 1 and ind.method == "linear" and not ind.allocations:
        head = [i for i in positions[:1] if i == city]
        rows = _unit_rows(engine, ind, head, years, per_year, is_total, include_no_data)
        rows.extend(
            _rows_below_city_one_year(
                engine,
                ind,
                positions[len(head) :],
                years[0],
                per_year[0],
                is_total,
                include_no_data,
            )
        )
        return rows
    return _unit_rows(engine, ind, positions, years, per_year, is_total, include_no_data)


def _unit_rows(
    engine: _Engine,
    ind: IndicatorSpec,
    positions: Sequence[int],
    years: list[int],
    per_year: list[_IndicatorYear],
    is_total: bool,
    include_no_data: bool,
) -> list[ProgressResult]:
    """The rows of the units at ``positions``, unit by unit, each over its years."""
    if not positions:
        return []
    frame = engine.frame
    city = frame.pos[ind.city]
    t_of = [engine.t_of[y] for y in years]
    year_labels = [str(y) for y in years]
    value_columns = [iy[0] for iy in per_year]
    city_values = [column[city] for column in value_columns] if is_total else None

    declared: tuple[float, date, int, str] | None = None
    if ind.baseline_value is not None and ind.baseline_period:
        period = Period.parse(ind.baseline_period)
        declared = (ind.baseline_value, period.end, period.year, str(period))

    code = ind.code
    deadline = ind.deadline
    deadline_ord = deadline.toordinal()
    x_of = city_x_of = [t.toordinal() - deadline_ord for t in t_of]
    use_cagr = ind.method == "cagr"
    target = ind.target
    comparator = ind.comparator
    at_risk_fraction = ind.at_risk_fraction
    rows: list[ProgressResult] = []
    append = rows.append
    codes = frame.codes
    year_range = range(len(years))

    exists = [engine.exists(y) for y in years]
    milestone = ind.kind == "milestone"
    allocated = {u: (t, d) for u, t, d in ind.allocations}
    for p in positions:
        u = codes[p]
        at_city = p == city
        series = [column[p] for column in value_columns]
        own = allocated.get(u) if not at_city else None
        if own is not None:
            target, deadline = own
            # (the forecast is evaluated at the unit's own deadline)
            x_of = [t.toordinal() - deadline.toordinal() for t in t_of]
        else:
            target, deadline, x_of = ind.target, ind.deadline, city_x_of
        below_city_total = is_total and not at_city and own is None
        # The baseline: declared for the plan's city, else the earliest computed value here.
        if declared is not None and at_city:
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
        if use_cagr and declared is not None and at_city:
            cagr_series[declared[2]] = declared[0]
        for i in year_range:
            v = series[i]
            t = t_of[i]
            if v is not None:
                x = x_of[i]
                n += 1
                sx += x
                sy += v
                sxx += x * x
                sxy += x * v
                if use_cagr and not (declared is not None and at_city and years[i] == b_year):
                    cagr_series[years[i]] = v
            if (v is None and not include_no_data) or not exists[i][p]:
                continue  # (a unit gets no row for a year before it opened or after it closed)
            _vals, nums, dens, completeness, reporting, expecting = per_year[i]
            forecast = _fit_at_zero(n, sx, sy, sxx, sxy) if n >= 2 else None
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
                if milestone:
                    status = milestone_status(v, t, target, comparator, deadline)
                else:
                    status, expected = classify(
                        v, t, target, comparator, deadline, b, b_date, at_risk_fraction
                    )
                pct = percent_of_target(v, target, comparator)
                if use_cagr and v is not None:
                    status, ratio, score, base = _cagr_row(
                        ind, cagr_series, years[i], v, b, b_year, own
                    )
            append(
                ProgressResult(
                    code,
                    u,
                    year_labels[i],
                    v,
                    None if nums is None else nums[p],
                    None if dens is None else dens[p],
                    row_target,
                    comparator,
                    deadline,
                    pct,
                    _finite(expected),
                    status,
                    forecast,
                    completeness[p],
                    share,
                    ratio,
                    score,
                    b if base is None else base[1],
                    b_label if base is None else str(base[0]),
                    reporting[p],
                    expecting[p],
                )
            )
    return rows


def _rows_below_city_one_year(
    engine: _Engine,
    ind: IndicatorSpec,
    positions: Sequence[int],
    year: int,
    iy: _IndicatorYear,
    is_total: bool,
    include_no_data: bool,
) -> list[ProgressResult]:
    """The rows of units below the city when there is one year and the linear method, column by
    column; the same rows :func:`_unit_rows` gives. With one year a unit's baseline is its value
    of that very year, never dated before it, so no row is on the line: a value is ``achieved``,
    ``missed`` (from the deadline on) or ``not_assessable``, with no expected value and no
    forecast; a total below the city has no target and its share of the city total."""
    if engine.tree.dated:
        exists = engine.exists(year)
        positions = [i for i in positions if exists[i]]
    if not positions:
        return []
    values, nums, dens, completeness, reporting, expecting = iy
    pick = _picker(positions)
    column = pick(values)
    if not include_no_data and None in column:
        positions = [i for i, v in zip(positions, column, strict=True) if v is not None]
        if not positions:
            return []
        pick = _picker(positions)
        column = pick(values)
    count = len(column)
    label = str(year)
    nones: list[None] = [None] * count  # a list: map() reads each argument on its own
    complete = None not in column
    target = ind.target
    comparator = ind.comparator
    share: Iterable[float | None] = nones
    pct: Iterable[float | None] = nones
    if is_total or target is None:
        status: Iterable[str] = (
            repeat(NO_TARGET, count)
            if complete
            else [NO_DATA if v is None else NO_TARGET for v in column]
        )
        row_target = None
        total = values[engine.frame.pos[ind.city]] if is_total else None
        if total:
            # (a chained comparison is False for infinities and NaN: _finite without a call)
            share = [
                None if v is None else (x if -_INF < (x := v / total * 100) < _INF else None)
                for v in column
            ]
    else:
        row_target = target
        if engine.t_of[year] >= ind.deadline:
            short = MISSED
        else:
            short = ON_TRACK if ind.kind == "milestone" else NOT_ASSESSABLE
        status = _statuses(column, comparator, target, short)
        if target != 0:
            if comparator in ("<=", "<"):
                pct = [
                    None
                    if v is None or v == 0
                    else (x if -_INF < (x := target / v * 100) < _INF else None)
                    for v in column
                ]
            else:
                pct = [
                    None if v is None else (x if -_INF < (x := v / target * 100) < _INF else None)
                    for v in column
                ]
    return list(
        map(
            ProgressResult,
            repeat(ind.code, count),
            pick(engine.frame.codes),
            repeat(label, count),
            column,
            nones if nums is None else pick(nums),
            nones if dens is None else pick(dens),
            repeat(row_target, count),
            repeat(comparator, count),
            repeat(ind.deadline, count),
            pct,
            nones,  # expected
            status,
            nones,  # forecast
            pick(completeness),
            share,
            nones,  # ratio
            nones,  # score
            column,  # baseline: the value itself
            repeat(label, count) if complete else [None if v is None else label for v in column],
            pick(reporting),
            pick(expecting),
        )
    )


_INF = math.inf


def _picker(positions: Sequence[int]) -> Callable[[list], list]:  # type: ignore[type-arg]
    """A function taking the entries at ``positions`` from a column: a slice when they are
    consecutive (a subtree), as they mostly are."""
    first, last = positions[0], positions[-1]
    if last - first + 1 == len(positions):
        return lambda column: column[first : last + 1]
    return lambda column: [column[i] for i in positions]


def _meets(column: Column, comparator: str, target: float) -> list[bool]:
    """:func:`satisfies` over a column (``False`` where there is no value)."""
    if comparator == ">=":
        return [v is not None and v >= target for v in column]
    if comparator == ">":
        return [v is not None and v > target for v in column]
    if comparator == "<=":
        return [v is not None and v <= target for v in column]
    if comparator == "<":
        return [v is not None and v < target for v in column]
    return [v is not None and satisfies(v, comparator, target) for v in column]


def _statuses(column: Column, comparator: str, target: float, short: str) -> list[str]:
    """The status of each value of a column with no baseline before it: ``no_data``, else
    ``achieved`` when it meets the target, else ``short`` (``missed`` or ``not_assessable``)."""
    if comparator == ">=":
        return [NO_DATA if v is None else ACHIEVED if v >= target else short for v in column]
    if comparator == ">":
        return [NO_DATA if v is None else ACHIEVED if v > target else short for v in column]
    if comparator == "<=":
        return [NO_DATA if v is None else ACHIEVED if v <= target else short for v in column]
    if comparator == "<":
        return [NO_DATA if v is None else ACHIEVED if v < target else short for v in column]
    return [
        NO_DATA if v is None else ACHIEVED if satisfies(v, comparator, target) else short
        for v in column
    ]


def _cagr_row(
    ind: IndicatorSpec,
    series: Mapping[int, float],
    year: int,
    value: float,
    baseline: float | None,
    baseline_year: int | None,
    own: tuple[float, date] | None = None,
) -> tuple[str, float | None, float | None, tuple[int, float] | None]:
    """Status, R (or v), score and base ``(year, value)`` of one row under the cagr method.

    The base year asked for is the indicator's declared baseline period at every unit (one
    window for the whole plan, as an SDG platform configures one base year per series), else
    the unit's earliest year with a value; the base is the first year at or after it with a
    value, up to the row's year. At the city a declared baseline value is that year's value.
    ``own`` is a unit's allocated target and deadline, when it has one."""
    if ind.baseline_period:
        asked = Period.parse(ind.baseline_period).year
    else:
        asked = baseline_year if baseline_year is not None else year
    visible = {y: v for y, v in series.items() if y <= year}
    base = select_base(visible, asked)
    target, deadline = own if own is not None else (ind.target, ind.deadline)
    if target is None:
        direction = -1 if ind.comparator in ("<=", "<") else 1
    else:
        direction = 1 if higher_is_better(ind.comparator, baseline, target) else -1
    if base is None:
        result = cagr_progress(None, None, year, value, target, deadline.year, direction)
    else:
        result = cagr_progress(
            base[0], base[1], year, value, target, deadline.year, direction, ind.limit
        )
    status = ACHIEVED if result.status == TARGET_ACHIEVED else result.status
    return status, _finite(result.progress_value), result.score, base

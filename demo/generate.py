"""Demo data (``seed_demo``): generated communities under the real first-level units, plausible
values for every data element the catalog uses, and demo users — all clearly marked as demo.

Two halves. :func:`build` is pure: plain dataclasses in (the real org units, the data elements,
the indicators, the reported outcomes of ``four-cities-divisions.json``), generated units and
values out, every random draw from a ``random.Random`` seeded with a fixed string, so the same
catalog always gives the same demo. :func:`demo_seed` reads those inputs from the database,
writes the difference (bulk inserts and updates; nothing that is already right is touched, so a
second run changes nothing), grants the demo roles and runs the progress job.

How the figures come about
==========================

- **Units.** Below each real town or subdistrict (Dongguan, Zhongshan) a number of communities
  proportional to its real resident population (the reference community count where the
  divisions file gives one); below each district (Shenzhen, Xiamen) a few subdistricts and
  communities under them; below Langxia town a few villages. Codes are the parent's code plus
  ``9nn``, names end in “（演示）” / “(demo)”, ``is_generated`` is set. A real unit's population
  is split over its new children so that they sum to it exactly. Each generated unit carries
  its org-unit groups: a community (社区) is urban, a village (村) rural, so targets set for
  urban communities or for villages only have their own units to count.
- **Population.** ``population.resident`` is reported by the communities: the unit's real
  population in its reference year, grown or shrunk by :data:`POPULATION_GROWTH` a year and
  split over its communities (each growing a little differently), so the communities of a unit
  sum exactly to :func:`unit_population` in every year.
- **Scopes.** Each plan's elements get values in the plan city's subtree (Yantian's plan: only
  Yantian; Langxia's: only Langxia), at the element's lowest reporting level: community-level
  elements at the generated communities, town-level ones at the towns and subdistricts,
  district-level ones at the districts, city-level ones at the plan's city. A small shared core
  (population, volunteers, social workers, life expectancy, social-work agencies) is generated
  for all four cities so that the reported outcomes of each city have somewhere to land.
- **Scenarios.** The indicators of a city are grouped by the element that drives them (a
  ratio's numerator, a coverage's condition, a value's element); each group gets a scenario —
  achieved early, on track, at risk, off track, missed at the deadline, incomplete (some towns
  have not reported the latest year), no data for the latest year, a late start (no baseline
  yet) — and its figures follow the straight line of SPEC §3 at the matching pace.
- **Outcomes.** Where the divisions file reports a real figure for a city and year inside the
  demo years (Zhongshan's life expectancy 78.8 in 2015, Shenzhen's 5929 certified social workers
  in 2014, …) the element's series is bent through it and those values carry the source in
  their comment (“演示数据，参照：…”).
- **Constraints.** Integers are integers, booleans 0/1, a part never exceeds its whole
  (``not_above``), shares stay within 0–100.
"""

from __future__ import annotations

import itertools
import math
import random
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from districts.groups import default_groups

SEED = "policy-target-tracker-demo-v1"
PASSWORD = "demo"
SOURCE = "demo"
DEMO_MARK_ZH = "（演示）"
DEMO_MARK_EN = " (demo)"

CITY_CODES = ("441900", "442000", "440300", "350200")
LANGXIA = "310116107"
COUNTRY = "CN"

# One generated community per this many residents (clamped per town); Dongguan's 东城 keeps its
# reference count of 24. About 650 communities in all: the progress job writes a row per
# indicator, unit and year, so every community costs a few hundred rows.
PEOPLE_PER_COMMUNITY = 60_000
COMMUNITIES_PER_TOWN = (2, 20)
PEOPLE_PER_SUBDISTRICT = 250_000
SUBDISTRICTS_PER_DISTRICT = (2, 8)
LANGXIA_VILLAGES = 4
POPULATION_GROWTH = 0.02
"""Yearly growth of the resident population around a unit's reference year (a little per year)."""

YEARS = tuple(range(2011, 2016))
XIAMEN_YEARS = tuple(range(2011, 2026))  # the plan runs to the end of the 14th five-year plan
LANGXIA_YEARS = (2012, 2013)
MONTHLY_FROM = (2013, 1)  # monthly publication is tracked from the first full year of the plans

CORE_ELEMENTS = (
    "population.resident",
    "volunteers.registered",
    "social_workers.professional",
    "social_workers.certified",
    "health.life_expectancy",
    "social_work.agencies",
)
"""Generated for all four cities, whatever their plans use: the outcomes the divisions file
reports for each city (volunteers, social workers, life expectancy, agencies) land here."""

# Outcome descriptions of four-cities-divisions.json → data elements; derived shares are not
# stored (the portal computes them). First match wins.
OUTCOME_ELEMENTS: tuple[tuple[str, str | None], ...] = (
    ("registered volunteers as share", None),
    ("registered volunteers", "volunteers.registered"),
    ("social organisations per 10,000", None),
    ("registered social organisations", "social_orgs.count"),
    ("certified social workers per 10,000", None),
    ("certified social workers", "social_workers.certified"),
    ("government-purchased frontline social workers", "social_workers.professional"),
    ("life expectancy", "health.life_expectancy"),
    ("social work service agencies", "social_work.agencies"),
    ("social work service institutions", "social_work.agencies"),
    ("private social work agencies", "social_work.agencies"),
)

_TIER = {
    "community": "community",
    "village": "community",
    "town": "town",
    "subdistrict": "town",
    "district": "district",
    "city": "city",
}
_SUFFIXES_ZH = ("特别合作区", "新区", "街道", "区", "镇")

# Scenarios of a target: achieved_early, on_track, at_risk, off_track, missed (on track, then
# short at the deadline), incomplete (some towns silent in the latest year), no_data (the latest
# year not reported), late_start (reporting began two years ago: no baseline yet); milestones
# are done early, on time, late or never; anchored series follow a reported figure instead.
_SCENARIO_CYCLE = (
    "on_track", "at_risk", "achieved_early", "off_track", "missed", "incomplete", "no_data",
    "on_track", "achieved_early", "late_start", "at_risk", "off_track", "missed", "on_track",
)  # fmt: skip
_OPEN_CYCLE = ("at_risk", "off_track", "on_track", "late_start", "achieved_early", "incomplete")
_MILESTONE_CYCLE = ("on_time", "early", "late", "never", "on_time", "early")


# ---------------------------------------------------------------------------------------------
# Inputs and outputs
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnitIn:
    """An org unit as the generator sees it (real ones from the database, or generated)."""

    code: str
    name_zh: str
    name_en: str
    level: str
    parent: str | None
    population: int | None = None
    population_year: int | None = None
    population_source: str = ""
    is_generated: bool = False
    groups: tuple[str, ...] = ()
    """Org-unit groups (districts.groups): a generated 社区 is an urban community, a 村 a rural
    village (行政村), a generated 街道 a subdistrict."""
    opened: date | None = None
    """When a real unit came into being (no demo figures for the years before it)."""


@dataclass(frozen=True, slots=True)
class ElementIn:
    code: str
    value_type: str
    period_type: str
    aggregation: str
    temporal: str
    level: str
    unit: str = ""
    weight: str | None = None
    not_above: str | None = None


@dataclass(frozen=True, slots=True)
class IndicatorIn:
    code: str
    city: str
    kind: str
    comparator: str
    target: float
    deadline: date
    element: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    factor: float = 1.0
    level: str = ""
    condition_element: str | None = None
    condition_numerator: str | None = None
    condition_denominator: str | None = None
    condition_factor: float = 1.0
    condition_comparator: str = ""
    condition_value: float = 0.0
    growth_mode: str = ""
    growth_from: int | None = None
    baseline_value: float | None = None
    baseline_period: str = ""

    def inputs(self) -> list[str]:
        return [
            e
            for e in (
                self.element, self.numerator, self.denominator, self.condition_element,
                self.condition_numerator, self.condition_denominator,
            )
            if e
        ]  # fmt: skip

    @property
    def driver(self) -> str:
        """The element whose figures decide where the indicator stands."""
        if self.kind == "ratio" or (self.kind == "growth" and self.numerator):
            return self.numerator  # type: ignore[return-value]
        if self.kind == "coverage":
            return self.condition_element or self.condition_numerator  # type: ignore[return-value]
        return self.element  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class Outcome:
    """A real reported figure of a city (four-cities-divisions.json ``outcomes``)."""

    city: str
    element: str
    year: int
    value: float
    source: str


@dataclass(slots=True)
class DemoValue:
    element: str
    unit: str
    period: str
    value: Decimal
    comment: str = ""


@dataclass(frozen=True, slots=True)
class DemoUser:
    username: str
    name: str
    role: str
    unit: str


@dataclass
class DemoData:
    units: list[UnitIn]
    values: list[DemoValue]
    scenarios: dict[str, str] = field(default_factory=dict)
    """Indicator code → the scenario its figures were generated for."""
    pinned: list[tuple[str, str, int, float]] = field(default_factory=list)
    """(city, element, year, value) of the outcomes the demo was bent through."""
    dependencies: set[str] = field(default_factory=set)
    """Elements other figures are computed from (denominators, weights, wholes): kept approved,
    so that pending or rejected values never push a share past its whole."""


# ---------------------------------------------------------------------------------------------
# Small pure helpers
# ---------------------------------------------------------------------------------------------


def rng_for(*parts: object) -> random.Random:
    """A generator seeded by a string: stable across processes (str seeds go through SHA-512)."""
    return random.Random("|".join([SEED, *map(str, parts)]))


def allocate(total: int, weights: Sequence[float]) -> list[int]:
    """Split the integer ``total`` in proportion to ``weights`` (largest remainder), so the parts
    are whole numbers summing exactly to ``total``."""
    s = math.fsum(weights)
    if not weights:
        return []
    if total <= 0 or s <= 0:
        return [0] * len(weights)
    raw = [total * w / s for w in weights]
    parts = [math.floor(r) for r in raw]
    short = total - sum(parts)
    for i in sorted(range(len(raw)), key=lambda i: (parts[i] - raw[i], i))[:short]:
        parts[i] += 1
    return parts


def unit_population(population: int, reference_year: int, year: int) -> int:
    """A real unit's demo population in ``year``: its reference figure, grown (or shrunk before
    the reference year) by :data:`POPULATION_GROWTH` a year. The generated communities of the
    unit sum to exactly this."""
    return round(population * (1 + POPULATION_GROWTH) ** (year - reference_year))


def stem_zh(name: str) -> str:
    for suffix in _SUFFIXES_ZH:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def stem_en(name: str) -> str:
    return name.split()[0] if name else name


def username_slug(name_en: str) -> str:
    return re.sub(r"[^a-z0-9]", "", stem_en(name_en).lower())


def outcome_element(description: str) -> str | None:
    text = description.lower()
    for prefix, element in OUTCOME_ELEMENTS:
        if text.startswith(prefix):
            return element
    return None


def households_per_person(city_source: str) -> float | None:
    """Households per resident from a census bulletin quoted in a city's source text
    (“家庭户4388293户, 集体户669093户”)."""
    m = re.search(r"家庭户(\d+)户(?:[,，]\s*集体户(\d+)户)?", city_source)
    return None if not m else (int(m.group(1)) + int(m.group(2) or 0))


# ---------------------------------------------------------------------------------------------
# The tree and the generated units
# ---------------------------------------------------------------------------------------------


class Tree:
    def __init__(self, units: Iterable[UnitIn]) -> None:
        self.units: dict[str, UnitIn] = {}
        self.children: dict[str, list[str]] = defaultdict(list)
        for u in units:
            self.units[u.code] = u
        for u in self.units.values():
            if u.parent in self.units:
                self.children[u.parent].append(u.code)
        for kids in self.children.values():
            kids.sort()

    def add(self, unit: UnitIn) -> None:
        self.units[unit.code] = unit
        if unit.parent is not None:
            self.children[unit.parent].append(unit.code)

    def subtree(self, code: str) -> list[str]:
        out, stack = [], [code]
        while stack:
            u = stack.pop()
            out.append(u)
            stack.extend(reversed(self.children.get(u, [])))
        return out

    def tier(self, code: str) -> str:
        return _TIER.get(self.units[code].level, self.units[code].level)


def _children_of(tree: Tree, parent: UnitIn, count: int, kind: str, rng: random.Random,
                 stem: tuple[str, str]) -> list[UnitIn]:  # fmt: skip
    """``count`` generated children of ``parent`` sharing its population exactly."""
    weights = [rng.uniform(0.55, 1.45) for _ in range(count)]
    shares = allocate(parent.population, weights) if parent.population else [None] * count
    villages = parent.level == "town" and parent.name_zh.endswith("镇")
    out = []
    for i in range(1, count + 1):
        code = f"{parent.code}{900 + i:03d}"
        pop = shares[i - 1]
        source = (
            f"演示数据：由{parent.name_zh}{parent.population_year}年常住人口{parent.population}"
            f"按比例分配（demo share of the real figure）"
            if pop is not None
            else ""
        )
        if kind == "subdistrict":
            zh, en, level = f"{stem[0]}街道{i}", f"{stem[1]} Subdistrict {i}", "subdistrict"
        elif parent.code == LANGXIA or (villages and i > 1 and rng.random() < 0.5):
            zh, en, level = f"{stem[0]}村{i}", f"{stem[1]} Village {i}", "village"
        else:
            zh, en, level = f"{stem[0]}社区{i}", f"{stem[1]} Community {i}", "community"
        out.append(
            UnitIn(
                code=code, name_zh=zh + DEMO_MARK_ZH, name_en=en + DEMO_MARK_EN, level=level,
                parent=parent.code, population=pop,
                population_year=parent.population_year if pop is not None else None,
                population_source=source, is_generated=True,
                groups=tuple(sorted(default_groups(level, zh))),
            )
        )  # fmt: skip
    return out


def generate_units(tree: Tree, communities: dict[str, int] | None = None) -> list[UnitIn]:
    """The generated subdistricts, communities and villages, parents before children.
    ``communities`` gives reference community counts by unit code."""
    communities = communities or {}
    out: list[UnitIn] = []

    def communities_under(parent: UnitIn, stem: tuple[str, str]) -> None:
        if not parent.population:
            return
        n = communities.get(parent.code) or min(
            max(round(parent.population / PEOPLE_PER_COMMUNITY), COMMUNITIES_PER_TOWN[0]),
            COMMUNITIES_PER_TOWN[1],
        )
        out.extend(_children_of(tree, parent, n, "community", rng_for("units", parent.code), stem))

    for city in CITY_CODES:
        for code in tree.children.get(city, []):
            first = tree.units[code]
            if first.is_generated:
                continue
            last_year = (XIAMEN_YEARS if city == "350200" else YEARS)[-1]
            if first.opened is not None and first.opened.year > last_year:
                continue  # set up after the demo years (光明区 2018): nothing to report then
            stem = (stem_zh(first.name_zh), stem_en(first.name_en))
            if first.level == "district":
                if not first.population:
                    continue
                n = min(
                    max(round(first.population / PEOPLE_PER_SUBDISTRICT),
                        SUBDISTRICTS_PER_DISTRICT[0]),
                    SUBDISTRICTS_PER_DISTRICT[1],
                )  # fmt: skip
                subs = _children_of(tree, first, n, "subdistrict", rng_for("units", code), stem)
                out.extend(subs)
                for sub in subs:
                    i = sub.code[-2:].lstrip("0")
                    communities_under(sub, (f"{stem[0]}街道{i}", f"{stem[1]} Subdistrict {i}"))
            else:
                communities_under(first, stem)
    langxia = tree.units.get(LANGXIA)
    if langxia is not None:
        out.extend(
            _children_of(tree, langxia, LANGXIA_VILLAGES, "village", rng_for("units", LANGXIA),
                         (stem_zh(langxia.name_zh), stem_en(langxia.name_en)))
        )  # fmt: skip
    return out


# ---------------------------------------------------------------------------------------------
# Trajectories
# ---------------------------------------------------------------------------------------------


def progress_fraction(scenario: str, line: float) -> float:
    """Share of the way from the baseline to the target reached when the straight line of
    SPEC §3 expects ``line`` (0 at the baseline, 1 at the deadline). The margins keep each
    scenario inside its status band after rounding and the spread over units."""
    if line <= 0:
        return 0.0
    if scenario == "achieved_early":
        return min(1.12, 1.75 * line)
    if scenario == "at_risk":
        return 0.75 * line
    if scenario == "off_track":
        return 0.25 * line
    if scenario == "missed":
        return min(1.04 * line + 0.05, 0.9)
    return min(1.1, 1.04 * line + 0.06)  # on track (and incomplete, no data, late start)


def line_fraction(year: int, first: int, deadline: date) -> float:
    t0 = date(first, 12, 31)
    if deadline <= t0:
        return 1.0
    return max(0.0, min(1.0, (date(year, 12, 31) - t0).days / (deadline - t0).days))


def start_value(ind: IndicatorIn, rng: random.Random, averaged: bool = False) -> float:
    """A plausible value at the first year: some way short of the target."""
    t = ind.target
    if ind.comparator in ("<=", "<"):
        return t * rng.uniform(1.3, 1.7)
    if t == 0:
        return -rng.uniform(0.4, 1.2)
    if averaged:  # life expectancy, years of schooling: levels a year or so below the target
        return t - rng.uniform(0.6, 1.4)
    if ind.kind == "growth":
        return t * rng.uniform(0.55, 0.8)
    return t * rng.uniform(0.45, 0.72)


def trajectory(
    ind: IndicatorIn, scenario: str, years: Sequence[int], start: float
) -> dict[int, float]:
    """The indicator's city value per year under ``scenario``."""
    first = years[0]
    return {
        y: start
        + progress_fraction(scenario, line_fraction(y, first, ind.deadline)) * (ind.target - start)
        for y in years
    }


# ---------------------------------------------------------------------------------------------
# Per-scope generation
# ---------------------------------------------------------------------------------------------

YearUnits = dict[str, float]  # unit → value


@dataclass
class _Group:
    """The indicators of one scope driven by one element."""

    driver: str
    indicators: list[IndicatorIn]
    scenario: str = "on_track"

    @property
    def primary(self) -> IndicatorIn:
        numeric = [i for i in self.indicators if i.kind != "coverage"]
        return (numeric or self.indicators)[0]


class _Scope:
    """Values of one scope: a plan city's subtree (or a whole city for the shared core)."""

    def __init__(
        self,
        *,
        tree: Tree,
        root: str,
        years: Sequence[int],
        elements: dict[str, ElementIn],
        needed: set[str],
        indicators: list[IndicatorIn],
        pins: dict[tuple[str, int], tuple[float, str]],
        households_per_person: float,
    ) -> None:
        self.tree = tree
        self.root = root
        self.years = tuple(years)
        self.elements = elements
        self.indicators = indicators
        self.pins = pins
        self.hh_per_person = households_per_person
        self.units = tree.subtree(root)
        tiers: dict[str, list[str]] = defaultdict(list)
        for u in self.units:
            tiers[tree.tier(u)].append(u)
        self.by_tier = tiers
        self.first_level = [u for u in tree.children.get(root, [])]
        self.values: dict[str, dict[int, YearUnits]] = {}
        self.monthly: dict[str, dict[str, YearUnits]] = {}
        self.comments: dict[tuple[str, int], str] = {}
        self.adoption: dict[str, dict[str, int | None]] = {}
        self._agg: dict[tuple[str, int], YearUnits] = {}
        self._noise: dict[tuple, dict[str, float]] = {}
        self._busy: set[str] = set()
        self.scenarios: dict[str, str] = {}
        self.groups = self._groups()
        self.needed = set(needed) | {g.driver for g in self.groups}
        self.deps = {e: self._deps(e) for e in sorted(self._closure(self.needed))}
        self.needed = set(self.deps)
        self.years_of = self._years_of()
        self.pop = self._population()

    # -- set-up ------------------------------------------------------------------------------

    def _groups(self) -> list[_Group]:
        groups: dict[str, _Group] = {}
        for ind in self.indicators:
            if ind.kind == "coverage" and ind.driver == "community.service_centres_built":
                continue  # derived from the service centres themselves
            groups.setdefault(ind.driver, _Group(ind.driver, [])).indicators.append(ind)
        out = list(groups.values())
        dependencies = set()
        for ind in self.indicators:
            for e in (ind.denominator, ind.condition_denominator):
                if e:
                    dependencies.add(e)
        for e in self._closure({i for ind in self.indicators for i in ind.inputs()}):
            spec = self.elements[e]
            for d in (spec.weight, spec.not_above, *BASE_DEPS.get(e, ())):
                if d:
                    dependencies.add(d)
        dependencies.add("community.service_centre")
        self.dependencies = dependencies
        pinned = {e for e, y in self.pins if y in self.years}
        rng = rng_for("scenarios", self.root)
        queue: list[str] = []
        mqueue: list[str] = []
        # Targets still open after the last demo year show their pace on the latest dashboard,
        # so they are dealt the scenarios that are visible there first.
        open_queue = list(_OPEN_CYCLE)
        last = self.years[-1]
        for group in sorted(out, key=lambda g: g.primary.deadline.year <= last):
            ind = group.primary
            spec = self.elements[group.driver]
            if group.driver in pinned:
                group.scenario = "anchored"  # bent through a reported figure
            elif ind.kind == "milestone":
                if not mqueue:
                    mqueue = list(_MILESTONE_CYCLE)
                group.scenario = mqueue.pop(0)
            else:
                exclusive = group.driver not in dependencies and spec.period_type == "year"
                spread = (
                    _TIER.get(spec.level) in ("community", "town") and spec.period_type == "year"
                )
                # Holes only where nothing else is computed from the figure.
                feasible = {
                    "no_data": exclusive,
                    "late_start": exclusive and ind.deadline.year > last and ind.kind != "growth",
                    "incomplete": exclusive and spread and len(self.first_level) >= 3,
                }
                if ind.deadline.year > last and open_queue:
                    pick = next((s for s in open_queue if feasible.get(s, True)), None)
                    if pick is not None:
                        open_queue.remove(pick)
                        group.scenario = pick
                        for i in group.indicators:
                            self.scenarios[i.code] = pick
                        continue
                for _attempt in range(3):
                    if not queue:
                        queue = list(_SCENARIO_CYCLE)
                        rng.shuffle(queue)
                    pick = next((s for s in queue if feasible.get(s, True)), None)
                    if pick is not None:
                        queue.remove(pick)
                        group.scenario = pick
                        break
                    queue = []
            for i in group.indicators:
                self.scenarios[i.code] = group.scenario
        return out

    def _closure(self, codes: set[str]) -> set[str]:
        out: set[str] = set()
        stack = [c for c in codes if c in self.elements]
        while stack:
            e = stack.pop()
            if e in out:
                continue
            out.add(e)
            spec = self.elements[e]
            stack.extend(d for d in (spec.weight, *BASE_DEPS.get(e, ())) if d and d not in out)
        if "community.service_centres_built" in out:
            out.add("community.service_centre")
        return out

    def _deps(self, e: str) -> list[str]:
        spec = self.elements[e]
        deps = [d for d in BASE_DEPS.get(e, ()) if d]
        if spec.weight:
            deps.append(spec.weight)
        if spec.not_above and spec.not_above in self.needed:
            deps.append(spec.not_above)
        for group in self.groups:
            if group.driver != e:
                continue
            for ind in group.indicators:
                for d in (ind.denominator, ind.condition_denominator):
                    if d and d != e:
                        deps.append(d)
        if e == "community.service_centres_built":
            deps.append("community.service_centre")
        return list(dict.fromkeys(deps))

    def _years_of(self) -> dict[str, set[int]]:
        years = {e: set(self.years) for e in self.needed}
        for ind in self.indicators:
            if ind.kind == "growth" and ind.growth_from is not None:
                for e in ind.inputs():
                    years[e].add(ind.growth_from)
        changed = True
        while changed:
            changed = False
            for e, deps in self.deps.items():
                for d in deps:
                    if not years[e] <= years[d]:
                        years[d] |= years[e]
                        changed = True
        return years

    def _population(self) -> dict[int, YearUnits]:
        """Resident population of every unit in the scope and year (communities allocated from
        their real ancestor's figure, everything above summed)."""
        all_years = sorted(set().union(*self.years_of.values()) | set(self.years))
        out: dict[int, YearUnits] = {y: {} for y in all_years}
        tree = self.tree

        def split(code: str, totals: dict[int, int]) -> None:
            kids = [k for k in tree.children.get(code, []) if tree.units[k].population]
            for y, total in totals.items():
                out[y][code] = float(total)
            if not kids:
                return
            ref = tree.units[code].population_year or 2020
            rng = rng_for("growth", code)
            drift = {k: rng.uniform(-0.01, 0.01) for k in kids}
            per_kid: dict[str, dict[int, int]] = {k: {} for k in kids}
            for y, total in totals.items():
                weights = [tree.units[k].population * (1 + drift[k]) ** (y - ref) for k in kids]
                for k, part in zip(kids, allocate(total, weights), strict=True):
                    per_kid[k][y] = part
            for k in kids:
                split(k, per_kid[k])

        for code in self.units:
            unit = tree.units[code]
            # The real units below a city carry the reference figures; generated ones are split
            # from them.
            if unit.is_generated or not unit.population or not unit.population_year:
                continue
            if _TIER.get(unit.level) == "city":
                continue
            split(
                code,
                {y: unit_population(unit.population, unit.population_year, y) for y in all_years},
            )
        for y in all_years:
            layer = out[y]
            for code in reversed(self.units):
                if code in layer:
                    continue
                kids = [layer[k] for k in tree.children.get(code, []) if k in layer]
                if kids:
                    layer[code] = math.fsum(kids)
        return out

    # -- helpers -----------------------------------------------------------------------------

    def reporting_units(self, e: str) -> list[str]:
        spec = self.elements[e]
        tier = _TIER.get(spec.level, "city")
        if tier == "city":
            return [self.root]
        units = self.by_tier.get(tier, [])
        if not units and _TIER.get(self.tree.units[self.root].level) == tier:
            units = [self.root]
        if spec.value_type == "boolean" and tier != "community":
            return list(units)
        return [u for u in units if self.pop[self.years[0]].get(u)]

    def noise(self, e: str, lo: float = 0.85, hi: float = 1.15, salt: str = "") -> dict[str, float]:
        """A fixed draw per unit (the same every year), so each unit's series is smooth."""
        key = (e, lo, hi, salt)
        cached = self._noise.get(key)
        if cached is None:
            rng = rng_for("noise", self.root, e, salt)
            cached = self._noise[key] = {u: rng.uniform(lo, hi) for u in sorted(self.units)}
        return cached

    def agg(self, e: str, y: int) -> YearUnits:
        """``e`` at every unit in ``y``: its own value, else the sum of its children's."""
        key = (e, y)
        cached = self._agg.get(key)
        if cached is None:
            own = self.values.get(e, {}).get(y, {})
            cached = dict(own)
            for code in reversed(self.units):
                if code in cached:
                    continue
                kids = [cached[k] for k in self.tree.children.get(code, []) if k in cached]
                if kids:
                    cached[code] = math.fsum(kids)
            self._agg[key] = cached
        return cached

    def P(self, u: str, y: int) -> float:
        return self.pop.get(y, {}).get(u) or 0.0

    def store(self, e: str, per_year: dict[int, YearUnits]) -> None:
        self.values[e] = per_year
        for key in [k for k in self._agg if k[0] == e]:
            del self._agg[key]

    # -- generation ----------------------------------------------------------------------------

    def run(self) -> None:
        for e in sorted(self.needed):
            self.ensure(e)
        self._apply_caps()
        self._apply_gaps()

    def ensure(self, e: str) -> None:
        if e in self.values or e in self.monthly:
            return
        if e in self._busy:
            raise ValueError(f"demo: elements depend on each other in a cycle at {e}")
        self._busy.add(e)
        for d in self.deps.get(e, ()):
            self.ensure(d)
        group = next((g for g in self.groups if g.driver == e), None)
        raw: dict[int, YearUnits]
        if e == "community.service_centres_built":
            raw = self._derived_centres_built()
        elif group is None:
            raw = self._base(e)
        else:
            raw = self._driven(group)
        if e not in self.monthly:
            self.store(e, self._finish(e, raw))
        self._busy.discard(e)

    def _years(self, e: str) -> list[int]:
        return sorted(self.years_of.get(e, self.years))

    def _base(self, e: str) -> dict[int, YearUnits]:
        """An element no target drives: its usual size (per resident, per household, a share
        of another element …), or a practice most units have taken up."""
        spec = self.elements[e]
        if spec.value_type == "boolean":
            return self._adopt(e, None, None)
        rule = BASE_RULES.get(e) or _fallback_rule(spec)
        years = self._years(e)
        if spec.aggregation == "weighted_average":  # a city level, spread over the units
            return self._weighted_from_city(e, {y: rule(self, e, self.root, y) for y in years})
        units = self.reporting_units(e)
        return {y: {u: max(0.0, rule(self, e, u, y)) for u in units} for y in years}

    def _driven(self, group: _Group) -> dict[int, YearUnits]:
        ind = group.primary
        if ind.kind == "milestone":
            return self._milestone(group)
        if ind.kind == "coverage":
            return self._coverage(group)
        if ind.kind == "ratio":
            return self._ratio(group)
        if ind.kind == "growth":
            return self._growth(group)
        return self._value(group)

    # value ----------------------------------------------------------------------------------

    def _value(self, group: _Group) -> dict[int, YearUnits]:
        ind, e = group.primary, group.driver
        spec = self.elements[e]
        years = self._years(e)
        rng = rng_for("start", self.root, ind.code)
        if spec.value_type == "integer" and ind.target <= 5 and ind.comparator in (">=", ">"):
            return self._distribute(e, self._count_milestone(group, years))
        averaged = spec.aggregation in ("weighted_average", "average")
        start = start_value(ind, rng, averaged)
        if ind.baseline_value is not None and ind.baseline_period[:4] == str(years[0]):
            start = ind.baseline_value
        cap = self._cap_total(e, years[0])
        if cap is not None and ind.comparator in (">=", ">"):
            start = min(start, 0.7 * cap)
        path = trajectory(ind, group.scenario, years, start)
        if spec.aggregation in ("weighted_average", "average"):
            return self._weighted_from_city(e, path)
        return self._distribute(e, path)

    def _count_milestone(self, group: _Group, years: list[int]) -> dict[int, float]:
        """Small whole-number targets (one training base, four work stations) are reached in a
        year, not along a line."""
        ind = group.primary
        done = self._done_year(group.scenario, ind.deadline.year, years)
        return {y: (ind.target if done is not None and y >= done else 0.0) for y in years}

    def _done_year(self, scenario: str, deadline_year: int, years: Sequence[int]) -> int | None:
        first, last = years[0], years[-1]
        by = {
            "early": deadline_year - 1, "on_time": deadline_year, "late": deadline_year + 1,
            "never": None, "achieved_early": deadline_year - 2, "on_track": deadline_year,
            "incomplete": deadline_year, "no_data": deadline_year, "late_start": deadline_year,
        }.get(scenario)  # fmt: skip
        if by is None or by > last:
            return None
        return max(by, first)

    def _cap_total(self, e: str, y: int) -> float | None:
        cap = self.elements[e].not_above
        if not cap or cap not in self.values:
            return None
        return self.agg(cap, y).get(self.root)

    def _distribute(self, e: str, totals: dict[int, float]) -> dict[int, YearUnits]:
        """Split a city total over the reporting units in proportion to population (with a
        fixed per-unit spread)."""
        units = self.reporting_units(e)
        noise = self.noise(e, 0.7, 1.3)
        out: dict[int, YearUnits] = {}
        for y, total in totals.items():
            weights = [max(self.P(u, y), 1.0) * noise[u] for u in units]
            s = math.fsum(weights)
            out[y] = {u: total * w / s for u, w in zip(units, weights, strict=True)} if s else {}
        return out

    def _weighted_from_city(self, e: str, path: dict[int, float]) -> dict[int, YearUnits]:
        """Unit values whose weighted average (by the element's weight) is the city path, bent
        (by an added offset) through the reported outcomes."""
        spec = self.elements[e]
        units = self.reporting_units(e)
        lo, hi = (0.8, 1.25) if e == "income.per_capita_disposable" else (0.985, 1.015)
        spread = self.noise(e, lo, hi)
        pins = sorted(
            (y, v - path[y]) for (pe, y), (v, _s) in self.pins.items() if pe == e and y in path
        )
        for y, _offset in pins:
            self.comments[(e, y)] = self.pins[(e, y)][1]
        out: dict[int, YearUnits] = {}
        for y, level in path.items():
            if pins:
                level += _interpolate(pins, y)
            weights = self.agg(spec.weight, y) if spec.weight else {}
            w = {u: weights.get(u) or 0.0 for u in units}
            total_w = math.fsum(w.values())
            mean = math.fsum(w[u] * spread[u] for u in units) / total_w if total_w else 1.0
            out[y] = {u: level * spread[u] / mean for u in units}
        return out

    # ratio ------------------------------------------------------------------------------------

    def _ratio(self, group: _Group) -> dict[int, YearUnits]:
        ind, e = group.primary, group.driver
        years = self._years(e)
        rng = rng_for("start", self.root, ind.code)
        start = start_value(ind, rng)
        path = trajectory(ind, group.scenario, years, start)
        units = self.reporting_units(e)
        capped = ind.factor == 100 and ind.comparator in (">=", ">") and ind.target <= 100
        spread = self.noise(e, 0.6, 1.4, "ratio")
        out: dict[int, YearUnits] = {}
        for y in years:
            den = self.agg(ind.denominator, y)
            r = path[y]
            d = {u: den.get(u) or 0.0 for u in units}
            total = math.fsum(d.values())
            if not total:
                out[y] = {}
                continue
            mean = math.fsum(d[u] * spread[u] for u in units) / total
            if capped and r > 50:
                # Near the ceiling the spread is in what is still missing, so no unit passes 100%.
                gap = max(0.0, 100.0 - min(r, 100.0))
                out[y] = {u: d[u] * (100.0 - gap * spread[u] / mean) / 100 for u in units}
            else:
                out[y] = {u: d[u] * r * spread[u] / mean / ind.factor for u in units}
        return out

    # growth -----------------------------------------------------------------------------------

    def _growth(self, group: _Group) -> dict[int, YearUnits]:
        ind, e = group.primary, group.driver
        base_year = ind.growth_from or self.years[0]
        years = [y for y in self._years(e) if y > base_year]
        rng = rng_for("start", self.root, ind.code)
        start = start_value(ind, rng)
        path = trajectory(ind, group.scenario, years, start)
        spec = self.elements[e]
        if ind.numerator:  # growth of a ratio, in points (or percent) a year
            level0 = rng.uniform(22.0, 32.0)
            level = {base_year: level0}
            for y in years:
                g = path[y]
                level[y] = (
                    level0 + g * (y - base_year)
                    if ind.growth_mode == "points"
                    else level0 * (1 + g / 100) ** (y - base_year)
                )
            units = self.reporting_units(e)
            spread = self.noise(e, 0.75, 1.25, "share")
            out: dict[int, YearUnits] = {}
            for y, r in level.items():
                den = self.agg(ind.denominator, y)
                d = {u: den.get(u) or 0.0 for u in units}
                total = math.fsum(d.values())
                mean = math.fsum(d[u] * spread[u] for u in units) / total if total else 1.0
                out[y] = {u: d[u] * r * spread[u] / mean / ind.factor for u in units}
            return out
        rule = BASE_RULES.get(e)
        x0 = rule(self, e, self.root, base_year) if rule else 100.0
        series = {base_year: x0}
        for y in years:
            g = path[y]
            series[y] = (
                x0 + g * (y - base_year)
                if ind.growth_mode == "points"
                else x0 * (1 + g / 100) ** (y - base_year)
            )
        if spec.aggregation in ("weighted_average", "average"):
            return self._weighted_from_city(e, series)
        return self._distribute(e, series)

    # milestones -------------------------------------------------------------------------------

    def _milestone(self, group: _Group) -> dict[int, YearUnits]:
        ind, e = group.primary, group.driver
        years = self._years(e)
        done = self._done_year(group.scenario, ind.deadline.year, years)
        units = self.reporting_units(e)
        return {
            y: {u: 1.0 if done is not None and y >= done else 0.0 for u in units} for y in years
        }

    # coverage ---------------------------------------------------------------------------------

    def _coverage(self, group: _Group) -> dict[int, YearUnits]:
        ind, e = group.primary, group.driver
        years = self._years(e)
        rng = rng_for("start", self.root, ind.code)
        start = start_value(ind, rng)
        share = {
            y: max(0.0, min(100.0, v))
            for y, v in trajectory(ind, group.scenario, years, start).items()
        }
        return self._adopt(e, share, ind)

    def _adopt(
        self, e: str, share: dict[int, float] | None, ind: IndicatorIn | None
    ) -> dict[int, YearUnits]:
        """Units take up a practice one by one in a fixed random order, as many each year as the
        share says; the values then satisfy the condition at exactly those units."""
        spec = self.elements[e]
        units = self.reporting_units(e)
        years = self._years(e)
        rng = rng_for("adopt", self.root, e)
        order = sorted(units, key=lambda u: (rng.random(), u))
        if share is None:  # a practice no target drives: most units have it, more every year
            base = rng.uniform(45, 70)
            share = {y: min(100.0, base + 6 * (y - years[0])) for y in years}
        n = len(order)
        counts = {y: min(n, round(share[y] / 100 * n + 1e-9)) for y in years}
        # Units that had it before the first year (extrapolating the first year's pace back).
        before = counts[years[0]]
        if len(years) > 1:
            before = min(before, max(0, 2 * counts[years[0]] - counts[years[1]]))
        adoption: dict[str, int | None] = {}
        for rank, u in enumerate(order):
            if rank < before:
                adoption[u] = years[0] - 1
            else:
                adoption[u] = next((y for y in years if counts[y] > rank), None)
        self.adoption[e] = adoption
        if spec.period_type == "month":
            self._monthly(e, order, counts, years)
            return {}
        sat = {y: {u for u in order if adoption[u] is not None and adoption[u] <= y} for y in years}  # type: ignore[operator]
        out: dict[int, YearUnits] = {}
        if spec.value_type == "boolean" or ind is None:
            for y in years:
                out[y] = {u: 1.0 if u in sat[y] else 0.0 for u in units}
            if spec.value_type == "boolean":
                return out
        threshold = ind.condition_value if ind is not None else 1.0
        if ind is not None and ind.condition_numerator:
            hi = self.noise(e, 1.05, 1.9, "hi")
            lo = self.noise(e, 0.35, 0.92, "lo")
            for y in years:
                den = self.agg(ind.condition_denominator, y)
                out[y] = {
                    u: (den.get(u) or 0.0)
                    * threshold
                    * (hi[u] if u in sat[y] else lo[u])
                    / ind.condition_factor
                    for u in units
                }
            return out
        rule = BASE_RULES.get(e)
        below = {u: float(int(rng.uniform(0, max(threshold, 1.0)))) for u in sorted(units)}
        above = {u: threshold + int(rng.uniform(0, 4)) for u in sorted(units)}
        for y in years:
            vals = {}
            for u in units:
                base = rule(self, e, u, y) if rule else None
                if u in sat[y]:
                    vals[u] = max(base, threshold) if base is not None else above[u]
                else:
                    vals[u] = min(base, below[u]) if base is not None else below[u]
            out[y] = vals
        return out

    def _monthly(self, e: str, order: list[str], counts: dict[int, int], years: list[int]) -> None:
        """Month by month: a unit does it from its adoption month on (with the odd lapse)."""
        rng = rng_for("months", self.root, e)
        start_rank: dict[str, tuple[int, int]] = {}
        prev = 0
        for y in years:
            now = counts[y]
            for rank in range(prev, now):
                month = 1 + (12 * (rank - prev)) // max(1, now - prev)
                start_rank[order[rank]] = (y, month)
            prev = max(prev, now)
        first = max(years[0], MONTHLY_FROM[0])
        already = {u for u, ym in start_rank.items() if ym[0] < first}
        out: dict[str, YearUnits] = {}
        for y in range(first, years[-1] + 1):
            for m in range(1, 13):
                if (y, m) < MONTHLY_FROM:
                    continue
                vals = {}
                for u in order:
                    since = start_rank.get(u)
                    done = since is not None and (u in already or (y, m) >= since)
                    if done and m != 12 and rng.random() < 0.03:
                        done = False  # missed the 10th this month
                    vals[u] = 1.0 if done else 0.0
                out[f"{y}-{m:02d}"] = vals
        self.monthly[e] = out

    def _derived_centres_built(self) -> dict[int, YearUnits]:
        adoption = self.adoption.get("community.service_centre", {})
        e = "community.service_centres_built"
        units = self.reporting_units(e)
        return {y: {u: 1.0 if adoption.get(u) == y else 0.0 for u in units} for y in self._years(e)}

    # finishing --------------------------------------------------------------------------------

    def _finish(self, e: str, raw: dict[int, YearUnits]) -> dict[int, YearUnits]:
        """Bend the series through the reported outcomes, then round to the element's type."""
        spec = self.elements[e]
        raw = self._bend(e, raw)
        out: dict[int, YearUnits] = {}
        for y, vals in raw.items():
            if spec.value_type == "boolean":
                out[y] = {u: 1.0 if v >= 0.5 else 0.0 for u, v in vals.items()}
            elif spec.value_type == "integer":
                units = sorted(vals)
                if spec.aggregation == "sum" and len(units) > 1:
                    total = round(math.fsum(vals.values()))
                    out[y] = dict(
                        zip(
                            units,
                            map(float, allocate(total, [max(0.0, vals[u]) for u in units])),
                            strict=True,
                        )
                    )
                else:
                    out[y] = {u: float(max(0, round(v))) for u, v in vals.items()}
            else:
                places = 0 if spec.unit == "yuan" else (1 if spec.unit == "m2" else 2)
                out[y] = {u: round(max(0.0, v), places) for u, v in vals.items()}
            if spec.value_type == "percent":
                out[y] = {u: min(100.0, v) for u, v in out[y].items()}
        return out

    def _bend(self, e: str, raw: dict[int, YearUnits]) -> dict[int, YearUnits]:
        spec = self.elements[e]
        pins = sorted((y, v) for (pe, y), (v, _s) in self.pins.items() if pe == e and y in raw)
        if not pins or spec.aggregation == "weighted_average":
            return raw
        for y, _v in pins:
            self.comments[(e, y)] = self.pins[(e, y)][1]
        factors = []
        for y, v in pins:
            total = math.fsum(raw[y].values())
            factors.append((y, v / total if total else 1.0))
        out = {}
        for y, vals in raw.items():
            f = _interpolate(factors, y)
            out[y] = {u: v * f for u, v in vals.items()}
        return out

    def _apply_caps(self) -> None:
        """A part never exceeds its whole: clamp each value to its ``not_above`` element there,
        wholes first."""

        def depth(e: str) -> int:
            d, seen = 0, set()
            while (nxt := self.elements[e].not_above) and nxt in self.values and e not in seen:
                seen.add(e)
                e, d = nxt, d + 1
            return d

        for e in sorted(self.values, key=lambda c: (depth(c), c)):
            whole = self.elements[e].not_above
            if not whole or whole not in self.values:
                continue
            changed = False
            per_year = self.values[e]
            for y, vals in per_year.items():
                caps = self.agg(whole, y)
                for u, v in vals.items():
                    cap = caps.get(u)
                    if cap is not None and v > cap:
                        vals[u] = float(cap)
                        changed = True
            if changed:
                self.store(e, per_year)

    def _apply_gaps(self) -> None:
        """The scenarios that leave holes: the latest year not reported (no data), reporting
        begun late (no baseline yet), some towns silent in the latest year (incomplete)."""
        for group in self.groups:
            e = group.driver
            per_year = self.values.get(e)
            if not per_year or any(pe == e for pe, _y in self.comments):
                continue  # bent through a reported figure: keep it whole
            years = sorted(per_year)
            if group.scenario == "no_data":
                per_year.pop(years[-1], None)
            elif group.scenario == "late_start":
                for y in years[:-2]:
                    per_year.pop(y, None)
            elif group.scenario == "incomplete":
                rng = rng_for("silent", self.root, e)
                k = max(1, round(len(self.first_level) * 0.2))
                silent = rng.sample(sorted(self.first_level), k)
                drop = {u for s in silent for u in self.tree.subtree(s)}
                for y in years[-1:]:
                    per_year[y] = {u: v for u, v in per_year[y].items() if u not in drop}
            self.store(e, per_year)


def _interpolate(points: list[tuple[int, float]], y: int) -> float:
    if y <= points[0][0]:
        return points[0][1]
    if y >= points[-1][0]:
        return points[-1][1]
    for (y0, f0), (y1, f1) in itertools.pairwise(points):
        if y0 <= y <= y1:
            return f0 + (f1 - f0) * (y - y0) / (y1 - y0)
    return points[-1][1]


# ---------------------------------------------------------------------------------------------
# Base figures: what an element looks like where no target drives it
# ---------------------------------------------------------------------------------------------

Rule = Callable[[_Scope, str, str, int], float]


def _k(y: int) -> int:
    return y - 2011


def _per_capita(rate: float, growth: float = 0.0, lo: float = 0.85, hi: float = 1.15) -> Rule:
    def rule(s: _Scope, e: str, u: str, y: int) -> float:
        return s.P(u, y) * rate * (1 + growth) ** _k(y) * s.noise(e, lo, hi)[u]

    return rule


def _share_of(other: str, lo: float, hi: float, growth: float = 0.0) -> Rule:
    def rule(s: _Scope, e: str, u: str, y: int) -> float:
        return (s.agg(other, y).get(u) or 0.0) * s.noise(e, lo, hi)[u] * (1 + growth) ** _k(y)

    return rule


def _fixed(lo: float, hi: float, growth: float = 0.0, per_year: float = 0.0) -> Rule:
    def rule(s: _Scope, e: str, u: str, y: int) -> float:
        return s.noise(e, lo, hi)[u] * (1 + growth) ** _k(y) + per_year * _k(y)

    return rule


def _plus_per_capita(base: float, per: float) -> Rule:
    def rule(s: _Scope, e: str, u: str, y: int) -> float:
        return base + s.P(u, y) / per

    return rule


def _rule_level(start: float, growth: float, step: float = 0.0) -> Rule:
    def rule(s: _Scope, e: str, u: str, y: int) -> float:
        return start * (1 + growth) ** _k(y) + step * _k(y)

    return rule


def _saturating(start: float, ceiling: float, pace: float) -> Rule:
    """Per-capita rate rising from ``start`` towards ``ceiling`` (closing ``pace`` of the gap a
    year): volunteering and certification grew fast in the early 2010s, then levelled off."""

    def rule(s: _Scope, e: str, u: str, y: int) -> float:
        rate = ceiling - (ceiling - start) * (1 - pace) ** _k(y)
        return s.P(u, y) * rate * s.noise(e)[u]

    return rule


def _households(s: _Scope, e: str, u: str, y: int) -> float:
    return s.P(u, y) * s.hh_per_person * s.noise(e, 0.95, 1.05)[u]


def _rural_households(s: _Scope, e: str, u: str, y: int) -> float:
    hh = s.agg("households.resident", y).get(u) or 0.0
    village = s.tree.units[u].level == "village"
    return hh * (s.noise(e, 0.85, 0.98)[u] if village else s.noise(e, 0.0, 0.12)[u])


def _floating(s: _Scope, e: str, u: str, y: int) -> float:
    share = {"441900": 0.72, "440300": 0.65, "442000": 0.45, "350200": 0.42}.get(s.root, 0.4)
    return s.P(u, y) * share * s.noise(e, 0.8, 1.2)[u]


def _elderly(s: _Scope, e: str, u: str, y: int) -> float:
    share = {"441900": 0.05, "440300": 0.055, "442000": 0.1, "350200": 0.085}.get(s.root, 0.09)
    return s.P(u, y) * share * 1.03 ** _k(y) * s.noise(e, 0.8, 1.25)[u]


def _rc_members(s: _Scope, e: str, u: str, y: int) -> float:
    p = s.P(u, y)
    return 5 + (p > 15_000) + (p > 30_000) + (p > 50_000) + round(s.noise(e, 0, 1)[u])


def _reps(s: _Scope, e: str, u: str, y: int) -> float:
    return min(80, max(20, round(s.P(u, s.years[0]) / 700 * s.noise(e)[u])))


def _workers(s: _Scope, e: str, u: str, y: int) -> float:
    return min(45.0, max(8.0, s.P(u, y) / 1500 * s.noise(e)[u])) * 1.03 ** _k(y)


def _life_expectancy(s: _Scope, e: str, u: str, y: int) -> float:
    start = {"441900": 78.9, "442000": 77.9, "440300": 79.6, "350200": 78.6}.get(s.root, 78.5)
    return start + 0.28 * (y - 2011)


def _population(s: _Scope, e: str, u: str, y: int) -> float:
    return s.P(u, y)


BASE_RULES: dict[str, Rule] = {
    # community
    "population.resident": _population,
    "households.resident": _households,
    "households.rural": _rural_households,
    "population.floating": _floating,
    "elderly.population": _elderly,
    "residents_committees.count": _rule_level(1.0, 0.0),
    "residents_committees.members": _rc_members,
    "residents.reps": _reps,
    "residents.opinions_submitted": _share_of("residents.reps", 1.2, 2.6, 0.05),
    "community_workers.count": _workers,
    "services.total_items": _fixed(45, 85, per_year=1.0),
    "services.approval_trading_procurement_items": _fixed(30, 60, per_year=0.5),
    "rentals.houses": _per_capita(0.045),
    "rentals.key_houses": _share_of("rentals.houses", 0.06, 0.12),
    "migrants.permit_eligible": _share_of("population.floating", 0.85, 0.95),
    "employment.willing_jobseekers": _per_capita(0.003, -0.03),
    "social_orgs.count": _per_capita(1 / 3500, 0.08),
    "social_workers.certified": _saturating(1.3e-4, 30e-4, 0.06),
    "social_workers.professional": _saturating(1.6e-4, 30e-4, 0.06),
    "social_workers.registered": _per_capita(1.2e-4, 0.15),
    "volunteers.registered": _saturating(0.055, 0.2, 0.1),
    "volunteers.active": _saturating(0.09, 0.25, 0.08),
    "community.service_space_m2": _share_of("households.resident", 0.12, 0.35, 0.04),
    "community.outdoor_space_m2": _share_of("households.resident", 0.18, 0.45, 0.04),
    "community.purchased_service_projects": _fixed(0, 3.4),
    "community.service_day_events": _fixed(0, 4.4),
    "elderly.care_beds": _share_of("elderly.population", 0.018, 0.028, 0.06),
    # town
    "population.aged_25plus": _per_capita(0.68, 0.0, 0.94, 1.06),
    "enterprises.count": _per_capita(0.028, 0.05),
    "enterprises.filed": _share_of("enterprises.count", 0.7, 0.9),
    "enterprises.np_100plus": _per_capita(7e-4),
    "enterprises.np_50plus": _per_capita(1.5e-3),
    "health.primary_institutions_gov": _plus_per_capita(3, 25_000),
    "hotels.count": _per_capita(1 / 2500),
    "institutions.pw_posts": _per_capita(1 / 2200),
    "social_orgs.pw_posts": _per_capita(1 / 1400, 0.06),
    "officials.leaders": _plus_per_capita(25, 25_000),
    "services.licence_items": _fixed(150, 220),
    "services.nonlicence_items": _fixed(220, 340),
    "legal_aid.applications_eligible": _per_capita(1 / 2600, 0.05),
    "insurance.pension_eligible": _per_capita(0.74, 0.0, 0.95, 1.05),
    "insurance.medical_eligible": _per_capita(0.97, 0.0, 0.98, 1.02),
    "social_workers.uncertified_in_post": _plus_per_capita(4, 30_000),
    "social_workers.anti_drug": _plus_per_capita(1, 120_000),
    "drug_rehab.community_clients": _per_capita(1 / 6000),
    "finance.general_budget_revenue_yuan": _per_capita(5200, 0.11),
    "finance.total_expenditure_yuan": _per_capita(6000, 0.11),
    "finance.basic_public_services_spending_yuan": _per_capita(1700, 0.12),
    "finance.social_construction_spending_yuan": _per_capita(1500, 0.12),
    "social_orgs.staff30plus": _share_of("social_orgs.count", 0.04, 0.07),
    "social_orgs.staff15plus": _share_of("social_orgs.count", 0.12, 0.2),
    "social_work.purchase_total_yuan": _per_capita(6, 0.1),
    "social_work.purchase_projects": _plus_per_capita(2, 40_000),
    "health.gps_qualified": _per_capita(1.5e-4, 0.15),
    "health.life_expectancy": _life_expectancy,
    "education.avg_years_25plus": _rule_level(10.4, 0.0, 0.15),
    "income.per_capita_disposable": _rule_level(24_200, 0.1),
    "internet.users": _per_capita(0.6, 0.04),
    "internet.mobile_smart_users": _per_capita(0.45, 0.08),
    "households.broadband": _share_of("households.resident", 0.5, 0.7, 0.04),
    "households.fibre": _share_of("households.resident", 0.3, 0.5, 0.08),
    "environment.park_green_area_m2": _per_capita(10, 0.03),
    # district
    "education.hukou_students": _per_capita(0.07),
    "education.key_school_places": _per_capita(0.025),
    "education.needy_children_school_age": _per_capita(0.012),
    # city
    "deputies.linked": _plus_per_capita(150, 100_000),
    "gov_info.publishable_items": _rule_level(20_000, 0.1),
    "gov_info.nonpublic_items": _rule_level(5_000, 0.05),
    "institutions.pw_heads": _plus_per_capita(250, 100_000),
    "insurance.inpatient_in_scope_cost_yuan": _per_capita(700, 0.12, 1.0, 1.0),
    "wages.professional_tech_avg_yuan": _rule_level(58_000, 0.08),
    "wages.urban_nonprivate_avg_prev_year_yuan": _rule_level(42_000, 0.085),
    "social_work.agencies": _per_capita(1 / 150_000, 0.12, 1.0, 1.0),
    "social_workers.avg_pay_yuan": _rule_level(40_000, 0.08),
    "social_workers.supervisors": _rule_level(20, 0.0, 10),
}
BASE_DEPS: dict[str, tuple[str, ...]] = {
    "households.rural": ("households.resident",),
    "residents.opinions_submitted": ("residents.reps",),
    "rentals.key_houses": ("rentals.houses",),
    "migrants.permit_eligible": ("population.floating",),
    "community.service_space_m2": ("households.resident",),
    "community.outdoor_space_m2": ("households.resident",),
    "elderly.care_beds": ("elderly.population",),
    "enterprises.filed": ("enterprises.count",),
    "social_orgs.staff30plus": ("social_orgs.count",),
    "social_orgs.staff15plus": ("social_orgs.count",),
    "households.broadband": ("households.resident",),
    "households.fibre": ("households.resident",),
}


def _fallback_rule(spec: ElementIn) -> Rule:
    tier = _TIER.get(spec.level, "city")
    if tier == "city":
        return _fixed(40, 120)
    return _per_capita(1e-3)


# ---------------------------------------------------------------------------------------------
# Langxia: a dated timeline and locked head counts, written out rather than generated
# ---------------------------------------------------------------------------------------------


def _langxia_values(indicators: list[IndicatorIn]) -> tuple[list[DemoValue], dict[str, str]]:
    """The year before the reform and the year of it (:data:`LANGXIA_YEARS`): the teams keep
    their locked sizes except that one member of the environment team leaves and is not
    replaced, the four stations are set up, the town pays exactly half of the new hires, two
    coordinators lose income; the timeline's steps are done month by month, one a month late
    and the last (archiving) not at all."""
    before, year = LANGXIA_YEARS
    out: list[DemoValue] = []
    scenarios: dict[str, str] = {}
    teams = {before: 0, year: 0}

    def put(element: str, y: int | str, value: int) -> None:
        out.append(DemoValue(element, LANGXIA, str(y), Decimal(value)))

    for ind in indicators:
        e = ind.element or ""
        if (
            ind.kind == "value"
            and e.startswith("coordinators.")
            and e != "coordinators.work_stations"
        ):
            short = e == "coordinators.city_environment"
            for y, value in ((before, int(ind.target)), (year, int(ind.target) - short)):
                put(e, y, value)
                teams[y] += value
            scenarios[ind.code] = "missed" if short else "achieved_early"
        elif e == "coordinators.work_stations":
            put(e, before, 0)
            put(e, year, int(ind.target))
            scenarios[ind.code] = "on_time"
        elif e == "coordinators.exited_informal_orgs":
            put(e, before, 0)
            put(e, year, 1)
            scenarios[ind.code] = "on_time"
        elif ind.code.endswith("income_maintained_share"):
            scenarios[ind.code] = "missed"
        elif ind.code.endswith("newhire_cost_town_share"):
            scenarios[ind.code] = "on_time"
    for y, total in teams.items():
        put("coordinators.count", y, total)
    put("coordinators.income_maintained", year, teams[year] - 2)
    put("coordinators.newhire_cost_yuan", year, 216_000)
    put("coordinators.newhire_cost_town_yuan", year, 108_000)
    steps = sorted(
        (i for i in indicators if i.kind == "milestone" and i.element and ".m" in i.element),
        key=lambda i: i.deadline,
    )
    for n, ind in enumerate(steps):
        done = ind.deadline.month + (n == len(steps) - 3)  # one step a month late
        if n == len(steps) - 1:
            done = 13  # the records are not archived yet
        for month in range(1, 13):
            put(ind.element, f"{year}-{month:02d}", int(month >= done))  # type: ignore[arg-type]
        scenarios[ind.code] = (
            "never" if done > 12 else ("late" if done > ind.deadline.month else "on_time")
        )
    return out, scenarios


# ---------------------------------------------------------------------------------------------
# Putting it together
# ---------------------------------------------------------------------------------------------


def build(*, units: Sequence[UnitIn], elements: dict[str, ElementIn],
          indicators: Sequence[IndicatorIn], outcomes: Sequence[Outcome] = (),
          communities: dict[str, int] | None = None,
          households: dict[str, float] | None = None) -> DemoData:  # fmt: skip
    """The generated units and every demo value. ``units`` are the real org units (generated
    ones are ignored and rebuilt); ``communities`` the reference community counts by unit code;
    ``households`` households per resident by city code (from the census bulletins)."""
    tree = Tree(u for u in units if not u.is_generated)
    generated = generate_units(tree, communities)
    for u in generated:
        tree.add(u)
    households = households or {}
    by_city: dict[str, list[IndicatorIn]] = defaultdict(list)
    for ind in indicators:
        by_city[ind.city].append(ind)
    pins: dict[str, dict[tuple[str, int], tuple[float, str]]] = defaultdict(dict)
    for o in outcomes:
        pins[o.city][(o.element, o.year)] = (o.value, f"演示数据，参照：{o.source}")

    values: list[DemoValue] = []
    scenarios: dict[str, str] = {}
    pinned: list[tuple[str, str, int, float]] = []
    dependencies: set[str] = set()
    roots = [*CITY_CODES, *sorted(c for c in by_city if c not in CITY_CODES and c != LANGXIA)]
    for root in roots:
        if root not in tree.units:
            continue
        inds = by_city.get(root, [])
        needed = {e for ind in inds for e in ind.inputs()}
        if root in CITY_CODES:
            needed |= set(CORE_ELEMENTS)
        if not needed:
            continue
        city = root if root in CITY_CODES else _city_of(tree, root)
        years = XIAMEN_YEARS if root == "350200" else YEARS
        scope = _Scope(
            tree=tree, root=root, years=years, elements=elements, needed=needed, indicators=inds,
            pins=pins.get(root, {}) if root in CITY_CODES else {},
            households_per_person=households.get(city or "", 1 / 2.6),
        )  # fmt: skip
        scope.run()
        scenarios.update(scope.scenarios)
        dependencies |= scope.dependencies
        values.extend(_scope_values(scope))
        for (e, y), (v, _source) in scope.pins.items():
            if e in scope.values and y in scope.values[e]:
                pinned.append((root, e, y, v))
    if LANGXIA in tree.units and by_city.get(LANGXIA):
        lx_values, lx_scenarios = _langxia_values(by_city[LANGXIA])
        values.extend(lx_values)
        scenarios.update(lx_scenarios)
    values = _while_open(values, tree)
    return DemoData(units=generated, values=values, scenarios=scenarios, pinned=pinned,
                    dependencies=dependencies)  # fmt: skip


def _while_open(values: list[DemoValue], tree: Tree) -> list[DemoValue]:
    """Drop the figures of units (and of the generated units under them) for years before they
    came into being: Shenzhen's 龙华区 did not report for 2014."""
    opened: dict[str, int] = {}
    for code in tree.units:
        years = [u.opened.year for u in _ancestry(tree, code) if u.opened is not None]
        if years:
            opened[code] = max(years)
    if not opened:
        return values
    return [v for v in values if int(v.period[:4]) >= opened.get(v.unit, 0)]


def _ancestry(tree: Tree, code: str) -> Iterable[UnitIn]:
    u = tree.units.get(code)
    while u is not None:
        yield u
        u = tree.units.get(u.parent) if u.parent else None


def _city_of(tree: Tree, code: str) -> str | None:
    u = tree.units.get(code)
    while u is not None:
        if u.code in CITY_CODES:
            return u.code
        u = tree.units.get(u.parent) if u.parent else None
    return None


def _scope_values(scope: _Scope) -> Iterable[DemoValue]:
    for e in sorted(scope.values):
        for y in sorted(scope.values[e]):
            comment = scope.comments.get((e, y), "")
            period = str(y)
            for u, v in sorted(scope.values[e][y].items()):
                yield DemoValue(e, u, period, _decimal(v), comment)
    for e in sorted(scope.monthly):
        for period in sorted(scope.monthly[e]):
            for u, v in sorted(scope.monthly[e][period].items()):
                yield DemoValue(e, u, period, _decimal(v))


def _decimal(v: float) -> Decimal:
    if v == int(v) and abs(v) < 1e15:
        return Decimal(int(v))
    return Decimal(f"{v:.6f}").normalize()


# ---------------------------------------------------------------------------------------------
# Demo users
# ---------------------------------------------------------------------------------------------

OFFICIAL_UNITS = {
    "441900": ("441900003", "441900121", "441900119"),  # 东城街道, 虎门镇, 长安镇
    "442000": ("442000001", "442000118"),  # 石岐街道, 小榄镇
    "440300": ("440308", "440304"),  # 盐田区 (its own plan), 福田区
    "350200": ("350203", "350206"),  # 思明区, 湖里区
    LANGXIA: (LANGXIA,),
}
_CITY_SLUG = {"441900": "dongguan", "442000": "zhongshan", "440300": "shenzhen",
              "350200": "xiamen", LANGXIA: "langxia"}  # fmt: skip


def demo_users(units: dict[str, UnitIn]) -> list[DemoUser]:
    """Per city a leader, a reviewer and officials on two or three first-level units; Langxia
    gets an official and a reviewer; ``leader_all`` reads every city (cross-city comparison)."""
    out = (
        [DemoUser("leader_all", "全国领导（演示）", "leader", COUNTRY)] if COUNTRY in units else []
    )
    for city, slug in _CITY_SLUG.items():
        unit = units.get(city)
        if unit is None:
            continue
        name = stem_zh(unit.name_zh) if city == LANGXIA else unit.name_zh
        if city != LANGXIA:
            out.append(DemoUser(f"leader_{slug}", f"{name}领导（演示）", "leader", city))
        out.append(DemoUser(f"reviewer_{slug}", f"{name}审核员（演示）", "reviewer", city))
        for code in OFFICIAL_UNITS.get(city, ()):
            official = units.get(code)
            if official is None:
                continue
            out.append(
                DemoUser(f"official_{username_slug(official.name_en)}",
                         f"{official.name_zh}填报员（演示）", "official", code)
            )  # fmt: skip
    return out


def review_stamp(period_end: date, days: int) -> datetime:
    """A fixed time after the period's end (10:00 Beijing time), so re-runs write the same."""
    return datetime.combine(
        period_end + timedelta(days=days), datetime.min.time(), UTC
    ) + timedelta(hours=2)


# ---------------------------------------------------------------------------------------------
# Review states: who entered and who approved what
# ---------------------------------------------------------------------------------------------

# Weights of averages stay approved: a pending weight would skew every average above it.
_NOT_IN_INBOX = frozenset({"population.resident", "population.aged_25plus"})
REJECTED_ELEMENT = "volunteers.registered"
REJECTION_COMMENT = "较上年增幅异常，请核实后重新提交（演示）"


@dataclass(frozen=True, slots=True)
class Review:
    state: str
    created_by: str
    reviewed_by: str | None
    review_comment: str = ""


def reviews(values: Sequence[DemoValue], units: dict[str, UnitIn], users: Sequence[DemoUser],
            keep_approved: Iterable[str] = ()) -> list[Review]:  # fmt: skip
    """The review state of each value: approved by the city's demo reviewer, entered by the demo
    official of the unit (or the city's first official where no demo official sits); the latest
    year of a couple of elements at the first official's unit is still submitted (the reviewer's
    inbox), and one value in Dongguan and one in Xiamen were sent back with a comment."""
    officials = {u.unit: u.username for u in users if u.role == "official"}
    reviewers = {u.unit: u.username for u in users if u.role == "reviewer"}
    first_official = {
        city: next((officials[c] for c in codes if c in officials), "")
        for city, codes in OFFICIAL_UNITS.items()
    }
    inbox_units = {city: codes[0] for city, codes in OFFICIAL_UNITS.items() if city != LANGXIA}
    reject_units = {c: OFFICIAL_UNITS[c][1] for c in ("441900", "350200")}

    @dataclass(slots=True)
    class _Where:
        city: str
        creator: str
        reviewer: str | None
        inbox: bool  # strictly below the inbox unit
        reject: bool  # strictly below the unit where a value is sent back

    where: dict[str, _Where] = {}
    for code in {v.unit for v in values}:
        chain = list(_chain(units, code))
        city = next((c for c in chain if c in _CITY_SLUG), "")
        where[code] = _Where(
            city=city,
            creator=next((officials[c] for c in chain if c in officials), first_official.get(city, "")),
            reviewer=reviewers.get(city),
            inbox=inbox_units.get(city) in chain[1:],
            reject=reject_units.get(city) in chain[1:],
        )  # fmt: skip
    latest: dict[str, str] = {}
    for v in values:
        city = where[v.unit].city
        if v.period[:4] > latest.get(city, ""):
            latest[city] = v.period[:4]
    keep = set(keep_approved) | _NOT_IN_INBOX
    candidates: dict[str, set[str]] = defaultdict(set)
    for v in values:
        w = where[v.unit]
        if w.inbox and v.period == latest[w.city] and not v.comment and v.element not in keep:
            candidates[w.city].add(v.element)
    inbox_elements = {
        city: set(rng_for("inbox", city).sample(sorted(els), min(2, len(els))))
        for city, els in candidates.items()
    }
    rejected: set[str] = set()
    out: list[Review] = []
    for v in values:
        w = where[v.unit]
        if w.inbox and v.period == latest[w.city] and v.element in inbox_elements.get(w.city, ()):
            out.append(Review("submitted", w.creator, None))
        elif (
            w.reject
            and w.city not in rejected
            and v.element == REJECTED_ELEMENT
            and v.period == latest[w.city]
        ):
            rejected.add(w.city)
            out.append(Review("rejected", w.creator, w.reviewer, REJECTION_COMMENT))
        else:
            out.append(Review("approved", w.creator, w.reviewer))
    return out


# ---------------------------------------------------------------------------------------------
# The database side


def _chain(units: dict[str, UnitIn], code: str) -> Iterable[str]:
    u = units.get(code)
    while u is not None:
        yield u.code
        u = units.get(u.parent) if u.parent else None

"""The oracle of the progress engine's roll-up (months and quarters into years) and of its
aggregation up the tree: a second, plainly written implementation over dicts, which only the
property tests call to check the engine's column-wise one (reports.progress._read_own and
_aggregate_column). It used to live in the engine; the engine keeps one roll-up."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from core.periods import Period
from reports.progress import ElementSpec, OrgTree

_YEAR_RANK, _QUARTER_RANK, _MONTH_RANK = 2, 1, 0
_RANK_OF_TYPE = {"year": _YEAR_RANK, "quarter": _QUARTER_RANK, "month": _MONTH_RANK}

YearValues = dict[str, float]  # org unit → value, for one element and year


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

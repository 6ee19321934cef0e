"""Micro-benchmark of the pure progress engine (no database).

Builds 4 cities × 40 towns × 75 communities (12,164 units), 60 monthly data elements reported by
every community for 12 months (8.64M values), and 100 indicators (25 per city: ratios, totals,
averages, weighted averages, coverages, growth), then times ``compute_progress`` for a full run
and for an incremental recompute of one indicator on one town's subtree.

    .venv/bin/python bench/engine_pure.py [--towns 40] [--communities 75] [--elements 60]

``--yearly`` reproduces the engine's share of ``bench/recompute.py`` instead: a national root over
4 cities × 100 towns × 30 communities (12,405 units), 60 elements whose months the database layer
has already rolled into years (720,000 values keyed ``(element, unit, "2015")``), and 280
indicators (per city and pair of elements: a total, a ratio and every third pair a coverage), run
as the progress job runs them: one ``compute_progress`` call per plan (city) on a shared tree.

    .venv/bin/python bench/engine_pure.py --yearly [--repeat 3] [--one-call]
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reports.progress import (
    ConditionSpec,
    ElementSpec,
    IndicatorSpec,
    OrgTree,
    OrgUnitNode,
    RatioSpec,
    compute_progress,
)


def build(towns: int, communities: int, n_elements: int, seed: int = 7):
    rng = random.Random(seed)
    units: list[OrgUnitNode] = []
    leaves: list[str] = []
    cities = [f"C{c}" for c in range(4)]
    for city in cities:
        units.append(OrgUnitNode(city, None, "city"))
        for t in range(towns):
            town = f"{city}T{t:02d}"
            units.append(OrgUnitNode(town, city, "town" if t % 2 else "subdistrict"))
            for k in range(communities):
                code = f"{town}K{k:03d}"
                units.append(OrgUnitNode(code, town, "community" if k % 3 else "village"))
                leaves.append(code)
    elements: dict[str, ElementSpec] = {"e00": ElementSpec("e00", "sum", None, "last", "month")}
    for i in range(1, n_elements):
        code = f"e{i:02d}"
        if i % 10 == 3:
            elements[code] = ElementSpec(code, "weighted_average", "e00", "last", "month")
        elif i % 10 == 7:
            elements[code] = ElementSpec(code, "average", None, "last", "month")
        else:
            temporal = "sum" if i % 2 else "last"
            elements[code] = ElementSpec(code, "sum", None, temporal, "month")
    months = [f"2024-{m:02d}" for m in range(1, 13)]
    values: dict[tuple[str, str, str], float] = {}
    codes = list(elements)
    for leaf in leaves:
        for code in codes:
            base = rng.uniform(10, 1000)
            for month in months:
                values[(code, leaf, month)] = base
    deadline = date(2025, 12, 31)
    indicators: list[IndicatorSpec] = []
    for city in cities:
        for j in range(25):
            a, b = codes[(j * 7 + 1) % n_elements], codes[(j * 11 + 2) % n_elements]
            common = dict(code=f"{city}.i{j:02d}", city=city, comparator=">=", deadline=deadline)
            if j % 5 == 0:
                ind = IndicatorSpec(
                    kind="ratio", target=50, ratio=RatioSpec(a, "e00", 100), **common
                )
            elif j % 5 == 1:
                ind = IndicatorSpec(kind="value", target=1e6, element=a, **common)
            elif j % 5 == 2:
                ind = IndicatorSpec(
                    kind="coverage", target=100, level="community",
                    condition=ConditionSpec(">=", 500, element=b), **common,
                )  # fmt: skip
            elif j % 5 == 3:
                ind = IndicatorSpec(
                    kind="growth", target=8, growth_of_element=a, growth_mode="percent",
                    growth_from_year=2023, **common,
                )  # fmt: skip
            else:
                ind = IndicatorSpec(
                    kind="value", target=500, element="e03", method="cagr", **common
                )
            indicators.append(ind)
    return units, elements, values, indicators


def build_yearly(towns: int, communities: int, n_elements: int, seed: int = 7):
    """The shape of bench/recompute.py after its SQL roll-up: yearly values only."""
    rng = random.Random(seed)
    units: list[OrgUnitNode] = [OrgUnitNode("B", None, "country")]
    leaves: list[str] = []
    cities = [f"B{c}" for c in range(4)]
    for city in cities:
        units.append(OrgUnitNode(city, "B", "city"))
        for t in range(towns):
            town = f"{city}T{t:03d}"
            units.append(OrgUnitNode(town, city, "town"))
            for k in range(communities):
                code = f"{town}C{k:02d}"
                units.append(OrgUnitNode(code, town, "community"))
                leaves.append(code)
    codes = [f"bench.e{i:02d}" for i in range(n_elements)]
    elements = {
        code: ElementSpec(code, "sum", None, "sum" if i % 2 else "last", "month")
        for i, code in enumerate(codes)
    }
    values: dict[tuple[str, str, str], float] = {}
    for code in codes:
        flow = elements[code].temporal == "sum"
        for leaf in leaves:
            months = [round(rng.random() * 1000, 2) for _ in range(12)]
            values[(code, leaf, "2015")] = sum(months) if flow else months[-1]
    deadline = date(2016, 12, 31)
    plans: list[list[IndicatorSpec]] = []
    for city in cities:
        common = dict(city=city, comparator=">=", deadline=deadline)
        plan: list[IndicatorSpec] = []
        for i in range(0, n_elements - 1, 2):
            num, den = codes[i + 1], codes[i]
            plan.append(
                IndicatorSpec(
                    code=f"{city}.total.{i}", kind="value", element=num, target=1e6, **common
                )
            )
            plan.append(
                IndicatorSpec(
                    code=f"{city}.ratio.{i}",
                    kind="ratio",
                    ratio=RatioSpec(num, den, 100),
                    target=50,
                    **common,
                )
            )
            if i % 6 == 0:
                plan.append(
                    IndicatorSpec(
                        code=f"{city}.cover.{i}",
                        kind="coverage",
                        level="community",
                        condition=ConditionSpec(">=", 500, element=den),
                        target=100,
                        **common,
                    )
                )
        plans.append(plan)
    return units, elements, values, plans


def main_yearly(args: argparse.Namespace) -> None:
    t = time.perf_counter()
    units, elements, values, plans = build_yearly(args.towns, args.communities, args.elements)
    print(
        f"built {len(units):,} units, {len(elements)} elements, {len(values):,} yearly values, "
        f"{sum(map(len, plans))} indicators in {len(plans)} plans in "
        f"{time.perf_counter() - t:.1f}s"
    )
    as_of = date(2015, 12, 31)
    best = None
    for _ in range(args.repeat):
        t, cpu = time.perf_counter(), time.process_time()
        tree = OrgTree(units)
        rows = []
        # One call per plan, as reports.services.progress_compute does; --one-call passes all
        # plans' indicators at once (the values are then read once, not once per plan).
        for plan in [[i for p in plans for i in p]] if args.one_call else plans:
            rows.extend(
                compute_progress(
                    indicators=plan,
                    elements=elements,
                    units=tree,
                    values=values,
                    years=[2015],
                    as_of=as_of,
                )
            )
        wall, used = time.perf_counter() - t, time.process_time() - cpu
        print(f"full run: {len(rows):,} rows in {wall:.2f}s wall, {used:.2f}s CPU")
        best = used if best is None else min(best, used)
        del rows
    print(f"best of {args.repeat}: {best:.2f}s CPU")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:,.0f} MB (includes the input values dict)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--towns", type=int, default=40)
    parser.add_argument("--communities", type=int, default=75)
    parser.add_argument("--elements", type=int, default=60)
    parser.add_argument(
        "--yearly", action="store_true", help="bench/recompute.py's shape, yearly values"
    )
    parser.add_argument("--repeat", type=int, default=1, help="full runs to time (--yearly)")
    parser.add_argument(
        "--one-call", action="store_true", help="all plans in one compute_progress (--yearly)"
    )
    args = parser.parse_args()
    if args.yearly:
        if "--towns" not in sys.argv:
            args.towns = 100
        if "--communities" not in sys.argv:
            args.communities = 30
        main_yearly(args)
        return
    t = time.perf_counter()
    units, elements, values, indicators = build(args.towns, args.communities, args.elements)
    print(
        f"built {len(units):,} units, {len(elements)} elements, {len(values):,} values, "
        f"{len(indicators)} indicators in {time.perf_counter() - t:.1f}s"
    )
    as_of = date(2024, 12, 31)
    t, cpu = time.perf_counter(), time.process_time()
    tree = OrgTree(units)
    rows = compute_progress(
        indicators=indicators, elements=elements, units=tree, values=values,
        years=[2023, 2024], as_of=as_of,
    )  # fmt: skip
    full, full_cpu = time.perf_counter() - t, time.process_time() - cpu
    print(
        f"full run: {len(rows):,} rows in {full:.2f}s wall, {full_cpu:.2f}s CPU "
        f"({len(values) / full_cpu / 1e6:.2f}M values per CPU second)"
    )
    one_town = set(tree.subtree("C0T01"))
    t, cpu = time.perf_counter(), time.process_time()
    part = compute_progress(
        indicators=indicators[:1], elements=elements, units=tree, values=values,
        years=[2023, 2024], as_of=as_of, only_units=one_town,
    )  # fmt: skip
    print(
        f"one indicator × one town: {len(part):,} rows in {time.perf_counter() - t:.2f}s wall, "
        f"{time.process_time() - cpu:.2f}s CPU"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:,.0f} MB (includes the input values dict)")


if __name__ == "__main__":
    main()

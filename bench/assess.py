"""Benchmark of assessment scoring (accountability/scoring.py, pure) against one SQL aggregate of
the same rows.

1,000 units (in two groups) × 300 scheme items (a tenth of them veto items) × 10 years: 3M
``(indicator, unit, year) → status`` rows. The pure side scores and ranks every year's scheme
(``score_units`` per year, from the rows as a dict); the SQL side loads the same rows into an
in-memory SQLite table and runs one aggregate: per year and unit, the sum of points × the
status's factor and whether a veto item is off track or missed (no ranking, which the pure side
does as well). Both start from rows already in memory; the figures are the best of ``--repeat``.

    .venv/bin/python bench/assess.py [--units 1000] [--items 300] [--years 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from accountability.scoring import Item, score_units

STATUSES = ["achieved", "on_track", "at_risk", "off_track", "missed", "no_data"]
SCORING = {"achieved": 1, "on_track": 1, "at_risk": 0.5}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--items", type=int, default=300)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(15)
    units = [(f"u{i:05d}", "town" if i % 3 else "subdistrict") for i in range(args.units)]
    items = [
        Item(f"i{k:04d}", Decimal(rng.choice([2, 5, 10])), veto=k % 10 == 0)
        for k in range(args.items)
    ]
    years = list(range(2011, 2011 + args.years))
    weights = [30, 25, 20, 12, 8, 5]
    by_year = {}
    flat = []
    for year in years:
        statuses = {}
        for unit, _g in units:
            picks = rng.choices(STATUSES, weights, k=len(items))
            for item, status in zip(items, picks, strict=True):
                statuses[item.indicator, unit] = status
                flat.append((year, unit, item.indicator, status))
        by_year[year] = statuses
    print(f"{len(flat):,} rows: {args.units} units × {args.items} items × {args.years} years")

    best_pure = float("inf")
    for _ in range(args.repeat):
        start = time.perf_counter()
        for year in years:
            score_units(
                items=items, scoring=SCORING, units=units, statuses=by_year[year],
                rank_by_group=True,
            )  # fmt: skip
        best_pure = min(best_pure, time.perf_counter() - start)

    db = sqlite3.connect(":memory:")
    db.execute("create table row (year int, unit text, indicator text, status text)")
    db.execute("create table item (indicator text primary key, points real, veto int)")
    db.execute("create table factor (status text primary key, factor real)")
    db.executemany("insert into row values (?, ?, ?, ?)", flat)
    db.executemany(
        "insert into item values (?, ?, ?)", [(i.indicator, float(i.points), i.veto) for i in items]
    )
    db.executemany("insert into factor values (?, ?)", list(SCORING.items()))
    sql = """
        select r.year, r.unit, sum(i.points * coalesce(f.factor, 0)),
               max(i.veto and r.status in ('off_track', 'missed'))
        from row r join item i on i.indicator = r.indicator
        left join factor f on f.status = r.status
        group by r.year, r.unit
    """
    best_sql = float("inf")
    for _ in range(args.repeat):
        start = time.perf_counter()
        result = db.execute(sql).fetchall()
        best_sql = min(best_sql, time.perf_counter() - start)
    assert len(result) == args.units * args.years
    print(f"pure scoring and ranking: {best_pure:.2f} s")
    print(f"one SQL aggregate (SQLite, in memory): {best_sql:.2f} s")
    print(f"ratio: {best_pure / best_sql:.2f}× the SQL aggregate (goal: within 2×)")


if __name__ == "__main__":
    main()

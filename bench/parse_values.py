"""Throughput and memory of the pure upload validator (districts.intake.validator) on a 1M-row file.

Generates a realistic values CSV in a temporary directory — by default 5,000 org units × 20
elements × 10 years (integers, decimals and percents, a ``not_above`` pair, thousands
separators and a comment on 1% of the rows, values growing ~5% a year so that outliers are
rare; ``--units 50000`` makes it one year of 50,000 units, the usual shape of a real upload) —
then runs ``ValuesValidator.chunks`` on it as the upload job does (a path in, chunks of tuples
out, discarded), with a scope and the stored values of the
year before the file for outlier warnings. Prints rows/s (wall and CPU: this machine is shared,
so the best of ``--repeat`` runs is reported), the peak RSS growth during validation, and, with
``--tracemalloc``, the peak of Python allocations in a separate (slower) run.

    .venv/bin/python bench/parse_values.py [--rows 1000000] [--units 5000] [--repeat 3] [--tracemalloc]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
django.setup()  # districts.intake's public face imports the models

from districts.intake.validator import ValuesValidator  # noqa: E402 - after django.setup()
from districts.rules import ElementRule  # noqa: E402 - after django.setup()

FIRST_YEAR = 2006


def build_lookups(units: int):
    elements: dict[str, ElementRule] = {}
    kinds = ["integer"] * 12 + ["number"] * 6 + ["percent"] * 2
    for i, kind in enumerate(kinds):
        code = f"element.{i:02d}"
        unit = {"integer": "persons", "number": "万元", "percent": "%"}[kind]
        elements[code] = ElementRule(code, kind, "year", unit, id=i + 1)
    # volunteers (element.01) may not exceed population (element.00)
    elements["element.01"] = ElementRule("element.01", "integer", "year", "persons",
                                         "element.00", id=2)  # fmt: skip
    org_units = {f"4419{i:08d}": i + 100 for i in range(units)}
    scope = set(org_units)
    return elements, org_units, scope


def base_value(rng: random.Random, kind: str) -> float:
    if kind == "percent":
        return rng.uniform(20, 60)
    if kind == "number":
        return rng.uniform(10, 100_000)
    return rng.randint(100, 200_000)


def render(kind: str, value: float) -> str:
    if kind == "integer":
        return str(int(value))
    if kind == "percent":
        return f"{min(value, 100):.1f}"
    return f"{value:.2f}"


def generate(path: Path, rows: int, units: int, elements) -> tuple[int, dict]:
    """Write the file; return its row count and the stored values of the year before it."""
    rng = random.Random(20151231)
    codes = list(elements)
    years = -(-rows // (units * len(codes)))
    base = {}
    for u in range(units):
        for code in codes:
            base[u, code] = base_value(rng, elements[code].value_type)
        # keep volunteers below population
        base[u, "element.01"] = base[u, "element.00"] * 0.1
    existing = {
        (code, f"4419{u:08d}", str(FIRST_YEAR - 1)): Decimal(render(elements[code].value_type,
                                                                      base[u, code] / 1.05))
        for u in range(units)
        for code in codes
    }  # fmt: skip
    written = 0
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("org_unit,period,element,value,comment\r\n")
        for y in range(years):
            growth = 1.05**y
            lines = []
            for u in range(units):
                unit = f"4419{u:08d}"
                for code in codes:
                    if written >= rows:
                        break
                    kind = elements[code].value_type
                    comment = "社区上报" if rng.random() < 0.01 else ""
                    value = render(kind, base[u, code] * growth)
                    if kind == "integer" and rng.random() < 0.01:
                        value = f'"{int(value):,}"'  # thousands separators, quoted as Excel does
                    lines.append(f"{unit},{FIRST_YEAR + y},{code},{value},{comment}\r\n")
                    written += 1
            out.writelines(lines)
    return written, existing


def run(path: Path, lookups, existing) -> tuple[float, float, int, object]:
    elements, org_units, scope = lookups
    validator = ValuesValidator(
        elements=elements, org_units=org_units, scope=scope, existing=existing
    )
    rows = 0
    wall, cpu = time.perf_counter(), time.process_time()
    for chunk in validator.chunks(path):
        rows += len(chunk)
    return time.perf_counter() - wall, time.process_time() - cpu, rows, validator.report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--units", type=int, default=5_000, help="org units (× 20 elements)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also measure Python allocations"
    )
    args = parser.parse_args()

    lookups = build_lookups(args.units)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "values.csv"
        started = time.perf_counter()
        written, existing = generate(path, args.rows, args.units, lookups[0])
        size = os.path.getsize(path)
        print(f"generated {written:,} rows, {size / 1e6:.1f} MB in "
              f"{time.perf_counter() - started:.1f}s: {path}")  # fmt: skip

        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        walls, cpus = [], []
        for attempt in range(args.repeat):
            wall, cpu, rows, report = run(path, lookups, existing)
            walls.append(wall)
            cpus.append(cpu)
            print(f"  run {attempt + 1}: {wall:.2f}s wall ({rows / wall:,.0f} rows/s), "
                  f"{cpu:.2f}s CPU ({rows / cpu:,.0f} rows/s)")  # fmt: skip
        rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        assert report.ok, report.errors[:5]
        assert rows == written
        print(f"valid rows: {report.rows_valid:,}; errors: {report.errors_total}; "
              f"warnings: {report.warnings_total}")  # fmt: skip
        print(f"best: {written / min(walls):,.0f} rows/s wall, "
              f"{written / min(cpus):,.0f} rows/s CPU; load average {os.getloadavg()[0]:.1f}")  # fmt: skip
        print(f"peak RSS growth while validating: {(rss_peak - rss_before) / 1024:,.0f} MB "
              f"(peak RSS {rss_peak / 1024:,.0f} MB, incl. {len(existing):,} stored values)")  # fmt: skip
        if args.tracemalloc:
            tracemalloc.start()
            run(path, lookups, existing)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(f"tracemalloc peak of Python allocations while validating: {peak / 1e6:,.0f} MB")
    print(f"reproduce: .venv/bin/python bench/parse_values.py --rows {args.rows} "
          f"--units {args.units} --repeat {args.repeat}"
          f"{' --tracemalloc' if args.tracemalloc else ''}")  # fmt: skip


if __name__ == "__main__":
    main()

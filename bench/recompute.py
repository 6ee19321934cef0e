"""Progress recompute at the largest realistic load, on PostgreSQL (issue 5).

Generates 4 cities × ~100 towns × ~30 communities (≈12,000 communities), 60 monthly data
elements reported by every community for 12 months (≈8.6 million approved values) and
indicators over them (totals, ratios, coverages), then measures in one run on the same database:

  (a) the full recompute of every indicator at every level (reports.services.progress_recompute:
      SQL roll-up of months into years, the pure engine, COPY of the rows);
  (b) the reference: one SQL ``GROUP BY GROUPING SETS`` roll-up of the same values to
      community, town and city;
  (c) an incremental recompute after one approved value (its indicators, its unit and ancestors).

It prints every figure, the ratios and peak memory. It needs an empty database of its own:

    createdb -h 127.0.0.1 -p 5432 -U tracker tracker_bench
    DATABASE_URL=postgres://tracker@127.0.0.1:5432/tracker_bench \\
      .venv/bin/python bench/recompute.py [--towns 100] [--communities 30] [--elements 60]

(``scripts/test.sh`` does not run it: a benchmark is not a test.)
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from districts.models import DataValue, OrgUnit  # noqa: E402
from reports import services  # noqa: E402
from reports.models import ProgressRow  # noqa: E402
from targets.models import DataElement, Goal, Indicator, Plan  # noqa: E402


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(towns: int, communities: int, n_elements: int) -> None:
    """Units, elements, indicators through the ORM; values with one INSERT … SELECT."""
    t0 = time.perf_counter()
    cursor = connection.cursor()
    cursor.execute(
        "TRUNCATE reports_progressrow, reports_progressrun, districts_datavaluechange, "
        "districts_datavalue, targets_indicator, targets_goal, targets_plan, "
        "targets_dataelement, districts_orgunit CASCADE"
    )
    root = OrgUnit.objects.create(code="B", name_zh="基准", level="country", path="B/", depth=0)
    units = []
    for c in range(4):
        city = OrgUnit(
            code=f"B{c}", name_zh=f"城市{c}", level="city", parent=root, path=f"B/B{c}/", depth=1
        )
        units.append(city)
    OrgUnit.objects.bulk_create(units)
    cities = {u.code: u for u in OrgUnit.objects.filter(level="city")}
    towns_rows = [
        OrgUnit(
            code=f"{cc}T{t:03d}",
            name_zh=f"镇{t}",
            level="town",
            parent=city,
            path=f"{city.path}{cc}T{t:03d}/",
            depth=2,
        )
        for cc, city in cities.items()
        for t in range(towns)
    ]
    OrgUnit.objects.bulk_create(towns_rows, batch_size=5000)
    town_units = list(OrgUnit.objects.filter(level="town"))
    comm_rows = [
        OrgUnit(
            code=f"{town.code}C{k:02d}",
            name_zh=f"社区{k}",
            level="community",
            parent=town,
            path=f"{town.path}{town.code}C{k:02d}/",
            depth=3,
        )
        for town in town_units
        for k in range(communities)
    ]
    OrgUnit.objects.bulk_create(comm_rows, batch_size=5000)
    elements = []
    for i in range(n_elements):
        flow = i % 2 == 1
        elements.append(
            DataElement(
                code=f"bench.e{i:02d}",
                name_zh=f"数据项{i}",
                value_type="number",
                period_type="month",
                aggregation="sum",
                temporal="sum" if flow else "last",
                level="community",
            )
        )
    DataElement.objects.bulk_create(elements)
    elements = list(DataElement.objects.order_by("code"))
    for cc, city in cities.items():
        plan = Plan.objects.create(code=f"bench-{cc}", city=city, title_zh=f"基准规划{cc}")
        goal = Goal.objects.create(plan=plan, code="1", title_zh="基准目标")
        indicators = []
        for i in range(0, n_elements, 2):
            num, den = elements[i + 1], elements[i]
            base = dict(
                plan=plan, goal=goal, comparator=">=", deadline=date(2016, 12, 31), quote="基准"
            )
            indicators.append(
                Indicator(
                    code=f"{cc}.total.{i}",
                    name_zh="总量",
                    kind="value",
                    element=num,
                    target=1_000_000,
                    **base,
                )
            )
            indicators.append(
                Indicator(
                    code=f"{cc}.ratio.{i}",
                    name_zh="比率",
                    kind="ratio",
                    numerator=num,
                    denominator=den,
                    factor=100,
                    target=50,
                    **base,
                )
            )
            if i % 6 == 0:
                indicators.append(
                    Indicator(
                        code=f"{cc}.cover.{i}",
                        name_zh="覆盖率",
                        kind="coverage",
                        level="community",
                        condition_element=den,
                        condition_comparator=">=",
                        condition_value=500,
                        target=100,
                        **base,
                    )
                )
        Indicator.objects.bulk_create(indicators)
    t1 = time.perf_counter()
    cursor.execute("""
        INSERT INTO districts_datavalue (element_id, org_unit_id, period, period_start, period_end,
            value, state, comment, review_comment, source, version, created_at, updated_at)
        SELECT e.id, u.id, '2015-' || lpad(m::text, 2, '0'), make_date(2015, m, 1),
               (make_date(2015, m, 1) + interval '1 month - 1 day')::date,
               round((random() * 1000)::numeric, 2), 'approved', '', '', 'demo', 1, now(), now()
        FROM districts_orgunit u CROSS JOIN targets_dataelement e CROSS JOIN generate_series(1, 12) m
        WHERE u.level = 'community'
    """)
    cursor.execute("ANALYZE")
    t2 = time.perf_counter()
    print(
        f"generated {OrgUnit.objects.count():,} units, {len(elements)} elements, "
        f"{Indicator.objects.count()} indicators in {t1 - t0:.1f} s; "
        f"{DataValue.objects.count():,} values in {t2 - t1:.1f} s"
    )


GROUPING_SETS_SQL = """
SELECT v.element_id, split_part(u.path, '/', 2) AS city, split_part(u.path, '/', 3) AS town,
       u.code AS community, sum(v.value)
FROM districts_datavalue v JOIN districts_orgunit u ON u.id = v.org_unit_id
WHERE v.state = 'approved'
GROUP BY GROUPING SETS ((v.element_id, 2), (v.element_id, 2, 3), (v.element_id, 2, 3, 4))
"""


def timed(label: str, fn):
    t0 = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t0
    print(f"{label}: {seconds:.2f} s (peak RSS so far {peak_mb():,.0f} MB)")
    return seconds, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--towns", type=int, default=100)
    parser.add_argument("--communities", type=int, default=30)
    parser.add_argument("--elements", type=int, default=60)
    parser.add_argument("--reuse", action="store_true", help="skip generation (data exists)")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/recompute.py needs PostgreSQL: set DATABASE_URL=postgres://…")
    call_command("migrate", verbosity=0)
    if not args.reuse:
        generate(args.towns, args.communities, args.elements)
    as_of = date(2015, 12, 31)

    def grouping_sets():
        with connection.cursor() as cursor:
            cursor.execute(GROUPING_SETS_SQL)
            return len(cursor.fetchall())

    ref_s, ref_rows = timed("(b) GROUP BY GROUPING SETS roll-up", grouping_sets)
    full_s, run = timed(
        "(a) full recompute", lambda: services.progress_recompute(as_of=as_of, trigger="bench")
    )
    print(
        f"    {run.indicators_count} indicators, {run.values_read:,} yearly values read, "
        f"{run.rows_written:,} progress rows written"
    )
    value = DataValue.objects.select_related("element", "org_unit").order_by("id").first()
    value.value += 1
    value.save(update_fields=["value"])
    scope = services.Scope(
        indicator_codes=tuple(services.indicators_fed_by([value.element.code])),
        unit_codes=(value.org_unit.code,),
    )
    inc_s, inc = timed(
        "(c) incremental recompute after one approved value",
        lambda: services.progress_recompute(as_of=as_of, scope=scope, trigger="bench"),
    )
    print(f"    {inc.indicators_count} indicators, {inc.rows_written} rows rewritten")
    print()
    print(
        f"values: {DataValue.objects.count():,}; reference rows: {ref_rows:,}; "
        f"progress rows: {ProgressRow.objects.count():,}"
    )
    print(f"full recompute / GROUPING SETS = {full_s / ref_s:.2f}×  (goal ≤ 2×)")
    print(f"incremental recompute: {inc_s * 1000:.0f} ms  (goal: well under 1 s)")
    print(f"peak RSS: {peak_mb():,.0f} MB")
    print("reproduce: DATABASE_URL=postgres://…/tracker_bench .venv/bin/python bench/recompute.py")


if __name__ == "__main__":
    main()

"""Progress recompute at the largest realistic load, on PostgreSQL (issue 5).

Generates 4 cities × ~100 towns × ~30 communities (≈12,000 communities), 60 monthly data
elements reported by every community for 12 months (≈8.6 million approved values) and
indicators over them (totals, ratios, coverages), then measures in one run on the same database:

  (a) the full recompute of every indicator at every level (reports.services.progress_recompute:
      SQL roll-up of months into years, the pure engine, COPY of the rows);
  (b) the reference: one SQL ``GROUP BY GROUPING SETS`` roll-up of the same values to
      community, town and city;
  (c) an incremental recompute after one approved value (its indicators, its unit and ancestors).

With ``--workers 1,2`` it also runs (d) the full recompute split into one Celery task per plan
(reports.fanout) on 1 and then 2 real Celery worker processes started here against REDIS_URL,
timed from sending the group to the parent run closed, and prints the speed-up and the ratio
to GROUPING SETS with 2 workers.

It prints every figure, the ratios and peak memory. It needs a database of its own (created if
missing; its tables are emptied):

    DATABASE_URL=postgres://tracker@127.0.0.1:5432/tracker_recompute \\
    REDIS_URL=redis://127.0.0.1:6379/0 \\
      .venv/bin/python bench/recompute.py [--towns 100] [--communities 30] [--elements 60] \\
      [--workers 1,2]

(``scripts/test.sh`` does not run it: a benchmark is not a test.)
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.pgdb import ensure_database

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")


ensure_database()

import django  # noqa: E402

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


def start_workers(n: int) -> list:
    """``n`` Celery worker processes (one task at a time each) on this database and Redis."""
    import subprocess

    from config.celery import app

    app.control.purge()
    env = {**os.environ, "DEBUG": "0", "CONN_MAX_AGE": "0"}
    # Their banners and warnings go to a log, not between the figures.
    log = open(Path(tempfile.gettempdir()) / "bench-recompute-workers.log", "ab")
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-P",
                "solo",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"bench-recompute-{i}@%h",
                "-l",
                "warning",
            ],
            cwd=Path(__file__).resolve().parent.parent,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for i in range(n)
    ]
    deadline = time.monotonic() + 90
    while len(app.control.ping(timeout=1.0) or []) < n:
        if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
            stop_workers(workers)
            sys.exit("the Celery workers did not start")
    return workers


def stop_workers(workers: list) -> None:
    for w in workers:
        w.terminate()
    for w in workers:
        try:
            w.wait(timeout=30)
        except Exception:
            w.kill()


def fanout_recompute(as_of: date, n_workers: int) -> tuple[float, object]:
    """Wall time of the full recompute split per plan over ``n_workers`` workers: from sending
    the group to the parent run closed by the last part."""
    from reports import fanout
    from reports.models import ProgressRun

    workers = start_workers(n_workers)
    try:
        t0 = time.perf_counter()
        parent = fanout.start(as_of=as_of, trigger="bench-fanout")
        while True:
            parent.refresh_from_db()
            if parent.state != ProgressRun.RUNNING:
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - t0
    finally:
        stop_workers(workers)
    return seconds, parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--towns", type=int, default=100)
    parser.add_argument("--communities", type=int, default=30)
    parser.add_argument("--elements", type=int, default=60)
    parser.add_argument("--reuse", action="store_true", help="skip generation (data exists)")
    parser.add_argument(
        "--workers",
        default="",
        help="also run the full recompute split per plan on these numbers of Celery workers "
        "(e.g. 1,2; needs REDIS_URL)",
    )
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
    fanout_s = {}
    for n in [int(x) for x in args.workers.split(",") if x]:
        if not os.environ.get("REDIS_URL"):
            sys.exit("--workers needs REDIS_URL (the Celery broker)")
        seconds, parent = fanout_recompute(as_of, n)
        fanout_s[n] = seconds
        print(
            f"(d) full recompute split per plan on {n} worker(s): {seconds:.2f} s, "
            f"run #{parent.pk} {parent.state}, {parent.rows_written:,} rows "
            f"(load average {os.getloadavg()[0]:.1f})"
        )
        assert parent.rows_written == run.rows_written == ProgressRow.objects.count()
    if 1 in fanout_s and 2 in fanout_s:
        speed = fanout_s[1] / fanout_s[2]
        print(f"speed-up 2 workers / 1 worker = {speed:.2f}×  (goal ≥ 1.6× on two cores)")
    if 2 in fanout_s:
        print(
            f"2 workers / GROUPING SETS = {fanout_s[2] / ref_s:.2f}×  (goal ≤ 1.2×); "
            f"2 workers / serial in-process = {fanout_s[2] / full_s:.2f}×"
        )
    print(f"incremental recompute: {inc_s * 1000:.0f} ms  (goal: under 1 s)")
    print(f"peak RSS: {peak_mb():,.0f} MB")
    print(f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(
        "reproduce: DATABASE_URL=postgres://…/tracker_recompute REDIS_URL=redis://…/0 "
        f".venv/bin/python bench/recompute.py --towns {args.towns} "
        f"--communities {args.communities} --elements {args.elements} --workers {args.workers}"
    )


if __name__ == "__main__":
    main()

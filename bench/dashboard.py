"""Server time of the city dashboard at the demo-data size and at 10× and 30× that size.

Reproduce with (any PostgreSQL database; it is created and migrated if missing)::

    DATABASE_URL=postgres://tracker@127.0.0.1:55432/tracker_bench .venv/bin/python bench/dashboard.py

"Demo size" is Dongguan as the catalog and ``seed_demo`` make it: 121 indicators, 33 towns with
5 generated communities each, progress rows for 2011–2016 at every unit (≈144,000 rows). "10×" is
ten times the progress rows, grown evenly: √10 × the indicators and √10 × the towns (≈1.44
million rows); "30×" likewise (≈4.3 million rows). Each is generated here under the codes
``BENCH…`` (city ``BENCH1`` / ``BENCH10`` / ``BENCH30``), written with COPY, with the progress
job's dashboard summaries of the city and its towns, and removed afterwards unless ``--keep``.

The page read is the first paint (``?page=1``: the summary, the first page of the indicator and
children tables); the others come by page.

Each size is timed as a leader of the city through Django's test client, in-process: URL
resolution, session and scope checks, the selectors' queries and the template — everything but
the network. The figures printed are the median and the 95th percentile of ``--runs`` requests
after two warm-ups, with the query count of one request.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import os
import random
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pgdb import ensure_database  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

DEMO = {"indicators": 121, "towns": 33, "communities_per_town": 5, "years": list(range(2011, 2017))}
STATUSES = ["achieved", "on_track", "at_risk", "off_track", "missed", "no_data", "not_assessable"]
COMMAND = (
    "DATABASE_URL=postgres://tracker@127.0.0.1:55432/tracker_bench "
    ".venv/bin/python bench/dashboard.py"
)


def size_for(scale: int) -> dict:
    grow = math.sqrt(scale)
    return {
        **DEMO,
        "indicators": round(DEMO["indicators"] * grow),
        "towns": round(DEMO["towns"] * grow),
    }


def generate(scale: int, size: dict, seed: int = 7):
    """Org units, a plan, its indicators and their progress rows for one size. Returns the city
    and a leader of it."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from districts.models import OrgUnit, RoleAssignment
    from reports.models import ProgressRow
    from targets.models import DataElement, Goal, Indicator, Plan

    rnd = random.Random(seed + scale)
    prefix = f"BENCH{scale}"
    city = OrgUnit.objects.create(
        code=prefix, name_zh=f"基准市{scale}", name_en=f"Bench city {scale}", level="city",
        path=f"{prefix}/", depth=0,
    )  # fmt: skip
    towns = OrgUnit.objects.bulk_create(
        OrgUnit(
            code=f"{prefix}T{t:04d}", name_zh=f"基准镇{t}", name_en=f"Bench town {t}",
            level="town", parent=city, path=f"{city.path}{prefix}T{t:04d}/", depth=1,
        )
        for t in range(size["towns"])
    )  # fmt: skip
    communities = OrgUnit.objects.bulk_create(
        OrgUnit(
            code=f"{town.code}C{c:02d}", name_zh=f"{town.name_zh}社区{c}", name_en="",
            level="community", parent=town, path=f"{town.path}{town.code}C{c:02d}/", depth=2,
            is_generated=True,
        )
        for town in towns
        for c in range(size["communities_per_town"])
    )  # fmt: skip
    num, _ = DataElement.objects.get_or_create(
        code="bench.numerator",
        defaults=dict(name_zh="基准分子", value_type="integer", period_type="year",
                      aggregation="sum", temporal="last"),
    )  # fmt: skip
    den, _ = DataElement.objects.get_or_create(
        code="bench.denominator",
        defaults=dict(name_zh="基准分母", value_type="integer", period_type="year",
                      aggregation="sum", temporal="last"),
    )  # fmt: skip
    plan = Plan.objects.create(
        code=f"bench-{scale}",
        city=city,
        title_zh=f"基准规划{scale}",
        document_number="基准〔2012〕1号",
    )
    goals = Goal.objects.bulk_create(
        Goal(plan=plan, code=str(g), title_zh=f"基准目标{g}", position=g) for g in range(12)
    )
    deadline = date(2015, 12, 31)
    indicators = Indicator.objects.bulk_create(
        Indicator(
            code=f"bench{scale}.ind{i:04d}", plan=plan, goal=goals[i % len(goals)], position=i,
            name_zh=f"基准指标{i}", kind="ratio", numerator=num, denominator=den, factor=100,
            unit="%", comparator=">=", target=50, deadline=deadline, quote=f"基准指标{i}",
        )
        for i in range(size["indicators"])
    )  # fmt: skip

    columns = [f.column for f in ProgressRow._meta.concrete_fields if f.name not in ("id", "run")]

    def copy(buffer: io.StringIO) -> None:
        buffer.seek(0)
        with connection.cursor() as cur:
            cur.copy_expert(
                f"COPY {ProgressRow._meta.db_table} ({', '.join(columns)}) "
                "FROM STDIN WITH (FORMAT csv)",
                buffer,
            )

    now = timezone.now().isoformat()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    units = [city, *towns, *communities]
    rows = 0
    for ind in indicators:
        for unit in units:
            for year in size["years"]:
                status = rnd.choice(STATUSES)
                value = None if status == "no_data" else round(rnd.uniform(10, 70), 3)
                record = {
                    "indicator_id": ind.id, "org_unit_id": unit.id, "period": str(year),
                    "period_end": f"{year}-12-31", "value": value, "numerator": None,
                    "denominator": None, "target": 50, "comparator": ">=",
                    "deadline": deadline.isoformat(),
                    "percent_of_target": None if value is None else round(value / 50 * 100, 3),
                    "expected": 40, "status": status, "forecast": 55,
                    "completeness": round(rnd.uniform(0.6, 1), 3), "share_of_total": None,
                    "ratio": None, "score": None, "reporting_units": None,
                    "expected_units": None, "computed_at": now,
                }  # fmt: skip
                writer.writerow(["" if record[c] is None else record[c] for c in columns])
                rows += 1
        if connection.vendor == "postgresql" and buffer.tell() > 32 * 1024 * 1024:
            # In slices: 30× is 4.3 million rows, too many to hold as one text.
            copy(buffer)
            buffer = io.StringIO()
            writer = csv.writer(buffer)
    buffer.seek(0)
    if connection.vendor == "postgresql":
        copy(buffer)
        with connection.cursor() as cur:
            cur.execute(f"ANALYZE {ProgressRow._meta.db_table}")
    else:
        reader = csv.reader(buffer)
        batch = []
        for values in reader:
            data = {c: (v if v != "" else None) for c, v in zip(columns, values, strict=True)}
            batch.append(ProgressRow(**data))
            if len(batch) >= 5000:
                ProgressRow.objects.bulk_create(batch)
                batch = []
        ProgressRow.objects.bulk_create(batch)

    # The dashboards' summaries, as the progress job writes them after storing rows.
    from reports import summaries

    summaries.refresh(unit_ids=[city.id, *(t.id for t in towns)])

    User = get_user_model()
    leader, _ = User.objects.get_or_create(username=f"bench-leader-{scale}")
    RoleAssignment.objects.get_or_create(user=leader, role="leader", org_unit=city)
    return city, leader, rows, len(units)


def remove(scale: int) -> None:
    """Delete what :func:`generate` wrote, with plain SQL on exactly those tables: the ORM's
    cascade would also visit every other app's relations to org units and plans."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from districts.models import OrgUnit, RoleAssignment
    from reports.models import ProgressRow
    from targets.models import Goal, Indicator, Plan

    User = get_user_model()
    prefix = f"BENCH{scale}"
    plan_ids = f"SELECT id FROM {Plan._meta.db_table} WHERE code = %s"
    unit_ids = f"SELECT id FROM {OrgUnit._meta.db_table} WHERE path LIKE %s"
    from reports.models import DashboardSummary

    statements = [
        (f"DELETE FROM {DashboardSummary._meta.db_table} WHERE org_unit_id IN ({unit_ids})", [f"{prefix}/%"]),
        (
            f"DELETE FROM {ProgressRow._meta.db_table} WHERE indicator_id IN "
            f"(SELECT id FROM {Indicator._meta.db_table} WHERE plan_id IN ({plan_ids}))",
            [f"bench-{scale}"],
        ),
        (f"DELETE FROM {Indicator._meta.db_table} WHERE plan_id IN ({plan_ids})", [f"bench-{scale}"]),
        (f"DELETE FROM {Goal._meta.db_table} WHERE plan_id IN ({plan_ids})", [f"bench-{scale}"]),
        (f"DELETE FROM {Plan._meta.db_table} WHERE code = %s", [f"bench-{scale}"]),
        (f"DELETE FROM {RoleAssignment._meta.db_table} WHERE org_unit_id IN ({unit_ids})", [f"{prefix}/%"]),
        (f"DELETE FROM {User._meta.db_table} WHERE username = %s", [f"bench-leader-{scale}"]),
        (f"DELETE FROM {OrgUnit._meta.db_table} WHERE path LIKE %s", [f"{prefix}/%"]),
    ]  # fmt: skip
    with transaction.atomic(), connection.cursor() as cur:
        for sql, params in statements:
            cur.execute(sql, params)


def measure(city, leader, runs: int) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    client = Client()
    client.force_login(leader)
    url = reverse("reports:city", args=[city.code])
    for _ in range(2):
        assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    # Read now: the next request resets the connection's query log.
    queries = len(ctx.captured_queries)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {
        "median_ms": statistics.median(times),
        "p95_ms": times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)],
        "queries": queries,
        "bytes": len(response.content),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="1,10,30", help="sizes relative to the demo (1,10,30)")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="keep the generated data")
    args = parser.parse_args()

    ensure_database()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = ["*"]  # the test client's "testserver"
    call_command("migrate", verbosity=0)
    db = settings.DATABASES["default"]
    print(
        f"database: {db['ENGINE'].rsplit('.', 1)[-1]} {db.get('NAME')}; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (other work on the "
        "machine slows every figure)"
    )
    results = []
    for scale in [int(s) for s in args.scales.split(",")]:
        size = size_for(scale)
        remove(scale)
        start = time.perf_counter()
        city, leader, rows, units = generate(scale, size)
        generated = time.perf_counter() - start
        try:
            figures = measure(city, leader, args.runs)
        finally:
            if not args.keep:
                remove(scale)
        label = "demo size" if scale == 1 else f"{scale}× demo"
        results.append((label, size, rows, units, figures))
        kib = figures["bytes"] / 1024
        print(
            f"{label:>10}: {size['indicators']} indicators, {size['towns']} towns, {units} units, "
            f"{rows:,} progress rows (generated in {generated:.1f}s) → "
            f"median {figures['median_ms']:.0f} ms, p95 {figures['p95_ms']:.0f} ms, "
            f"{figures['queries']} queries, {kib:.0f} KiB (goal ≤ 300 KiB: "
            f"{'met' if kib <= 300 else 'NOT met'}); load average {os.getloadavg()[0]:.1f}"
        )
    medians = {label: figures["median_ms"] for label, _s, _r, _u, figures in results}
    base = medians.get("demo size")
    for label, median in medians.items():
        if label == "10× demo":
            print(
                f"10× median {median:.0f} ms (goal ≤ 250 ms: {'met' if median <= 250 else 'NOT met'})"
            )
        if base and label != "demo size":
            ratio = median / base
            goal = " (goal ≤ 1.5: " + ("met" if ratio <= 1.5 else "NOT met") + ")"
            print(f"{label} / demo size: {ratio:.2f}×{goal if label == '10× demo' else ''}")
    print(f"load average now {os.getloadavg()[0]:.1f}; reproduce: {COMMAND}")


if __name__ == "__main__":
    main()

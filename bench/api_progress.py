"""Latency and throughput of GET /api/v1/progress/ (100 rows a page) as the scope grows (20k, 200k,
2M rows), against a plain Django JSON view serving the same rows, both under gunicorn on
127.0.0.1 (issue 18: page cost independent of scope size; the API within 0.8 of the plain view).

Reproduce with (any PostgreSQL database; it is created and migrated if missing; Redis is
optional and, when given, carries the API's throttle counters as in production)::

    DATABASE_URL=postgres://tracker@127.0.0.1:55432/tracker_api_bench \\
    REDIS_URL=redis://127.0.0.1:56379/5 .venv/bin/python bench/api_progress.py \\
        --sizes 20000,200000,2000000

What is compared, at each size and in each of the API's two paging modes:

- page numbers (``?page=N``, N drawn at random over every page of the scope): a count on the
  first page only, then ``OFFSET``; deep pages cost more as the scope grows.
- keyset (``?cursor=``, tokens taken at evenly spaced depths of the scope, and the first page):
  ``WHERE (indicator, unit, period) > (…) ORDER BY … LIMIT 101`` on the unique index, whose cost
  should not grow with the scope.

The plain view does the same SQL in each mode with ``QuerySet.values()`` and ``JsonResponse``;
the API adds DRF: content negotiation, the throttle (one cache INCR), django-filter, the
serializer and the renderer. Both authenticate the same token and apply the same org-unit scope
(a leader on the bench city). Printed: p50/p99 latency and requests per second of each, the
ratio API / plain, and the growth factor of p50 from the smallest size to the largest.

The data (progress rows under the codes ``BENCHAPI…``: indicators × towns × ten years) is
written here with COPY and removed afterwards unless ``--keep``. Client threads (``--clients``)
request their targets round-robin for ``--seconds`` per round; rounds alternate API / plain so
that drift in the machine's load hits both alike.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pgdb import ensure_database  # noqa: E402

COMMAND = (
    "DATABASE_URL=postgres://tracker@127.0.0.1:55432/tracker_api_bench "
    "REDIS_URL=redis://127.0.0.1:56379/5 .venv/bin/python bench/api_progress.py "
    "--sizes 20000,200000,2000000"
)
CITY = "BENCHAPI"
USERNAME = "benchapi-leader"
PLAIN_URL = "/bench/plain-progress/"
API_URL = "/api/v1/progress/"
YEARS = list(range(2011, 2021))
PAGE = 100
KEY = ("indicator_id", "org_unit_id", "period")


# --- the plain view, served next to the project's URLs -------------------------------------


def _number(value):
    """The API's number formatting (core.api.DecimalNumberField), for a fair comparison."""
    if value is None:
        return None
    normal = value.normalize()
    return int(normal) if normal == normal.to_integral_value() else float(normal)


def plain_progress(request):
    """GET /bench/plain-progress/?page=N or ?cursor=T: what /api/v1/progress/ returns in the
    same mode, with the same SQL, without DRF."""
    from django.db.models import F
    from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan
    from django.http import JsonResponse
    from django.utils.timezone import localtime
    from rest_framework.authtoken.models import Token

    from core.api import decode_cursor, encode_cursor
    from districts import scopes
    from reports.models import ProgressRow

    key = request.headers.get("Authorization", "").removeprefix("Token ").strip()
    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return JsonResponse({"detail": "not authenticated"}, status=401)
    queryset = scopes.filter_in_scope(ProgressRow.objects.order_by(*KEY), token.user)
    rows = queryset.values(
        "period", "period_end", "value", "numerator", "denominator", "target", "comparator",
        "deadline", "expected", "status", "forecast", "completeness", "percent_of_target",
        "share_of_total", "ratio", "score", "computed_at", "indicator_id", "org_unit_id",
        indicator_code=F("indicator__code"), plan_code=F("indicator__plan__code"),
        org_unit_code=F("org_unit__code"),
    )  # fmt: skip
    first = True
    if "cursor" in request.GET:
        cursor = request.GET["cursor"]
        if cursor:
            first = False
            ind, unit, period = decode_cursor(cursor)["k"]
            position = Tuple(*[F(k) for k in KEY])
            rows = rows.filter(TupleGreaterThan(position, (int(ind), int(unit), period)))
        page = list(rows[: PAGE + 1])
    else:
        number = max(int(request.GET.get("page", "1")), 1)
        first = number == 1
        page = list(rows[(number - 1) * PAGE : number * PAGE + 1])
    more = len(page) > PAGE
    page = page[:PAGE]
    count = None
    if first:
        count = queryset.count() if more else len(page)
    results = []
    for r in page:
        results.append(
            {
                "indicator": r["indicator_code"], "plan": r["plan_code"],
                "org_unit": r["org_unit_code"], "period": r["period"],
                "period_end": r["period_end"].isoformat(), "value": _number(r["value"]),
                "numerator": _number(r["numerator"]), "denominator": _number(r["denominator"]),
                "target": _number(r["target"]), "comparator": r["comparator"],
                "deadline": r["deadline"].isoformat(), "expected": _number(r["expected"]),
                "status": r["status"], "forecast": _number(r["forecast"]),
                "completeness": _number(r["completeness"]),
                "percent_of_target": _number(r["percent_of_target"]),
                "share_of_total": _number(r["share_of_total"]), "ratio": r["ratio"],
                "score": r["score"], "computed_at": localtime(r["computed_at"]).isoformat(),
            }
        )  # fmt: skip
    following = None
    if more:
        last = page[-1]
        following = "?cursor=" + encode_cursor("", [last[k] for k in KEY])
    return JsonResponse(
        {"count": count, "next": following, "previous": None, "results": results},
        json_dumps_params={"ensure_ascii": False},
    )


urlpatterns: list = []
if os.environ.get("BENCH_API_PROGRESS_SERVE"):
    # Run by gunicorn: the project, plus the plain view, from this module's URLs.
    import django

    django.setup()
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application
    from django.urls import include, path

    urlpatterns = [path(PLAIN_URL.lstrip("/"), plain_progress), path("", include("config.urls"))]
    settings.ROOT_URLCONF = __name__
    application = get_wsgi_application()


# --- data ------------------------------------------------------------------------------------


def in_scope() -> int:
    from reports.models import ProgressRow

    return ProgressRow.objects.filter(org_unit__path__startswith=f"{CITY}/").count()


def build(rows: int) -> str:
    """``rows`` progress rows for a leader's city, written with COPY; the leader's token."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from districts.models import OrgUnit
    from districts.services import orgunit_save, role_grant
    from reports.models import ProgressRow
    from targets.models import DataElement, Goal, Indicator, Plan

    User = get_user_model()
    user = User.objects.filter(username=USERNAME).first()
    if user and in_scope() == rows:
        return Token.objects.get_or_create(user=user)[0].key
    teardown()
    towns = max(rows // (len(YEARS) * 20), 1)
    indicators_n = max(rows // (len(YEARS) * towns), 1)
    city = orgunit_save(unit=OrgUnit(code=CITY, name_zh="基准市", level="city"))
    OrgUnit.objects.bulk_create(
        (
            OrgUnit(code=f"{CITY}-T{i:05d}", name_zh=f"基准镇{i}", level="town", parent=city,
                    path=f"{city.path}{CITY}-T{i:05d}/", depth=1)
            for i in range(towns - 1)
        ),
        batch_size=5000,
    )  # fmt: skip
    unit_ids = [city.id, *OrgUnit.objects.filter(parent=city).order_by("id").values_list("id", flat=True)]  # fmt: skip
    element = DataElement.objects.create(
        code="benchapi.population", name_zh="基准人口", value_type="integer",
        period_type="year", aggregation="sum", temporal="last",
    )  # fmt: skip
    plan = Plan.objects.create(code="benchapi-plan", city=city, title_zh="基准规划")
    goal = Goal.objects.create(plan=plan, code="1", title_zh="基准目标")
    indicator_ids = [
        Indicator.objects.create(
            code=f"benchapi.ind{i:03d}", plan=plan, goal=goal, position=i, name_zh=f"指标{i}",
            kind="value", element=element, comparator=">=", target=100,
            deadline=date(2020, 12, 31), quote="基准",
        ).id
        for i in range(indicators_n)
    ]  # fmt: skip
    statuses = ["achieved", "on_track", "at_risk", "off_track", "missed", "not_assessable"]
    columns = (
        "indicator_id", "org_unit_id", "period", "period_end", "value", "numerator",
        "denominator", "target", "comparator", "deadline", "expected", "percent_of_target",
        "status", "forecast", "completeness", "computed_at",
    )  # fmt: skip
    now = timezone.now().isoformat()
    table = ProgressRow._meta.db_table
    buffer, n = io.StringIO(), 0

    def flush() -> None:
        buffer.seek(0)
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)
        buffer.seek(0)
        buffer.truncate()

    for indicator in indicator_ids:
        for unit in unit_ids:
            for year in YEARS:
                buffer.write(
                    f"{indicator}\t{unit}\t{year}\t{year}-12-31\t{(n % 997) / 7:.6f}\t{n % 500}\t"
                    f"1000\t100\t>=\t2020-12-31\t55.5\t{n % 100}\t{statuses[n % 6]}\t98.25\t"
                    f"0.75\t{now}\n"
                )
                n += 1
                if n % 200_000 == 0:
                    flush()
    flush()
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")
        cursor.execute(f"ANALYZE {OrgUnit._meta.db_table}")
    user, _assignment, _created = role_grant(
        username=USERNAME, role="leader", org_unit_code=CITY, create=True
    )
    return Token.objects.get_or_create(user=user)[0].key


def teardown() -> None:
    from django.contrib.auth import get_user_model

    from districts.models import OrgUnit
    from reports.models import ProgressRow
    from targets.models import DataElement, Plan

    rows = ProgressRow.objects.filter(indicator__plan__code="benchapi-plan")
    ProgressRow.objects.filter(pk__in=rows.values("pk"))._raw_delete("default")
    Plan.objects.filter(code="benchapi-plan").delete()  # goals, indicators
    DataElement.objects.filter(code="benchapi.population").delete()
    OrgUnit.objects.filter(path__startswith=f"{CITY}/", depth__gt=0).delete()
    OrgUnit.objects.filter(code=CITY).delete()
    get_user_model().objects.filter(username=USERNAME).delete()


def cursor_targets(count: int) -> list[str]:
    """``count`` cursors at evenly spaced depths of the scope (and the first page)."""
    from django.db import connection

    from core.api import encode_cursor

    total = in_scope()
    step = max(total // count, 1)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT indicator_id, org_unit_id, period FROM (
                SELECT p.indicator_id, p.org_unit_id, p.period,
                       row_number() OVER (ORDER BY p.indicator_id, p.org_unit_id, p.period) AS n
                FROM reports_progressrow p JOIN districts_orgunit u ON u.id = p.org_unit_id
                WHERE u.path LIKE %s
            ) ranked WHERE n %% %s = 0 AND n < %s
            """,
            [f"{CITY}/%", step, total - PAGE],
        )
        keys = cursor.fetchall()
    return ["cursor="] + [f"cursor={encode_cursor('', list(k))}" for k in keys]


# --- load ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, url: str, token: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", url, headers={"Authorization": f"Token {token}"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def hammer(port: int, url: str, token: str, targets: list[str], seconds: float, clients: int):
    """``clients`` threads request ``url?target`` round-robin for ``seconds``."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def client(offset: int) -> None:
        n = offset
        mine: list[float] = []
        while time.perf_counter() < stop:
            started = time.perf_counter()
            status, _body = get(port, f"{url}?{targets[n % len(targets)]}", token)
            mine.append(time.perf_counter() - started)
            if status != 200:
                with lock:
                    errors[0] += 1
            n += clients
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"elapsed": time.perf_counter() - started, "latencies": latencies, "errors": errors[0]}


def summary(runs: list[dict]) -> dict:
    latencies = sorted(x for r in runs for x in r["latencies"])
    elapsed = sum(r["elapsed"] for r in runs)
    return {
        "rps": len(latencies) / elapsed,
        "p50": latencies[len(latencies) // 2] * 1000,
        "p99": latencies[min(int(len(latencies) * 0.99), len(latencies) - 1)] * 1000,
        "n": len(latencies),
        "errors": sum(r["errors"] for r in runs),
    }


def check_same(port: int, token: str, targets: dict[str, list[str]]) -> None:
    """The API and the plain view return the same rows for the same request."""
    for mode, wanted in targets.items():
        target = wanted[min(2, len(wanted) - 1)]
        api_status, api_body = get(port, f"{API_URL}?{target}", token)
        plain_status, plain_body = get(port, f"{PLAIN_URL}?{target}", token)
        assert api_status == plain_status == 200, (mode, api_status, plain_status)
        api_page, plain_page = json.loads(api_body), json.loads(plain_body)
        if api_page["results"] != plain_page["results"]:
            sys.exit(f"the two views disagree ({mode}):\n{api_page['results'][:1]}\n"
                     f"{plain_page['results'][:1]}")  # fmt: skip


def measure(port, token, rows, args) -> dict:
    pages = (rows + PAGE - 1) // PAGE
    rng = random.Random(rows)
    targets = {
        "page numbers": [f"page={rng.randint(1, pages)}" for _ in range(400)],
        "cursor": cursor_targets(400),
    }
    rng.shuffle(targets["cursor"])
    check_same(port, token, targets)
    results: dict = {}
    for mode, wanted in targets.items():
        for url in (API_URL, PLAIN_URL):  # warm every worker's connection and caches
            hammer(port, url, token, wanted, 1.0, args.clients)
        runs: dict[str, list[dict]] = {API_URL: [], PLAIN_URL: []}
        for _round in range(args.rounds):
            for url in (API_URL, PLAIN_URL):
                runs[url].append(hammer(port, url, token, wanted, args.seconds, args.clients))
        results[mode] = {"api": summary(runs[API_URL]), "plain": summary(runs[PLAIN_URL])}
    return results


def start_server(workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "bench-only-not-secret-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_COOKIES": "0",
        "SECURE_SSL_REDIRECT": "0",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        # Throttling stays on (one counter update per request) but never trips here.
        "API_THROTTLE_RATE": "1000000000/hour",
        "BENCH_API_PROGRESS_SERVE": "1",
    }
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "bench.api_progress:application",
         "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--chdir", str(ROOT),
         "--log-level", "warning", "--timeout", "300"],
        env=env,
    )  # fmt: skip
    return server, port


def wait_ready(server, port: int, token: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if get(port, f"{API_URL}?page_size=1", token)[0] == 200:
                return
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            sys.exit("gunicorn did not start")
        time.sleep(0.3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="20000,200000", help="rows in scope, comma-separated")
    parser.add_argument("--seconds", type=float, default=6.0, help="per round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per endpoint and mode")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client threads")
    parser.add_argument("--keep", action="store_true", help="keep the last size's data")
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        sys.exit(f"Set DATABASE_URL to a PostgreSQL database, e.g.\n  {COMMAND}")

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    server, port = start_server(args.workers)
    by_size: dict[int, dict] = {}
    try:
        for rows in sizes:
            t0 = time.perf_counter()
            token = build(rows)
            print(f"data: {rows:,} progress rows in scope, ready in {time.perf_counter() - t0:.1f}s",
                  flush=True)  # fmt: skip
            wait_ready(server, port, token)
            by_size[rows] = measure(port, token, rows, args)
            report_size(rows, by_size[rows], args)
            connection.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        if not args.keep:
            teardown()
    report_growth(by_size)
    print(f"load: {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} cores")
    print(f"reproduce: {COMMAND}")


def report_size(rows: int, results: dict, args) -> None:
    print(
        f"{rows:,} rows in scope — gunicorn {args.workers} sync workers, {args.clients} clients, "
        f"{args.rounds}×{args.seconds:g}s per endpoint and mode, {PAGE} rows a page"
    )
    for mode, r in results.items():
        api, plain = r["api"], r["plain"]
        for name, x in (("API (DRF)", api), ("plain view", plain)):
            print(
                f"  {mode:13} {name:11} p50 {x['p50']:7.1f} ms  p99 {x['p99']:7.1f} ms  "
                f"{x['rps']:7.1f} req/s  ({x['n']} requests, {x['errors']} errors)"
            )
        print(f"  {mode:13} ratio API / plain (req/s): {api['rps'] / plain['rps']:.2f}  "
              f"(goal ≥ 0.8)")  # fmt: skip


def report_growth(by_size: dict[int, dict]) -> None:
    if len(by_size) < 2:
        return
    small, large = min(by_size), max(by_size)
    print(f"growth of p50 from {small:,} to {large:,} rows in scope:")
    for mode in by_size[small]:
        for who in ("api", "plain"):
            factor = by_size[large][mode][who]["p50"] / by_size[small][mode][who]["p50"]
            goal = (
                "  (goal ≤ 1.5 for the API's cursor pages)"
                if mode == "cursor" and who == "api"
                else ""
            )
            print(f"  {mode:13} {'API' if who == 'api' else 'plain':6} ×{factor:.2f}{goal}")


if __name__ == "__main__":
    main()

"""List throughput of GET /api/v1/progress/ (100 rows a page) against a plain Django JSON view
serving the same rows, both under gunicorn on 127.0.0.1.

Reproduce with (any PostgreSQL database; it is created and migrated if missing; Redis is
optional and, when given, carries the API's throttle counters as in production)::

    DATABASE_URL=postgres://tracker@127.0.0.1:55432/tracker_api_bench \\
    REDIS_URL=redis://127.0.0.1:56379/5 .venv/bin/python bench/api_progress.py

What is compared. Both endpoints run in the same gunicorn server (``--workers`` sync workers,
production settings, DEBUG off), authenticate the same token, apply the same org-unit scope
(a leader on the bench city), count the matching rows and return page N of 100 rows of the
same columns in the same order, with the same number formatting. The plain view does that with
``QuerySet.values()`` and ``JsonResponse``; the API adds DRF: content negotiation, the throttle
(one Redis INCR), django-filter, the serializer and the renderer. The printed ratio is the
API's requests per second over the plain view's: what the framework costs on this list.

The data (``--rows`` progress rows under the codes ``BENCHAPI…``: indicators × towns × ten
years) is generated here with bulk inserts and removed afterwards unless ``--keep``. Client
threads (``--clients``) walk the pages round-robin for ``--seconds`` per round; rounds
alternate API / plain so that drift in the machine's load hits both alike.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COMMAND = (
    "DATABASE_URL=postgres://tracker@127.0.0.1:55432/tracker_api_bench "
    "REDIS_URL=redis://127.0.0.1:56379/5 .venv/bin/python bench/api_progress.py"
)
CITY = "BENCHAPI"
USERNAME = "benchapi-leader"
PLAIN_URL = "/bench/plain-progress/"
API_URL = "/api/v1/progress/"
YEARS = list(range(2011, 2021))


# --- the plain view, served next to the project's URLs -------------------------------------


def _number(value):
    """The API's number formatting (core.api.DecimalNumberField), for a fair comparison."""
    if value is None:
        return None
    normal = value.normalize()
    return int(normal) if normal == normal.to_integral_value() else float(normal)


def plain_progress(request):
    """GET /bench/plain-progress/?page=N: what /api/v1/progress/ returns, without DRF."""
    from django.db.models import F
    from django.http import JsonResponse
    from django.utils.timezone import localtime
    from rest_framework.authtoken.models import Token

    from districts import scopes
    from reports.models import ProgressRow

    key = request.headers.get("Authorization", "").removeprefix("Token ").strip()
    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return JsonResponse({"detail": "not authenticated"}, status=401)
    queryset = scopes.filter_in_scope(
        ProgressRow.objects.order_by("indicator_id", "org_unit_id", "period"), token.user
    )
    page = max(int(request.GET.get("page", "1")), 1)
    count = queryset.count()
    rows = queryset.values(
        "period", "period_end", "value", "numerator", "denominator", "target", "comparator",
        "deadline", "expected", "status", "forecast", "completeness", "percent_of_target",
        "share_of_total", "ratio", "score", "computed_at",
        indicator_code=F("indicator__code"), plan_code=F("indicator__plan__code"),
        org_unit_code=F("org_unit__code"),
    )[(page - 1) * 100 : page * 100]  # fmt: skip
    results = []
    for r in rows:
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
    last = (count + 99) // 100
    return JsonResponse(
        {
            "count": count,
            "next": f"?page={page + 1}" if page < last else None,
            "previous": f"?page={page - 1}" if page > 1 else None,
            "results": results,
        },
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


def ensure_database() -> None:
    """Create the PostgreSQL database named by DATABASE_URL when it does not exist yet."""
    import dj_database_url
    import psycopg2

    cfg = dj_database_url.parse(os.environ["DATABASE_URL"])
    params = dict(user=cfg["USER"], password=cfg["PASSWORD"] or None, host=cfg["HOST"],
                  port=cfg["PORT"] or None)  # fmt: skip
    try:
        psycopg2.connect(dbname=cfg["NAME"], **params).close()
    except psycopg2.OperationalError:
        admin = psycopg2.connect(dbname="postgres", **params)
        admin.autocommit = True
        admin.cursor().execute(f'CREATE DATABASE "{cfg["NAME"]}"')
        admin.close()


def build(rows: int) -> str:
    """Generate ``rows`` progress rows for a leader's city; return the leader's token."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from districts.models import OrgUnit
    from districts.services import orgunit_save, role_grant
    from reports.models import ProgressRow
    from targets.models import DataElement, Goal, Indicator, Plan

    User = get_user_model()
    user = User.objects.filter(username=USERNAME).first()
    if user and ProgressRow.objects.filter(org_unit__path__startswith=f"{CITY}/").count() == rows:
        return Token.objects.get_or_create(user=user)[0].key
    teardown()
    towns = max(rows // (len(YEARS) * 20), 1)
    indicators_n = max(rows // (len(YEARS) * towns), 1)
    city = orgunit_save(unit=OrgUnit(code=CITY, name_zh="基准市", level="city"))
    units = [city] + [
        orgunit_save(
            unit=OrgUnit(code=f"{CITY}-T{i:04d}", name_zh=f"基准镇{i}", level="town", parent=city)
        )
        for i in range(towns - 1)
    ]
    element = DataElement.objects.create(
        code="benchapi.population", name_zh="基准人口", value_type="integer",
        period_type="year", aggregation="sum", temporal="last",
    )  # fmt: skip
    plan = Plan.objects.create(code="benchapi-plan", city=city, title_zh="基准规划")
    goal = Goal.objects.create(plan=plan, code="1", title_zh="基准目标")
    indicators = [
        Indicator.objects.create(
            code=f"benchapi.ind{i:03d}",
            plan=plan,
            goal=goal,
            position=i,
            name_zh=f"指标{i}",
            kind="value",
            element=element,
            comparator=">=",
            target=Decimal(100),
            deadline=date(2020, 12, 31),
            quote="基准",
        )
        for i in range(indicators_n)
    ]
    statuses = ["achieved", "on_track", "at_risk", "off_track", "missed", "not_assessable"]
    batch: list[ProgressRow] = []
    for n, (indicator, unit, year) in enumerate(
        (i, u, y) for i in indicators for u in units for y in YEARS
    ):
        batch.append(
            ProgressRow(
                indicator=indicator, org_unit=unit, period=str(year),
                period_end=date(year, 12, 31), value=Decimal(n % 997) / 7,
                numerator=Decimal(n % 500), denominator=Decimal(1000), target=Decimal(100),
                comparator=">=", deadline=date(2020, 12, 31), expected=Decimal("55.5"),
                percent_of_target=Decimal(n % 100), status=statuses[n % len(statuses)],
                forecast=Decimal("98.25"), completeness=Decimal("0.75"),
            )
        )  # fmt: skip
    ProgressRow.objects.bulk_create(batch, batch_size=5000)
    user, _assignment, _created = role_grant(
        username=USERNAME, role="leader", org_unit_code=CITY, create=True
    )
    return Token.objects.get_or_create(user=user)[0].key


def teardown() -> None:
    from django.contrib.auth import get_user_model

    from districts.models import OrgUnit
    from targets.models import DataElement, Plan

    Plan.objects.filter(code="benchapi-plan").delete()  # goals, indicators, progress rows
    DataElement.objects.filter(code="benchapi.population").delete()
    OrgUnit.objects.filter(path__startswith=f"{CITY}/", depth__gt=0).delete()
    OrgUnit.objects.filter(code=CITY).delete()
    get_user_model().objects.filter(username=USERNAME).delete()


# --- load ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, url: str, token: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", url, headers={"Authorization": f"Token {token}"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def hammer(port: int, url: str, token: str, pages: int, seconds: float, clients: int) -> dict:
    """``clients`` threads request pages round-robin for ``seconds``; requests/s and latency."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def client(offset: int) -> None:
        n = offset
        mine: list[float] = []
        while time.perf_counter() < stop:
            started = time.perf_counter()
            status, _body = get(port, f"{url}?page={n % pages + 1}", token)
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
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50": latencies[len(latencies) // 2] * 1000,
        "p95": latencies[int(len(latencies) * 0.95)] * 1000,
        "errors": errors[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=8.0, help="per round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per endpoint")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client threads")
    parser.add_argument("--keep", action="store_true", help="keep the generated data")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        sys.exit(f"Set DATABASE_URL to a PostgreSQL database, e.g.\n  {COMMAND}")

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    token = build(args.rows)
    connection.close()
    print(f"data: {args.rows} progress rows ready in {time.perf_counter() - t0:.1f}s")

    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "bench-only-not-secret",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_COOKIES": "0",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        # Throttling stays on (one counter update per request) but never trips here.
        "API_THROTTLE_RATE": "1000000000/hour",
        "BENCH_API_PROGRESS_SERVE": "1",
    }
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "bench.api_progress:application",
         "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers), "--chdir", str(ROOT),
         "--log-level", "warning"],
        env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _ = get(port, API_URL, token)
                if status == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                sys.exit("gunicorn did not start")
            time.sleep(0.3)

        api_status, api_body = get(port, f"{API_URL}?page=2", token)
        plain_status, plain_body = get(port, f"{PLAIN_URL}?page=2", token)
        api_page, plain_page = json.loads(api_body), json.loads(plain_body)
        assert api_status == plain_status == 200
        assert api_page["count"] == plain_page["count"] == args.rows
        if api_page["results"] != plain_page["results"]:
            sys.exit(
                f"the two views disagree:\n{api_page['results'][0]}\n{plain_page['results'][0]}"
            )
        pages = (args.rows + 99) // 100

        for url in (API_URL, PLAIN_URL):  # warm every worker's connection and caches
            hammer(port, url, token, pages, 1.0, args.clients)
        results: dict[str, list[dict]] = {API_URL: [], PLAIN_URL: []}
        for _round in range(args.rounds):
            for url in (API_URL, PLAIN_URL):
                results[url].append(hammer(port, url, token, pages, args.seconds, args.clients))
    finally:
        server.terminate()
        server.wait(timeout=30)
        if not args.keep:
            teardown()

    def summary(url: str) -> dict:
        runs = results[url]
        return {
            "rps": statistics.mean(r["rps"] for r in runs),
            "p50": statistics.mean(r["p50"] for r in runs),
            "p95": statistics.mean(r["p95"] for r in runs),
            "errors": sum(r["errors"] for r in runs),
        }

    api, plain = summary(API_URL), summary(PLAIN_URL)
    print(
        f"gunicorn {args.workers} sync workers, {args.clients} clients, {args.rounds}×"
        f"{args.seconds:g}s per endpoint, {args.rows} rows in scope, 100 rows a page"
    )
    for name, r in (("GET /api/v1/progress/ (DRF)", api), ("plain Django JSON view", plain)):
        print(
            f"  {name:30} {r['rps']:8.1f} req/s   p50 {r['p50']:6.1f} ms   "
            f"p95 {r['p95']:6.1f} ms   errors {r['errors']}"
        )
    print(f"ratio API / plain: {api['rps'] / plain['rps']:.2f}")
    print(f"reproduce: {COMMAND}")


if __name__ == "__main__":
    main()

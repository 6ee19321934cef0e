"""A fixed cast of users on a small org-unit tree, so every view and endpoint is tested for
who may and may not see it; and a live Celery worker for the tests that need one.

Tree (real Dongguan/Zhongshan codes for the towns, generated communities)::

    441900 东莞市 (city)                      442000 中山市 (city)
    ├── 441900003 东城街道 (subdistrict)       └── 442000001 石岐街道 (subdistrict)
    │   ├── 441900003001 东城社区A (community)     └── 442000001001 石岐社区A (community)
    │   └── 441900003002 东城社区B (community)
    └── 441900101 石碣镇 (town)
        └── 441900101001 石碣村A (village)

Cast: admin (superuser); alice official on 东城; dave official on 石碣; bob reviewer on 东莞;
carol leader on 东莞; erin leader on 中山; zoe has no role.

Fixtures that touch the database import Django lazily so that the pure tests (engine,
parsers) also run with ``-p no:django``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

TREE = [
    ("441900", "东莞市", "Dongguan", "city", None),
    ("441900003", "东城街道", "Dongcheng", "subdistrict", "441900"),
    ("441900003001", "东城社区A", "Dongcheng A", "community", "441900003"),
    ("441900003002", "东城社区B", "Dongcheng B", "community", "441900003"),
    ("441900101", "石碣镇", "Shijie", "town", "441900"),
    ("441900101001", "石碣村A", "Shijie A", "village", "441900101"),
    ("442000", "中山市", "Zhongshan", "city", None),
    ("442000001", "石岐街道", "Shiqi", "subdistrict", "442000"),
    ("442000001001", "石岐社区A", "Shiqi A", "community", "442000001"),
]
CAST = [
    ("alice", "official", "441900003"),
    ("dave", "official", "441900101"),
    ("bob", "reviewer", "441900"),
    ("carol", "leader", "441900"),
    ("erin", "leader", "442000"),
]
PASSWORD = "pass-for-tests"


@pytest.fixture
def tree(db):
    from districts.models import OrgUnit
    from districts.services import orgunit_save

    units = {}
    for code, zh, en, level, parent in TREE:
        unit = OrgUnit(code=code, name_zh=zh, name_en=en, level=level)
        unit.parent = units.get(parent)
        units[code] = orgunit_save(unit=unit)
    return units


@pytest.fixture
def cast(tree):
    from django.contrib.auth import get_user_model

    from districts.services import role_grant

    User = get_user_model()
    users = {"admin": User.objects.create_superuser("admin", password=PASSWORD)}
    for username, role, unit in CAST:
        user, _assignment, _created = role_grant(
            username=username, role=role, org_unit_code=unit, create=True
        )
        user.set_password(PASSWORD)
        user.save()
        users[username] = user
    users["zoe"] = User.objects.create_user("zoe", password=PASSWORD)
    return users


def _require_services() -> None:
    """Inside the test command (scripts/test.sh) missing services are a failure, not a skip."""
    if not os.environ.get("REDIS_URL"):
        if os.environ.get("TRACKER_TEST_RUN_DIR"):
            pytest.fail("REDIS_URL is not set inside the test command")
        pytest.skip("needs Redis and a Celery worker: run scripts/test.sh")


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """A real Celery worker process on the test database and the test Redis."""
    _require_services()
    from django.db import connection

    from config.celery import app

    db = connection.settings_dict
    env = dict(os.environ)
    env["DATABASE_URL"] = (
        f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        if db["ENGINE"].endswith("postgresql")
        else env.get("DATABASE_URL", "")
    )
    env["CONN_MAX_AGE"] = "0"  # let the test database be dropped at the end of the session
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    run_dir = os.environ.get("TRACKER_TEST_RUN_DIR", "/tmp")
    log = open(Path(run_dir) / "celery-worker.log", "ab")
    worker = subprocess.Popen(
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
            f"test-worker@{run_dir}",
            "-l",
            "info",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while not app.control.ping(timeout=0.5):
        if worker.poll() is not None or time.monotonic() > deadline:
            worker.kill()
            pytest.fail(f"the Celery worker did not start; see {log.name}")
    yield worker
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
    log.close()


@pytest.fixture
def live_celery(celery_worker_process):
    """Send tasks to the live worker instead of running them in-process."""
    from config.celery import app

    app.conf.task_always_eager = False
    yield celery_worker_process
    app.conf.task_always_eager = True


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.2):
    """Poll until ``predicate()`` is truthy (work done by another process); fail on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {predicate}")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, whose teardown first ends the sessions that threads of
    this run left open on it (the live server's request threads, an upload's heartbeat), so
    that dropping it does not warn "being accessed by other users" (pytest-django#429)."""
    yield
    with django_db_blocker.unblock():
        from django.db import connection, connections

        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        connections.close_all()

"""Issue 4: killing the worker in the middle of an upload leaves nothing half-written, and the
job is retried (or, after settings.UPLOAD_MAX_ATTEMPTS claims, failed with a message) instead
of staying RUNNING forever.

The rules (claim, heartbeat, reaper) are tested in-process; the last test starts a worker of
its own on a queue of its own, kills it with SIGKILL inside the write transaction of a 200,000
row upload, reaps the job and lets the session's live worker retry it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone

from districts.intake import upload_reap_stale
from districts.intake.job import claim, heartbeat
from districts.models import DataValue, DataValueChange, OrgUnit, UploadJob
from targets.models import DataElement
from tests import factories
from tests.conftest import ROOT, wait_for

SMALL = "单位代码,期间,数据项,数值,备注\r\n441900003001,2015,population.resident,12000,\r\n"


@pytest.fixture
def population(db):
    return factories.element("population.resident")


def make_job(actor, text: str, **fields) -> UploadJob:
    """An upload row with its file, as upload_create stores it, without enqueuing it."""
    job = UploadJob(original_name="values.csv", created_by=actor, **fields)
    job.file.save("values.csv", ContentFile(text.encode("utf-8")), save=False)
    job.save()
    return job


def running(actor, *, attempts: int = 1, beat_ago: float = 600) -> UploadJob:
    """A job a worker claimed ``attempts`` times and last heard of ``beat_ago`` seconds ago."""
    beat = timezone.now() - timedelta(seconds=beat_ago)
    return make_job(
        actor,
        SMALL,
        state=UploadJob.RUNNING,
        attempts=attempts,
        started_at=beat,
        heartbeat_at=beat,
        percent=40,
    )


# --- the rules, without a worker ---------------------------------------------------------------


@pytest.mark.django_db
def test_a_running_upload_with_a_fresh_heartbeat_is_left_alone(cast, population):
    job = running(cast["admin"], beat_ago=10)
    assert upload_reap_stale(stale_after=300) == {"requeued": 0, "failed": 0, "finished": 0}
    assert claim(job.pk) is None  # a redelivered message does not take it from its worker
    job.refresh_from_db()
    assert (job.state, job.attempts, job.percent) == ("running", 1, 40)


@pytest.mark.django_db
def test_a_stale_upload_is_queued_again_and_processed(
    cast, population, django_capture_on_commit_callbacks
):
    job = running(cast["admin"], attempts=1)
    with django_capture_on_commit_callbacks() as enqueued:
        assert upload_reap_stale(stale_after=300)["requeued"] == 1
    job.refresh_from_db()
    assert (job.state, job.percent, job.heartbeat_at) == ("queued", 0, None)
    assert job.message.startswith("处理中断，正在重试") and "attempt 2 of 3" in job.message
    assert upload_reap_stale(stale_after=300)["requeued"] == 0  # reaped once
    assert len(enqueued) == 1
    enqueued[0]()  # the task, in-process (eager)
    job.refresh_from_db()
    assert (job.state, job.attempts, job.created_count) == ("succeeded", 2, 1), job.message
    assert DataValue.objects.get().value == Decimal(12000)


@pytest.mark.django_db
def test_an_upload_whose_worker_died_on_its_last_attempt_is_failed_with_a_message(
    cast, population, settings
):
    settings.UPLOAD_MAX_ATTEMPTS = 2
    job = running(cast["admin"], attempts=2)
    assert claim(job.pk) is None  # no claims left: a late redelivery does not run it again
    assert upload_reap_stale(stale_after=300) == {"requeued": 0, "failed": 1, "finished": 0}
    job.refresh_from_db()
    assert (job.state, job.percent) == ("failed", 100) and job.finished_at is not None
    assert job.message == (
        "处理中断，已尝试 2 次，未导入任何数据，请重新上传"
        "（the worker stopped 2 times: nothing was written, upload again）"
    )


@pytest.mark.django_db
def test_the_stale_threshold_comes_from_the_settings(cast, population, settings):
    settings.UPLOAD_STALE_AFTER = 60
    fresh = running(cast["admin"], beat_ago=30)
    stale = running(cast["admin"], beat_ago=90)
    assert upload_reap_stale() == {"requeued": 1, "failed": 0, "finished": 0}
    states = dict(UploadJob.objects.values_list("pk", "state"))
    assert (states[fresh.pk], states[stale.pk]) == ("running", "queued")


@pytest.mark.django_db
def test_a_redelivered_message_takes_a_stale_upload_exactly_once(cast, population):
    job = running(cast["admin"], attempts=1)
    claimed = claim(job.pk)
    assert claimed is not None and (claimed.state, claimed.attempts) == ("running", 2)
    assert claim(job.pk) is None  # its heartbeat is fresh now: nobody else takes it
    assert upload_reap_stale(stale_after=300)["requeued"] == 0


@pytest.mark.django_db
def test_a_finished_upload_is_never_claimed_again(cast, population):
    job = make_job(cast["admin"], SMALL, state=UploadJob.SUCCEEDED, attempts=1)
    assert claim(job.pk) is None
    assert upload_reap_stale(stale_after=0)["requeued"] == 0


@pytest.mark.django_db
def test_an_upload_whose_write_committed_before_its_worker_died_is_finished_not_redone(
    cast, population, tree
):
    job = running(cast["admin"], attempts=1)
    value = DataValue.objects.create(
        element=population,
        org_unit=tree["441900003001"],
        period="2015",
        period_start="2015-01-01",
        period_end="2015-12-31",
        value=12000,
        state=DataValue.SUBMITTED,
        upload=job,
    )
    DataValueChange.objects.create(
        data_value=value,
        element_code=population.code,
        org_unit_code="441900003001",
        period="2015",
        action="create",
        new_value=12000,
        new_state=DataValue.SUBMITTED,
        source="upload",
        upload=job,
    )
    assert upload_reap_stale(stale_after=300) == {"requeued": 0, "failed": 0, "finished": 1}
    job.refresh_from_db()
    assert (job.state, job.created_count, job.updated_count) == ("succeeded", 1, 0)
    assert "the worker stopped before finishing" in job.message


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_one_upload_never_both_get_it(cast, population):
    jobs = [make_job(cast["admin"], SMALL), running(cast["admin"], attempts=1)]
    for job in jobs:
        start = threading.Barrier(8)
        won = []

        def race(job_id=job.pk, start=start, won=won):
            start.wait()
            try:
                won.append(claim(job_id) is not None)
            finally:
                connection.close()

        threads = [threading.Thread(target=race) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert won.count(True) == 1, job
    assert list(UploadJob.objects.order_by("pk").values_list("state", "attempts")) == [
        ("running", 1),
        ("running", 2),
    ]


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_is_written_outside_the_long_write_transaction(cast, population, settings):
    settings.UPLOAD_STALE_AFTER = 5  # a beat every second (the shortest interval)
    job = claim(make_job(cast["admin"], SMALL).pk)
    claimed_at = job.heartbeat_at
    with heartbeat(job), transaction.atomic():
        # The worker's own connection is inside a write transaction, as in _write_postgresql;
        # the beats commit on the heartbeat thread's connection all the same.
        DataElement.objects.filter(pk=population.pk).update(name_en="Resident population")
        time.sleep(2.5)
        beat = UploadJob.objects.values_list("heartbeat_at", flat=True).get(pk=job.pk)
    assert beat > claimed_at
    assert upload_reap_stale(stale_after=2)["requeued"] == 0


def test_the_beat_schedule_runs_the_reaper_of_every_job_kind_uploads_included():
    from config.celery import app
    from core.jobs import job_models

    entries = {e["task"]: e for e in app.conf.beat_schedule.values()}
    assert entries["core.tasks.reap_stale_jobs"]["schedule"] == 60.0
    assert UploadJob in job_models()
    app.loader.import_default_modules()
    assert "core.tasks.reap_stale_jobs" in app.tasks
    assert "districts.tasks.reap_stale_uploads" in app.tasks  # kept for calling by hand


@pytest.mark.django_db
def test_the_reaper_task_calls_the_service(cast, population, settings):
    from districts.tasks import reap_stale_uploads

    settings.UPLOAD_MAX_ATTEMPTS = 1
    running(cast["admin"], attempts=1, beat_ago=3600)
    assert reap_stale_uploads.delay().get() == {"requeued": 0, "failed": 1, "finished": 0}


# --- a real worker, killed with SIGKILL mid-write ----------------------------------------------

QUEUE = "upload-kill-test"
APP_NAME = "upload-kill-test"  # the killed worker's PostgreSQL application_name
UNITS, ELEMENTS, YEARS = 1000, 20, 10  # 200,000 rows


def big_file(parent: OrgUnit) -> tuple[str, dict[tuple[str, str, str], Decimal]]:
    """UNITS communities under ``parent``, ELEMENTS yearly elements, a CSV of every unit ×
    element × year, and the values it holds."""
    units = [f"{parent.code}9{u:03d}" for u in range(UNITS)]
    OrgUnit.objects.bulk_create(
        OrgUnit(
            code=code,
            name_zh=f"测试社区{u}",
            level="community",
            parent=parent,
            path=f"{parent.path}{code}/",
            depth=parent.depth + 1,
        )
        for u, code in enumerate(units)
    )
    elements = [f"kill.e{e:02d}" for e in range(ELEMENTS)]
    DataElement.objects.bulk_create(
        DataElement(
            code=code,
            name_zh=f"测试数据项{e}",
            unit="persons",
            value_type="integer",
            period_type="year",
            aggregation="sum",
            temporal="last",
        )
        for e, code in enumerate(elements)
    )
    values = {}
    lines = ["单位代码,期间,数据项,数值,备注"]
    for u, unit in enumerate(units):
        for year in range(2006, 2006 + YEARS):
            for e, element in enumerate(elements):
                value = 1000 + u * 7 + e * 3 + (year - 2006)  # steady: no outlier warnings
                values[(unit, str(year), element)] = Decimal(value)
                lines.append(f"{unit},{year},{element},{value},")
    return "\r\n".join(lines) + "\r\n", values


def start_worker(log_path: Path) -> tuple[subprocess.Popen, str]:
    """A worker of this test's own (the command line of tests/conftest.py), on its own queue so
    the session's worker never sees the upload, in its own process group to kill."""
    db = connection.settings_dict
    env = dict(
        os.environ,
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        f"?application_name={APP_NAME}",
        CONN_MAX_AGE="0",
        DJANGO_SETTINGS_MODULE="config.settings.test",
    )
    name = f"{QUEUE}@{os.getpid()}"
    with open(log_path, "ab") as log:
        worker = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "solo",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
                "-Q", QUEUE, "-n", name, "-l", "info",
            ],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    return worker, name


def sql(query: str, *params):
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchone()


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_write_leaves_nothing_and_the_upload_is_retried(
    cast, tree, live_celery, tmp_path
):
    from config.celery import app
    from districts.tasks import process_upload

    text, values = big_file(tree["441900003"])
    job = make_job(cast["admin"], text)
    size_before = sql("SELECT pg_relation_size('districts_datavalue')")[0]
    log_path = Path(os.environ.get("TRACKER_TEST_RUN_DIR", tmp_path)) / "celery-killed-worker.log"
    worker, name = start_worker(log_path)
    try:
        wait_for(lambda: app.control.ping(destination=[name], timeout=0.5), timeout=60)
        process_upload.apply_async(args=[job.pk], queue=QUEUE)

        def writing():
            """The worker's write transaction holds the values table for writing and has put
            uncommitted rows into it (the table's file grew)."""
            state = UploadJob.objects.values_list("state", flat=True).get(pk=job.pk)
            if state in ("succeeded", "failed"):
                pytest.fail(f"the upload finished ({state}) before the kill: make it bigger")
            return sql(
                "SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE a.application_name = %s AND l.relation = 'districts_datavalue'::regclass "
                "AND l.mode = 'RowExclusiveLock' AND pg_relation_size('districts_datavalue') > %s",
                APP_NAME,
                size_before,
            )

        wait_for(writing, timeout=120, interval=0.02)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()

    # PostgreSQL rolls the dead worker's transaction back once it notices the client is gone.
    wait_for(
        lambda: not sql("SELECT 1 FROM pg_stat_activity WHERE application_name = %s", APP_NAME),
        timeout=60,
    )
    assert not DataValue.objects.exists()
    assert not DataValueChange.objects.exists()
    job.refresh_from_db()
    assert (job.state, job.attempts) == ("running", 1)  # what the dead worker left

    # The reaper (beat's task, called directly with a short threshold) queues it again, and
    # the session's live worker processes it from the start.
    assert upload_reap_stale(stale_after=0) == {"requeued": 1, "failed": 0, "finished": 0}
    done = wait_for(
        lambda: UploadJob.objects.filter(pk=job.pk, state__in=["succeeded", "failed"]).first(),
        timeout=180,
    )
    assert done.state == "succeeded", done.message
    assert (done.attempts, done.created_count, done.updated_count) == (2, len(values), 0)
    stored = {
        (u, p, e): v
        for u, p, e, v in DataValue.objects.values_list(
            "org_unit__code", "period", "element__code", "value"
        )
    }
    assert stored == values
    assert DataValueChange.objects.filter(upload=job, action="create").count() == len(values)

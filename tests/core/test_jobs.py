"""The one job base (core.models.Job) and its runner (core.jobs), across every job kind: a claim
lets one worker run a job; a worker that lost its job cannot overwrite it; the reaper puts back
a running job whose worker stopped beating (or fails it after its last attempt) and sends again
a queued job the broker never got; an unreachable broker never fails the request (issue 14,
defect 4); the quick start runs jobs on threads of the web process, after the request returned.
"""

from __future__ import annotations

import socket
import threading
from datetime import date, timedelta

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from core import jobs
from districts.models import UploadJob
from reports import packs
from reports.models import ProgressRun, ReportPack
from supervision.models import ReminderRun
from targets.models import DataElement
from tests.conftest import wait_for
from tests.reports.test_dashboard_data import make_catalog, make_progress

LONG_AGO = timedelta(hours=1)
UPLOAD = "单位代码,期间,数据项,数值,备注\r\n441900003001,2015,population.resident,12000,\r\n"


@pytest.fixture
def data(cast, tree):
    catalog = make_catalog()
    make_progress(catalog, tree)
    return catalog


# Each kind: a queued row of it whose task does real work when run (here, eagerly).
def queued_pack(tree) -> ReportPack:
    return ReportPack.objects.create(city=tree["441900"], as_of="2014")


def queued_progress(tree) -> ProgressRun:
    return ProgressRun.objects.create(
        trigger="approval", indicator_codes=["dg.none"], as_of=timezone.localdate()
    )


def queued_reminders(tree) -> ReminderRun:
    return ReminderRun.objects.create(as_of=timezone.localdate(), trigger="beat")


def queued_upload(tree) -> UploadJob:
    from django.contrib.auth import get_user_model

    DataElement.objects.get_or_create(
        code="population.resident",
        defaults={
            "name_zh": "常住人口",
            "unit": "persons",
            "value_type": "integer",
            "period_type": "year",
            "aggregation": "sum",
            "temporal": "last",
        },
    )
    job = UploadJob(
        original_name="values.csv", created_by=get_user_model().objects.get(username="admin")
    )
    job.file.save("values.csv", ContentFile(UPLOAD.encode("utf-8")), save=False)
    job.save()
    return job


KINDS = [queued_pack, queued_progress, queued_reminders, queued_upload]


def abandoned(job, *, attempts: int = 1):
    """The job as a worker that claimed it ``attempts`` times and died an hour ago left it."""
    beat = timezone.now() - LONG_AGO
    type(job).objects.filter(pk=job.pk).update(
        state=job.RUNNING, attempts=attempts, started_at=beat, heartbeat_at=beat
    )
    job.refresh_from_db()
    return job


def reap_and_run(capture, **kwargs):
    """One reaper pass; the jobs it sends run (eagerly) when its transaction commits."""
    with capture(execute=True):
        return jobs.reap(**kwargs)


# --- claim, heartbeat, finish ---------------------------------------------------------------------


@pytest.mark.parametrize("make", KINDS)
def test_of_two_claims_one_wins(data, tree, make):
    job = make(tree)
    first, second = type(job).claim(job.pk), type(job).claim(job.pk)
    assert first is not None and second is None
    assert (first.state, first.attempts) == ("running", 1)
    assert first.started_at and first.heartbeat_at


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_one_job_run_it_once(tree):
    pack = queued_pack(tree)
    start = threading.Barrier(2)
    won = []

    def worker():
        try:
            start.wait()
            won.append(ReportPack.claim(pack.pk) is not None)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(won) == [False, True]
    assert ReportPack.objects.get(pk=pack.pk).attempts == 1


def test_a_heartbeat_records_progress_and_stops_once_the_job_is_not_the_workers(tree):
    pack = ReportPack.claim(queued_pack(tree).pk)
    ReportPack.objects.filter(pk=pack.pk).update(heartbeat_at=timezone.now() - LONG_AGO)
    assert pack.heartbeat(percent=40, step="pdf")
    pack.refresh_from_db()
    assert (pack.percent, pack.step) == (40, "pdf")
    assert timezone.now() - pack.heartbeat_at < LONG_AGO
    # the reaper took it back and another worker claimed it: the first worker's beats and end
    # no longer touch the row
    abandoned(pack)
    jobs.reap(models=[ReportPack], stale_after=60)  # requeued; its resend waits for a commit
    successor = ReportPack.claim(pack.pk)
    assert successor.attempts == 2
    assert not pack.heartbeat(percent=99)
    assert not pack.finish(percent=100)
    assert not pack.fail("late")
    row = ReportPack.objects.get(pk=pack.pk)
    assert (row.state, row.attempts, row.percent, row.error) == ("running", 2, 0, "")


def test_a_job_that_is_not_running_cannot_be_finished(tree):
    pack = queued_pack(tree)
    assert not pack.finish()
    assert ReportPack.objects.get(pk=pack.pk).state == "queued"


# --- the reaper, every kind -----------------------------------------------------------------------


@pytest.mark.parametrize("make", KINDS)
def test_a_running_job_whose_worker_died_is_run_again(
    data, tree, make, django_capture_on_commit_callbacks
):
    job = abandoned(make(tree))
    label = type(job)._meta.label_lower
    counts = reap_and_run(django_capture_on_commit_callbacks)
    assert counts[label]["requeued"] == 1
    job.refresh_from_db()
    assert (job.state, job.attempts, job.error) == ("succeeded", 2, "")


@pytest.mark.parametrize("make", KINDS)
def test_a_running_job_with_a_fresh_heartbeat_is_left_alone(data, tree, make):
    made = make(tree)
    job = type(made).claim(made.pk)
    counts = jobs.reap()
    assert counts[type(job)._meta.label_lower]["requeued"] == 0
    job.refresh_from_db()
    assert (job.state, job.attempts) == ("running", 1)
    assert type(job).claim(job.pk) is None  # a redelivered message does not take it over


@pytest.mark.parametrize("make", KINDS)
def test_a_job_whose_worker_died_on_its_last_attempt_is_failed(data, tree, make, settings):
    settings.JOB_MAX_ATTEMPTS = 3
    job = abandoned(make(tree), attempts=3)
    counts = jobs.reap()
    assert counts[type(job)._meta.label_lower]["failed"] == 1
    job.refresh_from_db()
    assert job.state == "failed" and "3" in job.error and job.finished_at
    assert type(job).claim(job.pk) is None


@pytest.mark.parametrize("make", KINDS)
def test_a_queued_job_the_broker_never_got_is_sent_again(
    data, tree, make, settings, django_capture_on_commit_callbacks
):
    settings.JOB_ENQUEUE_RETRY_AFTER = 0
    job = make(tree)  # created, committed, never sent (enqueued_at empty)
    type(job).objects.filter(pk=job.pk).update(created_at=timezone.now() - LONG_AGO)
    counts = reap_and_run(django_capture_on_commit_callbacks)
    assert counts[type(job)._meta.label_lower]["resent"] == 1
    job.refresh_from_db()
    assert job.state == "succeeded"


@pytest.mark.parametrize("make", KINDS)
def test_a_queued_job_whose_message_was_lost_is_sent_again(data, tree, make, settings):
    settings.JOB_RESEND_AFTER = 600
    job = make(tree)
    model = type(job)
    model.objects.filter(pk=job.pk).update(enqueued_at=timezone.now() - timedelta(seconds=30))
    assert jobs.reap(models=[model])[model._meta.label_lower]["resent"] == 0  # still in line
    model.objects.filter(pk=job.pk).update(enqueued_at=timezone.now() - LONG_AGO)
    assert jobs.reap(models=[model])[model._meta.label_lower]["resent"] == 1
    job.refresh_from_db()
    assert job.state == "succeeded"


def test_a_reminder_run_of_an_earlier_day_is_not_run_again(tree):
    run = abandoned(ReminderRun.objects.create(as_of=date(2025, 4, 1)))
    assert jobs.reap(models=[ReminderRun])["supervision.reminderrun"]["finished"] == 1
    run.refresh_from_db()
    assert run.state == "failed" and "later runs" in run.error


def test_the_reaper_runs_on_beat_every_minute():
    from django.conf import settings

    from config.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["jobs-reap-stale"]
    assert entry["task"] == "core.tasks.reap_stale_jobs" and entry["schedule"] == 60
    app.loader.import_default_modules()
    assert "core.tasks.reap_stale_jobs" in app.tasks


# --- an unreachable broker (issue 14, defect 4) ---------------------------------------------------


@pytest.fixture
def broker_down(settings):
    """Celery as in production (no eager tasks) with its broker on a port nobody listens on."""
    from config.celery import app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    saved = app.conf.broker_url, app.conf.task_always_eager

    def reset_pools():
        # the producer pools keep the connection of the URL they were made with (kombu keeps
        # each URL's pools: the test Redis's are found again afterwards)
        app._pool = None
        app.amqp._producer_pool = None

    settings.JOBS_BACKEND = "celery"
    app.conf.broker_url = f"redis://127.0.0.1:{port}/0"
    app.conf.task_always_eager = False
    reset_pools()
    yield
    app.conf.broker_url, app.conf.task_always_eager = saved
    reset_pools()


def test_a_pack_requested_while_the_broker_is_down_waits_and_is_built_once_it_is_back(
    client, data, cast, broker_down, settings, django_capture_on_commit_callbacks
):
    client.force_login(cast["carol"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("reports:packs"), {"city": "441900", "as_of": "2014", "language": "zh-hans"}
        )
    pack = ReportPack.objects.get()
    assert response.status_code == 302  # accepted, not a 500
    assert (pack.state, pack.step, pack.enqueued_at) == ("queued", "waiting", None)
    assert pack.waiting_for_queue
    page = client.get(reverse("reports:pack", args=[pack.pk])).content.decode()
    assert "任务队列暂时无法连接" in page and 'id="pack-waiting" class="muted">' in page
    status = client.get(reverse("reports:pack_status", args=[pack.pk])).json()
    assert (status["state"], status["step"]) == ("queued", "waiting")

    # still down: the reaper tries again and leaves it waiting
    settings.JOB_ENQUEUE_RETRY_AFTER = 0
    ReportPack.objects.filter(pk=pack.pk).update(created_at=timezone.now() - LONG_AGO)
    assert jobs.reap(models=[ReportPack])["reports.reportpack"]["resent"] == 0
    assert ReportPack.objects.get(pk=pack.pk).waiting_for_queue


def test_the_reaper_sends_a_waiting_pack_once_the_broker_is_back(
    data, cast, tree, settings, django_capture_on_commit_callbacks
):
    pack = ReportPack.objects.create(city=tree["441900"], as_of="2014", step="waiting")
    settings.JOB_ENQUEUE_RETRY_AFTER = 0
    ReportPack.objects.filter(pk=pack.pk).update(created_at=timezone.now() - LONG_AGO)
    assert jobs.reap(models=[ReportPack])["reports.reportpack"]["resent"] == 1  # eager: built
    pack.refresh_from_db()
    assert (pack.state, pack.percent, pack.step) == ("succeeded", 100, "done")


def test_a_recompute_enqueued_while_the_broker_is_down_stays_queued(
    data, tree, broker_down, django_capture_on_commit_callbacks
):
    from reports.triggers import progress_recompute_for_keys

    with django_capture_on_commit_callbacks(execute=True):
        progress_recompute_for_keys(element_codes={"population.resident"}, unit_codes=set())
    run = ProgressRun.objects.get()
    assert run.state == "queued" and run.waiting_for_queue and run.indicator_codes


# --- the quick start's runner ---------------------------------------------------------------------


@pytest.fixture
def thread_runner(settings):
    settings.JOBS_BACKEND = "thread"
    settings.JOB_REAP_INTERVAL = 3600
    yield jobs.start_runner()
    jobs.stop_runner()


@pytest.mark.django_db(transaction=True)
def test_the_quick_start_builds_a_pack_in_the_background_after_the_request_returned(
    client, data, cast, thread_runner, monkeypatch
):
    gate = threading.Event()
    building = packs.briefing_pdf

    def held(content):  # the build cannot end before the test opens the gate
        assert gate.wait(60), "the gate was never opened"
        return building(content)

    monkeypatch.setattr(packs, "briefing_pdf", held)
    client.force_login(cast["carol"])
    response = client.post(
        reverse("reports:packs"), {"city": "441900", "as_of": "2014", "language": "zh-hans"}
    )
    pack = ReportPack.objects.get()
    assert response.status_code == 302
    assert pack.state in ("queued", "running")  # the request did not wait for the build
    page = client.get(reverse("reports:pack", args=[pack.pk]))
    assert page.status_code == 200
    wait_for(lambda: ReportPack.objects.get(pk=pack.pk).step == "pdf")
    assert ReportPack.objects.get(pk=pack.pk).state == "running"
    gate.set()
    wait_for(lambda: ReportPack.objects.get(pk=pack.pk).state == "succeeded", timeout=120)
    pack.refresh_from_db()
    assert (pack.percent, pack.attempts, pack.error) == (100, 1, "")


@pytest.mark.django_db(transaction=True)
def test_the_quick_start_runner_takes_back_a_job_killed_with_its_process(tree, settings):
    """Started with the first request, the runner reaps before anything else: a job left
    running by a killed quick start is run again, a queued one is sent again."""
    settings.JOBS_BACKEND = "thread"
    settings.JOB_REAP_INTERVAL = 3600
    killed = abandoned(queued_progress(tree))
    left = queued_reminders(tree)
    ReminderRun.objects.filter(pk=left.pk).update(enqueued_at=timezone.now() - LONG_AGO)
    try:
        jobs.start_runner()
        wait_for(lambda: ProgressRun.objects.get(pk=killed.pk).state == "succeeded")
        wait_for(lambda: ReminderRun.objects.get(pk=left.pk).state == "succeeded")
    finally:
        jobs.stop_runner()
    assert ProgressRun.objects.get(pk=killed.pk).attempts == 2


def test_a_command_runs_its_job_inline_when_no_runner_serves_requests(
    tree, settings, django_capture_on_commit_callbacks
):
    settings.JOBS_BACKEND = "thread"
    run = queued_progress(tree)
    with django_capture_on_commit_callbacks(execute=True):
        jobs.enqueue(run)
    run.refresh_from_db()
    assert run.state == "succeeded"


def test_an_upload_accepted_while_the_broker_is_down_says_it_waits_and_is_processed_later(
    client, data, cast, tree, broker_down, settings, django_capture_on_commit_callbacks
):
    """Issue 14, defect 4: the user got a bare 500 and the job stayed queued for good."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from config.celery import app

    queued_upload(tree)  # the element; this row itself is not enqueued
    UploadJob.objects.all().delete()
    client.force_login(cast["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("districts:uploads"),
            {"file": SimpleUploadedFile("v.csv", UPLOAD.encode("utf-8"))},
        )
    job = UploadJob.objects.get()
    assert response.status_code == 302
    assert (job.state, job.enqueued_at) == ("queued", None)
    assert job.message == UploadJob.WAITING_MESSAGE
    status = client.get(reverse("districts:upload_status", args=[job.pk])).json()
    assert "任务队列暂时无法连接" in status["message"]

    # the broker is back: the reaper sends it, and the waiting note goes with the message
    app.conf.task_always_eager = True
    settings.JOB_ENQUEUE_RETRY_AFTER = 0
    UploadJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - LONG_AGO)
    assert jobs.reap(models=[UploadJob])["districts.uploadjob"]["resent"] == 1
    job.refresh_from_db()
    assert (job.state, job.created_count) == ("succeeded", 1), job.message
    assert "任务队列" not in job.message


@pytest.mark.django_db(transaction=True)
def test_the_quick_start_processes_an_upload_in_the_background(
    client, cast, tree, thread_runner, monkeypatch
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from districts.intake import pipeline

    gate = threading.Event()
    processing = pipeline._process

    def held(job, started):  # the upload cannot end before the test opens the gate
        assert gate.wait(60), "the gate was never opened"
        return processing(job, started)

    monkeypatch.setattr(pipeline, "_process", held)
    queued_upload(tree)
    UploadJob.objects.all().delete()
    client.force_login(cast["admin"])
    response = client.post(
        reverse("districts:uploads"), {"file": SimpleUploadedFile("v.csv", UPLOAD.encode())}
    )
    job = UploadJob.objects.get()
    assert response.status_code == 302
    assert job.state in ("queued", "running")  # the request did not wait for the upload
    gate.set()
    wait_for(lambda: UploadJob.objects.get(pk=job.pk).state == "succeeded")
    assert UploadJob.objects.get(pk=job.pk).created_count == 1

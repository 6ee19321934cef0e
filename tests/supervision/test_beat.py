"""Celery: the beat schedule names the reminder task and loads as beat loads it, and the task
runs on a live worker against the real database and Redis."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

import pytest

from tests.conftest import ROOT, wait_for


def test_the_beat_schedule_names_the_reminder_task():
    from celery.beat import Scheduler

    from config.celery import app

    entries = {e["task"] for e in app.conf.beat_schedule.values()}
    assert "supervision.tasks.send_reminders" in entries
    app.loader.import_default_modules()
    assert "supervision.tasks.send_reminders" in app.tasks
    scheduler = Scheduler(app=app, lazy=False)
    loaded = {entry.task for entry in scheduler.schedule.values()}
    assert "supervision.tasks.send_reminders" in loaded
    for entry in scheduler.schedule.values():
        assert entry.task in app.tasks, entry.task


@pytest.mark.celery
def test_celery_beat_starts_with_the_schedule(tmp_path):
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs Redis: run scripts/test.sh")
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.test")
    log = tmp_path / "beat.log"
    with open(log, "wb") as out:
        beat = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "debug",
                "-s", str(tmp_path / "beat-schedule"), "--pidfile", str(tmp_path / "beat.pid"),
            ],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for(
            lambda: beat.poll() is not None or "Ticking with max interval" in log.read_text(),
            timeout=30,
        )
        text = log.read_text()
        assert beat.poll() is None, text
        assert "beat: Starting" in text and "Traceback" not in text
    finally:
        beat.terminate()
        try:
            beat.wait(timeout=20)
        except subprocess.TimeoutExpired:
            beat.kill()
            beat.wait()


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_the_reminder_task_runs_on_a_live_worker(setup, live_celery):
    from supervision.models import Notification, Reminder, ReminderRun
    from supervision.tasks import send_reminders

    send_reminders.delay(as_of="2025-04-01", trigger="live-test")
    wait_for(lambda: ReminderRun.objects.filter(trigger="live-test", state="succeeded").exists())
    notes = Notification.objects.filter(kind="overdue")
    assert {(n.recipient.username, n.org_unit.code) for n in notes} == {
        ("alice", "441900003"),
        ("alice", "441900003001"),
        ("alice", "441900003002"),
        ("dave", "441900101"),
        ("dave", "441900101001"),
    }
    assert set(Reminder.objects.values_list("email_state", flat=True)) == {"sent"}
    # Beat firing twice (or a redelivered task): nothing new.
    send_reminders.delay(as_of="2025-04-01", trigger="live-test-again")
    run = wait_for(
        lambda: ReminderRun.objects.filter(trigger="live-test-again", state="succeeded").first()
    )
    assert run.claimed == 0 and run.emailed == 0
    assert Notification.objects.count() == 5 and ReminderRun.objects.get(pk=run.pk).as_of == date(
        2025, 4, 1
    )

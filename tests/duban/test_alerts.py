"""Lamp alerts: when a task turns yellow or red its lead unit's officials and the leaders in
scope get a portal notification and an e-mail, once per change."""

from __future__ import annotations

from datetime import date

import pytest
from django.core import mail

from duban import rules, services
from duban.models import TaskAlert
from duban.tasks import alert_task_lamps

pytestmark = pytest.mark.django_db

GREEN_DAY = date(2026, 6, 1)
YELLOW_DAY = date(2026, 12, 29)  # 2 working days before 2026-12-31
RED_DAY = date(2027, 1, 4)


@pytest.fixture
def emails(cast):
    for name, user in cast.items():
        user.email = f"{name}@example.org"
        user.save(update_fields=["email"])
    return cast


def recipients():
    return sorted(TaskAlert.objects.values_list("recipient__username", "lamp"))


def test_a_green_task_alerts_no_one(dongcheng_task, emails, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert alert_task_lamps(as_of=GREEN_DAY.isoformat()) == 0
    assert not TaskAlert.objects.exists() and not mail.outbox


def test_yellow_then_red_alert_once_each(
    dongcheng_task, emails, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert alert_task_lamps(as_of=YELLOW_DAY.isoformat()) == 2
    # alice is 东城's official; carol leads over 东莞. bob (a reviewer) and erin are not told.
    assert recipients() == [("alice", "yellow"), ("carol", "yellow")]
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.org", "carol@example.org"]
    assert "督办预警" in mail.outbox[0].subject

    with django_capture_on_commit_callbacks(execute=True):
        assert alert_task_lamps(as_of=YELLOW_DAY.isoformat()) == 0
        assert alert_task_lamps(as_of=date(2026, 12, 30).isoformat()) == 0
    assert len(mail.outbox) == 2 and TaskAlert.objects.count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        assert alert_task_lamps(as_of=RED_DAY.isoformat()) == 2
        assert alert_task_lamps(as_of=RED_DAY.isoformat()) == 0
    assert TaskAlert.objects.filter(lamp="red").count() == 2
    assert len(mail.outbox) == 4
    assert TaskAlert.objects.filter(emailed_at__isnull=False).count() == 4


def test_a_closed_task_is_not_alerted(dongcheng_task, emails, cast):
    task = dongcheng_task
    services.task_transition(actor=cast["alice"], task=task, to=rules.ACKNOWLEDGED)
    services.task_transition(actor=cast["alice"], task=task, to=rules.IN_PROGRESS)
    from tests.duban.conftest import pdf_bytes

    services.task_transition(
        actor=cast["alice"], task=task, to=rules.REPORTED, files=[("a.pdf", pdf_bytes())]
    )
    services.task_transition(actor=cast["bob"], task=task, to=rules.CLOSED)
    assert alert_task_lamps(as_of=RED_DAY.isoformat()) == 0


def test_a_late_step_is_a_yellow_alert(dongcheng_task, emails):
    # The 东城 task's step was due 2026-10-31 and is not done.
    assert alert_task_lamps(as_of=date(2026, 11, 3).isoformat()) == 2
    assert set(TaskAlert.objects.values_list("lamp", flat=True)) == {"yellow"}


def test_the_beat_runs_the_alerts_daily(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["duban-alert-task-lamps-daily"]
    assert entry["task"] == "duban.tasks.alert_task_lamps"


def test_the_alerts_are_listed_on_the_recipient_s_task_page(client, dongcheng_task, emails):
    from tests.conftest import PASSWORD

    alert_task_lamps(as_of=RED_DAY.isoformat())
    client.login(username="carol", password=PASSWORD)
    body = client.get("/duban/").content.decode()
    assert 'class="db-alerts"' in body and "出台政府购买服务目录" in body
    client.logout()
    client.login(username="bob", password=PASSWORD)
    assert 'class="db-alerts"' not in client.get("/duban/").content.decode()

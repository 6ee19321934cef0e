"""The reminder job with a frozen clock (``as_of``): officials reminded before and after the
deadline, reviewers after the escalation delay, and never the same reminder twice — not when the
job runs twice, nor when a run dies between claiming and e-mailing."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
from django.core import mail

from districts.models import OrgUnit
from districts.services import role_grant
from supervision import services
from supervision.models import Notification, Reminder, ReminderRun
from supervision.tasks import send_reminders
from tests.supervision.helpers import mails_to, report

pytestmark = pytest.mark.django_db

DONGCHENG = ["441900003", "441900003001", "441900003002"]
SHIJIE = ["441900101", "441900101001"]


def run(day: date) -> ReminderRun:
    return services.reminders_send(as_of=day, trigger="test")


def days(start: date, end: date):
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def kinds_for(name: str) -> Counter:
    return Counter(Reminder.objects.filter(recipient__username=name).values_list("kind", flat=True))


def test_nobody_is_reminded_before_the_first_reminder_day(setup):
    run(date(2025, 3, 16))
    assert Reminder.objects.count() == 0 and mail.outbox == []


def test_officials_are_reminded_fourteen_days_before_the_deadline(setup):
    result = run(date(2025, 3, 17))
    assert result.state == "succeeded"
    alice = mails_to(mail.outbox, "alice")
    assert len(alice) == 1 and len(mails_to(mail.outbox, "dave")) == 1
    body = alice[0].body
    for name in ("东城街道", "东城社区A", "东城社区B", "2025-03-31"):
        assert name in body
    assert "石碣" not in body
    assert kinds_for("alice") == {"before:14": 3}
    assert not mails_to(mail.outbox, "bob")  # reviewers only hear of late reports


def test_a_frozen_clock_across_the_deadline_sends_each_step_once(setup):
    for day in days(date(2025, 3, 10), date(2025, 4, 20)):
        run(day)
    # 东城街道, 东城社区A and 东城社区B each: four steps before, three late (1st, 8th, 15th day).
    steps = ["before:14", "before:7", "before:3", "before:1", "overdue:1", "overdue:2", "overdue:3"]
    assert kinds_for("alice") == dict.fromkeys(steps, 3)
    # One e-mail per day with something new: 3-17, 3-24, 3-28, 3-30, 4-01, 4-08, 4-15.
    assert len(mails_to(mail.outbox, "alice")) == 7
    assert len(mails_to(mail.outbox, "dave")) == 7
    # bob reviews the city: told once per late unit, from the 14th day late (2025-04-14).
    escalations = Reminder.objects.filter(kind="escalation")
    assert {r.org_unit.code for r in escalations} == set(DONGCHENG + SHIJIE)
    assert {r.recipient.username for r in escalations} == {"bob"}
    assert {r.created_at.date() for r in escalations} and len(mails_to(mail.outbox, "bob")) == 1
    assert Notification.objects.filter(recipient__username="bob", kind="escalation").count() == 5
    assert Notification.objects.filter(recipient__username="alice").count() == 21
    # 中山 has no official: nobody to remind, nothing breaks.
    assert not Reminder.objects.filter(org_unit__code__startswith="442000").exists()


def test_escalation_waits_for_the_configured_delay(setup):
    run(date(2025, 4, 13))  # 13 days late
    assert not Reminder.objects.filter(kind="escalation").exists()
    run(date(2025, 4, 14))  # 14 days late
    assert Reminder.objects.filter(kind="escalation", recipient__username="bob").count() == 5
    bob = mails_to(mail.outbox, "bob")
    assert len(bob) == 1 and "石碣村A" in bob[0].body and "东城社区B" in bob[0].body


def test_escalation_delay_is_read_from_the_schedule(setup):
    setup["schedules"]["default-year"].__class__.objects.filter(code="default-year").update(
        escalate_after_days=2
    )
    run(date(2025, 4, 2))
    assert Reminder.objects.filter(kind="escalation").count() == 5


def test_the_nearest_reviewer_is_told(setup):
    role_grant(username="rita", role="reviewer", org_unit_code="441900003", create=True)
    run(date(2025, 4, 20))
    escalated = {
        (r.org_unit.code, r.recipient.username)
        for r in Reminder.objects.filter(kind="escalation").select_related("org_unit", "recipient")
    }
    assert escalated == {(c, "rita") for c in DONGCHENG} | {(c, "bob") for c in SHIJIE}


def test_running_the_job_twice_sends_nothing_twice(setup):
    day = date(2025, 4, 1)
    run(day)
    sent, rows, notes = len(mail.outbox), Reminder.objects.count(), Notification.objects.count()
    assert sent == 2 and rows == 5
    second = run(day)
    assert second.claimed == 0 and second.emailed == 0
    assert (len(mail.outbox), Reminder.objects.count(), Notification.objects.count()) == (
        sent,
        rows,
        notes,
    )
    assert len(mails_to(mail.outbox, "alice")) == 1


def test_a_run_that_died_after_claiming_mails_once_on_the_next_run(setup):
    services.reminders_claim(as_of=date(2025, 4, 1))  # the worker dies before e-mailing
    assert mail.outbox == [] and Notification.objects.count() == 5
    run(date(2025, 4, 1))
    run(date(2025, 4, 1))
    assert len(mails_to(mail.outbox, "alice")) == 1 and len(mails_to(mail.outbox, "dave")) == 1
    assert set(Reminder.objects.values_list("email_state", flat=True)) == {"sent"}


def test_a_reminder_left_sending_by_a_crash_is_never_mailed_again(setup):
    services.reminders_claim(as_of=date(2025, 4, 1))
    Reminder.objects.filter(recipient__username="alice").update(email_state="sending")
    run(date(2025, 4, 1))
    assert mails_to(mail.outbox, "alice") == [] and len(mails_to(mail.outbox, "dave")) == 1


def test_a_step_claimed_by_another_worker_is_skipped(setup):
    alice = setup["cast"]["alice"]
    schedule = setup["schedules"]["default-year"]
    for code in DONGCHENG:
        Reminder.objects.create(
            schedule=schedule,
            org_unit=OrgUnit.objects.get(code=code),
            period="2024",
            kind="overdue:1",
            recipient=alice,
            audience="official",
            deadline=date(2025, 3, 31),
            email_state="sent",
        )
    result = run(date(2025, 4, 1))
    assert result.claimed == 2  # dave's two
    assert mails_to(mail.outbox, "alice") == []


def test_units_that_reported_are_not_chased(setup):
    dave, elements = setup["cast"]["dave"], setup["elements"]
    report(dave, elements["town"], "441900101")
    report(dave, elements["community"], "441900101001")
    for day in days(date(2025, 3, 30), date(2025, 4, 20)):
        run(day)
    assert mails_to(mail.outbox, "dave") == []
    assert not Reminder.objects.filter(org_unit__code__in=SHIJIE).exists()
    assert Reminder.objects.filter(org_unit__code__in=DONGCHENG, kind="overdue:1").count() == 3


def test_a_rejected_value_is_chased_again(setup):
    from districts.services import values_reject

    dave, bob, elements = setup["cast"]["dave"], setup["cast"]["bob"], setup["elements"]
    value = report(dave, elements["community"], "441900101001")
    run(date(2025, 4, 1))
    assert not Reminder.objects.filter(org_unit__code="441900101001").exists()
    values_reject(actor=bob, values=[value], comment="数字有误")
    run(date(2025, 4, 2))
    assert Reminder.objects.filter(org_unit__code="441900101001", kind="overdue:1").exists()


def test_a_failed_email_is_recorded_and_not_retried(setup, settings):
    settings.EMAIL_BACKEND = "tests.supervision.test_reminders.FailingBackend"
    first = run(date(2025, 4, 1))
    assert first.state == "succeeded" and first.email_failed == 5 and first.emailed == 0
    assert set(Reminder.objects.values_list("email_state", flat=True)) == {"failed"}
    assert "SMTP down" in Reminder.objects.first().email_error
    assert Notification.objects.count() == 5  # the in-portal list still has them
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    run(date(2025, 4, 1))
    assert mail.outbox == []


def test_a_user_without_an_address_still_gets_the_notification(setup):
    alice = setup["cast"]["alice"]
    alice.email = ""
    alice.save()
    run(date(2025, 4, 1))
    assert mails_to(mail.outbox, "alice") == []
    assert Notification.objects.filter(recipient=alice).count() == 3
    assert set(Reminder.objects.filter(recipient=alice).values_list("email_state", flat=True)) == {
        "skipped"
    }


def test_inactive_officials_are_not_reminded(setup):
    alice = setup["cast"]["alice"]
    alice.is_active = False
    alice.save()
    run(date(2025, 4, 1))
    assert not Reminder.objects.filter(recipient=alice).exists()


def test_the_task_defaults_to_today_in_the_portal_time_zone(setup, monkeypatch):
    from supervision import tasks

    monkeypatch.setattr(tasks.timezone, "localdate", lambda: date(2025, 4, 1))
    run_id = send_reminders.delay().get()
    assert ReminderRun.objects.get(pk=run_id).as_of == date(2025, 4, 1)
    assert Reminder.objects.filter(kind="overdue:1").count() == 5


def test_the_task_takes_an_iso_date(setup):
    run_id = send_reminders.delay(as_of="2025-03-17").get()
    assert ReminderRun.objects.get(pk=run_id).claimed == 5


def test_the_command_runs_the_job(setup):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("send_reminders", "--as-of", "2025-04-01", stdout=out)
    assert "5 new" in out.getvalue()


class FailingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP down")


def test_a_step_inserted_concurrently_is_skipped_by_the_unique_constraint(setup):
    """Two workers race past the "already claimed?" check: the insert decides."""
    alice, bob = setup["cast"]["alice"], setup["cast"]["bob"]
    schedule = setup["schedules"]["default-year"]
    unit = OrgUnit.objects.get(code="441900003")
    first, second = (
        ReminderRun.objects.create(as_of=date(2025, 4, 1)),
        ReminderRun.objects.create(as_of=date(2025, 4, 1)),
    )

    def row(run, user):
        return Reminder(
            schedule=schedule, org_unit=unit, period="2024", kind="overdue:1", recipient=user,
            audience="official", deadline=date(2025, 3, 31), missing=1, run=run,
        )  # fmt: skip

    assert services._claim([row(first, alice)], run=first, as_of=date(2025, 4, 1)) == 1
    claimed = services._claim(
        [row(second, alice), row(second, bob)], run=second, as_of=date(2025, 4, 1)
    )
    assert claimed == 1  # bob's; alice's step stays the first run's
    assert Reminder.objects.get(recipient=alice).run == first
    assert Notification.objects.filter(recipient=alice).count() == 1

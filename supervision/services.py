"""Writes for supervision (督查督办): default schedules, the reminder job, notifications read,
and reopening a whole approved period."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from audit.services import audit_record
from core import jobs
from core.periods import Period
from core.text import bilingual
from districts import scopes
from districts.models import DataValue, OrgUnit, RoleAssignment
from districts.services import values_reopen

from . import rules, selectors
from .models import Notification, PeriodReopen, Reminder, ReminderRun, ReportingSchedule

log = logging.getLogger(__name__)

# --- default schedules -------------------------------------------------------------------------

DEFAULT_SCHEDULES: list[dict] = [
    {
        "code": "default-month",
        "name_zh": "月报：次月10日前报送",
        "name_en": "Monthly figures: due by the 10th of the next month",
        "period_type": "month",
        "deadline_rule": rules.DAY_OF_MONTH,
        "due_months_after": 1,
        "due_day": 10,
        "opens_days_after_end": 1,
        "due_soon_days": 3,
        "remind_days_before": [3, 1],
        "overdue_every_days": 3,
        "escalate_after_days": 5,
        "note": "参照东莞市村（居）务公开“每月10日前”的时限要求。",
    },
    {
        "code": "default-quarter",
        "name_zh": "季报：季后15日内报送",
        "name_en": "Quarterly figures: due 15 days after the quarter",
        "period_type": "quarter",
        "deadline_rule": rules.DAYS_AFTER_END,
        "due_days_after_end": 15,
        "opens_days_after_end": 1,
        "due_soon_days": 3,
        "remind_days_before": [7, 3, 1],
        "overdue_every_days": 5,
        "escalate_after_days": 7,
        "note": "",
    },
    {
        "code": "default-year",
        "name_zh": "年报：次年3月31日前报送",
        "name_en": "Yearly figures: due by 31 March of the next year",
        "period_type": "year",
        "deadline_rule": rules.DAY_OF_MONTH,
        "due_months_after": 3,
        "due_day": 31,
        "opens_days_after_end": 1,
        "due_soon_days": 3,
        "remind_days_before": [14, 7, 3, 1],
        "overdue_every_days": 7,
        "escalate_after_days": 14,
        "note": "年度统计数据一般于次年一季度末前完成报送。",
    },
]


def schedules_seed() -> int:
    """Create the default schedules that are missing; never changes an existing one (an
    administrator may have tuned it). Returns how many were created."""
    created = 0
    for spec in DEFAULT_SCHEDULES:
        fields = dict(spec)
        code = fields.pop("code")
        _schedule, was_created = ReportingSchedule.objects.get_or_create(code=code, defaults=fields)
        created += was_created
    return created


# --- period reopen ---------------------------------------------------------------------------


@transaction.atomic
def period_reopen(*, actor, org_unit: OrgUnit, period: Period, reason: str) -> PeriodReopen:
    """A reviewer reopens ``org_unit``'s ``period``: every approved value of it goes back to
    draft so officials can correct it. The reason is recorded in each value's history and in a
    period-level record, and the unit's officials are notified."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "重新开放时请填写原因（a reopen needs a reason）"})
    if not scopes.can(actor, scopes.REVIEW, org_unit):
        raise PermissionDenied(f"{org_unit.code} 不在您的审核范围内（outside your review scope）")
    approved = list(
        DataValue.objects.filter(org_unit=org_unit, period=str(period), state=DataValue.APPROVED)
    )
    if not approved:
        raise ValidationError(
            {"period": f"{org_unit.code} {period} 没有已审核的数值（nothing approved to reopen）"}
        )
    reopened = values_reopen(actor=actor, values=approved, comment=reason)
    record = PeriodReopen.objects.create(
        org_unit=org_unit, period=str(period), actor=actor, reason=reason, value_count=len(reopened)
    )
    audit_record(
        actor=actor,
        action="period.reopen",
        target=record,
        detail={
            "org_unit": org_unit.code,
            "period": str(period),
            "values": len(reopened),
            "reason": reason,
        },
    )
    officials = selectors.role_holders(RoleAssignment.OFFICIAL)
    Notification.objects.bulk_create(
        Notification(
            recipient_id=user_id,
            kind=Notification.REOPENED,
            org_unit=org_unit,
            period=str(period),
            count=len(reopened),
            message=reason,
            actor=actor,
        )
        for user_id in rules.nearest_holders(rules.chain_of(org_unit.path), officials)
    )
    return record


# --- notifications -----------------------------------------------------------------------------


def rejection_notify(*, actor, values: list[DataValue], comment: str) -> list[Notification]:
    """Tell whoever submitted rejected values, in the portal and by e-mail (after commit): one
    notice per submitter, unit and period, linking to the grid at the first rejected row with
    the reviewer's comment. Connected to :data:`districts.signals.values_rejected` (sent by
    :func:`districts.services.values_reject`)."""
    groups: dict[tuple[int, int, str], list[DataValue]] = {}
    for value in values:
        if value.updated_by_id and value.updated_by_id != getattr(actor, "pk", None):
            key = (value.updated_by_id, value.org_unit_id, value.period)
            groups.setdefault(key, []).append(value)
    notes = Notification.objects.bulk_create(
        Notification(
            recipient_id=user_id,
            kind=Notification.REJECTED,
            org_unit_id=unit_id,
            period=period,
            count=len(rows),
            message=comment,
            element_code=min(r.element.code for r in rows),
            actor=actor,
        )
        for (user_id, unit_id, period), rows in groups.items()
    )
    ids = [n.pk for n in notes]
    if ids and getattr(settings, "REMINDER_EMAIL_ENABLED", True):
        transaction.on_commit(lambda: _rejection_emails_send(ids))
    return notes


def _rejection_emails_send(ids: list[int]) -> None:
    base = getattr(settings, "REMINDER_PORTAL_URL", "").rstrip("/")
    prefix = getattr(settings, "REMINDER_EMAIL_SUBJECT_PREFIX", "")
    notes = Notification.objects.filter(pk__in=ids).select_related("recipient", "org_unit", "actor")
    for note in notes:
        if not note.recipient.email:
            continue
        with translation.override(settings.LANGUAGE_CODE):
            context = {"n": note, "url": f"{base}{note.entry_url}"}
            subject = render_to_string("supervision/email/rejected_subject.txt", context)
            body = render_to_string("supervision/email/rejected.txt", context)
        try:
            send_mail(
                f"{prefix}{' '.join(subject.split())}",
                body,
                None,
                [note.recipient.email],
                fail_silently=False,
            )
        except Exception:  # the portal notice stands; a mail server's trouble is only logged
            log.exception("rejection e-mail to %s failed", note.recipient_id)


def notifications_mark_read(*, user, ids: list[int] | None = None) -> int:
    """Mark ``user``'s notifications read (those in ``ids``, or all); returns how many."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(id__in=ids)
    return qs.update(read_at=timezone.now())


# --- reminders ---------------------------------------------------------------------------------


@dataclass
class ReminderSummary:
    claimed: int = 0
    emailed: int = 0
    email_failed: int = 0
    units_late: int = 0


def _notification_kind(kind: str) -> str:
    if kind == rules.ESCALATION:
        return Notification.ESCALATION
    if kind.startswith(rules.LATE):
        return Notification.OVERDUE
    return Notification.REMINDER


CLAIM_CHUNK = 1000
"""Reminder rows inserted per transaction: a first run on a city with every unit late claims
tens of thousands at once."""


def reminders_claim(*, as_of: date, run: ReminderRun | None = None) -> ReminderSummary:
    """Claim every reminder step due on ``as_of``: one ``Reminder`` row (and its in-portal
    notification, in the same transaction) per step, unit, period and recipient.

    A step already claimed — by an earlier run, a second beat or a concurrent worker — is
    skipped: rows are inserted with ON CONFLICT DO NOTHING on the unique constraint, and only
    the rows carrying this run get a notification (and, later, an e-mail).
    """
    if run is None:  # a claim alone (no e-mail): its run ends with it
        run = ReminderRun.start_new(as_of=as_of, trigger="claim")
        summary = reminders_claim(as_of=as_of, run=run)
        run.finish(units_late=summary.units_late, claimed=summary.claimed)
        return summary
    summary = ReminderSummary()
    statuses = selectors.all_statuses(as_of=as_of, states=rules.NOT_REPORTED)
    summary.units_late = len({s.unit.id for s in statuses if s.state == rules.OVERDUE})
    holders = {
        rules.OFFICIALS: selectors.role_holders(RoleAssignment.OFFICIAL),
        rules.REVIEWERS: selectors.role_holders(RoleAssignment.REVIEWER),
    }
    wanted: dict[tuple, Reminder] = {}
    for status in statuses:
        steps = rules.reminder_steps(
            rule=status.schedule.rule,
            period=Period.parse(status.period),
            as_of=as_of,
            state=status.state,
        )
        for step in steps:
            for user_id in rules.nearest_holders(status.chain, holders[step.audience]):
                key = (status.schedule.id, status.unit.id, status.period, step.kind, user_id)
                wanted[key] = Reminder(
                    schedule_id=status.schedule.id,
                    org_unit_id=status.unit.id,
                    period=status.period,
                    kind=step.kind,
                    recipient_id=user_id,
                    audience=step.audience,
                    deadline=status.deadline,
                    missing=status.missing,
                    run=run,
                )
    if not wanted:
        return summary
    # Most steps were claimed on an earlier day: one query leaves them out before inserting.
    known = set(
        Reminder.objects.filter(
            schedule_id__in={k[0] for k in wanted},
            period__in={k[2] for k in wanted},
            kind__in={k[3] for k in wanted},
        ).values_list("schedule_id", "org_unit_id", "period", "kind", "recipient_id")
    )
    fresh = [r for key, r in wanted.items() if key not in known]
    for start in range(0, len(fresh), CLAIM_CHUNK):
        summary.claimed += _claim(fresh[start : start + CLAIM_CHUNK], run=run, as_of=as_of)
    return summary


@transaction.atomic
def _claim(rows: list[Reminder], *, run: ReminderRun, as_of: date) -> int:
    """Insert the rows, skipping any step already claimed (the unique constraint decides under
    concurrency: a second inserter waits for the first to commit, then skips its rows); then a
    notification for each row this run inserted. Returns how many were claimed."""
    Reminder.objects.bulk_create(rows, ignore_conflicts=True)
    mine = list(
        Reminder.objects.filter(run=run, notification__isnull=True).only(
            "id", "schedule_id", "org_unit_id", "period", "kind", "recipient_id", "deadline",
            "missing",
        )
    )  # fmt: skip
    Notification.objects.bulk_create(
        Notification(
            recipient_id=r.recipient_id,
            kind=_notification_kind(r.kind),
            reminder_id=r.id,
            org_unit_id=r.org_unit_id,
            period=r.period,
            schedule_id=r.schedule_id,
            deadline=r.deadline,
            days_late=(as_of - r.deadline).days,
            count=r.missing,
        )
        for r in mine
    )
    return len(mine)


def reminder_emails_send() -> tuple[int, int]:
    """E-mail every claimed, not yet e-mailed reminder: one message per recipient listing all
    of theirs. Returns (reminders e-mailed, reminders whose e-mail failed).

    Each recipient's rows are taken by a conditional update (pending → sending, tagged with
    this batch), so two runners never mail the same row; a row left ``sending`` by a crash is
    not retried (at most once). Rows older than two days are not mailed late.
    """
    now = timezone.now()
    pending = Reminder.objects.filter(email_state=Reminder.EMAIL_PENDING)
    if not getattr(settings, "REMINDER_EMAIL_ENABLED", True):
        pending.update(email_state=Reminder.EMAIL_SKIPPED, email_error="e-mail disabled")
        return 0, 0
    pending.filter(created_at__lt=now - timedelta(days=2)).update(
        email_state=Reminder.EMAIL_SKIPPED, email_error="stale: not mailed late"
    )
    emailed = failed = 0
    recipients = sorted(set(pending.values_list("recipient_id", flat=True)))
    for recipient_id in recipients:
        batch = uuid.uuid4()
        ids = list(pending.filter(recipient_id=recipient_id).values_list("id", flat=True))
        taken = Reminder.objects.filter(id__in=ids, email_state=Reminder.EMAIL_PENDING).update(
            email_state=Reminder.EMAIL_SENDING, email_batch=batch
        )
        if not taken:
            continue  # another runner took them
        batch_rows = Reminder.objects.filter(id__in=ids, email_batch=batch)
        rows = list(
            batch_rows.select_related("recipient", "org_unit", "schedule").order_by(
                "deadline", "org_unit__path", "period"
            )
        )
        user = rows[0].recipient
        if not user.email:
            batch_rows.update(email_state=Reminder.EMAIL_SKIPPED, email_error="no e-mail address")
            continue
        try:
            subject, body = _digest(user, rows)
            send_mail(subject, body, None, [user.email], fail_silently=False)
        except Exception as exc:  # any backend error: record it on the rows, go on with others
            log.exception("reminder e-mail to %s failed", user.pk)
            batch_rows.update(email_state=Reminder.EMAIL_FAILED, email_error=str(exc)[:2000])
            failed += len(rows)
            continue
        batch_rows.update(email_state=Reminder.EMAIL_SENT, emailed_at=timezone.now())
        emailed += len(rows)
    return emailed, failed


def _digest(user, rows: list[Reminder]) -> tuple[str, str]:
    base = getattr(settings, "REMINDER_PORTAL_URL", "").rstrip("/")
    with translation.override(settings.LANGUAGE_CODE):
        items = [
            {
                "reminder": r,
                "unit_name": r.org_unit.name_zh,
                "late": r.kind.startswith(rules.LATE) or r.kind == rules.ESCALATION,
                "escalation": r.kind == rules.ESCALATION,
                "url": f"{base}{reverse('supervision:unit_status', args=[r.org_unit.code])}",
            }
            for r in rows
        ]
        context = {
            "user": user,
            "items": items,
            "overdue_url": f"{base}{reverse('supervision:overdue')}",
            "notifications_url": f"{base}{reverse('supervision:notifications')}",
        }
        subject = render_to_string("supervision/email/reminders_subject.txt", context)
        body = render_to_string("supervision/email/reminders.txt", context)
    prefix = getattr(settings, "REMINDER_EMAIL_SUBJECT_PREFIX", "")
    return f"{prefix}{' '.join(subject.split())}", body


def reminders_send(*, as_of: date, trigger: str = "beat") -> ReminderRun:
    """The reminder job for ``as_of``: claim the due steps, then e-mail them. Idempotent:
    running it again on the same day (or after a crash) sends nothing twice."""
    return _reminders_run(ReminderRun.start_new(as_of=as_of, trigger=trigger))


def reminders_run(*, run_id: int) -> ReminderRun | None:
    """Run a queued reminder run again (one the reaper took back from a dead worker); None
    when it is not this caller's to run."""
    run = ReminderRun.claim(run_id)
    return _reminders_run(run) if run else None


def _reminders_run(run: ReminderRun) -> ReminderRun:
    try:
        with jobs.heartbeat(run):
            summary = reminders_claim(as_of=run.as_of, run=run)
            emailed, failed = reminder_emails_send()
    except Exception as exc:
        run.fail(repr(exc))
        raise
    run.finish(
        units_late=summary.units_late,
        claimed=summary.claimed,
        emailed=emailed,
        email_failed=failed,
    )
    return run


def reminder_run_salvage(run_id: int, still, now) -> int | None:
    """The reaper's word on a reminder run whose worker died: one of an earlier day is not run
    again (its reminders would arrive late and out of date; the run of the day covers every step
    still due), it is failed; one of today is left to be run again (None)."""
    if still.filter(as_of__lt=timezone.localdate(now)).exists():
        return still.update(
            state=ReminderRun.FAILED,
            finished_at=now,
            error=bilingual(
                "处理中断；之后的提醒任务会补上仍需发送的提醒",
                "the worker stopped; later runs send the reminders still due",
            ),
        )
    return None


def on_values_rejected(sender, *, actor, values, comment, **kwargs) -> None:
    """The values layer's announcement of a rejection, connected in SupervisionConfig.ready."""
    rejection_notify(actor=actor, values=values, comment=comment)

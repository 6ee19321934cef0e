"""Writes for 督办: assign a task, move it through its states, progress reports with evidence,
the milestone value a closed task writes, instructions and replies, and the lamp alerts.

Every service is keyword-only, takes the acting user, checks the one permission rule
(:mod:`districts.scopes`) through :func:`parties_of`, and records what it did.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core.periods import period_for_date
from core.text import bilingual
from districts import scopes
from districts.models import DataValue, OrgUnit, RoleAssignment
from districts.services import value_record_approved
from targets.models import Goal, Indicator, Plan

from . import evidence as ev
from . import rules
from .models import (
    Evidence,
    Instruction,
    InstructionReply,
    Task,
    TaskAlert,
    TaskProgressReport,
    TaskStep,
    TaskTransition,
)
from .selectors import lamp_of

log = logging.getLogger(__name__)


class TransitionRefused(ValidationError):
    """A refused move: ``code`` is rules.ILLEGAL (409), FORBIDDEN (403) or INCOMPLETE (400)."""

    def __init__(self, error: rules.TransitionError):
        super().__init__({error.field: [error.message]})
        self.code = error.code
        self.message_text = error.message


# --- who is who on a task ----------------------------------------------------------------------


def task_units(task: Task) -> list[OrgUnit]:
    units = list(task.assignees.all())
    if task.lead_unit_id and all(u.pk != task.lead_unit_id for u in units):
        units.append(task.lead_unit)
    return units


def parties_of(user, task: Task) -> set[str]:
    """The parties ``user`` acts for on ``task`` (see rules.PARTIES), by the scope rule:
    officials over an assignee or the lead unit are assignees, reviewers over the lead unit
    (the assignees when there is no lead unit) review, and leaders or reviewers over every
    unit of the task may assign. Administrators act for all."""
    if scopes.is_admin(user):
        return set(rules.PARTIES)
    if not (user and user.is_authenticated):
        return set()
    units = task_units(task)
    parties: set[str] = set()
    if scopes.can_any(user, scopes.WRITE, units):
        parties.add(rules.ASSIGNEE)
    review_units = [task.lead_unit] if task.lead_unit_id else units
    if review_units and scopes.can_any(user, scopes.REVIEW, review_units):
        parties.add(rules.REVIEWER)
    if units and all(scopes.can(user, scopes.ASSIGN, u) for u in units):
        parties.add(rules.ASSIGNER)
    return parties


def can_read_task(user, task: Task) -> bool:
    return scopes.is_admin(user) or scopes.can_any(user, scopes.READ, task_units(task))


def _refuse(error: rules.TransitionError):
    if error.code == rules.FORBIDDEN:
        raise PermissionDenied(error.message)
    raise TransitionRefused(error)


# --- assign ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepIn:
    title_zh: str
    due: date
    title_en: str = ""


@transaction.atomic
def task_assign(
    *,
    actor,
    plan: Plan,
    title_zh: str,
    deadline: date,
    assignees: Sequence[OrgUnit],
    lead_unit: OrgUnit | None = None,
    title_en: str = "",
    indicator: Indicator | None = None,
    goal: Goal | None = None,
    clause: str = "",
    quote: str = "",
    steps: Iterable[StepIn] = (),
    note: str = "",
) -> Task:
    """A leader or reviewer assigns (交办) a task to ``assignees``, led by ``lead_unit``.

    From a milestone indicator the clause, quote and deadline default to the indicator's."""
    if indicator is not None:
        if indicator.kind != "milestone":
            raise ValidationError(
                {
                    "indicator": bilingual(
                        "只能从里程碑指标生成督办事项", "milestone indicators only"
                    )
                }
            )
        if indicator.plan_id != plan.pk:
            raise ValidationError({"indicator": bilingual("指标不属于该规划", "not in this plan")})
        goal = goal or indicator.goal
        quote = quote or indicator.quote
    if goal is not None:
        if goal.plan_id != plan.pk:
            raise ValidationError({"goal": bilingual("条款不属于该规划", "not in this plan")})
        clause = clause or goal.code
    title_zh = (title_zh or "").strip()
    if not title_zh:
        raise ValidationError({"title_zh": bilingual("请填写事项名称", "a task needs a title")})
    if not assignees:
        raise ValidationError(
            {"assignees": bilingual("请至少选择一个承办单位", "choose at least one assignee")}
        )
    units = [*assignees, *([lead_unit] if lead_unit else [])]
    if not scopes.is_admin(actor) and not all(scopes.can(actor, scopes.ASSIGN, u) for u in units):
        raise PermissionDenied(
            bilingual(
                "只有范围覆盖全部承办单位的领导或审核员可以交办",
                "only a leader or reviewer whose scope covers every unit may assign",
            )
        )
    task = Task.objects.create(
        plan=plan,
        goal=goal,
        indicator=indicator,
        clause=clause,
        quote=quote,
        title_zh=title_zh,
        title_en=(title_en or "").strip(),
        lead_unit=lead_unit,
        deadline=deadline,
        state=rules.ASSIGNED,
        created_by=actor,
    )
    task.assignees.set(assignees)
    TaskStep.objects.bulk_create(
        TaskStep(task=task, position=i, title_zh=s.title_zh, title_en=s.title_en, due=s.due)
        for i, s in enumerate(steps)
    )
    TaskTransition.objects.create(
        task=task, actor=actor, source="", target=rules.ASSIGNED, note=note
    )
    return task


# --- transitions -------------------------------------------------------------------------------


@transaction.atomic
def task_transition(
    *,
    actor,
    task: Task,
    to: str,
    note: str = "",
    files: Sequence = (),
    today: date | None = None,
    source: str = "form",
) -> Task:
    """Move ``task`` to state ``to`` as ``actor``. Reporting done (反馈) writes a feedback
    report carrying ``files`` as its evidence (at least one is required); closing writes the
    milestone value. Refused moves raise PermissionDenied (who) or TransitionRefused."""
    task = Task.objects.select_for_update().get(pk=task.pk)
    if not can_read_task(actor, task):
        raise PermissionDenied(bilingual("该事项不在您的范围内", "outside your scope"))
    today = today or timezone.localdate()
    checked = [_check_upload(f) for f in files]
    try:
        move = rules.check_move(
            source=task.state,
            target=to,
            parties=parties_of(actor, task),
            note=note,
            evidence_count=len(checked),
        )
    except rules.TransitionError as error:
        _refuse(error)
    if move.target == rules.REPORTED:
        report = TaskProgressReport.objects.create(
            task=task,
            author=actor,
            reported_on=today,
            text=(note or "").strip() or "反馈办结",
            percent=100,
            is_feedback=True,
        )
        _store(checked, actor=actor, progress_report=report)
    TaskTransition.objects.create(
        task=task, actor=actor, source=task.state, target=move.target, note=(note or "").strip()
    )
    task.state = move.target
    task.closed_on = today if move.target == rules.CLOSED else None
    task.save(update_fields=["state", "closed_on", "updated_at"])
    if move.target == rules.CLOSED:
        milestone_value_write(actor=actor, task=task, source=source)
    return task


@transaction.atomic
def progress_report_add(
    *,
    actor,
    task: Task,
    text: str,
    reported_on: date | None = None,
    percent: int | None = None,
    files: Sequence = (),
) -> TaskProgressReport:
    """An assignee's dated progress report (办理进展), with optional evidence. A report on an
    acknowledged task starts the work (签收 → 办理中, recorded like any move)."""
    task = Task.objects.select_for_update().get(pk=task.pk)
    if not can_read_task(actor, task):
        raise PermissionDenied(bilingual("该事项不在您的范围内", "outside your scope"))
    parties = parties_of(actor, task)
    if rules.ASSIGNEE not in parties:
        raise PermissionDenied(
            bilingual("只有承办单位的填报员可以报送进展", "only an assignee official may report")
        )
    if not rules.may_report_progress(task.state, parties):
        raise TransitionRefused(
            rules.TransitionError(
                rules.ILLEGAL,
                bilingual(
                    f"事项为“{rules.STATE_LABELS[task.state][0]}”，不能报送进展（签收后方可报送）",
                    f"no progress reports on a task that is {rules.STATE_LABELS[task.state][1]}",
                ),
            )
        )
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": bilingual("请填写进展情况", "the report needs text")})
    if percent is not None and not 0 <= int(percent) <= 100:
        raise ValidationError({"percent": bilingual("百分比须在 0–100 之间", "0 to 100")})
    checked = [_check_upload(f) for f in files]
    if task.state == rules.ACKNOWLEDGED:
        TaskTransition.objects.create(
            task=task, actor=actor, source=task.state, target=rules.IN_PROGRESS, note=text[:200]
        )
        task.state = rules.IN_PROGRESS
        task.save(update_fields=["state", "updated_at"])
    report = TaskProgressReport.objects.create(
        task=task,
        author=actor,
        reported_on=reported_on or timezone.localdate(),
        text=text,
        percent=percent,
    )
    _store(checked, actor=actor, progress_report=report)
    return report


@transaction.atomic
def step_mark_done(*, actor, step: TaskStep, done_on: date | None) -> TaskStep:
    """An assignee marks a dated step done on ``done_on`` (or not done with ``None``)."""
    if rules.ASSIGNEE not in parties_of(actor, step.task):
        raise PermissionDenied(
            bilingual("只有承办单位的填报员可以更新步骤", "only an assignee official may")
        )
    if step.task.state == rules.CLOSED:
        raise TransitionRefused(
            rules.TransitionError(rules.ILLEGAL, bilingual("事项已办结", "the task is closed"))
        )
    step.done_on = done_on
    step.save(update_fields=["done_on"])
    return step


# --- evidence ------------------------------------------------------------------------------------


def evidence_max_bytes() -> int:
    return int(getattr(settings, "EVIDENCE_MAX_BYTES", 20 * 1024 * 1024))


@dataclass(frozen=True)
class _Upload:
    checked: ev.Checked
    data: bytes


def _check_upload(uploaded) -> _Upload:
    """Check one uploaded file (a Django UploadedFile, or ``(name, bytes)``) before anything is
    written; a file over the limit is refused without being read."""
    limit = evidence_max_bytes()
    if isinstance(uploaded, tuple):
        name, data = uploaded
    else:
        name = uploaded.name
        if uploaded.size is not None and uploaded.size > limit:
            ev.check_name(name)
            raise ValidationError(
                {
                    "evidence": bilingual(
                        f"“{name}”超过大小上限 {ev.human_size(limit)}",
                        f"{name} is larger than the limit of {ev.human_size(limit)}",
                    )
                }
            )
        uploaded.seek(0)
        data = uploaded.read(limit + 1)
    try:
        return _Upload(ev.check_file(name=name, data=data, max_bytes=limit), data)
    except ev.EvidenceError as exc:
        raise ValidationError({"evidence": [str(exc)]}) from None


def _store(uploads: Sequence[_Upload], *, actor, progress_report=None, reply=None) -> list:
    """Write the checked files and their rows. Every file was checked before this point, so a
    refused file means nothing at all is stored."""
    rows = []
    for upload in uploads:
        row = Evidence(
            progress_report=progress_report,
            reply=reply,
            original_name=upload.checked.name,
            kind=upload.checked.kind,
            content_type=upload.checked.content_type,
            size=upload.checked.size,
            sha256=hashlib.sha256(upload.data).hexdigest(),
            uploaded_by=actor,
        )
        row.file.save("evidence", ContentFile(upload.data), save=False)
        rows.append(row)
    Evidence.objects.bulk_create(rows)
    return rows


def evidence_preview(*, evidence: Evidence) -> bytes | None:
    """The cached preview PNG of ``evidence``, drawn and stored on first use."""
    if not evidence.previewable:
        return None
    if evidence.preview:
        try:
            with evidence.preview.open("rb") as fh:
                return fh.read()
        except FileNotFoundError:
            pass
    with evidence.file.open("rb") as fh:
        data = fh.read()
    png = ev.preview_png(evidence.kind, data)
    if png is None:
        return None
    evidence.preview.save("preview.png", ContentFile(png), save=False)
    Evidence.objects.filter(pk=evidence.pk).update(preview=evidence.preview.name)
    return png


# --- the milestone value of a closed task --------------------------------------------------------


def milestone_value_write(*, actor, task: Task, source: str = "form") -> DataValue | None:
    """A closed task is its milestone indicator's value: 1 (done) for the lead unit (else the
    first assignee) in the period of the close date, written as an approved value with its
    history, and the progress it feeds recomputed, as an approval does.

    The closing reviewer's acceptance is the review, so the value is approved at once; the
    write goes past ``value_save``'s official-only check for that reason, and is recorded in
    the value's history with the task named in the comment."""
    indicator = task.indicator
    if indicator is None or indicator.kind != "milestone" or indicator.element_id is None:
        return None
    unit = task.lead_unit or task.assignees.order_by("path").first()
    if unit is None:
        return None
    element = indicator.element
    period = period_for_date(task.closed_on, element.period_type)
    comment = f"督办事项 #{task.pk} 办结（task #{task.pk} closed）"
    return value_record_approved(
        actor=actor,
        element=element,
        org_unit=unit,
        period=period,
        value=Decimal(1),
        comment=comment,
        source=source,
    )


# --- instructions (批示) ----------------------------------------------------------------------------


@transaction.atomic
def instruction_create(
    *,
    actor,
    text: str,
    addressee: OrgUnit,
    task: Task | None = None,
    indicator: Indicator | None = None,
    unit: OrgUnit | None = None,
) -> Instruction:
    """A leader writes an instruction on a task, on an indicator at a unit, or on a unit,
    addressed to a unit in their scope."""
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": bilingual("请填写批示内容", "the instruction needs text")})
    if task is not None and (indicator is not None or unit is not None):
        raise ValidationError(
            {
                "task": bilingual(
                    "批示对象只能是事项，或指标与单位", "a task, or an indicator at a unit"
                )
            }
        )
    if task is None and unit is None:
        raise ValidationError(
            {"unit": bilingual("请选择批示针对的单位或事项", "choose a unit or a task")}
        )
    subject_units = task_units(task) if task is not None else [unit]
    if not scopes.is_admin(actor) and not (
        scopes.can(actor, scopes.INSTRUCT, addressee)
        and scopes.can_any(actor, scopes.INSTRUCT, subject_units)
    ):
        raise PermissionDenied(
            bilingual("只有范围内的领导可以批示", "only a leader in scope may write instructions")
        )
    return Instruction.objects.create(
        author=actor, text=text, addressee=addressee, task=task, indicator=indicator, unit=unit
    )


def can_reply(user, instruction: Instruction) -> bool:
    """The addressee answers: its officials and reviewers (and administrators)."""
    return scopes.can(user, scopes.WRITE, instruction.addressee) or scopes.can(
        user, scopes.REVIEW, instruction.addressee
    )


def can_read_instruction(user, instruction: Instruction) -> bool:
    units = [instruction.addressee]
    if instruction.unit_id:
        units.append(instruction.unit)
    if instruction.task_id:
        units.extend(task_units(instruction.task))
    return scopes.can_any(user, scopes.READ, units) or instruction.author_id == getattr(
        user, "pk", None
    )


@transaction.atomic
def instruction_reply(
    *, actor, instruction: Instruction, text: str, files: Sequence = (), mark_done: bool = False
) -> InstructionReply:
    """The addressee's reply (落实情况), with optional evidence; it may mark the instruction done."""
    instruction = Instruction.objects.select_for_update().get(pk=instruction.pk)
    if not can_reply(actor, instruction):
        raise PermissionDenied(
            bilingual("只有承办单位可以回复该批示", "only the addressed unit may reply")
        )
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": bilingual("请填写落实情况", "the reply needs text")})
    checked = [_check_upload(f) for f in files]
    reply = InstructionReply.objects.create(instruction=instruction, author=actor, text=text)
    _store(checked, actor=actor, reply=reply)
    if mark_done and not instruction.done:
        instruction.done, instruction.done_at, instruction.done_by = True, timezone.now(), actor
        instruction.save(update_fields=["done", "done_at", "done_by"])
    return reply


# --- lamp alerts ------------------------------------------------------------------------------------


@dataclass
class AlertSummary:
    tasks: int = 0
    claimed: int = 0
    emailed: int = 0
    email_failed: int = 0


def _recipients(task: Task) -> set[int]:
    """The lead unit's officials (the nearest level that has any, as the reminders do) and the
    leaders whose scope covers the lead unit."""
    lead = task.lead_unit or task.assignees.order_by("path").first()
    if lead is None:
        return set()
    chain = [code for code in lead.path.split("/") if code]
    officials: dict[str, list[int]] = {}
    leaders: set[int] = set()
    for user_id, code, role in RoleAssignment.objects.filter(
        org_unit__code__in=chain, role__in=[RoleAssignment.OFFICIAL, RoleAssignment.LEADER]
    ).values_list("user_id", "org_unit__code", "role"):
        if role == RoleAssignment.LEADER:
            leaders.add(user_id)
        else:
            officials.setdefault(code, []).append(user_id)
    nearest: list[int] = []
    for code in reversed(chain):
        if officials.get(code):
            nearest = officials[code]
            break
    return set(nearest) | leaders


def task_alerts_claim(*, as_of: date) -> AlertSummary:
    """Alert the lead unit's officials and the leaders in scope of every open task that is
    yellow or red on ``as_of``: one TaskAlert row per task, lamp, deadline and recipient (the
    unique constraint makes a second run alert no one twice). The row is the in-portal message
    (listed on the user's 督办 page); the e-mail goes after the commit.

    supervision.Notification is not used: its kinds and its text are about a unit's reporting
    period, and a task alert shown there would read as "N figures missing"."""

    summary = AlertSummary()
    tasks = (
        Task.objects.exclude(state=rules.CLOSED)
        .select_related("lead_unit")
        .prefetch_related("steps", "assignees")
    )
    for task in tasks:
        lamp = lamp_of(task, as_of)
        if lamp == rules.GREEN:
            continue
        summary.tasks += 1
        for user_id in sorted(_recipients(task)):
            with transaction.atomic():
                alert, created = TaskAlert.objects.get_or_create(
                    task=task, lamp=lamp, deadline=task.deadline, recipient_id=user_id
                )
                if not created:
                    continue
                summary.claimed += 1
                transaction.on_commit(lambda a=alert.pk: _alert_email(a, summary))
    return summary


def _alert_email(alert_id: int, summary: AlertSummary) -> None:
    alert = TaskAlert.objects.select_related("task", "recipient").get(pk=alert_id)
    user = alert.recipient
    if not user.email or not getattr(settings, "REMINDER_EMAIL_ENABLED", True):
        return
    base = getattr(settings, "REMINDER_PORTAL_URL", "").rstrip("/")
    task = alert.task
    zh, en = rules.LAMP_LABELS[alert.lamp]
    subject = (
        f"{getattr(settings, 'REMINDER_EMAIL_SUBJECT_PREFIX', '')}督办预警：{task.title_zh}（{zh}）"
    )
    body = (
        f"督办事项“{task.title_zh}”当前为{zh}（{en}），完成期限 {task.deadline}。\n"
        f"Task “{task.title_en or task.title_zh}” is {en}; deadline {task.deadline}.\n\n"
        f"{base}{reverse('duban:task_detail', args=[task.pk])}\n"
    )
    try:
        send_mail(subject, body, None, [user.email], fail_silently=False)
    except Exception as exc:  # a mail backend error is recorded on the row, not raised
        log.exception("task alert e-mail %s failed", alert_id)
        TaskAlert.objects.filter(pk=alert_id).update(email_error=str(exc)[:2000])
        summary.email_failed += 1
        return
    TaskAlert.objects.filter(pk=alert_id).update(emailed_at=timezone.now())
    summary.emailed += 1

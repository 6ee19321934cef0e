"""Reads for 督办: the tasks and instructions a user may see, with their lamps."""

from __future__ import annotations

from datetime import date

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from districts import scopes
from districts.models import OrgUnit

from . import rules
from .models import Evidence, Instruction, InstructionReply, Task, TaskAlert, TaskProgressReport


def today() -> date:
    return timezone.localdate()


def tasks_visible(user) -> QuerySet[Task]:
    """Tasks whose lead or an assignee unit lies in the user's read scope (SPEC §5)."""
    qs = Task.objects.all()
    if scopes.is_admin(user):
        return qs
    q = scopes.scope_q(user, scopes.READ, field="lead_unit") | scopes.scope_q(
        user, scopes.READ, field="assignees"
    )
    ids = Task.objects.filter(q).values("pk")
    return qs.filter(pk__in=ids)


def tasks_listed(user, *, state: str = "", unit: OrgUnit | None = None) -> QuerySet[Task]:
    qs = tasks_visible(user).select_related("plan", "lead_unit", "indicator")
    qs = qs.prefetch_related("steps", "assignees")
    if state in rules.STATES:
        qs = qs.filter(state=state)
    if unit is not None:
        qs = qs.filter(
            Q(lead_unit__path__startswith=unit.path)
            | Q(pk__in=Task.objects.filter(assignees__path__startswith=unit.path).values("pk"))
        )
    return qs.order_by("deadline", "id")


def lamp_of(task: Task, as_of: date) -> str:
    """The task's lamp; uses prefetched steps when present."""
    return rules.task_lamp(
        state=task.state,
        deadline=task.deadline,
        as_of=as_of,
        steps=[rules.StepDue(due=s.due, done_on=s.done_on) for s in task.steps.all()],
    )


def task_detail(user, pk: int) -> Task | None:
    task = (
        tasks_visible(user)
        .select_related("plan", "goal", "indicator", "lead_unit", "created_by")
        .prefetch_related(
            "steps",
            "assignees",
            "transitions__actor",
            Prefetch(
                "progress_reports",
                queryset=TaskProgressReport.objects.select_related("author").prefetch_related(
                    "evidence"
                ),
            ),
        )
        .filter(pk=pk)
        .first()
    )
    return task


def instructions_visible(user) -> QuerySet[Instruction]:
    qs = Instruction.objects.select_related(
        "author", "addressee", "unit", "indicator", "task", "done_by"
    ).prefetch_related(
        Prefetch(
            "replies",
            queryset=InstructionReply.objects.select_related("author").prefetch_related("evidence"),
        )
    )
    if scopes.is_admin(user):
        return qs
    task_ids = tasks_visible(user).values("pk")
    q = (
        scopes.scope_q(user, scopes.READ, field="addressee")
        | scopes.scope_q(user, scopes.READ, field="unit")
        | Q(task__in=task_ids)
    )
    if user and user.is_authenticated:
        q |= Q(author=user)
    return qs.filter(q).distinct()


def evidence_visible(user, pk: int) -> Evidence | None:
    """An evidence file the user may open: one of a task they can see, or of an instruction's
    reply they can see."""
    row = Evidence.objects.select_related("progress_report", "reply").filter(pk=pk).first()
    if row is None:
        return None
    if row.progress_report_id:
        if tasks_visible(user).filter(pk=row.progress_report.task_id).exists():
            return row
        return None
    if instructions_visible(user).filter(pk=row.reply.instruction_id).exists():
        return row
    return None


def alerts_for(user, limit: int = 10):
    """The user's latest lamp alerts on tasks still open (their in-portal messages)."""

    if not (user and user.is_authenticated):
        return []
    return list(
        TaskAlert.objects.filter(recipient=user)
        .exclude(task__state=rules.CLOSED)
        .select_related("task")
        .order_by("-created_at", "-id")[:limit]
    )

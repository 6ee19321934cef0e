"""督办 (supervised tasks): tasks with dated steps, their transitions, progress reports with
evidence, and leaders' instructions (批示) with replies."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.text import is_english

from . import rules

STATE_CHOICES = [
    (rules.ASSIGNED, _("交办")),
    (rules.ACKNOWLEDGED, _("签收")),
    (rules.IN_PROGRESS, _("办理中")),
    (rules.REPORTED, _("反馈")),
    (rules.CLOSED, _("办结")),
]
LAMP_CHOICES = [(rules.GREEN, _("正常")), (rules.YELLOW, _("预警")), (rules.RED, _("逾期"))]


class Task(models.Model):
    """A supervised task (督办事项): an action a plan asks for, owned by a lead unit, carried out
    by assignee units by a deadline, optionally the source of a milestone indicator's value."""

    plan = models.ForeignKey(
        "targets.Plan", on_delete=models.PROTECT, related_name="tasks", verbose_name=_("规划")
    )
    goal = models.ForeignKey(
        "targets.Goal",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tasks",
        verbose_name=_("条款"),
    )
    indicator = models.ForeignKey(
        "targets.Indicator",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tasks",
        verbose_name=_("里程碑指标"),
        limit_choices_to={"kind": "milestone"},
    )
    clause = models.CharField(_("条款号"), max_length=60, blank=True)
    quote = models.TextField(_("原文"), blank=True)
    title_zh = models.CharField(_("事项"), max_length=300)
    title_en = models.CharField(_("英文名称"), max_length=300, blank=True)
    lead_unit = models.ForeignKey(
        "districts.OrgUnit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="led_tasks",
        verbose_name=_("牵头单位"),
    )
    # Departments (责任单位) are another issue's model: until it lands, the lead department is
    # kept as its code here (empty: none yet), and becomes a nullable foreign key then. Scopes act on ``lead_unit``.
    lead_department_code = models.CharField(_("牵头部门（待接入）"), max_length=64, blank=True)
    assignees = models.ManyToManyField(
        "districts.OrgUnit", related_name="assigned_tasks", verbose_name=_("承办单位")
    )
    deadline = models.DateField(_("完成期限"))
    state = models.CharField(
        _("状态"), max_length=16, choices=STATE_CHOICES, default=rules.ASSIGNED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("交办人"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_on = models.DateField(_("办结日期"), null=True, blank=True)

    class Meta:
        ordering = ["deadline", "id"]
        verbose_name = _("督办事项")
        verbose_name_plural = _("督办事项")
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=list(rules.STATES)), name="task_state_known"
            ),
            models.CheckConstraint(
                condition=Q(state="closed", closed_on__isnull=False)
                | (~Q(state="closed") & Q(closed_on__isnull=True)),
                name="task_closed_has_date",
            ),
        ]
        indexes = [models.Index(fields=["state", "deadline"], name="task_state_deadline")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title_zh}"

    @property
    def state_name(self) -> str:
        return rules.state_name(self.state, is_english())

    def clean(self) -> None:
        if self.indicator_id and self.indicator.kind != "milestone":
            raise ValidationError(
                {"indicator": _("只能关联里程碑指标（milestone indicators only）")}
            )
        if self.indicator_id and self.plan_id and self.indicator.plan_id != self.plan_id:
            raise ValidationError({"indicator": _("指标不属于该规划（not in this plan）")})


class TaskStep(models.Model):
    """A dated interim step of a task (Langxia's 9月30日 … 12月31日 timeline)."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(default=0)
    title_zh = models.CharField(_("步骤"), max_length=300)
    title_en = models.CharField(_("英文名称"), max_length=300, blank=True)
    due = models.DateField(_("时限"))
    done_on = models.DateField(_("完成日期"), null=True, blank=True)

    class Meta:
        ordering = ["task", "due", "position", "id"]
        verbose_name = _("阶段步骤")
        verbose_name_plural = _("阶段步骤")

    def __str__(self) -> str:
        return f"{self.due} {self.title_zh}"

    @property
    def done(self) -> bool:
        return self.done_on is not None


class AppendOnly(models.Model):
    """Rows that are written once and never changed or removed (the audit trail)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValidationError("只能新增，不能修改（append-only）")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("只能新增，不能删除（append-only）")


class TaskTransition(AppendOnly):
    """Every state change of a task: who, when, from, to and the note. ``source`` is empty for
    the assignment that created the task."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="transitions")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=16, blank=True)
    target = models.CharField(max_length=16)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("流转记录")
        verbose_name_plural = _("流转记录")

    def __str__(self) -> str:
        return f"#{self.task_id} {self.source or '∅'} → {self.target}"

    @property
    def source_label(self) -> str:
        return rules.state_name(self.source, is_english()) if self.source else ""

    @property
    def target_label(self) -> str:
        return rules.state_name(self.target, is_english())


class TaskProgressReport(models.Model):
    """A dated progress report (办理进展) or the feedback that reports the task done (反馈)."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="progress_reports")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reported_on = models.DateField(_("日期"))
    text = models.TextField(_("进展情况"))
    percent = models.PositiveSmallIntegerField(_("完成百分比"), null=True, blank=True)
    is_feedback = models.BooleanField(_("办结反馈"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["reported_on", "id"]
        verbose_name = _("办理进展")
        verbose_name_plural = _("办理进展")
        constraints = [
            models.CheckConstraint(
                condition=Q(percent__isnull=True) | Q(percent__lte=100),
                name="progress_percent_0_100",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.task_id} {self.reported_on}"


def evidence_path(instance: Evidence, _filename: str) -> str:
    """Unguessable stored names: the uploaded name is kept only as text, never in the path."""
    return f"evidence/{timezone.now():%Y/%m}/{secrets.token_urlsafe(24)}.{instance.kind}"


class Instruction(models.Model):
    """A leader's instruction (批示) on an indicator at a unit, a task, or a unit, addressed to a
    unit (a department once departments exist)."""

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    text = models.TextField(_("批示内容"))
    indicator = models.ForeignKey(
        "targets.Indicator",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="instructions",
        verbose_name=_("指标"),
    )
    task = models.ForeignKey(
        Task,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="instructions",
        verbose_name=_("督办事项"),
    )
    unit = models.ForeignKey(
        "districts.OrgUnit",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("单位"),
        help_text=_("批示所针对的单位；指标批示时为该指标所在单位"),
    )
    addressee = models.ForeignKey(
        "districts.OrgUnit",
        on_delete=models.PROTECT,
        related_name="instructions_received",
        verbose_name=_("承办单位"),
    )
    # The addressed department, once departments exist (see Task.lead_department_code).
    addressee_department_code = models.CharField(_("承办部门（待接入）"), max_length=64, blank=True)
    done = models.BooleanField(_("已落实"), default=False)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("领导批示")
        verbose_name_plural = _("领导批示")
        constraints = [
            # On a task, or on a unit (with or without an indicator there): never both.
            models.CheckConstraint(
                condition=(Q(task__isnull=False) & Q(indicator__isnull=True) & Q(unit__isnull=True))
                | (Q(task__isnull=True) & Q(unit__isnull=False)),
                name="instruction_one_subject",
            ),
            models.CheckConstraint(
                condition=Q(done=False) | Q(done_at__isnull=False), name="instruction_done_at"
            ),
        ]

    def __str__(self) -> str:
        return f"批示 #{self.pk} → {self.addressee_id}"


class InstructionReply(models.Model):
    instruction = models.ForeignKey(Instruction, on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    text = models.TextField(_("落实情况"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("批示回复")
        verbose_name_plural = _("批示回复")

    def __str__(self) -> str:
        return f"回复 #{self.pk}"


class Evidence(models.Model):
    """A file attached to a progress report or feedback, or to an instruction's reply. Stored
    under MEDIA_ROOT/evidence/ with an unguessable name and served only by the scoped view."""

    KINDS = [("pdf", "PDF"), ("png", "PNG"), ("jpg", "JPEG"), ("docx", "DOCX"), ("xlsx", "XLSX")]

    progress_report = models.ForeignKey(
        TaskProgressReport,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="evidence",
    )
    reply = models.ForeignKey(
        InstructionReply, on_delete=models.CASCADE, null=True, blank=True, related_name="evidence"
    )
    file = models.FileField(upload_to=evidence_path, max_length=200)
    preview = models.FileField(upload_to="evidence/previews/", max_length=200, blank=True)
    original_name = models.CharField(_("文件名"), max_length=200)
    kind = models.CharField(max_length=8, choices=KINDS)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("证明材料")
        verbose_name_plural = _("证明材料")
        constraints = [
            models.CheckConstraint(
                condition=Q(progress_report__isnull=False, reply__isnull=True)
                | Q(progress_report__isnull=True, reply__isnull=False),
                name="evidence_one_owner",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["pdf", "png", "jpg", "docx", "xlsx"]),
                name="evidence_kind_known",
            ),
        ]

    def __str__(self) -> str:
        return self.original_name

    @property
    def previewable(self) -> bool:
        return self.kind in ("pdf", "png", "jpg")


class TaskAlert(models.Model):
    """One alert that a task turned yellow or red, per recipient: the unique constraint is the
    "once per change" rule (a second run of the daily job finds the row and sends nothing). A
    new deadline is a new change."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="alerts")
    lamp = models.CharField(max_length=8, choices=LAMP_CHOICES)
    deadline = models.DateField()
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("督办预警")
        verbose_name_plural = _("督办预警")
        constraints = [
            models.UniqueConstraint(
                fields=["task", "lamp", "deadline", "recipient"], name="task_alert_once"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.task_id} {self.lamp} → {self.recipient_id}"

    @property
    def lamp_name(self) -> str:
        return rules.lamp_name(self.lamp, is_english())

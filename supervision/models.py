"""Reporting schedules, the reminders they send, in-portal notifications and period reopens
(督查督办)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import Job

from . import rules

PERIOD_TYPES = [("year", _("年")), ("quarter", _("季")), ("month", _("月"))]


def _offsets_valid(value) -> None:
    if not isinstance(value, list) or not all(isinstance(v, int) and v >= 0 for v in value):
        raise ValidationError(_("提醒天数须为非负整数列表，如 [7, 3, 1]"))


class ReportingSchedule(models.Model):
    """When the values of one period type are due, and how late reporters are chased.

    A schedule covers one data element, the elements of one plan's indicators, or (neither set)
    every element of its period type; with ``root`` it applies only inside that unit's subtree.
    The most specific schedule governs an element at a unit (element, then plan, then default;
    then the deepest root; then the earliest deadline). Who must report is the data-entry rule:
    the units at the element's reporting level (``DataElement.level``, by tier: towns and
    subdistricts, communities and villages), or the unit standing in for that level on its
    branch (see ``districts.selectors``).
    """

    DEADLINE_RULES = [
        (rules.DAY_OF_MONTH, _("次月（或之后第 N 个月）的某日")),
        (rules.DAYS_AFTER_END, _("期末后 N 天")),
    ]

    code = models.SlugField(_("代码"), max_length=80, unique=True)
    name_zh = models.CharField(_("名称"), max_length=200)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    period_type = models.CharField(_("期间类型"), max_length=8, choices=PERIOD_TYPES)
    element = models.ForeignKey(
        "targets.DataElement",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reporting_schedules",
        verbose_name=_("数据项"),
    )
    plan = models.ForeignKey(
        "targets.Plan",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reporting_schedules",
        verbose_name=_("规划"),
    )
    root = models.ForeignKey(
        "districts.OrgUnit",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("适用单位"),
        help_text=_("只适用于该单位及其下级；空 = 全部（规划的进度表默认适用于规划所在城市）"),
    )
    deadline_rule = models.CharField(
        _("截止规则"), max_length=16, choices=DEADLINE_RULES, default=rules.DAY_OF_MONTH
    )
    due_months_after = models.PositiveSmallIntegerField(
        _("期末后第几个月"),
        default=1,
        validators=[MaxValueValidator(24)],
        help_text=_("月报次月 10 日前：1；年报次年 3 月 31 日前：3"),
    )
    due_day = models.PositiveSmallIntegerField(
        _("截止日"), default=10, validators=[MinValueValidator(1), MaxValueValidator(31)]
    )
    due_days_after_end = models.PositiveSmallIntegerField(
        _("期末后天数"), default=15, validators=[MaxValueValidator(366)]
    )
    opens_days_after_end = models.SmallIntegerField(
        _("开放填报（期末后天数）"),
        default=1,
        validators=[MinValueValidator(-28), MaxValueValidator(366)],
        help_text=_("1 = 期末次日开放；负数 = 期末前开放"),
    )
    due_soon_days = models.PositiveSmallIntegerField(
        _("临期提示天数"), default=3, help_text=_("截止前该天数内显示黄色“即将到期”")
    )
    remind_days_before = models.JSONField(
        _("截止前提醒（天）"), default=list, blank=True, validators=[_offsets_valid]
    )
    overdue_every_days = models.PositiveSmallIntegerField(
        _("逾期提醒间隔（天）"), default=3, help_text=_("0 = 逾期只提醒一次")
    )
    escalate_after_days = models.PositiveSmallIntegerField(
        _("逾期多少天后报审核员"), null=True, blank=True, help_text=_("空 = 不上报")
    )
    active_from = models.DateField(
        _("启用日期"), null=True, blank=True, help_text=_("期末早于该日期的期间不督办")
    )
    is_active = models.BooleanField(_("启用"), default=True)
    note = models.TextField(_("依据"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["period_type", "code"]
        verbose_name = _("填报进度表")
        verbose_name_plural = _("填报进度表")
        constraints = [
            models.CheckConstraint(
                condition=Q(element__isnull=True) | Q(plan__isnull=True),
                name="schedule_element_or_plan_not_both",
            ),
            models.CheckConstraint(
                condition=Q(period_type__in=["year", "quarter", "month"]),
                name="schedule_period_type_known",
            ),
            models.CheckConstraint(
                condition=Q(deadline_rule__in=list(rules.DEADLINE_RULES)),
                name="schedule_deadline_rule_known",
            ),
            models.CheckConstraint(
                condition=Q(due_day__gte=1, due_day__lte=31), name="schedule_due_day_1_31"
            ),
            # One default per period type and root: which one governs must never be a tie.
            models.UniqueConstraint(
                fields=["period_type", "root"],
                condition=Q(element__isnull=True, plan__isnull=True, root__isnull=False),
                name="schedule_one_default_per_type_and_root",
            ),
            models.UniqueConstraint(
                fields=["period_type"],
                condition=Q(element__isnull=True, plan__isnull=True, root__isnull=True),
                name="schedule_one_global_default_per_type",
            ),
            models.UniqueConstraint(
                fields=["plan", "period_type"],
                condition=Q(plan__isnull=False),
                name="schedule_one_per_plan_and_type",
            ),
            models.UniqueConstraint(
                fields=["element"],
                condition=Q(element__isnull=False, root__isnull=True),
                name="schedule_one_global_per_element",
            ),
            models.UniqueConstraint(
                fields=["element", "root"],
                condition=Q(element__isnull=False, root__isnull=False),
                name="schedule_one_per_element_and_root",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name_zh} ({self.code})"

    def clean(self) -> None:
        if self.element_id and self.element.period_type != self.period_type:
            raise ValidationError(
                {"period_type": _("与数据项的期间类型不符（period type must match the element）")}
            )

    @property
    def rule(self) -> rules.ScheduleRule:
        return rules.ScheduleRule(
            period_type=self.period_type,
            deadline_rule=self.deadline_rule,
            due_months_after=self.due_months_after,
            due_day=self.due_day,
            due_days_after_end=self.due_days_after_end,
            opens_days_after_end=self.opens_days_after_end,
            due_soon_days=self.due_soon_days,
            remind_days_before=tuple(sorted({int(d) for d in self.remind_days_before or []})),
            overdue_every_days=self.overdue_every_days,
            escalate_after_days=self.escalate_after_days,
            active_from=self.active_from,
        )

    @property
    def specificity(self) -> int:
        return 2 if self.element_id else 1 if self.plan_id else 0


class ReminderRun(Job):
    """One run of the reminder job (Celery beat, or the command), so a failure never vanishes.
    Born running; a run whose worker died is queued again by the reaper and run by its id."""

    TASK_NAME = "supervision.tasks.run_reminders"
    SALVAGE = "supervision.services.reminder_run_salvage"

    as_of = models.DateField(_("督办日期"))
    trigger = models.CharField(max_length=20, default="beat")
    units_late = models.PositiveIntegerField(default=0)
    claimed = models.PositiveIntegerField(_("新提醒"), default=0)
    emailed = models.PositiveIntegerField(_("已发邮件"), default=0)
    email_failed = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("提醒任务")
        verbose_name_plural = _("提醒任务")

    def __str__(self) -> str:
        return f"#{self.pk} {self.as_of} ({self.state})"


class Reminder(models.Model):
    """One reminder step for one unit, period and recipient. The unique constraint is the
    "never twice" rule: the job claims a step by inserting its row, and a second run (a second
    beat, a worker restarted mid-run) finds the row and sends nothing.

    E-mail is sent after the claim commits, at most once: the row is marked ``sending`` by a
    conditional update before the message leaves, so a crash mid-send loses an e-mail rather
    than repeating it (the in-portal notification is written with the claim, exactly once).
    """

    EMAIL_PENDING = "pending"
    EMAIL_SENDING = "sending"
    EMAIL_SENT = "sent"
    EMAIL_FAILED = "failed"
    EMAIL_SKIPPED = "skipped"
    EMAIL_STATES = [
        (EMAIL_PENDING, _("待发送")),
        (EMAIL_SENDING, _("发送中")),
        (EMAIL_SENT, _("已发送")),
        (EMAIL_FAILED, _("发送失败")),
        (EMAIL_SKIPPED, _("未发送")),
    ]
    AUDIENCES = [(rules.OFFICIALS, _("填报员")), (rules.REVIEWERS, _("审核员"))]

    schedule = models.ForeignKey(
        ReportingSchedule, on_delete=models.CASCADE, related_name="reminders"
    )
    org_unit = models.ForeignKey(
        "districts.OrgUnit", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    period = models.CharField(_("期间"), max_length=10)
    kind = models.CharField(_("提醒类型"), max_length=20)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    audience = models.CharField(max_length=10, choices=AUDIENCES)
    deadline = models.DateField(_("截止日期"))
    missing = models.PositiveIntegerField(_("未报项数"), default=0)
    run = models.ForeignKey(
        ReminderRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="reminders"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    email_state = models.CharField(max_length=10, choices=EMAIL_STATES, default=EMAIL_PENDING)
    email_batch = models.UUIDField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("督办提醒")
        verbose_name_plural = _("督办提醒")
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "org_unit", "period", "kind", "recipient"],
                name="reminder_once_per_step_and_recipient",
            ),
            models.CheckConstraint(
                condition=Q(email_state__in=["pending", "sending", "sent", "failed", "skipped"]),
                name="reminder_email_state_known",
            ),
        ]
        indexes = [
            models.Index(
                fields=["email_state", "created_at"],
                name="reminder_email_pending",
                condition=Q(email_state="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.org_unit_id}/{self.period} → {self.recipient_id}"


class Notification(models.Model):
    """A message in a user's in-portal list (/supervision/notifications/). The text is composed
    when shown, from these fields, so it follows the page's language."""

    REMINDER = "reminder"
    OVERDUE = "overdue"
    ESCALATION = "escalation"
    REOPENED = "reopened"
    REJECTED = "rejected"
    KIND_CHOICES = [
        (REMINDER, _("即将到期")),
        (OVERDUE, _("已逾期")),
        (ESCALATION, _("逾期上报")),
        (REOPENED, _("重新开放")),
        (REJECTED, _("被退回")),
    ]

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("类型"), max_length=12, choices=KIND_CHOICES)
    reminder = models.OneToOneField(
        Reminder,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notification",
    )
    org_unit = models.ForeignKey(
        "districts.OrgUnit", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    period = models.CharField(_("期间"), max_length=10)
    schedule = models.ForeignKey(
        ReportingSchedule, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    deadline = models.DateField(null=True, blank=True)
    days_late = models.IntegerField(default=0)
    count = models.PositiveIntegerField(
        default=0, help_text=_("提醒：未报项数；重新开放：重新开放的数值个数")
    )
    message = models.TextField(blank=True)
    element_code = models.CharField(
        max_length=100,
        blank=True,
        help_text=_("退回：第一个被退回的数据项，链接打开填报表的这一行"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("站内通知")
        verbose_name_plural = _("站内通知")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["reminder", "overdue", "escalation", "reopened", "rejected"]),
                name="notification_kind_known",
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_id}: {self.org_unit_id}/{self.period}"

    @property
    def entry_url(self) -> str:
        """A rejection opens the entry grid at the first rejected row, where the reviewer's
        comment is shown."""
        from urllib.parse import urlencode

        from django.urls import reverse

        query = urlencode({"unit": self.org_unit.code, "period": self.period})
        anchor = f"#row-{self.element_code}" if self.element_code else ""
        return f"{reverse('districts:entry')}?{query}{anchor}"


class PeriodReopen(models.Model):
    """A reviewer reopened a unit's approved period (all its approved values) with a reason.

    Each value's own history also records the reopen with the same reason
    (``DataValueChange.action == "reopen"``); this row is the period-level record.
    """

    org_unit = models.ForeignKey(
        "districts.OrgUnit", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    period = models.CharField(_("期间"), max_length=10)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reason = models.TextField(_("原因"))
    value_count = models.PositiveIntegerField(_("数值个数"))
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("整期重新开放")
        verbose_name_plural = _("整期重新开放")
        indexes = [models.Index(fields=["org_unit", "period"], name="reopen_unit_period")]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="reopen_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.org_unit_id}/{self.period} reopened"

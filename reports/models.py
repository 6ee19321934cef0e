"""Computed progress, and a row for every run of the job that computes it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import Job

STATUS_CHOICES = [
    ("achieved", _("已达成")),
    ("on_track", _("按计划推进")),
    ("at_risk", _("有风险")),
    ("off_track", _("滞后")),
    ("missed", _("未达成")),
    ("not_assessable", _("无法评估")),
    ("no_data", _("无数据")),
    ("no_target", _("不设目标")),
    # the cagr method (Statistics Canada / Open SDG)
    ("substantial_progress", _("显著进展")),
    ("moderate_progress", _("中等进展")),
    ("limited_progress", _("有限进展")),
    ("deterioration", _("倒退")),
    ("not_available", _("不可用")),
]
STATUS_CODES = [code for code, _label in STATUS_CHOICES]


class ProgressRun(Job):
    """One run of the progress job: what it covered, how long it took, what it wrote. A run
    enqueued after an approval is created queued with its scope; the nightly run and the
    command create theirs already running."""

    TASK_NAME = "reports.tasks.run_progress"

    trigger = models.CharField(max_length=20, default="manual")
    plan_code = models.CharField(max_length=80, blank=True)
    indicator_codes = models.JSONField(default=list, blank=True)
    org_unit_codes = models.JSONField(default=list, blank=True)
    as_of = models.DateField()
    indicators_count = models.PositiveIntegerField(default=0)
    rows_written = models.PositiveIntegerField(default=0)
    values_read = models.PositiveIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("进度计算")
        verbose_name_plural = _("进度计算")

    def __str__(self) -> str:
        return f"#{self.pk} {self.trigger} {self.as_of} {self.state}"


class ProgressRow(models.Model):
    """Where one org unit stands on one indicator in one period (computed, never entered)."""

    # Progress rows are derived data, replaced wholesale by the job that also guarantees their
    # references. Without database FK constraints (checked one by one at commit) and without
    # single-column indexes duplicating the composite ones, a full recompute writes its
    # ~900,000 rows several times faster. Deletes still cascade, through Django.
    indicator = models.ForeignKey(
        "targets.Indicator",
        on_delete=models.CASCADE,
        related_name="progress_rows",
        db_constraint=False,
        db_index=False,
    )
    org_unit = models.ForeignKey(
        "districts.OrgUnit",
        on_delete=models.CASCADE,
        related_name="progress_rows",
        db_constraint=False,
        db_index=False,
    )
    period = models.CharField(max_length=10)
    period_end = models.DateField()
    value = models.DecimalField(max_digits=24, decimal_places=6, null=True)
    numerator = models.DecimalField(max_digits=24, decimal_places=6, null=True)
    denominator = models.DecimalField(max_digits=24, decimal_places=6, null=True)
    target = models.DecimalField(max_digits=24, decimal_places=6, null=True)
    comparator = models.CharField(max_length=2)
    deadline = models.DateField()
    percent_of_target = models.DecimalField(max_digits=24, decimal_places=6, null=True)
    expected = models.DecimalField(max_digits=24, decimal_places=6, null=True)
    status = models.CharField(max_length=24, choices=STATUS_CHOICES)
    forecast = models.DecimalField(max_digits=24, decimal_places=6, null=True)
    completeness = models.DecimalField(max_digits=7, decimal_places=4, null=True)
    share_of_total = models.DecimalField(max_digits=10, decimal_places=4, null=True)
    ratio = models.FloatField(null=True)
    score = models.FloatField(null=True)
    # What the figure rests on: the direct children (for a coverage, the units at its level)
    # that reported, of those expected ("28 of 36 towns"); null when the unit reported the
    # figure itself.
    reporting_units = models.PositiveIntegerField(null=True)
    expected_units = models.PositiveIntegerField(null=True)
    run = models.ForeignKey(
        ProgressRun,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["indicator_id", "org_unit_id", "period"]
        verbose_name = _("进度")
        verbose_name_plural = _("进度")
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "org_unit", "period"], name="progress_one_per_key"
            ),
        ]
        indexes = [
            # Dashboards read all indicators of a unit's children for one period: covering the
            # columns they show lets PostgreSQL answer from the index alone.
            models.Index(
                fields=["org_unit", "period"],
                include=["indicator", "status", "percent_of_target"],
                name="progress_unit_period",
            ),
            # The API's keyset pages and updated_since in the order the progress job wrote.
            models.Index(fields=["computed_at", "id"], name="progress_computed_key"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id}@{self.org_unit_id}/{self.period}: {self.status}"


class ReportPack(Job):
    """A leadership report pack for one city and as-of period: a PDF briefing and an XLSX
    workbook, built in the background. The page polls this row for its progress and offers the
    files once it has succeeded; a failure keeps its error here."""

    TASK_NAME = "reports.build_report_pack"
    WAITING = "waiting"
    """The step of a pack whose build could not be queued yet (the broker was unreachable)."""

    STATE_CHOICES = [
        (Job.QUEUED, _("排队中")),
        (Job.RUNNING, _("生成中")),
        (Job.SUCCEEDED, _("已完成")),
        (Job.FAILED, _("失败")),
    ]

    city = models.ForeignKey(
        "districts.OrgUnit", on_delete=models.CASCADE, related_name="report_packs"
    )
    as_of = models.CharField(_("截至期间"), max_length=10, blank=True)
    language = models.CharField(_("语言"), max_length=10, default="zh-hans")
    state = models.CharField(_("状态"), max_length=12, choices=STATE_CHOICES, default=Job.QUEUED)
    percent = models.PositiveSmallIntegerField(default=0)
    step = models.CharField(max_length=100, blank=True)
    pdf = models.FileField(upload_to="packs/%Y/%m/", blank=True)
    xlsx = models.FileField(upload_to="packs/%Y/%m/", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="report_packs",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("报告包")
        verbose_name_plural = _("报告包")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(percent__lte=100), name="reportpack_percent_max_100"
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=["queued", "running", "succeeded", "failed"]),
                name="reportpack_state_known",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.city_id} {self.as_of} {self.language} ({self.state})"

    @classmethod
    def requeued_fields(cls, attempts: int, limit: int) -> dict:
        return {"percent": 0, "step": ""}

    @classmethod
    def waiting_fields(cls) -> dict:
        return {"step": cls.WAITING}

    @classmethod
    def enqueued_fields(cls) -> dict:
        return {"step": ""}

"""Who answers for a target (责任单位), how a city's target is shared out among its units
(目标任务分解), and the yearly assessment that scores and ranks the units on it (考评)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import Job


class Department(models.Model):
    """A responsible department or body of one city (市民政局, 团市委, 各区人民政府 …)."""

    code = models.SlugField(_("代码"), max_length=80, unique=True)
    name_zh = models.CharField(_("名称"), max_length=200)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    city = models.ForeignKey(
        "districts.OrgUnit",
        on_delete=models.PROTECT,
        related_name="departments",
        verbose_name=_("城市"),
    )
    position = models.PositiveIntegerField(default=0)
    source = models.TextField(_("依据"), blank=True, help_text=_("文件中出现该单位的原文"))

    class Meta:
        ordering = ["city__code", "position", "code"]
        verbose_name = _("责任单位")
        verbose_name_plural = _("责任单位")

    def __str__(self) -> str:
        return self.name_zh


class Allocation(models.Model):
    """One unit's own share of an indicator's target (目标任务分解): the unit is judged against it
    by the SPEC §3 rule instead of the city's target."""

    MANUAL = "manual"
    UPLOAD = "upload"
    SAME = "same"
    PRO_RATA = "pro_rata"
    BY_GAP = "by_gap"
    SOURCES = [
        (MANUAL, _("手工录入")),
        (UPLOAD, _("文件导入")),
        (SAME, _("同城市目标")),
        (PRO_RATA, _("按比例分解")),
        (BY_GAP, _("按缺口分解")),
    ]

    indicator = models.ForeignKey(
        "targets.Indicator", on_delete=models.CASCADE, related_name="allocations"
    )
    org_unit = models.ForeignKey(
        "districts.OrgUnit", on_delete=models.CASCADE, related_name="allocations"
    )
    target = models.DecimalField(_("目标值"), max_digits=20, decimal_places=6)
    deadline = models.DateField(_("期限"), null=True, blank=True, help_text=_("空 = 同指标期限"))
    note = models.TextField(_("备注"), blank=True)
    source = models.CharField(_("来源"), max_length=10, choices=SOURCES, default=MANUAL)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["indicator__code", "org_unit__code"]
        verbose_name = _("目标分解")
        verbose_name_plural = _("目标分解")
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "org_unit"], name="allocation_one_per_unit"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id}@{self.org_unit_id}: {self.target}"

    @property
    def effective_deadline(self):
        return self.deadline or self.indicator.deadline


class AllocationChange(models.Model):
    """The history of an allocation: who changed it, when, why, from what to what."""

    indicator = models.ForeignKey("targets.Indicator", on_delete=models.CASCADE, related_name="+")
    org_unit = models.ForeignKey("districts.OrgUnit", on_delete=models.CASCADE, related_name="+")
    old_target = models.DecimalField(max_digits=20, decimal_places=6, null=True)
    new_target = models.DecimalField(max_digits=20, decimal_places=6, null=True)
    old_deadline = models.DateField(null=True)
    new_deadline = models.DateField(null=True)
    source = models.CharField(max_length=10, choices=Allocation.SOURCES)
    reason = models.TextField(_("原因"), blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("目标分解变更")
        verbose_name_plural = _("目标分解变更")

    def __str__(self) -> str:
        return f"{self.indicator_id}@{self.org_unit_id}: {self.old_target} → {self.new_target}"


class AssessmentScheme(models.Model):
    """An assessment scheme (考评方案, SPEC §7): which indicators count, their points, how a status
    scores, which items veto. Loaded from a file (versioned like plans) or edited in the admin."""

    code = models.SlugField(_("代码"), max_length=80, unique=True)
    city = models.ForeignKey(
        "districts.OrgUnit", on_delete=models.PROTECT, related_name="assessment_schemes"
    )
    period = models.CharField(_("考评期间"), max_length=10)
    title_zh = models.CharField(_("标题"), max_length=300)
    title_en = models.CharField(_("英文标题"), max_length=300, blank=True)
    unit_level = models.CharField(_("考评层级"), max_length=16, blank=True)
    unit_group = models.CharField(_("考评分组"), max_length=40, blank=True)
    rank_by_group = models.BooleanField(_("分组排名"), default=False)
    scoring = models.JSONField(_("状态得分系数"), default=dict)
    version = models.PositiveIntegerField(default=1, editable=False)
    file_digest = models.CharField(max_length=64, blank=True, editable=False)
    loaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("考评方案")
        verbose_name_plural = _("考评方案")
        constraints = [
            models.CheckConstraint(
                condition=~Q(unit_level="") | ~Q(unit_group=""), name="scheme_selects_units"
            ),
        ]

    def __str__(self) -> str:
        return self.title_zh


class SchemeItem(models.Model):
    scheme = models.ForeignKey(AssessmentScheme, on_delete=models.CASCADE, related_name="items")
    indicator = models.ForeignKey("targets.Indicator", on_delete=models.PROTECT, related_name="+")
    points = models.DecimalField(_("分值"), max_digits=8, decimal_places=2)
    veto = models.BooleanField(_("一票否决"), default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["scheme", "position"]
        verbose_name = _("考评项目")
        verbose_name_plural = _("考评项目")
        constraints = [
            models.UniqueConstraint(fields=["scheme", "indicator"], name="scheme_item_once"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id}: {self.points}"


class Assessment(models.Model):
    """One publication of a scheme's results, frozen: later data never changes it. A
    republication is a new row with a higher number, who, when, why and what moved."""

    scheme = models.ForeignKey(
        AssessmentScheme, on_delete=models.PROTECT, related_name="assessments"
    )
    number = models.PositiveIntegerField(_("发布次序"))
    period = models.CharField(max_length=10)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField(_("发布原因"), blank=True)
    scheme_version = models.PositiveIntegerField(default=1)
    moves = models.JSONField(_("名次变动"), default=list, blank=True)

    class Meta:
        ordering = ["scheme", "-number"]
        verbose_name = _("考评结果")
        verbose_name_plural = _("考评结果")
        constraints = [
            models.UniqueConstraint(fields=["scheme", "number"], name="assessment_number_once"),
        ]

    def __str__(self) -> str:
        return f"{self.scheme.code} #{self.number}"


class AssessmentUnitScore(models.Model):
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="units")
    org_unit = models.ForeignKey("districts.OrgUnit", on_delete=models.PROTECT, related_name="+")
    group = models.CharField(max_length=40, blank=True)
    score = models.DecimalField(max_digits=10, decimal_places=2)
    max_score = models.DecimalField(max_digits=10, decimal_places=2)
    rank = models.PositiveIntegerField()
    vetoed = models.BooleanField(default=False)

    class Meta:
        ordering = ["assessment", "group", "rank", "org_unit__code"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "org_unit"], name="assessment_unit_once"),
        ]

    def __str__(self) -> str:
        return f"{self.org_unit_id}: {self.score} (#{self.rank})"


class AssessmentItemScore(models.Model):
    unit_score = models.ForeignKey(
        AssessmentUnitScore, on_delete=models.CASCADE, related_name="items"
    )
    indicator = models.ForeignKey("targets.Indicator", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=24)
    points = models.DecimalField(max_digits=8, decimal_places=2)
    earned = models.DecimalField(max_digits=10, decimal_places=2)
    veto = models.BooleanField(default=False)

    class Meta:
        ordering = ["unit_score", "id"]

    def __str__(self) -> str:
        return f"{self.indicator_id}: {self.status} {self.earned}/{self.points}"


class Bulletin(Job):
    """A bulletin (通报) of a published assessment: ranking, commended and criticised units, a
    table per responsible department and the gaps that remain, as PDF and XLSX built in the
    background on the one job base (like report packs)."""

    TASK_NAME = "accountability.build_bulletin"

    STATE_CHOICES = [
        (Job.QUEUED, _("排队中")),
        (Job.RUNNING, _("生成中")),
        (Job.SUCCEEDED, _("已完成")),
        (Job.FAILED, _("失败")),
    ]

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="bulletins")
    state = models.CharField(_("状态"), max_length=12, choices=STATE_CHOICES, default=Job.QUEUED)
    pdf = models.FileField(upload_to="bulletins/%Y/%m/", blank=True)
    xlsx = models.FileField(upload_to="bulletins/%Y/%m/", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("通报")
        verbose_name_plural = _("通报")

    def __str__(self) -> str:
        return f"#{self.pk} {self.assessment} ({self.state})"

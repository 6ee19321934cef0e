"""The org-unit tree, roles on it, reported data values with their history, and uploads."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.utils.translation import gettext_lazy as _

from core.models import Job

from .levels import LEVEL_CHOICES


class OrgUnit(models.Model):
    """A node of the administrative tree: city → district/town → community → grid, any depth.

    ``path`` is the chain of codes from the root (``442000/442000001/``) so that a subtree is one
    indexed prefix query; it is maintained by ``districts.services`` and never edited by hand.
    """

    code = models.CharField(_("代码"), max_length=32, unique=True)
    name_zh = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=150, blank=True)
    level = models.CharField(_("层级"), max_length=16, choices=LEVEL_CHOICES)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    path = models.CharField(max_length=400, db_index=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    population = models.BigIntegerField(_("常住人口"), null=True, blank=True)
    population_year = models.PositiveSmallIntegerField(null=True, blank=True)
    population_source = models.TextField(blank=True)
    is_generated = models.BooleanField(
        _("演示生成"), default=False, help_text=_("由 seed_demo 生成的演示单位，不是真实区划")
    )
    # When the unit existed: it is expected to report, and counts in coverage denominators and
    # completeness, only for periods it existed in (empty = always, as far as the portal knows).
    opened_on = models.DateField(_("设立日期"), null=True, blank=True)
    closed_on = models.DateField(_("撤销日期"), null=True, blank=True)
    dates_source = models.TextField(_("设立/撤销依据"), blank=True)
    predecessors = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="successors",
        verbose_name=_("前身单位"),
        help_text=_("由其拆分或合并而来的单位（the units it was split from or merged from）"),
    )

    class Meta:
        ordering = ["path"]
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=models.F("id")), name="orgunit_not_own_parent"
            ),
            models.CheckConstraint(
                condition=Q(opened_on__isnull=True)
                | Q(closed_on__isnull=True)
                | Q(closed_on__gte=models.F("opened_on")),
                name="orgunit_closed_after_opened",
            ),
        ]
        indexes = [
            models.Index(
                fields=["path"], name="orgunit_path_prefix", opclasses=["varchar_pattern_ops"]
            )
        ]

    def __str__(self) -> str:
        return f"{self.name_zh} ({self.code})"

    def is_within(self, other: OrgUnit) -> bool:
        """Whether this unit is ``other`` or lies in its subtree."""
        return self.path.startswith(other.path)


class OrgUnitGroup(models.Model):
    """A set of org units cutting across the tree, as DHIS2's organisation unit groups: urban
    communities (城市社区) and villages (行政村), towns (镇), subdistricts (街道), zones (园区).
    A coverage or ratio indicator may be restricted to one group. ``group_set`` names the
    exclusive family a group belongs to (``urban_rural``, ``township_kind``)."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name_zh = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=150, blank=True)
    group_set = models.CharField(_("分组集"), max_length=40, blank=True)
    description = models.TextField(_("说明"), blank=True)
    units = models.ManyToManyField(
        OrgUnit, blank=True, related_name="groups", verbose_name=_("单位")
    )

    class Meta:
        ordering = ["group_set", "code"]
        verbose_name = _("单位分组")
        verbose_name_plural = _("单位分组")

    def __str__(self) -> str:
        return f"{self.name_zh} ({self.code})"


class RoleAssignment(models.Model):
    """A user's role on an org unit; it covers the unit's whole subtree and nothing else."""

    OFFICIAL = "official"
    REVIEWER = "reviewer"
    LEADER = "leader"
    ROLE_CHOICES = [(OFFICIAL, _("填报员")), (REVIEWER, _("审核员")), (LEADER, _("领导"))]

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.CharField(_("角色"), max_length=16, choices=ROLE_CHOICES)
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="role_assignments")
    # A role on a department (责任单位) instead of a subtree: it covers that department's
    # indicators (and the data elements they are computed from) in every unit of its city,
    # ``org_unit`` being that city (districts.scopes).
    department = models.ForeignKey(
        "accountability.Department",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="role_assignments",
        verbose_name=_("责任单位"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("角色")
        verbose_name_plural = _("角色")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "org_unit"],
                condition=Q(department__isnull=True),
                name="role_unique_per_user_unit",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "department"],
                condition=Q(department__isnull=False),
                name="role_unique_per_user_department",
            ),
            models.CheckConstraint(
                condition=Q(role__in=["official", "reviewer", "leader"]), name="role_known"
            ),
        ]

    def __str__(self) -> str:
        where = self.department.name_zh if self.department_id else self.org_unit.code
        return f"{self.user} · {self.get_role_display()} · {where}"


class DataValue(models.Model):
    """One reported figure: (element, org unit, period) → value, with its review state."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    STATE_CHOICES = [
        (DRAFT, _("草稿")),
        (SUBMITTED, _("已提交")),
        (APPROVED, _("已审核")),
        (REJECTED, _("已退回")),
    ]
    SOURCE_CHOICES = [
        ("form", _("表单")),
        ("upload", _("上传")),
        ("api", _("接口")),
        ("import", _("命令导入")),
        ("demo", _("演示数据")),
    ]

    # No single-column indexes on these two: the unique (org_unit, period, element) index serves
    # every lookup by unit, and each index costs a bulk upload ~2 s per million rows here.
    # No database constraint either: PostgreSQL checks a foreign key row by row at commit (15 s
    # for a million-row upload, more than everything else together). The references stay
    # whole all the same: Django refuses to delete an element or unit that has values
    # (PROTECT), the services write only ids they have just read, and a bulk upload locks the
    # elements and units it references (FOR KEY SHARE, what the constraint would do per row)
    # so they cannot be deleted under it.
    element = models.ForeignKey(
        "targets.DataElement",
        on_delete=models.PROTECT,
        related_name="values",
        db_index=False,
        db_constraint=False,
    )
    org_unit = models.ForeignKey(
        OrgUnit,
        on_delete=models.PROTECT,
        related_name="values",
        db_index=False,
        db_constraint=False,
    )
    period = models.CharField(_("期间"), max_length=10)
    period_start = models.DateField(_("期初"))
    period_end = models.DateField(_("期末"))
    value = models.DecimalField(_("数值"), max_digits=20, decimal_places=6)
    state = models.CharField(_("状态"), max_length=10, choices=STATE_CHOICES, default=DRAFT)
    comment = models.TextField(_("备注"), blank=True)
    review_comment = models.TextField(_("审核意见"), blank=True)
    source = models.CharField(_("来源"), max_length=10, choices=SOURCE_CHOICES, default="form")
    # Audit pointers (who, which upload) carry no database constraint: PostgreSQL checks each
    # one row by row at commit, which dominated million-row uploads. Django still applies
    # on_delete, and the pointers are written only by the services.
    upload = models.ForeignKey(
        "UploadJob",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("数据值")
        verbose_name_plural = _("数据值")
        constraints = [
            # Unit first: the entry grid, templates, review and scopes all look values up by
            # unit (and period), so this one index serves them and no second one is needed.
            models.UniqueConstraint(
                fields=["org_unit", "period", "element"], name="value_one_per_element_unit_period"
            ),
            models.CheckConstraint(
                condition=Q(state__in=["draft", "submitted", "approved", "rejected"]),
                name="value_state_known",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "org_unit"], name="value_state_unit"),
            # The API's keyset pages and updated_since in the order values were changed.
            models.Index(fields=["updated_at", "id"], name="value_updated_key"),
        ]

    def __str__(self) -> str:
        return f"{self.element_id}@{self.org_unit_id}/{self.period}={self.value}"


class DataValueChange(models.Model):
    """The audit trail: every change of a data value, who made it, when, from what to what, how.

    Element, unit and period are copied so the trail outlives a value removed by a rollback.
    """

    ACTION_CHOICES = [
        ("create", _("新增")),
        ("update", _("修改")),
        ("submit", _("提交")),
        ("approve", _("审核通过")),
        ("reject", _("退回")),
        ("reopen", _("重新开放")),
        ("rollback", _("撤销上传")),
    ]

    data_value = models.ForeignKey(
        DataValue,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="changes",
        db_constraint=False,
    )
    element_code = models.CharField(max_length=80)
    org_unit_code = models.CharField(max_length=32)
    period = models.CharField(max_length=10)
    action = models.CharField(max_length=10, choices=ACTION_CHOICES)
    old_value = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    new_value = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    old_state = models.CharField(max_length=10, blank=True)
    new_state = models.CharField(max_length=10, blank=True)
    source = models.CharField(max_length=10)
    upload = models.ForeignKey(
        "UploadJob",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="changes",
        db_constraint=False,
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    comment = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("修改记录")
        verbose_name_plural = _("修改记录")
        indexes = [
            models.Index(fields=["element_code", "org_unit_code", "period"], name="change_key")
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.element_code}@{self.org_unit_code}/{self.period}"


class UploadJob(Job):
    """A values file being imported in the background; the page polls this row. Its life
    (claim, heartbeat, finish, the reaper's salvage) is in districts.intake.job."""

    TASK_NAME = "districts.tasks.process_upload"
    SALVAGE = "districts.intake.job.salvage"

    ROLLED_BACK = "rolled_back"
    STATE_CHOICES = [
        (Job.QUEUED, _("排队中")),
        (Job.RUNNING, _("处理中")),
        (Job.SUCCEEDED, _("已导入")),
        (Job.FAILED, _("未导入")),
        (ROLLED_BACK, _("已撤销")),
    ]
    WAITING_MESSAGE = (
        "任务队列暂时无法连接：文件已保存，连接恢复后会自动开始处理，无需重新上传"
        "（the task queue is unreachable: the file is saved and will be processed once it is "
        "back; no need to upload again）"
    )

    file = models.FileField(upload_to="uploads/%Y/%m/")
    original_name = models.CharField(max_length=255)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="uploads"
    )
    source = models.CharField(max_length=10, default="upload")
    approve = models.BooleanField(default=False)
    state = models.CharField(_("状态"), max_length=12, choices=STATE_CHOICES, default=Job.QUEUED)
    percent = models.PositiveSmallIntegerField(default=0)
    total_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)  # what the upload page says: step, result, retry

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("上传")
        verbose_name_plural = _("上传")
        constraints = [
            models.CheckConstraint(condition=Q(percent__lte=100), name="upload_percent_max_100"),
        ]

    @classmethod
    def stale_after(cls) -> float:
        return float(settings.UPLOAD_STALE_AFTER)

    @classmethod
    def max_attempts(cls) -> int:
        return int(settings.UPLOAD_MAX_ATTEMPTS)

    @classmethod
    def requeued_fields(cls, attempts: int, limit: int) -> dict:
        return {
            "percent": 0,
            "message": f"处理中断，正在重试（第 {attempts + 1} 次，共 {limit} 次）"
            f"（the worker stopped: retrying, attempt {attempts + 1} of {limit}）",
        }

    @classmethod
    def given_up_fields(cls, attempts: int) -> dict:
        message = (
            f"处理中断，已尝试 {attempts} 次，未导入任何数据，请重新上传"
            f"（the worker stopped {attempts} times: nothing was written, upload again）"
        )
        return {"percent": 100, "message": message, "error": message}

    @classmethod
    def waiting_fields(cls) -> dict:
        return {"message": cls.WAITING_MESSAGE}

    @classmethod
    def enqueued_fields(cls) -> dict:
        # the waiting note goes once the message is out; a retry's note stays
        return {
            "message": Case(
                When(message=cls.WAITING_MESSAGE, then=Value("", output_field=models.TextField())),
                default=F("message"),
            )
        }

    def __str__(self) -> str:
        return f"#{self.pk} {self.original_name} ({self.state})"

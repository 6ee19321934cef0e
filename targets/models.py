"""Plans, their goals and indicators, and the data elements indicators are computed from."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

COMPARATORS = [(">=", "≥"), (">", ">"), ("<=", "≤"), ("<", "<"), ("=", "=")]
COMPARATOR_CODES = [c for c, _label in COMPARATORS]


class DataElement(models.Model):
    """A raw figure that is reported, with how it rolls up the tree and over time."""

    VALUE_TYPES = [
        ("number", _("数值")),
        ("integer", _("整数")),
        ("boolean", _("是/否")),
        ("percent", _("百分比")),
    ]
    PERIOD_TYPES = [("year", _("年")), ("quarter", _("季")), ("month", _("月"))]
    AGGREGATIONS = [
        ("sum", _("求和")),
        ("average", _("平均")),
        ("weighted_average", _("加权平均")),
        ("none", _("不汇总")),
    ]
    TEMPORALS = [("sum", _("累计（流量）")), ("last", _("期末值（存量）"))]

    code = models.CharField(_("代码"), max_length=80, unique=True)
    name_zh = models.CharField(_("名称"), max_length=200)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    unit = models.CharField(_("计量单位"), max_length=30, blank=True)
    value_type = models.CharField(_("数值类型"), max_length=10, choices=VALUE_TYPES)
    period_type = models.CharField(_("期间类型"), max_length=8, choices=PERIOD_TYPES)
    aggregation = models.CharField(_("汇总方式"), max_length=20, choices=AGGREGATIONS)
    weight = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    temporal = models.CharField(_("时间汇总"), max_length=5, choices=TEMPORALS)
    level = models.CharField(
        _("填报层级"), max_length=16, blank=True, help_text=_("最低填报层级，如 community")
    )
    not_above = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("数值不得超过该数据项（如志愿者人数不超过常住人口）"),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("数据项")
        verbose_name_plural = _("数据项")
        constraints = [
            models.CheckConstraint(
                condition=~Q(aggregation="weighted_average") | Q(weight__isnull=False),
                name="element_weighted_average_has_weight",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name_zh} ({self.code})"


class Plan(models.Model):
    """One policy document of one city (or district/town) and the targets it sets."""

    METHODS = [("linear", _("线性轨迹")), ("cagr", _("复合增长率（SDG）"))]
    # What kind of document it is (SPEC §7): only adopted policy sets binding targets; the
    # figures of a research report or a proposal are labelled as such and kept out of scores.
    POLICY = "policy"
    KINDS = [
        (POLICY, _("政策文件")),
        ("implementation", _("实施方案")),
        ("work_plan", _("工作计划")),
        ("report", _("研究报告")),
        ("proposal", _("建议")),
    ]
    KIND_CODES = [code for code, _label in KINDS]
    BINDING_KINDS = (POLICY, "implementation", "work_plan")

    code = models.SlugField(_("代码"), max_length=80, unique=True)
    city = models.ForeignKey("districts.OrgUnit", on_delete=models.PROTECT, related_name="plans")
    title_zh = models.CharField(_("标题"), max_length=300)
    title_en = models.CharField(_("英文标题"), max_length=300, blank=True)
    document_number = models.CharField(_("文号"), max_length=100, blank=True)
    issuer_zh = models.CharField(_("发文机关"), max_length=200, blank=True)
    issuer_en = models.CharField(_("英文发文机关"), max_length=200, blank=True)
    issued_on = models.DateField(_("发文日期"), null=True, blank=True)
    source = models.CharField(_("原文文件"), max_length=200, blank=True)
    kind = models.CharField(_("文件类型"), max_length=16, choices=KINDS, default=POLICY)
    horizon = models.DateField(_("规划期末"), null=True, blank=True)
    method = models.CharField(_("进度方法"), max_length=8, choices=METHODS, default="linear")
    at_risk_fraction = models.DecimalField(
        _("预警阈值"),
        max_digits=4,
        decimal_places=3,
        default=0.5,
        help_text=_("达到轨迹要求进度的该比例以上为“有风险”，以下为“滞后”"),
    )
    is_public = models.BooleanField(_("公开看板"), default=False)
    file_digest = models.CharField(max_length=64, blank=True, editable=False)
    loaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("规划")
        verbose_name_plural = _("规划")
        constraints = [
            models.CheckConstraint(
                condition=Q(at_risk_fraction__gte=0) & Q(at_risk_fraction__lte=1),
                name="plan_at_risk_fraction_0_1",
            ),
            models.CheckConstraint(
                condition=Q(
                    kind__in=["policy", "implementation", "work_plan", "report", "proposal"]
                ),
                name="plan_kind_known",
            ),
        ]

    def __str__(self) -> str:
        return self.title_zh

    @property
    def is_binding(self) -> bool:
        """Whether its targets are adopted policy (scored), not a report's or proposal's."""
        return self.kind in self.BINDING_KINDS


class Goal(models.Model):
    """A numbered clause or section of a plan."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="goals")
    code = models.CharField(_("条款"), max_length=30)
    title_zh = models.CharField(_("标题"), max_length=300)
    title_en = models.CharField(_("英文标题"), max_length=300, blank=True)
    position = models.PositiveIntegerField(default=0)

    # Who answers for it (责任单位): the lead (牵头) and supporting (配合) departments the document
    # names; ``lead_note`` says so when it names none (no guessing).
    lead = models.ForeignKey(
        "accountability.Department",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="led_goals",
        verbose_name=_("牵头单位"),
    )
    support = models.ManyToManyField(
        "accountability.Department",
        blank=True,
        related_name="supported_goals",
        verbose_name=_("配合单位"),
    )
    lead_note = models.CharField(_("责任单位说明"), max_length=200, blank=True)

    class Meta:
        ordering = ["plan", "position"]
        verbose_name = _("目标")
        verbose_name_plural = _("目标")
        constraints = [
            models.UniqueConstraint(fields=["plan", "code"], name="goal_code_unique_in_plan")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title_zh}"


class Indicator(models.Model):
    """A numeric target inside a goal, with how its value is computed and the sentence it
    comes from. Element references are foreign keys so a plan cannot point at a missing
    element; which of them a kind needs is enforced by the constraints below."""

    KINDS = [
        ("value", _("数值")),
        ("ratio", _("比率")),
        ("coverage", _("覆盖率")),
        ("growth", _("增长")),
        ("milestone", _("里程碑")),
    ]
    GROWTH_MODES = [("percent", _("年均增长率")), ("points", _("年均增加百分点"))]

    # The relations to data elements an indicator may be computed from.
    ELEMENT_FIELDS = (
        "element",
        "numerator",
        "denominator",
        "condition_element",
        "condition_numerator",
        "condition_denominator",
    )

    code = models.CharField(_("代码"), max_length=120, unique=True)
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="indicators")
    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="indicators")
    position = models.PositiveIntegerField(default=0)
    name_zh = models.CharField(_("名称"), max_length=300)
    name_en = models.CharField(_("英文名称"), max_length=300, blank=True)
    kind = models.CharField(_("类型"), max_length=10, choices=KINDS)
    # value / milestone: element; ratio: numerator, denominator, factor; growth: either.
    element = models.ForeignKey(
        DataElement, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    numerator = models.ForeignKey(
        DataElement, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    denominator = models.ForeignKey(
        DataElement, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    factor = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    # coverage
    level = models.CharField(_("覆盖层级"), max_length=16, blank=True)
    # coverage or ratio: only the units of this group count (e.g. urban communities only)
    group = models.ForeignKey(
        "districts.OrgUnitGroup",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("单位分组"),
    )
    condition_element = models.ForeignKey(
        DataElement, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    condition_numerator = models.ForeignKey(
        DataElement, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    condition_denominator = models.ForeignKey(
        DataElement, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    condition_factor = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    condition_comparator = models.CharField(max_length=2, choices=COMPARATORS, blank=True)
    condition_value = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    # growth
    growth_mode = models.CharField(max_length=8, choices=GROWTH_MODES, blank=True)
    growth_from = models.CharField(_("基期"), max_length=10, blank=True)
    # target
    unit = models.CharField(_("单位"), max_length=30, blank=True)
    comparator = models.CharField(_("比较"), max_length=2, choices=COMPARATORS)
    target = models.DecimalField(_("目标值"), max_digits=20, decimal_places=6)
    deadline = models.DateField(_("期限"))
    baseline_value = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    baseline_period = models.CharField(max_length=10, blank=True)
    method = models.CharField(
        _("进度方法"), max_length=8, choices=Plan.METHODS, blank=True, help_text=_("空 = 随规划")
    )
    limit = models.DecimalField(
        _("自然上限"), max_digits=20, decimal_places=6, null=True, blank=True
    )
    quote = models.TextField(_("原文"))
    note = models.TextField(_("说明"), blank=True)
    same_as = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="restated_by",
        help_text=_("同一目标在另一文件中的表述"),
    )

    # Who answers for it (责任单位): the lead (牵头) and supporting (配合) departments the document
    # names; ``lead_note`` says so when it names none (no guessing).
    lead = models.ForeignKey(
        "accountability.Department",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="led_indicators",
        verbose_name=_("牵头单位"),
    )
    support = models.ManyToManyField(
        "accountability.Department",
        blank=True,
        related_name="supported_indicators",
        verbose_name=_("配合单位"),
    )
    lead_note = models.CharField(_("责任单位说明"), max_length=200, blank=True)

    class Meta:
        ordering = ["plan", "goal__position", "position"]
        verbose_name = _("指标")
        verbose_name_plural = _("指标")
        constraints = [
            models.CheckConstraint(
                condition=Q(comparator__in=COMPARATOR_CODES), name="indicator_comparator_known"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["value", "ratio", "coverage", "growth", "milestone"]),
                name="indicator_kind_known",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["value", "milestone"]) | Q(element__isnull=False),
                name="indicator_value_has_element",
            ),
            models.CheckConstraint(
                condition=~Q(kind="ratio")
                | Q(numerator__isnull=False, denominator__isnull=False, factor__isnull=False),
                name="indicator_ratio_has_parts",
            ),
            models.CheckConstraint(
                condition=~Q(kind="coverage")
                | (
                    ~Q(level="")
                    & ~Q(condition_comparator="")
                    & Q(condition_value__isnull=False)
                    & (
                        Q(condition_element__isnull=False)
                        | Q(condition_numerator__isnull=False, condition_denominator__isnull=False)
                    )
                ),
                name="indicator_coverage_has_condition",
            ),
            models.CheckConstraint(
                condition=~Q(kind="growth")
                | (
                    ~Q(growth_mode="")
                    & ~Q(growth_from="")
                    & (
                        Q(element__isnull=False)
                        | Q(numerator__isnull=False, denominator__isnull=False)
                    )
                ),
                name="indicator_growth_has_base",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name_zh}"

    @property
    def effective_method(self) -> str:
        return self.method or self.plan.method

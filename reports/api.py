"""/api/v1/progress/: computed progress rows inside the caller's scope (SPEC §3, §4.5).

The same columns as ``export_progress`` (indicator, org_unit, period, value, numerator,
denominator, target, comparator, deadline, expected, status, forecast, completeness), plus
percent_of_target, share_of_total and, for the cagr method, ratio and score.
"""

from __future__ import annotations

from django.db.models import F
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets

from config.api import ApiViewMixin, DecimalNumberField, FiniteFloatField
from districts import scopes
from targets.models import COMPARATORS

from .filtersets import ProgressFilterSet
from .models import STATUS_CHOICES, ProgressRow


class ProgressOut(serializers.Serializer):
    """One progress row."""

    indicator = serializers.CharField(source="indicator_code")
    plan = serializers.CharField(source="plan_code")
    org_unit = serializers.CharField(source="org_unit_code")
    period = serializers.CharField()
    period_end = serializers.DateField()
    value = DecimalNumberField()
    numerator = DecimalNumberField()
    denominator = DecimalNumberField()
    target = DecimalNumberField()
    comparator = serializers.ChoiceField(choices=COMPARATORS)
    deadline = serializers.DateField()
    expected = DecimalNumberField(help_text="轨迹上此时应达到的值（expected on the trajectory）")
    status = serializers.ChoiceField(choices=STATUS_CHOICES)
    forecast = DecimalNumberField(help_text="期限时的线性预测（forecast at the deadline）")
    completeness = DecimalNumberField(
        max_digits=7, decimal_places=4, help_text="已报送下级单位比例（share of child units that reported）"
    )
    percent_of_target = DecimalNumberField()
    share_of_total = DecimalNumberField(
        max_digits=10, decimal_places=4, help_text="占全市合计的比例（share of the city total）"
    )
    ratio = FiniteFloatField(help_text="cagr: R 或 v（progress ratio）")
    score = FiniteFloatField(help_text="cagr: 得分 −5…5（score）")
    computed_at = serializers.DateTimeField()


@extend_schema_view(
    list=extend_schema(
        summary="Progress in your scope",
        description="指标 × 单位 × 期间的进度，仅限您的范围（progress rows of the units in your "
        "scope）。`?status=` 可重复（may be repeated）。",
    )
)
class ProgressViewSet(ApiViewMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    filterset_class = ProgressFilterSet
    serializer_class = ProgressOut

    def get_queryset(self):
        queryset = (
            ProgressRow.objects.annotate(
                indicator_code=F("indicator__code"),
                plan_code=F("indicator__plan__code"),
                org_unit_code=F("org_unit__code"),
            )
            .defer("run")
            .order_by("indicator_id", "org_unit_id", "period")
        )
        return scopes.filter_in_scope(queryset, self.request.user, scopes.READ)

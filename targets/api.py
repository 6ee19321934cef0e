"""/api/v1/ catalog endpoints: plans (with goals and indicators), indicators, data elements.

The catalog is published policy: every signed-in user reads all of it (SPEC §5). Read-only:
plans change through ``load_plans`` files, never through the API.
"""

from __future__ import annotations

from django.db.models import Count, Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from core.api import (
    ApiViewMixin,
    BlankAsNullCharField,
    BlankAsNullChoiceField,
    DecimalNumberField,
)

from .filtersets import DataElementFilterSet, IndicatorFilterSet, PlanFilterSet
from .models import COMPARATORS, DataElement, Goal, Indicator, Plan
from .selectors import indicator_element_codes, indicators_for_catalog

CODE_REGEX = r"[^/]+"  # codes contain dots (dg.volunteers.registered_share)


def _code(field: str) -> serializers.CharField:
    return serializers.CharField(source=f"{field}.code", read_only=True, allow_null=True)


# --- output serializers --------------------------------------------------------------------


class DataElementOut(serializers.ModelSerializer):
    weight = _code("weight")
    not_above = _code("not_above")
    level = BlankAsNullCharField(help_text="最低填报层级（lowest level that reports it）")

    class Meta:
        model = DataElement
        fields = [
            "code", "name_zh", "name_en", "unit", "value_type", "period_type", "aggregation",
            "weight", "temporal", "level", "not_above",
        ]  # fmt: skip
        read_only_fields = fields


class IndicatorOut(serializers.ModelSerializer):
    plan = _code("plan")
    city = serializers.CharField(source="plan.city.code", read_only=True)
    goal = _code("goal")
    element = _code("element")
    numerator = _code("numerator")
    denominator = _code("denominator")
    factor = DecimalNumberField(max_digits=12, decimal_places=4)
    level = BlankAsNullCharField(help_text="coverage: 被统计的层级（the level counted）")
    condition_element = _code("condition_element")
    condition_numerator = _code("condition_numerator")
    condition_denominator = _code("condition_denominator")
    condition_factor = DecimalNumberField(max_digits=12, decimal_places=4)
    condition_comparator = BlankAsNullChoiceField(choices=COMPARATORS)
    condition_value = DecimalNumberField(max_digits=20)
    growth_mode = BlankAsNullChoiceField(choices=Indicator.GROWTH_MODES)
    growth_from = BlankAsNullCharField(help_text="growth: 基期（base period）")
    target = DecimalNumberField(max_digits=20, allow_null=False)
    baseline_value = DecimalNumberField(max_digits=20)
    baseline_period = BlankAsNullCharField()
    method = serializers.ChoiceField(
        source="effective_method",
        choices=Plan.METHODS,
        read_only=True,
        help_text="进度方法：指标自定或随规划（the indicator's method, else its plan's）",
    )
    limit = DecimalNumberField(max_digits=20, help_text="自然上限（natural limit, cagr method）")
    same_as = _code("same_as")
    elements = serializers.SerializerMethodField()

    class Meta:
        model = Indicator
        fields = [
            "code", "plan", "city", "goal", "position", "name_zh", "name_en", "kind", "element",
            "numerator", "denominator", "factor", "level", "condition_element",
            "condition_numerator", "condition_denominator", "condition_factor",
            "condition_comparator", "condition_value", "growth_mode", "growth_from", "unit",
            "comparator", "target", "deadline", "baseline_value", "baseline_period", "method",
            "limit", "quote", "note", "same_as", "elements",
        ]  # fmt: skip
        read_only_fields = fields

    def get_elements(self, indicator: Indicator) -> list[str]:
        """The data elements the indicator is computed from."""
        return indicator_element_codes(indicator)


class GoalOut(serializers.ModelSerializer):
    indicators = IndicatorOut(many=True, read_only=True)

    class Meta:
        model = Goal
        fields = ["code", "title_zh", "title_en", "position", "indicators"]
        read_only_fields = fields


class PlanOut(serializers.ModelSerializer):
    city = serializers.CharField(source="city.code", read_only=True)
    city_name_zh = serializers.CharField(source="city.name_zh", read_only=True)
    at_risk_fraction = DecimalNumberField(max_digits=4, decimal_places=3, allow_null=False)
    goal_count = serializers.IntegerField(read_only=True)
    indicator_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Plan
        fields = [
            "code", "city", "city_name_zh", "title_zh", "title_en", "document_number",
            "issuer_zh", "issuer_en", "issued_on", "source", "kind", "horizon", "method",
            "at_risk_fraction", "is_public", "goal_count", "indicator_count",
        ]  # fmt: skip
        read_only_fields = fields


class PlanDetailOut(PlanOut):
    goals = GoalOut(many=True, read_only=True)

    class Meta(PlanOut.Meta):
        fields = [*PlanOut.Meta.fields, "goals"]
        read_only_fields = fields


# --- views ---------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Plans", description="每份规划文件（every plan of every city）。"),
    retrieve=extend_schema(
        summary="One plan with its goals and indicators",
        description="规划及其条款和指标（the plan, its goals and their indicators）。",
    ),
)
class PlanViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """Plans (catalog), looked up by code; one plan comes with its goals and indicators."""

    lookup_field = "code"
    lookup_value_regex = CODE_REGEX
    filterset_class = PlanFilterSet
    output_serializer_class = PlanOut

    def get_queryset(self):
        queryset = Plan.objects.select_related("city").annotate(
            goal_count=Count("goals", distinct=True),
            indicator_count=Count("indicators", distinct=True),
        )
        if self.action == "retrieve":
            goals = Goal.objects.order_by("position").prefetch_related(
                Prefetch("indicators", queryset=indicators_for_catalog())
            )
            queryset = queryset.prefetch_related(Prefetch("goals", queryset=goals))
        return queryset.order_by("code")

    def get_serializer_class(self):
        return PlanDetailOut if self.action == "retrieve" else PlanOut


@extend_schema_view(
    list=extend_schema(
        summary="Indicators", description="指标及其目标（indicators and targets）。"
    ),
    retrieve=extend_schema(summary="One indicator"),
)
class IndicatorViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """Indicators with their targets (catalog), looked up by code."""

    lookup_field = "code"
    lookup_value_regex = CODE_REGEX
    filterset_class = IndicatorFilterSet
    serializer_class = IndicatorOut

    def get_queryset(self):
        return indicators_for_catalog()


@extend_schema_view(
    list=extend_schema(summary="Data elements", description="填报的数据项（reported figures）。"),
    retrieve=extend_schema(summary="One data element"),
)
class DataElementViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """Data elements (catalog), looked up by code."""

    lookup_field = "code"
    lookup_value_regex = CODE_REGEX
    filterset_class = DataElementFilterSet
    serializer_class = DataElementOut

    def get_queryset(self):
        return DataElement.objects.select_related("weight", "not_above").order_by("code")

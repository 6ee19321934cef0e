"""/api/v1/ accountability endpoints (SPEC §7): departments and assessment schemes (published
policy, readable by every signed-in user, like the catalog); allocations, gaps and published
assessments (scoped by org unit through districts.scopes, like data values and progress)."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from core.api import ApiViewMixin, DecimalNumberField, FiniteFloatField
from core.filtersets import FilterSet, PeriodFilter
from districts import scopes
from districts.models import OrgUnit
from targets.models import Indicator

from . import selectors, services
from .models import (
    Allocation,
    Assessment,
    AssessmentScheme,
    AssessmentUnitScore,
    Department,
    SchemeItem,
)

CODE_REGEX = r"[^/]+"


# --- departments ---------------------------------------------------------------------------


class DepartmentOut(serializers.ModelSerializer):
    city = serializers.CharField(source="city.code", read_only=True)

    class Meta:
        model = Department
        fields = ["code", "name_zh", "name_en", "city", "source"]
        read_only_fields = fields


class DepartmentFilterSet(FilterSet):
    city = django_filters.CharFilter(field_name="city__code")

    class Meta:
        model = Department
        fields = ["city"]


@extend_schema_view(
    list=extend_schema(summary="Responsible departments", description="责任单位（departments）。"),
    retrieve=extend_schema(summary="One department"),
)
class DepartmentViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    lookup_field = "code"
    lookup_value_regex = CODE_REGEX
    filterset_class = DepartmentFilterSet
    serializer_class = DepartmentOut

    def get_queryset(self):
        return Department.objects.select_related("city").order_by("city__code", "position", "code")


# --- allocations ---------------------------------------------------------------------------


class AllocationOut(serializers.ModelSerializer):
    indicator = serializers.SlugRelatedField(slug_field="code", queryset=Indicator.objects.all())
    org_unit = serializers.SlugRelatedField(slug_field="code", queryset=OrgUnit.objects.all())
    target = DecimalNumberField(max_digits=20, allow_null=False, read_only=False)
    reason = serializers.CharField(write_only=True, required=False, allow_blank=True)
    updated_by = serializers.CharField(source="updated_by.username", read_only=True, default=None)

    class Meta:
        model = Allocation
        fields = [
            "indicator", "org_unit", "target", "deadline", "note", "source", "updated_by",
            "updated_at", "reason",
        ]  # fmt: skip
        read_only_fields = ["source", "updated_by", "updated_at"]


class AllocationFilterSet(FilterSet):
    indicator = django_filters.CharFilter(field_name="indicator__code")
    org_unit = django_filters.CharFilter(field_name="org_unit__code")
    city = django_filters.CharFilter(field_name="indicator__plan__city__code")

    class Meta:
        model = Allocation
        fields = ["indicator", "org_unit", "city"]


@extend_schema_view(
    list=extend_schema(
        summary="Allocated targets in your scope",
        description="目标任务分解：各单位自己的目标（each unit's own share of a target）。",
    ),
    create=extend_schema(
        summary="Set a unit's allocated target",
        description="填报员可为其范围内的单位设定分解目标，变更留痕（who, when, why kept）。",
    ),
)
class AllocationViewSet(
    ApiViewMixin, mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    filterset_class = AllocationFilterSet
    serializer_class = AllocationOut

    def get_queryset(self):
        qs = Allocation.objects.select_related("indicator", "org_unit", "updated_by").order_by(
            "indicator__code", "org_unit__code"
        )
        return scopes.filter_in_scope(qs, self.request.user, scopes.READ)

    def perform_create(self, serializer):
        data = serializer.validated_data
        unit, indicator = data["org_unit"], data["indicator"]
        if not scopes.can(self.request.user, scopes.WRITE, unit):
            raise PermissionDenied("不在您的填报范围内（outside your scope）")
        city = indicator.plan.city
        if unit.pk == city.pk or not unit.path.startswith(city.path):
            raise ValidationError(
                {"org_unit": ["单位不在该指标所属城市之下（not below the indicator's city）"]}
            )
        services.allocation_set(
            indicator=indicator,
            org_unit=unit,
            target=data["target"],
            deadline=data.get("deadline"),
            note=data.get("note", ""),
            user=self.request.user,
            reason=data.get("reason", ""),
        )
        serializer.instance = Allocation.objects.get(indicator=indicator, org_unit=unit)


# --- gaps ----------------------------------------------------------------------------------


class GapOut(serializers.Serializer):
    indicator = serializers.CharField()
    org_unit = serializers.CharField()
    period = serializers.CharField()
    value = FiniteFloatField(allow_null=True)
    target = FiniteFloatField()
    comparator = serializers.CharField()
    deadline = serializers.DateField()
    status = serializers.CharField()
    remaining = FiniteFloatField(allow_null=True, help_text="期限前尚需完成的量（still to add）")
    years_left = FiniteFloatField()
    required_rate = FiniteFloatField(allow_null=True, help_text="所需年均进度（yearly needed）")
    achieved_rate = FiniteFloatField(allow_null=True, help_text="已实现年均进度（yearly so far）")


class GapFilterSet(FilterSet):
    period = PeriodFilter(required=True)
    indicator = django_filters.CharFilter()
    org_unit = django_filters.CharFilter()
    city = django_filters.CharFilter()

    class Meta:
        model = AssessmentUnitScore  # (unused: the filters are read by hand)
        fields = []


@extend_schema_view(
    list=extend_schema(
        summary="Gaps in your scope",
        description="缺口：各单位距自身目标尚差多少、所需与已实现的年均进度（`?period=` 必填）。",
    )
)
class GapViewSet(ApiViewMixin, viewsets.GenericViewSet):
    serializer_class = GapOut
    queryset = AssessmentUnitScore.objects.none()  # (rows come from selectors.gaps)
    filterset_class = None

    def list(self, request, *args, **kwargs):
        form = GapFilterSet(request.query_params, queryset=AssessmentUnitScore.objects.none())
        if not form.is_valid():
            raise ValidationError(form.errors)
        data = form.form.cleaned_data
        rows = selectors.gaps(
            user=request.user,
            period=data["period"],
            indicator=data.get("indicator") or "",
            org_unit=data.get("org_unit") or "",
            city=data.get("city") or "",
        )
        page = self.paginate_queryset(rows)
        serializer = GapOut(page if page is not None else rows, many=True)
        if page is not None:
            return self.get_paginated_response(serializer.data)
        return Response(serializer.data)


# --- assessment schemes and assessments ----------------------------------------------------


class SchemeItemOut(serializers.ModelSerializer):
    indicator = serializers.CharField(source="indicator.code")
    points = DecimalNumberField(max_digits=8, decimal_places=2, allow_null=False)

    class Meta:
        model = SchemeItem
        fields = ["indicator", "points", "veto"]
        read_only_fields = fields


class SchemeOut(serializers.ModelSerializer):
    city = serializers.CharField(source="city.code")
    units = serializers.SerializerMethodField()
    items = SchemeItemOut(many=True, read_only=True)

    class Meta:
        model = AssessmentScheme
        fields = [
            "code", "city", "period", "title_zh", "title_en", "units", "rank_by_group",
            "scoring", "version", "items",
        ]  # fmt: skip
        read_only_fields = fields

    def get_units(self, scheme) -> dict:
        return {"level": scheme.unit_level} if scheme.unit_level else {"group": scheme.unit_group}


@extend_schema_view(
    list=extend_schema(summary="Assessment schemes", description="考评方案（SPEC §7）。"),
    retrieve=extend_schema(summary="One assessment scheme"),
)
class AssessmentSchemeViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    lookup_field = "code"
    lookup_value_regex = CODE_REGEX
    serializer_class = SchemeOut
    filterset_class = None

    def get_queryset(self):
        return (
            AssessmentScheme.objects.select_related("city")
            .prefetch_related("items__indicator")
            .order_by("code")
        )


class AssessmentOut(serializers.ModelSerializer):
    scheme = serializers.CharField(source="scheme.code")
    published_by = serializers.CharField(
        source="published_by.username", read_only=True, default=None
    )
    units = serializers.SerializerMethodField()

    class Meta:
        model = Assessment
        fields = [
            "id", "scheme", "number", "period", "published_by", "published_at", "reason",
            "scheme_version", "moves", "units",
        ]  # fmt: skip
        read_only_fields = fields

    def get_units(self, assessment) -> list[dict]:
        """The scored units inside the caller's scope, each with its items."""
        user = self.context["request"].user
        rows = scopes.filter_in_scope(assessment.units.all(), user, scopes.READ)
        order = ["group", "rank"] if assessment.scheme.rank_by_group else ["rank"]
        return [
            {
                "unit": s.org_unit.code,
                "name_zh": s.org_unit.name_zh,
                "group": s.group,
                "score": float(s.score),
                "max_score": float(s.max_score),
                "rank": s.rank,
                "vetoed": s.vetoed,
                "items": [
                    {
                        "indicator": i.indicator.code,
                        "status": i.status,
                        "points": float(i.points),
                        "earned": float(i.earned),
                        "veto": i.veto,
                    }
                    for i in s.items.all()
                ],
            }
            for s in rows.select_related("org_unit")
            .prefetch_related("items__indicator")
            .order_by(*order, "org_unit__code")
        ]


class AssessmentFilterSet(FilterSet):
    scheme = django_filters.CharFilter(field_name="scheme__code")

    class Meta:
        model = Assessment
        fields = ["scheme"]


@extend_schema_view(
    list=extend_schema(
        summary="Published assessments",
        description="已发布的考评结果，仅含您范围内的单位（units inside your scope only）。",
    ),
    retrieve=extend_schema(summary="One published assessment"),
)
class AssessmentViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = AssessmentOut
    filterset_class = AssessmentFilterSet

    def get_queryset(self):
        return Assessment.objects.select_related("scheme", "published_by").order_by(
            "scheme__code", "-number"
        )

"""Filters of the catalog endpoints (plans, indicators, data elements). Codes, not ids: an
unknown code matches nothing. Ordering is limited to the fields listed here."""

from __future__ import annotations

import django_filters

from core.filtersets import FilterSet, StableOrderingFilter

from .models import DataElement, Indicator, Plan


class PlanFilterSet(FilterSet):
    city = django_filters.CharFilter(field_name="city__code", help_text="城市代码（city code）")
    method = django_filters.ChoiceFilter(choices=Plan.METHODS)
    ordering = StableOrderingFilter(
        fields=(("code", "code"), ("issued_on", "issued_on"), ("city__code", "city"))
    )

    class Meta:
        model = Plan
        fields = ["city", "method"]


class IndicatorFilterSet(FilterSet):
    plan = django_filters.CharFilter(field_name="plan__code", help_text="规划代码（plan code）")
    city = django_filters.CharFilter(
        field_name="plan__city__code", help_text="规划所属城市代码（city code of the plan）"
    )
    goal = django_filters.CharFilter(
        field_name="goal__code", help_text="条款编号，通常与 plan 同用（goal code, with plan）"
    )
    kind = django_filters.ChoiceFilter(choices=Indicator.KINDS)
    ordering = StableOrderingFilter(
        fields=(("code", "code"), ("plan__code", "plan"), ("deadline", "deadline"))
    )

    class Meta:
        model = Indicator
        fields = ["plan", "city", "goal", "kind"]


class DataElementFilterSet(FilterSet):
    value_type = django_filters.ChoiceFilter(choices=DataElement.VALUE_TYPES)
    period_type = django_filters.ChoiceFilter(choices=DataElement.PERIOD_TYPES)
    aggregation = django_filters.ChoiceFilter(choices=DataElement.AGGREGATIONS)
    ordering = StableOrderingFilter(fields=(("code", "code"),))

    class Meta:
        model = DataElement
        fields = ["value_type", "period_type", "aggregation"]

"""Filters of the progress endpoint. Codes, not ids; ``status`` may be repeated
(``?status=off_track&status=at_risk``). Ordering is limited to the fields listed."""

from __future__ import annotations

import django_filters

from core.filtersets import FilterSet, PeriodFilter, StableOrderingFilter

from .models import STATUS_CHOICES, ProgressRow


class ProgressFilterSet(FilterSet):
    indicator = django_filters.CharFilter(field_name="indicator__code", help_text="指标代码")
    org_unit = django_filters.CharFilter(field_name="org_unit__code", help_text="单位代码")
    period = PeriodFilter(help_text="期间：2015、2015Q3 或 2015-07")
    status = django_filters.MultipleChoiceFilter(choices=STATUS_CHOICES)
    plan = django_filters.CharFilter(field_name="indicator__plan__code", help_text="规划代码")
    ordering = StableOrderingFilter(
        fields=(
            ("indicator__code", "indicator"),
            ("org_unit__path", "org_unit"),
            ("period_end", "period"),
            ("status", "status"),
            ("percent_of_target", "percent_of_target"),
        )
    )

    class Meta:
        model = ProgressRow
        fields = ["indicator", "org_unit", "period", "status", "plan"]

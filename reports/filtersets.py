"""Filters of the progress endpoint. Codes, not ids; ``status`` may be repeated
(``?status=off_track&status=at_risk``). Ordering is limited to the fields listed.
``updated_since`` keeps the rows the progress job wrote at or after a moment (``computed_at``);
``latest=true`` keeps each indicator and unit's latest period only."""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef, Q

from core.filtersets import (
    FilterSet,
    PeriodFilter,
    StableOrderingFilter,
    UpdatedSinceFilter,
    YesNoFilter,
)

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
            ("computed_at", "computed_at"),
        )
    )
    updated_since = UpdatedSinceFilter(
        field_name="computed_at",
        help_text="ISO 8601：只要此后写入的行（rows the progress job wrote at or after this "
        "moment, by `computed_at`; e.g. 2026-05-01T08:00:00Z; no offset = Asia/Shanghai)",
    )
    latest = YesNoFilter(
        method="filter_latest",
        help_text="true：每个指标和单位只要最新一期（the latest period of each indicator and "
        "unit, over every stored period）",
    )

    class Meta:
        model = ProgressRow
        fields = ["indicator", "org_unit", "period", "status", "plan"]

    def filter_latest(self, queryset, name, value):
        if value != "true":
            return queryset
        # No later row for the same indicator and unit: one probe of the (indicator, org_unit,
        # period) unique index per row.
        later = ProgressRow.objects.filter(
            Q(period_end__gt=OuterRef("period_end"))
            | Q(period_end=OuterRef("period_end"), period__gt=OuterRef("period")),
            indicator_id=OuterRef("indicator_id"),
            org_unit_id=OuterRef("org_unit_id"),
        )
        return queryset.filter(~Exists(later))

"""Filters of the org-unit, data-value and upload endpoints. Units, elements and indicators
are named by code; an unknown code matches nothing. Ordering is limited to the fields listed."""

from __future__ import annotations

import django_filters

from core.filtersets import FilterSet, PeriodFilter, StableOrderingFilter, UpdatedSinceFilter

from .levels import LEVEL_CHOICES
from .models import DataValue, OrgUnit, UploadJob


class OrgUnitFilterSet(FilterSet):
    parent = django_filters.CharFilter(
        field_name="parent__code", help_text="上级单位代码（code of the parent unit）"
    )
    level = django_filters.ChoiceFilter(choices=LEVEL_CHOICES)
    ordering = StableOrderingFilter(
        fields=(("path", "path"), ("code", "code"), ("name_zh", "name_zh"), ("level", "level"))
    )

    class Meta:
        model = OrgUnit
        fields = ["parent", "level"]


class DataValueFilterSet(FilterSet):
    org_unit = django_filters.CharFilter(field_name="org_unit__code", help_text="单位代码")
    element = django_filters.CharFilter(field_name="element__code", help_text="数据项代码")
    period = PeriodFilter(help_text="期间：2015、2015Q3 或 2015-07")
    state = django_filters.ChoiceFilter(choices=DataValue.STATE_CHOICES)
    ordering = StableOrderingFilter(
        fields=(
            ("id", "id"),
            ("period_end", "period"),
            ("org_unit__code", "org_unit"),
            ("element__code", "element"),
            ("updated_at", "updated_at"),
        )
    )
    updated_since = UpdatedSinceFilter(
        field_name="updated_at",
        help_text="ISO 8601：只要此后修改的数值（values changed at or after this moment, e.g. "
        "2026-05-01T08:00:00Z; no offset = Asia/Shanghai）",
    )

    class Meta:
        model = DataValue
        fields = ["org_unit", "element", "period", "state"]


class UploadJobFilterSet(FilterSet):
    state = django_filters.ChoiceFilter(choices=UploadJob.STATE_CHOICES)
    ordering = StableOrderingFilter(fields=(("id", "id"), ("created_at", "created_at")))

    class Meta:
        model = UploadJob
        fields = ["state"]

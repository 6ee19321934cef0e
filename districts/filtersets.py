"""Filters of the org-unit, data-value and upload endpoints. Units, elements and indicators
are named by code; an unknown code matches nothing. Ordering is limited to the fields listed."""

from __future__ import annotations

import django_filters
from django import forms

from .levels import LEVEL_CHOICES
from .models import DataValue, OrgUnit, UploadJob
from .periods import PeriodError
from .uploads import parse_period


class PeriodFormField(forms.CharField):
    """A period as typed anywhere in the portal (``2015``, ``2015Q3``, ``2015-07``, ``2015年``),
    normalised so that ``2015q3`` finds ``2015Q3``."""

    def clean(self, value):
        value = super().clean(value)
        if value in (None, ""):
            return value
        try:
            return str(parse_period(value))
        except PeriodError as exc:
            # django-filter %-formats messages: the reason goes in as a parameter.
            raise forms.ValidationError("%(reason)s", params={"reason": str(exc)}) from None


class PeriodFilter(django_filters.CharFilter):
    field_class = PeriodFormField


class FilterSet(django_filters.FilterSet):
    """The API's filter sets: a choice or ordering parameter that is present must have a value.
    ``?state=`` is a 400 like ``?state=bogus`` rather than a silent "any" — leave the parameter
    out for that. (Free-text filters such as ``?org_unit=`` keep django-filter's reading of an
    empty value as no filter.)"""

    _STRICT = (django_filters.ChoiceFilter, django_filters.MultipleChoiceFilter)

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name, declared in self.filters.items():
            if isinstance(declared, self._STRICT) and "" in self.data.getlist(name, []):
                self.form.add_error(
                    name,
                    "不能为空；不筛选请省略该参数（may not be empty: leave the parameter out）",
                )
                valid = False
        return valid


class StableOrderingFilter(django_filters.OrderingFilter):
    """``?ordering=`` over whitelisted fields, with the primary key as the last key so that
    pages do not overlap or skip rows when the chosen field has ties."""

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        if value and qs.query.order_by and "pk" not in qs.query.order_by:
            qs = qs.order_by(*qs.query.order_by, "pk")
        return qs


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

    class Meta:
        model = DataValue
        fields = ["org_unit", "element", "period", "state"]


class UploadJobFilterSet(FilterSet):
    state = django_filters.ChoiceFilter(choices=UploadJob.STATE_CHOICES)
    ordering = StableOrderingFilter(fields=(("id", "id"), ("created_at", "created_at")))

    class Meta:
        model = UploadJob
        fields = ["state"]

"""The API's filter-set base and the filters the apps' filter sets share (period, updated since,
true/false)."""

from __future__ import annotations

from datetime import datetime

import django_filters
from django import forms
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field

from core.periods import PeriodError, parse_period


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
        elif value and not qs.ordered:
            # ``?ordering=,`` names no field: django-filter clears the order, and a page of an
            # unordered list may repeat or skip rows. Keep the list in a stable order.
            qs = qs.order_by("pk")
        return qs


class SinceFormField(forms.CharField):
    """An ISO 8601 date or date-time (``2026-05-01``, ``2026-05-01T08:00:00Z``,
    ``2026-05-01T08:00+08:00``); without an offset it is the portal's time zone."""

    def clean(self, value):
        value = super().clean(value)
        if value in (None, ""):
            return None
        text = value.strip().replace(" ", "+") if "T" in value else value.strip()
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise forms.ValidationError(
                "%(reason)s",
                params={
                    "reason": f"“{value}” 不是 ISO 8601 时间，如 2026-05-01 或 "
                    f"2026-05-01T08:00:00Z（not an ISO 8601 date or date-time, e.g. 2026-05-01 "
                    f"or 2026-05-01T08:00:00Z）"
                },
            ) from None
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment


class UpdatedSinceFilter(django_filters.CharFilter):
    """Rows written at or after a moment (as DHIS2's ``lastUpdated``): a client syncs what
    changed since its last run."""

    field_class = SinceFormField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("lookup_expr", "gte")
        super().__init__(*args, **kwargs)


# The text true/false, also where the filtered model field is a boolean (drf-spectacular
# would otherwise document a boolean whose enum is two strings).
@extend_schema_field({"type": "string", "enum": ["false", "true"]})
class YesNoFilter(django_filters.ChoiceFilter):
    """``true`` or ``false``; anything else (an empty value too) is a 400."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", [("true", "true"), ("false", "false")])
        super().__init__(*args, **kwargs)

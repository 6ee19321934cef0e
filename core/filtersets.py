"""The API's filter-set base and the period filter every app's filter sets use."""

from __future__ import annotations

import django_filters
from django import forms

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
        return qs

"""``{{ element.unit|unit_label }}``: a stored unit in the page's language (core.text.unit_label),
for every page that shows one (the entry grid and the review inbox too)."""

from __future__ import annotations

from django import template

from core.text import unit_label as _unit_label

register = template.Library()


@register.filter
def unit_label(unit) -> str:
    return _unit_label(unit)

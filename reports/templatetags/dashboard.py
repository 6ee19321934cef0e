"""How the leadership pages show what the view-models hand them: status badges and colours,
links to the code-keyed pages and sparkline geometry. The view-models (``reports.dashboards``)
carry codes, labels and numbers only; the look lives here and in the templates, so that the PDF
briefing, the pages and the charts draw a status the same way."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from urllib.parse import quote, urlencode

from django import template
from django.urls import get_script_prefix, reverse
from django.utils import translation
from django.utils.html import format_html, json_script
from django.utils.safestring import mark_safe

from core.text import title_of

register = template.Library()

STATUS_ICONS = {
    "achieved": "✓",
    "on_track": "→",
    "substantial_progress": "→",
    "moderate_progress": "↗",
    "at_risk": "!",
    "limited_progress": "!",
    "off_track": "↓",
    "deterioration": "↓",
    "missed": "✗",
    "not_assessable": "?",
    "not_available": "?",
    "no_data": "○",
    "no_target": "·",
}
# Shown in the same colour in charts (the page's CSS and the PDF use the same values).
STATUS_COLORS = {
    "achieved": "#1a7f37",
    "on_track": "#1d4ed8",
    "substantial_progress": "#1d4ed8",
    "moderate_progress": "#0e7490",
    "at_risk": "#a15c07",
    "limited_progress": "#a15c07",
    "off_track": "#c2410c",
    "deterioration": "#b91c1c",
    "missed": "#7f1d1d",
    "not_assessable": "#6b7280",
    "not_available": "#6b7280",
    "no_data": "#9ca3af",
    "no_target": "#64748b",
}
GREY = "#6b7280"


def status_color(code: str | None) -> str:
    return STATUS_COLORS.get(code or "no_data", GREY)


def status_icon_of(code: str | None) -> str:
    return STATUS_ICONS.get(code or "no_data", "·")


@register.filter
def status_badge(status) -> str:
    """A status (anything with ``code`` and ``label``) as icon and word in the status colour:
    status is never shown by colour alone."""
    if status is None:
        return ""
    return format_html(
        '<span class="status st-{}"><span class="st-icon" aria-hidden="true">{}</span>{}</span>',
        status.code,
        status_icon_of(status.code),
        status.label,
    )


@register.filter
def status_icon(status) -> str:
    return status_icon_of(getattr(status, "code", status))


@register.simple_tag
def status_palette(element_id: str = "status-palette"):
    """The status colours for the charts (static/js/charts.js colours by status code)."""
    return json_script(STATUS_COLORS, element_id)


@register.simple_tag
def status_css():
    """``.st-<code> { color: … }`` rules for the PDF briefing (WeasyPrint reads its own
    stylesheet; no page CSP applies to it)."""
    # Fixed strings of this module only: nothing from a request reaches them.
    return mark_safe(
        "".join(f".st-{code} {{ color: {color}; }}\n" for code, color in STATUS_COLORS.items())
    )


@register.filter(name="title_of")
def title_filter(obj) -> str:
    """A plan's or goal's title in the active language."""
    return title_of(obj) if obj is not None else ""


@register.filter
def paren(text) -> str:
    """``（东委发〔2012〕14号）`` in Chinese, `` (…)`` in English: no full-width brackets in an
    English text."""
    if not text:
        return ""
    if translation.get_language() == "en":
        return f" ({text})"
    return f"（{text}）"


_PUNCTUATION = {
    "colon": ("：", ": "),
    "comma": ("、", ", "),
    "semicolon": ("；", "; "),
}


@register.simple_tag
def punct(name: str) -> str:
    """Full-width punctuation in Chinese, half-width in English (``{% punct "comma" %}``)."""
    zh, en = _PUNCTUATION[name]
    return en if translation.get_language() == "en" else zh


@register.filter
def join_list(items, name: str = "semicolon") -> str:
    return punct(name).join(str(i) for i in items)


# --- links to the code-keyed pages -----------------------------------------------------------

_CODE_SLOT = "__code__"


@lru_cache(maxsize=64)
def _url_pattern(name: str, script_prefix: str) -> str:
    return reverse(name, args=[_CODE_SLOT])


def url_for(name: str, code: str, **params) -> str:
    """``reverse(name, args=[code])`` for the code-keyed pages, resolved once per page name
    (tables link hundreds of rows), with the non-empty ``params`` as a query string."""
    url = _url_pattern(name, get_script_prefix()).replace(_CODE_SLOT, quote(code, safe=""))
    query = {k: v for k, v in params.items() if v}
    return f"{url}?{urlencode(query)}" if query else url


@register.simple_tag
def unit_url(code: str, as_of: str | None = "") -> str:
    return url_for("reports:unit", code, as_of=as_of)


@register.simple_tag
def city_url(code: str, as_of: str | None = "", **params) -> str:
    return url_for("reports:city", code, as_of=as_of, **params)


@register.simple_tag
def indicator_url(code: str, unit: str | None = "", as_of: str | None = "") -> str:
    return url_for("reports:indicator", code, unit=unit, as_of=as_of)


# --- sparklines ----------------------------------------------------------------------------


def sparkline(values: Sequence[float | None], target: float | None = None) -> dict | None:
    """Polyline points of a 100×24 sparkline (and the target's height), or None with < 2 points."""
    points = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(points) < 2:
        return None
    ys = [v for _i, v in points] + ([target] if target is not None else [])
    low, high = min(ys), max(ys)
    span = (high - low) or 1.0
    steps = max(len(values) - 1, 1)

    def y_of(v: float) -> float:
        return round(22 - (v - low) / span * 20, 2)

    coords = [(round(i / steps * 100, 2), y_of(v)) for i, v in points]
    return {
        "points": " ".join(f"{x},{y}" for x, y in coords),
        "last": coords[-1],
        "target_y": y_of(target) if target is not None else None,
    }


@register.inclusion_tag("reports/partials/spark.html")
def spark(line):
    """The sparkline of a table line (its values up to the as-of period, and its target)."""
    return {
        "spark": sparkline([v for _p, v in line.series], line.spark_target),
        "label": line.spark_label,
        "code": line.status.code,
    }

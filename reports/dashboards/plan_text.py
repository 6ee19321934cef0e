"""The plan-text page: a plan's document as the installation holds it (a folder of texts,
``settings.PLAN_TEXTS_DIR``; the plan's ``source`` names the file), with an indicator's quoted
clause highlighted. Nothing here trusts the file: the page escapes every character of it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from core.text import name_of, title_of
from targets.models import Indicator, Plan


def text_path(plan: Plan) -> Path | None:
    """The plan's text file in the configured folder, or None: no folder, no ``source``, a
    ``source`` that is not a plain file name (no path may leave the folder), or no such file."""
    folder = getattr(settings, "PLAN_TEXTS_DIR", "") or ""
    name = (plan.source or "").strip()
    if not folder or not name or Path(name).name != name or name.startswith("."):
        return None
    root = Path(folder).resolve()
    path = (root / name).resolve()
    if path.parent != root or not path.is_file():
        return None
    return path


def has_text(plan: Plan) -> bool:
    return text_path(plan) is not None


def _flexible(quote: str) -> re.Pattern | None:
    """The quote as a pattern that lets any whitespace (a line break in the capture) lie between
    its characters."""
    chars = [c for c in quote if not c.isspace()]
    if not chars:
        return None
    return re.compile(r"\s*".join(re.escape(c) for c in chars))


def find_quote(text: str, quote: str) -> list[tuple[int, int]]:
    """Where the quote lies in the text: one span when it is there verbatim (or with other
    whitespace), else one span for each part of a quote elided with …… that is found; [] when
    none is."""
    quote = (quote or "").strip()
    if not quote:
        return []
    at = text.find(quote)
    if at >= 0:
        return [(at, at + len(quote))]
    pattern = _flexible(quote)
    found = pattern.search(text) if pattern else None
    if found:
        return [found.span()]
    spans = []
    start = 0
    for part in re.split(r"…+|\.{3,}", quote):
        pattern = _flexible(part.strip())
        if pattern is None or len(part.strip()) < 4:
            continue
        found = pattern.search(text, start)
        if found:
            spans.append(found.span())
            start = found.end()
    return spans


@dataclass(slots=True)
class PlanText:
    plan: Plan
    title: str
    issuer: str
    indicator: Indicator | None
    indicator_name: str
    segments: list[dict]
    """The text cut at the quote's bounds: ``text``, ``mark`` (highlighted) and ``anchor`` (the
    first highlighted part, which the indicator page's link scrolls to)."""
    found: bool


def plan_text(*, plan: Plan, indicator: Indicator | None = None) -> PlanText | None:
    """The plan's text with ``indicator``'s quote highlighted; None when the installation holds
    no text for the plan."""
    path = text_path(plan)
    if path is None:
        return None
    text = path.read_text(encoding="utf-8", errors="replace")
    spans = find_quote(text, indicator.quote) if indicator is not None else []
    segments: list[dict] = []
    at = 0
    for n, (start, end) in enumerate(spans):
        segments.append({"text": text[at:start], "mark": False, "anchor": False})
        segments.append({"text": text[start:end], "mark": True, "anchor": n == 0})
        at = end
    segments.append({"text": text[at:], "mark": False, "anchor": False})
    return PlanText(
        plan=plan,
        title=title_of(plan),
        issuer=name_of(plan, "issuer_zh", "issuer_en"),
        indicator=indicator,
        indicator_name=name_of(indicator) if indicator is not None else "",
        segments=[s for s in segments if s["text"]],
        found=bool(spans),
    )

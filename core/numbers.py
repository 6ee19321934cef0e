"""Number formatting, once: how a stored value is typed back, how messages quote a number, and
how pages show a figure to people."""

from __future__ import annotations

import math
from decimal import Decimal


def plain(value: Decimal | None) -> str:
    """A stored value as an official would type it: ``12000``, ``85.5``; empty for none."""
    if value is None:
        return ""
    return format(value.normalize(), "f")


def plain_text(number: Decimal) -> str:
    """A checked value as an upload row carries it: exact decimal text in plain notation."""
    return format(number, "f")


def shown_number(number: float | Decimal | str) -> str:
    """A number as error and warning messages show it: 15 significant digits for a float, the
    plain decimal without trailing zeros otherwise."""
    if isinstance(number, float):
        return f"{number:.15g}"
    return format(Decimal(number).normalize(), "f")


def format_number(value: Decimal | float | None) -> str:
    """A figure for people: thousands separated, at most two decimals, no trailing zeros."""
    if value is None:
        return "—"
    number = float(value)
    if not math.isfinite(number):
        return "—"
    magnitude = abs(number)
    if magnitude >= 1000:
        return f"{number:,.0f}"
    text = f"{number:,.1f}" if magnitude >= 100 else f"{number:.2f}"
    text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def with_unit(text: str, unit: str) -> str:
    """A formatted figure with its unit: ``85.5%``, ``12 名``."""
    if text == "—" or not unit:
        return text
    return f"{text}{unit}" if unit in ("%", "‰", "‱") else f"{text} {unit}"


def as_float(value: Decimal | float | None) -> float | None:
    """A finite float for charts and spreadsheets, or None."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None

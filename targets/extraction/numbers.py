"""Numbers as Chinese plans write them: 12%, ５０, 1.5万, 百分之八十, 三分之一, 一半, 十二.

Every reader returns the value and the exact span it read, so a candidate can point at the
characters it came from. Full-width digits are read in place (never normalised away), so spans
stay offsets into the text as read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

import cn2an

DIGITS = "0-9０-９"
CN_DIGITS = "零〇一二两三四五六七八九十百千万"
_FULL = str.maketrans("０１２３４５６７８９．，", "0123456789.,")

# An Arabic number with an optional decimal part and an optional 万/千/亿 multiplier.
ARABIC = rf"[{DIGITS}]+(?:[.．][{DIGITS}]+)?(?:\s*[万亿])?"
CHINESE = rf"[{CN_DIGITS}]+(?:点[{CN_DIGITS}]+)?"
PERCENT_WORDS = rf"百分之(?:{CHINESE}|{ARABIC})"
FRACTION = rf"[{CN_DIGITS}]+分之[{CN_DIGITS}]+"
HALF = "一半|半数"


@dataclass(frozen=True)
class Number:
    value: Decimal
    start: int
    end: int
    text: str
    percent: bool = False  # the form itself says “per cent” (百分之…, 三分之一, 一半)
    written: str = "arabic"  # arabic, chinese, percent_words, fraction, half


def _quantize(value: Decimal) -> Decimal:
    value = value.quantize(Decimal("0.01")) if value != value.to_integral_value() else value
    return value.normalize() if value == value.to_integral_value() else value


def chinese_value(text: str) -> Decimal | None:
    """十二 → 12, 两 → 2, 一百二十 → 120, 七点五 → 7.5; None when it is not a numeral."""
    try:
        return Decimal(str(cn2an.cn2an(text, "smart")))
    except (ValueError, KeyError, IndexError):
        return None


def arabic_value(text: str) -> Decimal:
    plain = re.sub(r"\s+", "", text.translate(_FULL))
    factor = Decimal(1)
    if plain and plain[-1] in "万千亿":
        factor = {"万": Decimal(10000), "千": Decimal(1000), "亿": Decimal(10) ** 8}[plain[-1]]
        plain = plain[:-1]
    value = Decimal(plain) * factor
    return value.to_integral_value() if value == value.to_integral_value() else value.normalize()


def read_number(text: str, start: int = 0) -> Number | None:
    """The number written at ``text[start:]`` (any form), or None."""
    for pattern, kind in _READERS:
        match = pattern.match(text, start)
        if match:
            number = _convert(match, kind)
            if number is not None:
                return number
    return None


def _convert(match: re.Match, kind: str) -> Number | None:
    raw = match.group(0)
    s, e = match.span()
    if kind == "arabic":
        return Number(arabic_value(raw), s, e, raw)
    if kind == "percent_words":
        body = raw[len("百分之") :]
        value = chinese_value(body) if re.fullmatch(CHINESE, body) else arabic_value(body)
        return None if value is None else Number(value, s, e, raw, True, kind)
    if kind == "fraction":
        denominator, _, numerator = raw.partition("分之")
        d, n = chinese_value(denominator), chinese_value(numerator)
        if not d or n is None:
            return None
        return Number(_quantize(n * 100 / d), s, e, raw, True, kind)
    if kind == "half":
        return Number(Decimal(50), s, e, raw, True, kind)
    value = chinese_value(raw)
    return None if value is None else Number(value, s, e, raw, False, "chinese")


_READERS = [
    (re.compile(PERCENT_WORDS), "percent_words"),
    (re.compile(FRACTION), "fraction"),
    (re.compile(HALF), "half"),
    (re.compile(ARABIC), "arabic"),
    (re.compile(CHINESE), "chinese"),
]

# Any written number, for finding them inside a sentence.
ANY_NUMBER = rf"(?:{PERCENT_WORDS}|{FRACTION}|{HALF}|{ARABIC}|{CHINESE})"

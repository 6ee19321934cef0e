"""What a value may be (SPEC §4.3): the one place for the rules a value is held to, whether it
comes from an uploaded file (:mod:`districts.intake.validator`, and the SQL checks of
:mod:`districts.intake.checks`), the entry grid (:mod:`districts.services`,
:func:`districts.selectors.outlier_note`) or the API — and for the words each rule is explained in.

Pure: no ORM, no clock.

* the element rule: :class:`ElementRule` / :func:`element_rule`;
* numbers: :func:`parse_number`, :func:`check_value` (type, sign, percent range, size, rounding
  to the column's :data:`DECIMAL_PLACES`);
* ``not_above``: a value may not exceed its ``not_above`` element's for the same unit and period
  (:func:`not_above_reason`, :func:`not_above_violation`);
* outliers: over :data:`OUTLIER_FACTOR` times or under 1/:data:`OUTLIER_FACTOR` of the previous
  period's value deserves a second look (:func:`outlier_kind`, :func:`outlier_reason`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from core.numbers import shown_number
from core.text import bilingual

NUMBER = "number"
INTEGER = "integer"
BOOLEAN = "boolean"
PERCENT = "percent"
VALUE_TYPES = (NUMBER, INTEGER, BOOLEAN, PERCENT)

DECIMAL_PLACES = 6
"""Matches ``DataValue.value`` (``max_digits=20, decimal_places=6``)."""
MAX_ABS = Decimal(10) ** (20 - DECIMAL_PLACES)
OUTLIER_FACTOR = 3

# Units whose values count things, so a negative value is a typing error.
COUNT_UNITS = frozenset(
    {
        "persons",
        "person",
        "people",
        "households",
        "household",
        "families",
        "organisations",
        "organizations",
        "units",
        "items",
        "beds",
        "places",
        "count",
        "人",
        "人次",
        "名",
        "户",
        "家",
        "个",
        "所",
        "张",
        "床",
        "处",
        "项",
        "件",
        "间",
        "座",
        "次",
    }
)

BOOLEAN_WORDS = {
    "1": 1,
    "0": 0,
    "是": 1,
    "否": 0,
    "有": 1,
    "无": 0,
    "true": 1,
    "false": 0,
    "yes": 1,
    "no": 0,
    "y": 1,
    "n": 0,
}


@dataclass(frozen=True, slots=True)
class ElementRule:
    """What the validator needs to know about one data element."""

    code: str
    value_type: str  # number | integer | boolean | percent
    period_type: str  # year | quarter | month
    unit: str = ""
    not_above: str | None = None  # code of the element this one may not exceed
    id: int | None = None

    @property
    def counts_things(self) -> bool:
        """Integers and values in persons, households, … may not be negative."""
        return self.value_type == INTEGER or self.unit.strip().casefold() in COUNT_UNITS


def element_rule(element) -> ElementRule:
    """The validator's view of a data element (any object with the DataElement fields), so a
    form cell, an API value and a file cell are read by the same rules."""
    return ElementRule(
        code=element.code,
        value_type=element.value_type,
        period_type=element.period_type,
        unit=element.unit,
        not_above=element.not_above.code if element.not_above_id else None,
        id=element.id,
    )


# --------------------------------------------------------------------------------------------
# Numbers

_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_GROUPED_NUMBER = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?")
_QUANTUM = Decimal(1).scaleb(-DECIMAL_PLACES)
_ONE = Decimal(1)
_TOO_LARGE = bilingual(
    f"数值过大（须小于 1e{20 - DECIMAL_PLACES}）",
    f"value too large: must be below 1e{20 - DECIMAL_PLACES}",
)


def parse_number(text: str) -> tuple[Decimal, bool]:
    """``" １,２３４．５ "`` → ``(Decimal("1234.5"), False)``; ``"15%"`` → ``(15, True)``.

    Accepts surrounding spaces, full-width digits and signs, thousands separators (``1,234``,
    ``1，234``) and scientific notation; the flag says whether a ``%`` followed the number.
    Raises ``ValueError`` with the bilingual reason otherwise.
    """
    s = text if text.isascii() else unicodedata.normalize("NFKC", text).replace("\u2212", "-")
    s = s.strip()
    percent = s.endswith("%")
    if percent:
        s = s[:-1].rstrip()
    if "," in s:
        if not _GROUPED_NUMBER.fullmatch(s):
            raise ValueError(
                bilingual(
                    "不是数字：千分位逗号位置不对", "not a number: misplaced thousands separator"
                )
            )
        s = s.replace(",", "")
    if not _PLAIN_NUMBER.fullmatch(s):
        raise ValueError(bilingual("不是数字", "not a number"))
    try:
        return Decimal(s), percent
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid literals
        raise ValueError(bilingual("不是数字", "not a number")) from None


def check_value(text: str, rule: ElementRule) -> Decimal:
    """The value ``text`` stands for under ``rule``, or ``ValueError`` with the reason."""
    return value_checker(rule.value_type, rule.counts_things, rule.unit)(text)


def value_checker(value_type: str, counts_things: bool, unit: str):
    def check(text: str) -> Decimal:
        if not text.strip():
            raise ValueError(bilingual("数值为空", "value is empty"))
        if value_type == BOOLEAN:
            word = unicodedata.normalize("NFKC", text).strip().casefold()
            if word in BOOLEAN_WORDS:
                return Decimal(BOOLEAN_WORDS[word])
            try:
                number, percent = parse_number(text)
            except ValueError:
                number, percent = None, False
            if number is None or percent or number not in (0, 1):
                raise ValueError(
                    bilingual(
                        "是/否型数据项应填 1/0、是/否、true/false 或 yes/no",
                        "boolean element: use 1/0, 是/否, true/false or yes/no",
                    )
                )
            return Decimal(int(number))
        number, percent = parse_number(text)
        if percent and value_type != PERCENT:
            raise ValueError(
                bilingual("只有百分比型数据项可以带 %", "“%” is only allowed for percent elements")
            )
        if value_type == INTEGER:
            if number != number.to_integral_value():
                raise ValueError(
                    bilingual("整数型数据项不能有小数", "integer element: no fractions allowed")
                )
            number = number.to_integral_value()  # 12.0 → 12
        if number < 0:
            if value_type == INTEGER:
                raise ValueError(
                    bilingual("整数型数据项不能为负数", "negative not allowed for integer elements")
                )
            if value_type == PERCENT:
                raise ValueError(bilingual("百分比不能小于 0", "percent must be between 0 and 100"))
            if counts_things:
                raise ValueError(
                    bilingual(
                        f"以“{unit}”计的数值不能为负数",
                        f"negative not allowed for a count in {unit}",
                    )
                )
        if value_type == PERCENT and number > 100:
            raise ValueError(bilingual("百分比不能超过 100", "percent must be between 0 and 100"))
        if abs(number) >= MAX_ABS:
            raise ValueError(_TOO_LARGE)
        exponent = number.as_tuple().exponent
        if exponent > 0:  # 1.5E+3 → 1500: plain notation
            number = number.quantize(_ONE)
        elif exponent < -DECIMAL_PLACES:
            rounded = number.quantize(_QUANTUM, rounding=ROUND_HALF_UP)
            # Checked again once rounded, as stored: 99999999999999.9999995 becomes 1e14,
            # which the column cannot hold; and a value that is not 0 is never stored as 0.
            if abs(rounded) >= MAX_ABS:
                raise ValueError(_TOO_LARGE)
            if not rounded and number:
                raise ValueError(
                    bilingual(
                        f"数值过小：按 {DECIMAL_PLACES} 位小数保存会变成 0",
                        f"value too small: it would be stored as 0 with {DECIMAL_PLACES} decimal places",
                    )
                )
            number = rounded
        if not number:
            number = abs(number)  # no "-0"
        return number

    return check


def number_or_word(text: str) -> bool:
    """Whether ``text`` could be a value of some element type (used when the element is
    unknown, so that a non-number is still reported)."""
    if unicodedata.normalize("NFKC", text).strip().casefold() in BOOLEAN_WORDS:
        return True
    try:
        parse_number(text)
    except ValueError:
        return False
    return True


def not_above_reason(
    other: str, limit, limit_line: int | None = None, *, from_form: bool = False
) -> str:
    """Why a value is refused for exceeding ``other``'s ``limit`` for the same unit and period:
    the limit came from line ``limit_line`` of the file, from the same entry form
    (``from_form``), else it is the stored value."""
    if limit_line:
        where_zh, where_en = f"第 {limit_line} 行", f"line {limit_line}"
    elif from_form:
        where_zh, where_en = "本表", "this form"
    else:
        where_zh, where_en = "已有数据", "stored value"
    return bilingual(
        f"不能大于同一单位同一期间的 {other}（{where_zh}：{shown_number(limit)}）",
        f"may not exceed {other} for the same org unit and period ({where_en}: {shown_number(limit)})",
    )


def not_above_violation(
    value: Decimal,
    limit: Decimal | None,
    *,
    other: str,
    limit_line: int | None = None,
    from_form: bool = False,
) -> str | None:
    """The reason ``value`` breaks the ``not_above`` rule against ``other``'s ``limit`` (None
    when there is no limit to compare with), or ``None`` when it keeps to it. The entry grid and
    the API call this with the form's or the stored limit."""
    if limit is None or value <= limit:
        return None
    return not_above_reason(other, limit, limit_line, from_form=from_form)


def outlier_kind(current, previous) -> str | None:
    """``"high"`` when ``current`` is over :data:`OUTLIER_FACTOR` times the previous period's
    value, ``"low"`` when under 1/:data:`OUTLIER_FACTOR` of it, else ``None``. Only positive
    previous values and non-negative current ones are compared (a change of sign or from zero is
    not a ratio). Floats or Decimals, both the same type."""
    if current is None or previous is None or previous <= 0 or current < 0:
        return None
    if current > OUTLIER_FACTOR * previous:
        return "high"
    if current * OUTLIER_FACTOR < previous:
        return "low"
    return None


def outlier_reason(
    current: float, previous: float, period: str, from_line: int | None
) -> str | None:
    """Why ``current`` deserves a second look against the previous period's value (from line
    ``from_line`` of the file, else the stored one), or ``None`` (:func:`outlier_kind`)."""
    kind = outlier_kind(current, previous)
    if kind is None:
        return None
    where_zh = f"第 {from_line} 行" if from_line else "已有数据"
    where_en = f"line {from_line}" if from_line else "stored value"
    shown = shown_number(previous)
    if kind == "high":
        return bilingual(
            f"比上期 {period}（{where_zh}：{shown}）高出 {OUTLIER_FACTOR} 倍以上，请核对",
            f"more than {OUTLIER_FACTOR}× the previous period {period} ({where_en}: {shown})",
        )
    return bilingual(
        f"不到上期 {period}（{where_zh}：{shown}）的三分之一，请核对",
        f"less than a third of the previous period {period} ({where_en}: {shown})",
    )

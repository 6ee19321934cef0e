"""Reporting periods: a year (``2015``), a quarter (``2015Q3``) or a month (``2015-07``).

Periods are parsed once into :class:`Period` and compared, ordered and converted to dates
through it, so no other module parses period strings by hand.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from core.text import bilingual

YEAR = "year"
QUARTER = "quarter"
MONTH = "month"
PERIOD_TYPES = (YEAR, QUARTER, MONTH)

_YEAR_RE = re.compile(r"^(\d{4})$")
_QUARTER_RE = re.compile(r"^(\d{4})\s*[Qq]([1-4])$")
_MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})$")
_ZH_YEAR_RE = re.compile(r"^(\d{4})年$")
_ZH_QUARTER_RE = re.compile(r"^(\d{4})年第?([1-4一二三四])季度$")
_ZH_MONTH_RE = re.compile(r"^(\d{4})年(\d{1,2})月$")
_ZH_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4}


class PeriodError(ValueError):
    """A period string that is not a year, quarter or month."""


@dataclass(frozen=True, order=True, slots=True)
class Period:
    """One reporting period. ``index`` is the quarter (1–4) or month (1–12); 0 for a year."""

    year: int
    type_rank: int  # orders a year's months and quarters before the year itself ends
    index: int

    @property
    def period_type(self) -> str:
        return {0: MONTH, 1: QUARTER, 2: YEAR}[self.type_rank]

    @classmethod
    def year_of(cls, year: int) -> Period:
        return cls(year, 2, 0)

    @classmethod
    def quarter_of(cls, year: int, quarter: int) -> Period:
        if not 1 <= quarter <= 4:
            raise PeriodError(f"quarter {quarter} is not 1–4")
        return cls(year, 1, quarter)

    @classmethod
    def month_of(cls, year: int, month: int) -> Period:
        if not 1 <= month <= 12:
            raise PeriodError(f"month {month} is not 1–12")
        return cls(year, 0, month)

    @classmethod
    def parse(cls, text: str | int) -> Period:
        """Parse ``2015``, ``2015Q3`` or ``2015-07`` (and the Chinese ``2015年``, ``2015年第3季度``,
        ``2015年7月``). Raises :class:`PeriodError` with the reason."""
        raw = str(text).strip()
        if m := _YEAR_RE.match(raw) or _ZH_YEAR_RE.match(raw):
            year = int(m.group(1))
            _check_year(year, raw)
            return cls.year_of(year)
        if m := _QUARTER_RE.match(raw) or _ZH_QUARTER_RE.match(raw):
            q = m.group(2)
            year = int(m.group(1))
            _check_year(year, raw)
            return cls.quarter_of(year, _ZH_DIGITS.get(q) or int(q))  # 1–4 by the pattern
        if m := _MONTH_RE.match(raw) or _ZH_MONTH_RE.match(raw):
            year = int(m.group(1))
            _check_year(year, raw)
            month = int(m.group(2))
            if not 1 <= month <= 12:
                raise PeriodError(f"“{raw}”: month {month} is not 1–12")
            return cls.month_of(year, month)
        raise PeriodError(f"“{raw}” is not a period: use 2015, 2015Q3 or 2015-07")

    def __str__(self) -> str:
        if self.type_rank == 2:
            return f"{self.year}"
        if self.type_rank == 1:
            return f"{self.year}Q{self.index}"
        return f"{self.year}-{self.index:02d}"

    @property
    def start(self) -> date:
        if self.type_rank == 2:
            return date(self.year, 1, 1)
        if self.type_rank == 1:
            return date(self.year, 3 * self.index - 2, 1)
        return date(self.year, self.index, 1)

    @property
    def end(self) -> date:
        """The last day of the period: the date progress at this period is measured on."""
        if self.type_rank == 2:
            return date(self.year, 12, 31)
        last_month = 3 * self.index if self.type_rank == 1 else self.index
        return date(self.year, last_month, calendar.monthrange(self.year, last_month)[1])

    def contains(self, other: Period) -> bool:
        """Whether ``other`` lies inside this period (a period contains itself)."""
        return self.start <= other.start and other.end <= self.end

    def year_period(self) -> Period:
        return Period.year_of(self.year)

    def previous(self) -> Period:
        """The period of the same type just before this one."""
        if self.type_rank == 2:
            return Period.year_of(self.year - 1)
        if self.type_rank == 1:
            return (
                Period.quarter_of(self.year, self.index - 1)
                if self.index > 1
                else Period.quarter_of(self.year - 1, 4)
            )
        return (
            Period.month_of(self.year, self.index - 1)
            if self.index > 1
            else Period.month_of(self.year - 1, 12)
        )


def _check_year(year: int, raw: str) -> None:
    if not 1900 <= year <= 2100:
        raise PeriodError(f"“{raw}”: year {year} is outside 1900–2100")


def period_for_date(day: date, period_type: str) -> Period:
    """The period of ``period_type`` that contains ``day``."""
    if period_type == YEAR:
        return Period.year_of(day.year)
    if period_type == QUARTER:
        return Period.quarter_of(day.year, (day.month - 1) // 3 + 1)
    if period_type == MONTH:
        return Period.month_of(day.year, day.month)
    raise PeriodError(f"unknown period type {period_type!r}")


_EXCEL_DATE = re.compile(r"([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})(?: 00:00(?::00)?)?")


def parse_period(text: str) -> Period:
    """A period as typed in a values file; ``PeriodError`` with a bilingual reason otherwise.

    Besides what :meth:`Period.parse` reads, the first day of a month written as a date
    (``2015-07-01``, ``2015/7/1``) is that month: Excel turns a typed ``2015-07`` into one.
    """
    s = text.strip()
    if not s.isascii():
        s = unicodedata.normalize("NFKC", s)
    if not s:
        raise PeriodError(bilingual("期间为空", "period is empty"))
    try:
        return Period.parse(s)
    except PeriodError as exc:
        if m := _EXCEL_DATE.fullmatch(s):
            year, month, day = (int(g) for g in m.groups())
            if day == 1:
                try:
                    return Period.parse(f"{year}-{month:02d}")
                except PeriodError:
                    pass
        raise PeriodError(
            bilingual("期间格式不对，应为 2015、2015Q3 或 2015-07", str(exc))
        ) from None

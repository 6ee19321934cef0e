"""Deadlines as plans write them: 到2015年, 2013年底前, “十二五”期末, 3年内, 每年, 9月15日—30日.

A deadline is a date (the end of the year unless the text names a day), the span of the words
that say it, the rule that read it, and whether the target recurs every year.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from .numbers import DIGITS, arabic_value, chinese_value

# The end of each Five-Year Plan: 十二五期末 = 2015-12-31 (SPEC §2).
FIVE_YEAR_PLANS = {"十一五": 2010, "十二五": 2015, "十三五": 2020, "十四五": 2025, "十五五": 2030}

_Y = rf"(?P<year>(?:19|20)[{DIGITS}]{{2}}|[１２][０-９]{{3}})"
_Q = "[“”\"'‘’「」]?"
_S = r"[ \t\u3000]*"


@dataclass(frozen=True)
class Deadline:
    day: date
    start: int
    end: int
    rule: str
    recurring: bool = False
    explicit: bool = True  # read from the words of the text (not the plan's horizon)


def _year(match: re.Match) -> int:
    return int(arabic_value(match.group("year")))


def _year_end(year: int) -> date:
    return date(year, 12, 31)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


_PATTERNS: list[tuple[str, re.Pattern]] = [
    # 2013年9月30日前, 到2015年6月底
    (
        "date.day",
        re.compile(
            rf"(?:到|至|于|在)?{_S}{_Y}{_S}年{_S}(?P<month>[{DIGITS}]{{1,2}}){_S}月"
            rf"(?:{_S}(?P<mday>[{DIGITS}]{{1,2}}){_S}日|(?P<mend>底|末))(?:前|之前|以前)?"
        ),
    ),
    # 到2015年, 到2015年底, 2013年底前, 2012年年底, 力争在2015年前
    (
        "date.year",
        re.compile(
            rf"(?:到|至|于|在|截至)?{_S}{_Y}{_S}年(?:{_S}(?:年?底|年?末))?"
            rf"(?:前|之前|以前|起|开始)?"
        ),
    ),
    # “十二五”期末, 十三五末, “十四五”时期
    (
        "date.five_year_plan",
        re.compile(
            rf"(?:到|至|在)?{_S}{_Q}(?P<fyp>十[一二三四五]五){_Q}{_S}"
            r"(?:规划)?(?:期末|末期|末|期间|时期|期内|内)?"
        ),
    ),
    # 3年内, 三年内, 用3年时间
    (
        "date.within_years",
        re.compile(rf"(?P<n>[{DIGITS}]+|[一二两三四五六七八九十]){_S}年(?:内|之内|时间内)"),
    ),
]

RECURRING = re.compile(r"每年|逐年|年均|每一年|每年度")
_MONTH_DAY_RANGE = re.compile(
    rf"(?P<m1>[{DIGITS}]{{1,2}})月(?P<d1>[{DIGITS}]{{1,2}})日{_S}[—\-–~～至到]+{_S}"
    rf"(?:(?P<m2>[{DIGITS}]{{1,2}})月)?(?P<d2>[{DIGITS}]{{1,2}})日"
)


def find_deadlines(
    text: str, start: int, end: int, *, issued: date | None, year: int | None = None
) -> list[Deadline]:
    """Every deadline written in ``text[start:end]``, in reading order, without overlaps.
    ``year`` dates a timeline's 9月15日—30日 (default: the issue year)."""
    year = year or (issued.year if issued else None)
    found: list[Deadline] = []
    taken: list[tuple[int, int]] = []

    def free(s: int, e: int) -> bool:
        return all(e <= ts or s >= te for ts, te in taken)

    for rule, pattern in _PATTERNS:
        for m in pattern.finditer(text, start, end):
            s, e = m.span()
            if not free(s, e):
                continue
            day = _read(rule, m, issued)
            if day is None:
                continue
            taken.append((s, e))
            found.append(Deadline(day, s, e, rule))
    if year is not None:
        for m in _MONTH_DAY_RANGE.finditer(text, start, end):
            if not free(*m.span()):
                continue
            month = int(arabic_value(m.group("m2") or m.group("m1")))
            mday = int(arabic_value(m.group("d2")))
            try:
                day = date(year, month, mday)
            except ValueError:
                continue
            taken.append(m.span())
            found.append(Deadline(day, m.start(), m.end(), "date.month_day_range"))
    found.sort(key=lambda d: d.start)
    return found


def _read(rule: str, m: re.Match, issued: date | None) -> date | None:
    if rule == "date.day":
        year, month = _year(m), int(arabic_value(m.group("month")))
        if not 1 <= month <= 12:
            return None
        if m.group("mday"):
            try:
                return date(year, month, int(arabic_value(m.group("mday"))))
            except ValueError:
                return None
        return _month_end(year, month)
    if rule == "date.year":
        year = _year(m)
        return _year_end(year) if 1990 <= year <= 2060 else None
    if rule == "date.five_year_plan":
        return _year_end(FIVE_YEAR_PLANS[m.group("fyp")])
    if rule == "date.within_years":
        if issued is None:
            return None
        raw = m.group("n")
        n = int(chinese_value(raw) if raw[0] in "一二两三四五六七八九十" else arabic_value(raw))
        if not 1 <= n <= 20:
            return None
        try:
            return issued.replace(year=issued.year + n)
        except ValueError:  # 29 February
            return issued.replace(year=issued.year + n, day=28)
    return None


def horizon_of(deadlines: list[date], issued: date | None) -> date | None:
    """The plan's horizon when its editor gives none: the deadline its targets name most often
    (ties: the later), else the end of the Five-Year Plan the issue date falls in."""
    if deadlines:
        counts: dict[int, int] = {}
        for d in deadlines:
            counts[d.year] = counts.get(d.year, 0) + 1
        year = max(counts, key=lambda y: (counts[y], y))
        return _year_end(year)
    if issued is not None:
        end = 2015 + 5 * ((issued.year - 2011) // 5)
        return _year_end(end)
    return None

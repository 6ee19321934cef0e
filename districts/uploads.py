"""Parsing and validating a data-values file (SPEC §4.3). Pure: no ORM, no clock.

The caller passes plain lookups (elements, org units, the uploader's scope, locked periods and,
optionally, the values already stored) and gets back every valid row, every error and every
warning. A file is all-or-nothing: the caller writes nothing when ``report.errors_total`` is not 0.

Two entry points:

* :func:`validate_values` — the whole file at once; ``report.rows`` holds every valid row.
* :class:`ValuesValidator` — ``for chunk in validator.chunks(source): …`` yields valid rows in
  chunks so the database layer can COPY them without holding a million objects. Errors found
  only once the whole file is read (a value above its ``not_above`` element that comes later in
  the file) arrive in ``validator.report`` after the last chunk: write inside a transaction and
  roll back unless ``validator.report.ok`` once the iterator is exhausted.

A valid row is a plain tuple, in this order (see :data:`ValueRow`)::

    (element_code, org_unit_code, period, value, comment, line, element_id, org_unit_id)

``period`` is canonical (``2015``, ``2015Q3``, ``2015-07``); ``value`` is a :class:`Decimal` in
plain notation, rounded half-up to :data:`DECIMAL_PLACES` places like the database column;
``element_id`` is :attr:`ElementRule.id` and ``org_unit_id`` the id from ``org_units``.

Only the first ``max_errors`` (default :data:`MAX_ERRORS`) errors and warnings are kept in
detail, so a file that is wrong on every one of its million lines still fits in memory; the
rest are counted in ``errors_total`` / ``warnings_total``.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from array import array
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .periods import MONTH, Period, PeriodError
from .tabular import (
    ColumnMap,
    RowError,
    Source,
    TabularError,
    bilingual,
    is_blank,
    map_columns,
    open_table,
)

NUMBER = "number"
INTEGER = "integer"
BOOLEAN = "boolean"
PERCENT = "percent"
VALUE_TYPES = (NUMBER, INTEGER, BOOLEAN, PERCENT)

VALUE_ALIASES: dict[str, tuple[str, ...]] = {
    "org_unit": ("单位代码", "单位", "org unit code", "org_unit_code"),
    "period": ("期间", "时期", "报告期"),
    "element": ("数据项", "数据项代码", "data element"),
    "value": ("数值", "值"),
    "comment": ("备注", "说明"),
}
VALUE_REQUIRED = ("org_unit", "period", "element", "value")

MAX_ERRORS = 10_000
"""Errors (and, separately, warnings) kept in detail; the rest are only counted."""
CHUNK_ROWS = 50_000
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

# period type → (Chinese, English noun, English with article)
_PERIOD_NAMES = {
    "year": ("年", "year", "a year"),
    "quarter": ("季度", "quarter", "a quarter"),
    "month": ("月", "month", "a month"),
}

ValueRow = tuple[str, str, str, Decimal, str, int, "int | None", int]
"""(element_code, org_unit_code, period, value, comment, line, element_id, org_unit_id)"""


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


@dataclass
class ValuesReport:
    """What validating one file found. ``ok`` is the all-or-nothing verdict."""

    rows: list[ValueRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    rows_total: int = 0  # data rows read (blank rows are not counted)
    rows_valid: int = 0
    rows_invalid: int = 0  # rows with at least one error
    errors_total: int = 0  # every error, including those past the detail cap
    warnings_total: int = 0
    columns: dict[str, str] = field(default_factory=dict)  # canonical name → header in file
    file_format: str = ""
    encoding: str | None = None

    @property
    def ok(self) -> bool:
        return self.errors_total == 0

    @property
    def errors_truncated(self) -> bool:
        return self.errors_total > len(self.errors)


# --------------------------------------------------------------------------------------------
# Numbers

_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_GROUPED_NUMBER = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?")
_QUANTUM = Decimal(1).scaleb(-DECIMAL_PLACES)
_ONE = Decimal(1)


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
    return _value_checker(rule.value_type, rule.counts_things, rule.unit)(text)


def _value_checker(value_type: str, counts_things: bool, unit: str):
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
        if value_type == INTEGER and number != number.to_integral_value():
            raise ValueError(
                bilingual("整数型数据项不能有小数", "integer element: no fractions allowed")
            )
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
            raise ValueError(
                bilingual(
                    f"数值过大（须小于 1e{20 - DECIMAL_PLACES}）",
                    f"value too large: must be below 1e{20 - DECIMAL_PLACES}",
                )
            )
        exponent = number.as_tuple().exponent
        if exponent > 0:  # 1.5E+3 → 1500: plain notation
            number = number.quantize(_ONE)
        elif exponent < -DECIMAL_PLACES:
            number = number.quantize(_QUANTUM, rounding=ROUND_HALF_UP)
        if not number:
            number = abs(number)  # no "-0"
        return number

    return check


def _shown(number: float | Decimal) -> str:
    return f"{number:.15g}" if isinstance(number, float) else format(number.normalize(), "f")


# --------------------------------------------------------------------------------------------
# Periods

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


# --------------------------------------------------------------------------------------------
# Validation

# Cache entries, as tuples for speed: element (E_*), org unit (U_*), period (P_*).
E_CODE, E_KEY, E_PTYPE, E_ID, E_CACHE, E_CHECK, E_FAST, E_PERCENT, E_TRACK, E_OUTLIERS = range(10)
U_CODE, U_ID, U_KEY, U_IN_SCOPE = range(4)
P_CANON, P_TYPE, P_KEY, P_PREV_KEY, P_NEXT_KEY, P_PREV, P_LOCKED = range(7)

# A (element, org unit, period) key is one int: org unit id << 40 | period index << 20 |
# element index. Ints hash fast and cost far less memory than 3-tuples of strings.
_UNIT_SHIFT = 40
_PERIOD_SHIFT = 20
_FIELD_MASK = (1 << 20) - 1
_VALUE_CACHE_LIMIT = 200_000


class ValuesValidator:
    """Validates data-values files against fixed lookups; reusable for several files.

    ``elements``: code → :class:`ElementRule`. ``org_units``: code → id. ``scope``: the codes of
    the org units the uploader may write, or ``None`` for no restriction (administrators).
    ``existing``: ``(element, org_unit, period)`` → stored value, used for outlier warnings and
    for ``not_above`` when the file lacks the other element. ``locked``: ``(org_unit, period)``
    pairs that may not be written; ``locked_periods``: periods locked for every unit.
    """

    def __init__(
        self,
        *,
        elements: Mapping[str, ElementRule],
        org_units: Mapping[str, int],
        scope: Collection[str] | None = None,
        existing: Mapping[tuple[str, str, str], Decimal] | None = None,
        locked: Collection[tuple[str, str]] = (),
        locked_periods: Collection[str] = (),
        max_errors: int = MAX_ERRORS,
    ):
        self.elements = elements
        self.org_units = org_units
        self.scope = scope
        self.existing = existing or {}
        self.locked = locked
        self.locked_periods = locked_periods
        self.max_errors = max_errors
        self.report = ValuesReport()
        # The element codes some other element may not exceed, and who refers to them.
        self._referenced = {r.not_above for r in elements.values() if r.not_above}
        self._element_cache: dict[str, tuple | bool] = {}
        self._element_list: list[tuple] = []
        self._element_entries: dict[str, tuple] = {}
        self._unit_cache: dict[str, tuple | bool] = {}
        self._unit_codes: dict[int, str] = {}
        self._period_cache: dict[str, tuple | bool] = {}
        self._period_index: dict[str, int] = {}
        self._period_list: list[str] = []
        self._value_caches: dict[tuple, dict] = {}

    # -- lookups, each cached per distinct raw string -----------------------------------------

    def _element(self, raw: str) -> tuple | bool:
        rule = self.elements.get(raw) or self.elements.get(raw.strip())
        entry: tuple | bool = False
        if rule is not None:
            entry = self._element_entries.get(rule.code) or self._element_entry(rule)
        self._element_cache[raw] = entry
        return entry

    def _element_entry(self, rule: ElementRule) -> tuple:
        kind = (rule.value_type, rule.counts_things, rule.unit)
        cache = self._value_caches.setdefault(kind, {})
        index = len(self._element_list)
        if index > _FIELD_MASK:  # pragma: no cover - a million element codes in one file
            raise TabularError(bilingual("数据项过多", "too many distinct elements in one file"))
        entry = (
            rule.code,
            index,
            rule.period_type,
            rule.id,
            cache,
            _value_checker(*kind),
            rule.value_type in (NUMBER, INTEGER, PERCENT),
            rule.value_type == PERCENT,
            bool(rule.not_above) or rule.code in self._referenced,
            rule.value_type != BOOLEAN,
        )
        self._element_list.append(entry)
        self._element_entries[rule.code] = entry
        return entry

    def _element_by_code(self, code: str) -> tuple | None:
        rule = self.elements.get(code)
        if rule is None:
            return None
        entry = self._element(rule.code)
        return entry or None

    def _unit(self, raw: str) -> tuple | bool:
        code = raw
        unit_id = self.org_units.get(code)
        if unit_id is None:
            code = raw.strip()
            if not code.isascii():
                code = unicodedata.normalize("NFKC", code)
            unit_id = self.org_units.get(code)
        entry: tuple | bool = False
        if unit_id is not None:
            in_scope = self.scope is None or code in self.scope
            entry = (code, unit_id, unit_id << _UNIT_SHIFT, in_scope)
            self._unit_codes[unit_id] = code
        self._unit_cache[raw] = entry
        return entry

    def _period_key(self, canonical: str) -> int:
        index = self._period_index.get(canonical)
        if index is None:
            index = self._period_index[canonical] = len(self._period_list)
            self._period_list.append(canonical)
        return index << _PERIOD_SHIFT

    def _period(self, raw: str) -> tuple | bool:
        try:
            period = parse_period(raw)
        except PeriodError:
            self._period_cache[raw] = False
            return False
        canonical = str(period)
        previous = str(period.previous())
        try:
            following = str(_following(period))
        except PeriodError:  # pragma: no cover - December 2100 and the like
            following = canonical
        entry = (
            canonical,
            period.period_type,
            self._period_key(canonical),
            self._period_key(previous),
            self._period_key(following),
            previous,
            canonical in self.locked_periods,
        )
        self._period_cache[raw] = entry
        return entry

    # -- the file --------------------------------------------------------------------------

    def chunks(self, source: Source, chunk_size: int = CHUNK_ROWS) -> Iterator[list[ValueRow]]:
        """Yield the valid rows of ``source`` in lists of up to ``chunk_size``; fill
        :attr:`report`. Raises :class:`TabularError` for a file that cannot be read at all."""
        report = self.report = ValuesReport()
        self._errors_by_line: dict[int, int] = {}
        self._warnings: dict[int, RowError] = {}
        self._warnings_dropped = 0
        # key → ordinal of the first row with that key; its line and value (as a float, for
        # outlier warnings) are at that ordinal in these arrays.
        self._seen: dict[int, int] = {}
        self._lines = array("q")
        self._floats = array("d")
        # Exact values of the elements in a not_above rule: key → (line, value).
        self._tracked: dict[int, tuple[int, Decimal]] = {}
        with open_table(source) as table:
            columns = map_columns(table.header, VALUE_ALIASES, VALUE_REQUIRED)
            report.columns = dict(columns.label)
            report.file_format = table.format
            report.encoding = table.encoding
            self._columns = columns
            yield from self._run(table, columns, chunk_size)
        self._check_not_above()
        self._finish()

    def _run(self, table, columns: ColumnMap, chunk_size: int) -> Iterator[list[ValueRow]]:
        # Everything the loop touches is a local: this loop is the upload's hot path.
        i_unit = columns.index["org_unit"]
        i_period = columns.index["period"]
        i_element = columns.index["element"]
        i_value = columns.index["value"]
        i_comment = columns.index.get("comment", -1)
        width = len(table.header)
        element_get = self._element_cache.get
        element_fill = self._element
        unit_get = self._unit_cache.get
        unit_fill = self._unit
        period_get = self._period_cache.get
        period_fill = self._period
        seen = self._seen
        seen_get = seen.get
        seen_setdefault = seen.setdefault
        lines = self._lines
        floats = self._floats
        lines_append = lines.append
        floats_append = floats.append
        tracked = self._tracked
        warn = self._outlier
        warnings = self._warnings
        factor = OUTLIER_FACTOR
        existing_get = self.existing.get
        has_existing = bool(self.existing)
        locked = self.locked
        reject = self._reject
        value_limit = _VALUE_CACHE_LIMIT
        dec = Decimal
        rows_total = 0
        chunk: list[ValueRow] = []
        chunk_append = chunk.append
        line = table.header_line
        try:
            for cells in table.raw_rows():
                line += 1
                extra = None
                if len(cells) != width:
                    if is_blank(cells):
                        continue
                    cells, extra = self._fit(cells, width, line)
                unit_raw = cells[i_unit]
                period_raw = cells[i_period]
                element_raw = cells[i_element]
                value_raw = cells[i_value]
                rows_total += 1
                e = element_get(element_raw)
                if e is None:
                    e = element_fill(element_raw)
                u = unit_get(unit_raw)
                if u is None:
                    u = unit_fill(unit_raw)
                p = period_get(period_raw)
                if p is None:
                    p = period_fill(period_raw)
                if (
                    extra is not None
                    or not (e and u and p)
                    or e[E_PTYPE] != p[P_TYPE]
                    or not u[U_IN_SCOPE]
                    or p[P_LOCKED]
                    or (locked and (u[U_CODE], p[P_CANON]) in locked)
                ):
                    if not reject(line, cells, e, u, p, extra):
                        rows_total -= 1
                    continue
                # The value: plain ASCII digits need no cache; anything else is normalised once
                # per distinct string.
                if (
                    e[E_FAST]
                    and len(value_raw) < 15
                    and value_raw.isdigit()
                    and value_raw.isascii()
                ):
                    value = dec(value_raw)
                    if e[E_PERCENT] and value > 100:
                        reject(line, cells, e, u, p, None)
                        continue
                    number = float(value_raw)
                else:
                    cache = e[E_CACHE]
                    cached = cache.get(value_raw)
                    if cached is None:
                        try:
                            value = e[E_CHECK](value_raw)
                            cached = (value, float(value))
                        except ValueError as exc:
                            cached = (None, str(exc))
                        if len(cache) >= value_limit:
                            cache.clear()
                        cache[value_raw] = cached
                    value, number = cached
                    if value is None:
                        reject(line, cells, e, u, p, None)
                        continue
                key = u[U_KEY] + p[P_KEY] + e[E_KEY]
                ordinal = len(lines)
                if seen_setdefault(key, ordinal) != ordinal:
                    reject(line, cells, e, u, p, None)
                    continue
                lines_append(line)
                floats_append(number)
                if e[E_TRACK]:
                    tracked[key] = (line, value)
                if e[E_OUTLIERS]:
                    # Only the comparisons run here; building a warning is the rare slow path.
                    base = key - p[P_KEY]
                    before = seen_get(base + p[P_PREV_KEY])
                    if before is not None:
                        previous = floats[before]
                        if number > factor * previous or number * factor < previous:
                            warn(line, number, previous, p[P_PREV], lines[before])
                    elif has_existing:
                        stored = existing_get((e[E_CODE], u[U_CODE], p[P_PREV]))
                        if stored is not None:
                            previous = float(stored)
                            if number > factor * previous or number * factor < previous:
                                warn(line, number, previous, p[P_PREV], None)
                    after = seen_get(base + p[P_NEXT_KEY])
                    if after is not None:
                        later = floats[after]
                        if (
                            later > factor * number
                            or later * factor < number
                            or (warnings and lines[after] in warnings)
                        ):
                            warn(lines[after], later, number, p[P_CANON], line)
                comment = cells[i_comment] if i_comment >= 0 else ""
                if comment:
                    comment = comment.strip()
                chunk_append(
                    (e[E_CODE], u[U_CODE], p[P_CANON], value, comment, line, e[E_ID], u[U_ID])
                )
                if len(chunk) >= chunk_size:
                    self.report.rows_total = rows_total
                    yield chunk
                    chunk = []
                    chunk_append = chunk.append
        except csv.Error as exc:
            raise table.read_error(exc, line + 1) from exc
        self.report.rows_total = rows_total
        if chunk:
            yield chunk

    def _fit(
        self, cells: Sequence[str], width: int, line: int
    ) -> tuple[list[str], RowError | None]:
        """Pad a short row; trim a long one, reporting non-empty cells past the header."""
        if len(cells) < width:
            return [*cells, *[""] * (width - len(cells))], None
        surplus = [c for c in cells[width:] if c.strip()]
        if not surplus:
            return list(cells[:width]), None
        return list(cells[:width]), RowError(
            line,
            "",
            ",".join(surplus),
            bilingual(
                f"该行比表头多出 {len(surplus)} 个非空单元格（数值中的逗号是否忘了加引号？）",
                f"the row has {len(surplus)} more non-empty cells than the header "
                "(a number with an unquoted comma?)",
            ),
        )

    # -- the slow path: a row with something wrong ------------------------------------------

    def _reject(self, line: int, cells: Sequence[str], e, u, p, extra: RowError | None) -> bool:
        """Record every error of a row the fast path refused. False if the row is blank."""
        if extra is None and is_blank(cells):
            return False
        index = self._columns.index
        label = self._columns.label
        problems: list[RowError] = [extra] if extra is not None else []

        def add(name: str, value: str, reason: str) -> None:
            problems.append(RowError(line, label[name], value.strip(), reason, name))

        unit_raw = cells[index["org_unit"]]
        element_raw = cells[index["element"]]
        period_raw = cells[index["period"]]
        value_raw = cells[index["value"]]
        if not unit_raw.strip():
            add("org_unit", unit_raw, bilingual("单位代码为空", "org unit is empty"))
        elif not u:
            add("org_unit", unit_raw, bilingual("单位代码不存在", "unknown org unit"))
        elif not u[U_IN_SCOPE]:
            add(
                "org_unit",
                unit_raw,
                bilingual("该单位不在您的填报权限范围内", "org unit outside your scope"),
            )
        if not element_raw.strip():
            add("element", element_raw, bilingual("数据项为空", "element is empty"))
        elif not e:
            add("element", element_raw, bilingual("数据项不存在", "unknown element"))
        if not p:
            try:
                parse_period(period_raw)
            except PeriodError as exc:
                add("period", period_raw, str(exc))
        elif e and e[E_PTYPE] != p[P_TYPE]:
            zh, en, _ = _PERIOD_NAMES.get(e[E_PTYPE], (e[E_PTYPE], e[E_PTYPE], ""))
            got_zh, _, got_en = _PERIOD_NAMES[p[P_TYPE]]
            add(
                "period",
                period_raw,
                bilingual(
                    f"数据项 {e[E_CODE]} 按{zh}填报，{p[P_CANON]} 是{got_zh}",
                    f"element {e[E_CODE]} is reported by {en}; {p[P_CANON]} is {got_en}",
                ),
            )
        elif u and (p[P_LOCKED] or (u[U_CODE], p[P_CANON]) in self.locked):
            add(
                "period",
                period_raw,
                bilingual(
                    f"{p[P_CANON]} 期间已锁定，不能再修改该单位的数据",
                    f"period {p[P_CANON]} is locked for org unit {u[U_CODE]}",
                ),
            )
        if e:
            try:
                e[E_CHECK](value_raw)
            except ValueError as exc:
                add("value", value_raw, str(exc))
        elif not value_raw.strip():
            add("value", value_raw, bilingual("数值为空", "value is empty"))
        if e and u and p:
            key = u[U_KEY] + p[P_KEY] + e[E_KEY]
            ordinal = len(self._lines)
            first = self._seen.setdefault(key, ordinal)
            if first == ordinal:
                # Remember the key (without a value) so a later copy is named a duplicate.
                self._lines.append(line)
                self._floats.append(float("nan"))
            else:
                earlier = self._lines[first]
                add(
                    "element",
                    element_raw,
                    bilingual(
                        f"与第 {earlier} 行重复（同一数据项、单位和期间）",
                        f"duplicate of line {earlier}: same element, org unit and period",
                    ),
                )
        if not problems:  # pragma: no cover - the fast path and this one disagree
            raise AssertionError(f"line {line} was refused without a reason")
        self._add_errors(problems)
        return True

    def _add_errors(self, problems: list[RowError]) -> None:
        report = self.report
        if problems[0].line not in self._errors_by_line:
            report.rows_invalid += 1
        self._errors_by_line[problems[0].line] = 1
        for problem in problems:
            report.errors_total += 1
            if len(report.errors) < self.max_errors:
                report.errors.append(problem)

    def _outlier(
        self, line: int, current: float, previous: float, period: str, from_line: int | None
    ) -> None:
        """Warn (on ``line``) when ``current`` is over 3× or under ⅓ of the previous period's
        value; replaces an earlier warning for that line, since a previous-period row in the
        file supersedes the stored value."""
        if current != current or previous != previous:  # NaN: that row had an error
            return
        self._warnings.pop(line, None)
        if previous <= 0 or current < 0:
            return
        where_zh = f"第 {from_line} 行" if from_line else "已有数据"
        where_en = f"line {from_line}" if from_line else "stored value"
        shown = _shown(previous)
        if current > OUTLIER_FACTOR * previous:
            reason = bilingual(
                f"比上期 {period}（{where_zh}：{shown}）高出 {OUTLIER_FACTOR} 倍以上，请核对",
                f"more than {OUTLIER_FACTOR}× the previous period {period} ({where_en}: {shown})",
            )
        elif current * OUTLIER_FACTOR < previous:
            reason = bilingual(
                f"不到上期 {period}（{where_zh}：{shown}）的三分之一，请核对",
                f"less than a third of the previous period {period} ({where_en}: {shown})",
            )
        else:
            return
        if len(self._warnings) >= self.max_errors:
            self._warnings_dropped += 1
            return
        label = self._columns.label["value"]
        self._warnings[line] = RowError(line, label, _shown(current), reason, "value")

    def _check_not_above(self) -> None:
        """A value may not exceed its ``not_above`` element's value for the same unit and period:
        the one in the file if there is one, else the stored one."""
        tracked = self._tracked
        if not tracked:
            return
        label = self._columns.label["value"]
        problems: list[RowError] = []
        for key, (line, value) in tracked.items():
            e = self._element_list[key & _FIELD_MASK]
            rule = self.elements[e[E_CODE]]
            if not rule.not_above:
                continue
            unit_code = self._unit_codes[key >> _UNIT_SHIFT]
            period = self._period_list[(key >> _PERIOD_SHIFT) & _FIELD_MASK]
            limit_line: int | None = None
            limit = None
            other = self._element_by_code(rule.not_above)
            if other is not None:
                found = tracked.get(key - e[E_KEY] + other[E_KEY])
                if found is not None:
                    limit_line, limit = found
            if limit is None:
                limit = self.existing.get((rule.not_above, unit_code, period))
            if limit is None or value <= limit:
                continue
            where_zh = f"第 {limit_line} 行" if limit_line else "已有数据"
            where_en = f"line {limit_line}" if limit_line else "stored value"
            problems.append(
                RowError(
                    line,
                    label,
                    _shown(value),
                    bilingual(
                        f"不能大于同一单位同一期间的 {rule.not_above}（{where_zh}：{_shown(limit)}）",
                        f"may not exceed {rule.not_above} for the same org unit and period "
                        f"({where_en}: {_shown(limit)})",
                    ),
                    "value",
                )
            )
        for problem in sorted(problems):
            self._add_errors([problem])

    def _finish(self) -> None:
        report = self.report
        report.errors.sort(key=lambda e: e.line)
        report.rows_valid = report.rows_total - report.rows_invalid
        report.warnings = [w for _line, w in sorted(self._warnings.items())]
        report.warnings_total = len(report.warnings) + self._warnings_dropped
        # The per-file state can be large; drop it now that the report is final.
        self._seen = {}
        self._tracked = {}
        self._lines = array("q")
        self._floats = array("d")


def _following(period: Period) -> Period:
    if period.type_rank == 2:
        return Period.year_of(period.year + 1)
    if period.period_type == MONTH:
        return (
            Period.month_of(period.year, period.index + 1)
            if period.index < 12
            else Period.month_of(period.year + 1, 1)
        )
    return (
        Period.quarter_of(period.year, period.index + 1)
        if period.index < 4
        else Period.quarter_of(period.year + 1, 1)
    )


def validate_values(
    source: Source,
    *,
    elements: Mapping[str, ElementRule],
    org_units: Mapping[str, int],
    scope: Collection[str] | None = None,
    existing: Mapping[tuple[str, str, str], Decimal] | None = None,
    locked: Collection[tuple[str, str]] = (),
    locked_periods: Collection[str] = (),
    max_errors: int = MAX_ERRORS,
) -> ValuesReport:
    """Validate a whole values file; ``report.rows`` holds every valid row (see the module
    docstring for the tuple). Raises :class:`TabularError` when the file cannot be read."""
    validator = ValuesValidator(
        elements=elements,
        org_units=org_units,
        scope=scope,
        existing=existing,
        locked=locked,
        locked_periods=locked_periods,
        max_errors=max_errors,
    )
    rows: list[ValueRow] = []
    for chunk in validator.chunks(source):
        rows.extend(chunk)
    validator.report.rows = rows
    return validator.report


# --------------------------------------------------------------------------------------------
# Error report


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe_cell(text: str) -> str:
    """Neutralise spreadsheet formula injection: Excel must show, not run, what users typed."""
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def errors_to_csv(errors: Sequence[RowError], total: int | None = None) -> bytes:
    """The error report as a CSV that Excel opens correctly (UTF-8 with BOM). With ``total``
    larger than ``len(errors)``, a last line says how many errors were left out."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["line 行号", "column 列", "value 数值", "reason 原因"])
    for error in errors:
        writer.writerow(
            [
                error.line,
                _safe_cell(error.column),
                _safe_cell(error.value),
                _safe_cell(error.reason),
            ]
        )
    if total is not None and total > len(errors):
        writer.writerow(
            [
                "",
                "",
                "",
                bilingual(
                    f"仅列出前 {len(errors)} 条错误，共 {total} 条",
                    f"only the first {len(errors)} of {total} errors are listed",
                ),
            ]
        )
    return out.getvalue().encode("utf-8-sig")

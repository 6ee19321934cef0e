"""Parsing and validating a data-values file (SPEC §4.3). Pure: no ORM, no clock.

The caller passes plain lookups (elements, org units, the uploader's scope and, optionally,
the values already stored) and gets back every valid row, every error and every
warning. A file is all-or-nothing: the caller writes nothing when ``report.errors_total`` is not 0.

Two entry points:

* :func:`validate_values` — the whole file at once; ``report.rows`` holds every valid row.
* :class:`ValuesValidator` — ``for chunk in validator.chunks(source): …`` yields the valid rows
  among each next ``chunk_size`` lines, so the database layer can COPY them without holding a
  million objects. Errors found only once the whole file is read (a value above its
  ``not_above`` element that comes later in the file) arrive in ``validator.report`` after the
  last chunk: write inside a transaction (or spool) and keep nothing unless
  ``validator.report.ok`` once the iterator is exhausted.

Rules, each reported with line, column and a bilingual reason (every row, every problem):
org unit empty / unknown / outside ``scope``; element empty / unknown; period empty / not a
period / of another type than the element's; value empty while the row has a comment (a row
with neither value nor comment — blank, or a template row left empty — is skipped and counted in
``rows_skipped``) / not a number (thousands
separators, full-width digits and signs, spaces and scientific notation are accepted) / ``%``
on a non-percent element / fraction in an integer element / negative in an integer element or
one counting things (:data:`COUNT_UNITS`) / percent outside 0–100 / boolean not 1/0, 是/否,
true/false, yes/no / at or above :data:`MAX_ABS` once rounded / so small that it rounds to 0; a second row for the same (element, org unit,
period), naming the first; cells past the header, or a comment that is the tail of a number
split by an unquoted comma; a value above its ``not_above`` element for the same unit and
period (the file's value, else the stored one). Warnings, not errors: a value over 3× or under
⅓ of the previous period's (from the file, else the stored one).

A valid row is a plain tuple, in this order (see :data:`ValueRow`)::

    (element_code, org_unit_code, period, value, comment, line, element_id, org_unit_id)

``period`` is canonical (``2015``, ``2015Q3``, ``2015-07``). ``value`` is the checked value as
exact decimal text in plain notation (``"12000"``, ``"85.5"``, ``"1"`` for 是), rounded half-up to
:data:`DECIMAL_PLACES` places like the database column: ready for COPY as it is, and
``Decimal(value)`` where Python needs the number (making a Decimal per row would cost a tenth of
the validator's time). ``element_id`` is :attr:`ElementRule.id`; ``org_unit_id`` is the id from
``org_units``.

Only the first ``max_errors`` (default :data:`MAX_ERRORS`) errors and warnings are kept in
detail, so a file that is wrong on every one of its million lines still fits in memory; the
rest are counted in ``errors_total`` / ``warnings_total``.

Speed and memory (``bench/parse_values.py``): rows are checked in one tight loop over
``csv.reader`` with every lookup cached per distinct string, and only rows with a problem take
the slow path that words the errors. What the whole file needs to remember is small: one int
key → line per row for duplicates and outliers (about 100 bytes), 8 bytes per line for the
value as a float, and the rows of elements in a ``not_above`` rule.
"""

from __future__ import annotations

import csv
import gc
import io
import re
import unicodedata
from array import array
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice
from operator import itemgetter

from django.utils.translation import gettext

from core.exporting import safe_cell
from core.numbers import plain_text, shown_number
from core.periods import MONTH, QUARTER, YEAR, Period, PeriodError, parse_period
from core.text import bilingual

from ..rules import (
    BOOLEAN,
    INTEGER,
    NUMBER,
    PERCENT,
    ElementRule,
    not_above_violation,
    number_or_word,
    outlier_kind,
    outlier_reason,
    value_checker,
)
from .tables import (
    ColumnMap,
    FormulaText,
    RowError,
    Source,
    Table,
    TabularError,
    is_blank,
    map_columns,
    open_table,
)

VALUE_ALIASES: dict[str, tuple[str, ...]] = {
    "org_unit": ("单位代码", "单位", "org unit code", "org_unit_code"),
    "period": ("期间", "时期", "报告期"),
    "element": ("数据项", "数据项代码", "data element"),
    "value": ("数值", "值"),
    "comment": ("备注", "说明"),
}
VALUE_HINT_COLUMNS: dict[str, tuple[str, ...]] = {
    "hint_unit_name": ("单位名称（仅供参考）", "org unit name (hint)"),
    "hint_element_name": ("数据项名称（仅供参考）", "data element name (hint)"),
    "hint_unit": ("计量单位（仅供参考）", "unit of measure (hint)"),
    "hint_previous": ("上期数值（仅供参考）", "previous value (hint)"),
}
"""Read-only columns of the downloaded template (districts.intake.template): accepted in a
header so a filled template uploads as it is, and never read."""
VALUE_ALIASES.update(VALUE_HINT_COLUMNS)
VALUE_REQUIRED = ("org_unit", "period", "element", "value")

MAX_ERRORS = 10_000
"""Errors (and, separately, warnings) kept in detail; the rest are only counted."""
CHUNK_ROWS = 50_000

# period type → (Chinese, English noun, English with article)
_PERIOD_NAMES = {
    "year": ("年", "year", "a year"),
    "quarter": ("季度", "quarter", "a quarter"),
    "month": ("月", "month", "a month"),
}

ValueRow = tuple[str, str, str, str, str, int, "int | None", int]
"""(element_code, org_unit_code, period, value, comment, line, element_id, org_unit_id)"""


@dataclass
class ValuesReport:
    """What validating one file found. ``ok`` is the all-or-nothing verdict."""

    rows: list[ValueRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    rows_total: int = 0  # data rows read (blank rows are not counted)
    rows_skipped: int = 0  # rows without a value or comment (blank or left empty): skipped
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

    def merge_errors(self, found: Sequence[RowError], total: int) -> None:
        """Add errors found outside the file (against stored values) to the report, by line,
        still keeping at most :data:`MAX_ERRORS` in detail."""
        if not total:
            return
        lines = {e.line for e in self.errors}
        self.errors = sorted([*self.errors, *found], key=lambda e: e.line)[:MAX_ERRORS]
        self.errors_total += total
        self.rows_invalid += len({e.line for e in found} - lines)
        self.rows_valid = self.rows_total - self.rows_invalid


_SPILL_HEAD = re.compile(r"[+-]?[0-9]{1,3}")
_SPILL_TAIL = re.compile(r"[0-9]{3}(?:\.[0-9]*)?")


def _spilled(value: str, comment: str) -> bool:
    """Whether ``value`` and ``comment`` look like one number an unquoted thousands separator
    split in two (``1,234`` written without quotes before the comment column)."""
    return bool(_SPILL_TAIL.fullmatch(comment.strip()) and _SPILL_HEAD.fullmatch(value.strip()))


# --------------------------------------------------------------------------------------------
# Periods

# --------------------------------------------------------------------------------------------
# Validation

# The hot loop reads cached lookups as tuples, by literal index (faster than names):
#
# element: 0 code (None: unknown), 1 key part, 2 period type (None: unknown element), 3 id,
#          4 value cache, 5 value checker, 6 fast kind (see _FAST_KINDS), 7 in a not_above rule,
#          8 checked for outliers
# unit:    0 code (None: unknown), 1 id, 2 key part, 3 writable (known and in scope)
# period:  0 canonical text (None: invalid), 1 period type (_NO_PERIOD: invalid), 2 key part,
#          3 key part ^ the previous period's, 4 key part ^ the next period's,
#          5 previous period's text, 6 next period's text
#
# Period types are the constants of core.periods, so the loop compares them with ``is``;
# an unknown element's None and an invalid period's _NO_PERIOD never match anything.
_NO_PERIOD = object()
_NAN = float("nan")
_UNKNOWN_ELEMENT = (None, 0, None, None, None, None, 0, False, False)
_UNKNOWN_UNIT = (None, None, 0, False)
_PERIOD_TYPES = {YEAR: YEAR, QUARTER: QUARTER, MONTH: MONTH}

# An (element, org unit, period) key is one int, the XOR of one part per component: org unit
# id << 40, period index << 20, element index, plus a 20-bit scramble of the unit and the period
# in the low bits. It is unique (the high fields give unit and period, hence the scramble, hence
# the element) and, unlike plain bit fields, spreads over a dict's low-bit slots: a million keys
# whose low bits were only the element index made every dict probe collide. Ints hash fast and
# cost far less memory than 3-tuples of strings.
_UNIT_SHIFT = 40
_PERIOD_SHIFT = 20
_FIELD_MASK = (1 << 20) - 1


def _scramble(n: int) -> int:
    return ((n * 0x9E3779B97F4A7C15) >> 40) & _FIELD_MASK


_VALUE_CACHE_LIMIT = 200_000
# Values checked without the per-kind cache: 1 = ASCII digits (integer elements), 2 = digits
# with up to 6 decimals (numbers), 3 = the same, at most 100 (percents). The pattern admits no
# sign, exponent or separator, so none of the other rules can apply.
_FAST_KINDS = {INTEGER: 1, NUMBER: 2, PERCENT: 3}
_PLAIN_DECIMAL = re.compile(r"[0-9]{1,14}\.[0-9]{1,6}")


class ValuesValidator:
    """Validates data-values files against fixed lookups; reusable for several files.

    ``elements``: code → :class:`ElementRule`. ``org_units``: code → id. ``scope``: the codes of
    the org units the uploader may write, or ``None`` for no restriction (administrators).
    ``existing``: ``(element, org_unit, period)`` → stored value, used for outlier warnings and
    for ``not_above`` when the file lacks the other element. (Approved values, which an
    official may not change, are checked against the database by the upload job.)

    ``cross_row=False`` leaves out the rules that compare rows with each other or with stored
    values — duplicates, ``not_above``, outliers — for a caller that checks them where the rows
    are stored (the upload job on PostgreSQL: :mod:`districts.intake.checks`). The validator
    then remembers nothing per row, so its memory stays flat however long the file.
    """

    def __init__(
        self,
        *,
        elements: Mapping[str, ElementRule],
        org_units: Mapping[str, int],
        scope: Collection[str] | None = None,
        existing: Mapping[tuple[str, str, str], Decimal] | None = None,
        max_errors: int = MAX_ERRORS,
        cross_row: bool = True,
    ):
        self.cross_row = cross_row
        self.elements = elements
        self.org_units = org_units
        self.scope = scope
        self.existing = existing or {}
        self.max_errors = max_errors
        self.report = ValuesReport()
        # Elements some other element may not exceed.
        self._referenced = {r.not_above for r in elements.values() if r.not_above}
        self._element_cache: dict[str, tuple] = {}
        self._element_entries: dict[str, tuple] = {}
        self._unit_cache: dict[str, tuple] = {}
        self._period_cache: dict[str, tuple] = {}
        self._period_index: dict[str, int] = {}
        self._periods_in_file: set[str] = set()
        self._value_caches: dict[tuple, dict] = {}
        self._columns = ColumnMap({}, {})

    # -- lookups, each cached per distinct raw string ------------------------------------------

    def _element(self, raw: str) -> tuple:
        entry = self._element_cache.get(raw)
        if entry is None:
            rule = self.elements.get(raw) or self.elements.get(raw.strip())
            entry = _UNKNOWN_ELEMENT if rule is None else self._element_entry(rule)
            self._element_cache[raw] = entry
        return entry

    def _element_entry(self, rule: ElementRule) -> tuple:
        entry = self._element_entries.get(rule.code)
        if entry is not None:
            return entry
        kind = (rule.value_type, rule.counts_things, rule.unit)
        index = len(self._element_entries)
        if index > _FIELD_MASK:  # pragma: no cover - a million element codes
            raise TabularError(bilingual("数据项过多", "too many elements"))
        entry = (
            rule.code,
            index,
            _PERIOD_TYPES.get(rule.period_type, ""),
            rule.id,
            self._value_caches.setdefault(kind, {}),
            value_checker(*kind),
            _FAST_KINDS.get(rule.value_type, 0),
            bool(rule.not_above) or rule.code in self._referenced,
            rule.value_type != BOOLEAN,
        )
        self._element_entries[rule.code] = entry
        return entry

    def _unit(self, raw: str) -> tuple:
        entry = self._unit_cache.get(raw)
        if entry is not None:
            return entry
        code = raw
        unit_id = self.org_units.get(code)
        if unit_id is None:
            code = raw.strip()
            if not code.isascii():
                code = unicodedata.normalize("NFKC", code)
            unit_id = self.org_units.get(code)
        if unit_id is None:
            entry = _UNKNOWN_UNIT
        else:
            entry = (
                code,
                unit_id,
                (unit_id << _UNIT_SHIFT) | _scramble(unit_id),
                self.scope is None or code in self.scope,
            )
        self._unit_cache[raw] = entry
        return entry

    def _period_key(self, canonical: str) -> int:
        index = self._period_index.setdefault(canonical, len(self._period_index))
        return (index << _PERIOD_SHIFT) | _scramble(index + 1_000_003)

    def _period(self, raw: str) -> tuple:
        entry = self._period_cache.get(raw)
        if entry is not None:
            return entry
        try:
            period = parse_period(raw)
        except PeriodError:
            entry = (None, _NO_PERIOD, 0, 0, 0, None, None)
        else:
            canonical = str(period)
            previous = str(period.previous())
            following = str(_following(period))
            key = self._period_key(canonical)
            entry = (
                canonical,
                _PERIOD_TYPES[period.period_type],
                key,
                key ^ self._period_key(previous),
                key ^ self._period_key(following),
                previous,
                following,
            )
            self._periods_in_file.add(canonical)
        self._period_cache[raw] = entry
        return entry

    def _element_by_code(self, code: str) -> tuple | None:
        rule = self.elements.get(code)
        return None if rule is None else self._element_entry(rule)

    # -- the file ------------------------------------------------------------------------------

    def chunks(self, source: Source, chunk_size: int = CHUNK_ROWS) -> Iterator[list[ValueRow]]:
        """Yield the valid rows of ``source`` in lists of up to ``chunk_size``; fill
        :attr:`report`. Raises :class:`TabularError` for a file that cannot be read at all."""
        report = self.report = ValuesReport()
        self._errors_by_line: set[int] = set()
        self._warnings: dict[int, RowError] = {}
        self._warnings_dropped = 0
        # key → line of the first row with that key: positive for a valid row, negative for an
        # invalid one (so a later copy is still named a duplicate of it).
        self._seen: dict[int, int] = {}
        # The value of every line as a float, for outlier warnings (NaN where there is none):
        # _floats[line - _base]; 8 bytes a line.
        self._floats = array("d")
        # Rows of the elements in a not_above rule: key → (line, value, element, unit, period).
        self._tracked: dict[int, tuple] = {}
        # "Which periods has this file shown so far" starts afresh with every file.
        self._period_cache = {}
        self._periods_in_file = set()
        with open_table(source) as table:
            columns = map_columns(table.header, VALUE_ALIASES, VALUE_REQUIRED)
            report.columns = dict(columns.label)
            report.file_format = table.format
            report.encoding = table.encoding
            self._columns = columns
            self._base = table.header_line + 1
            yield from self._run(table, columns, chunk_size)
        self._check_not_above()
        self._finish()

    def _run(self, table: Table, columns: ColumnMap, chunk_size: int) -> Iterator[list[ValueRow]]:
        # The upload's hot path. Everything the loop touches is a local; cached lookups are
        # tuples read by literal index (layouts above); only rows with a problem leave the loop,
        # for _reject, which works out every error of the row at leisure. Each path through
        # the loop appends exactly one entry to floats, which keeps floats[line - base] aligned.
        index = columns.index
        has_comment = "comment" in index
        pick = itemgetter(
            index["org_unit"],
            index["period"],
            index["element"],
            index["value"],
            index["comment"] if has_comment else index["value"],
        )
        spill_check = has_comment and index["comment"] == index["value"] + 1
        width = len(table.header)
        element_cache = self._element_cache
        element_fill = self._element
        unit_cache = self._unit_cache
        unit_fill = self._unit
        period_cache = self._period_cache
        period_fill = self._period
        periods_in_file = self._periods_in_file
        seen = self._seen
        seen_get = seen.get
        seen_setdefault = seen.setdefault
        floats = self._floats
        floats_append = floats.append if self.cross_row else _ignore
        cross_row = self.cross_row
        base = self._base
        tracked = self._tracked
        warn = self._outlier
        warnings = self._warnings
        outlier = outlier_kind
        existing_get = self.existing.get
        has_existing = bool(self.existing)
        reject = self._reject
        fit = self._fit
        value_limit = _VALUE_CACHE_LIMIT
        plain_decimal = _PLAIN_DECIMAL.fullmatch
        nan = _NAN
        blank = 0
        line = first_line = table.header_line
        raw = table.raw_rows()
        last_unit = last_period = None
        u = p = _UNKNOWN_UNIT
        # Rows, tuples and strings are all objects the cyclic collector tracks: it would walk
        # the growing structures over and over for nothing (none of this makes cycles).
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            while block := list(islice(raw, chunk_size)):
                out: list[ValueRow] = []
                out_append = out.append
                for cells in block:
                    line += 1
                    if len(cells) != width:
                        if is_blank(cells):
                            blank += 1
                            floats_append(nan)
                            continue
                        cells, extra = fit(cells, width, line)
                        if extra is not None:
                            reject(line, cells, extra)
                            floats_append(nan)
                            continue
                    unit_raw, period_raw, element_raw, value_raw, comment = pick(cells)
                    # Files come sorted by unit or period: a string comparison with the last
                    # row's is cheaper than hashing the fresh string for a dict lookup.
                    try:
                        e = element_cache[element_raw]
                        if unit_raw != last_unit:
                            u = unit_cache[unit_raw]
                            last_unit = unit_raw
                        if period_raw != last_period:
                            p = period_cache[period_raw]
                            last_period = period_raw
                    except KeyError:
                        e = element_fill(element_raw)
                        u = unit_fill(unit_raw)
                        p = period_fill(period_raw)
                        last_unit = unit_raw
                        last_period = period_raw
                    if e[2] is not p[1] or not u[3]:
                        if not reject(line, cells):
                            blank += 1
                        floats_append(nan)
                        continue
                    # The value: plain ASCII numbers need no cache; anything else is
                    # normalised once per distinct string.
                    fast = e[6]
                    if fast and (
                        (value_raw.isdigit() and value_raw.isascii() and len(value_raw) < 15)
                        or (fast > 1 and plain_decimal(value_raw) is not None)
                    ):
                        number = float(value_raw)
                        if fast == 3 and number > 100:
                            reject(line, cells)
                            floats_append(nan)
                            continue
                        value = value_raw
                        if value_raw[0] == "0" and len(value_raw) > 1 and value_raw[1] != ".":
                            value = plain_text(Decimal(value_raw))  # no leading zeros
                    else:
                        cache = e[4]
                        cached = cache.get(value_raw)
                        if cached is None:
                            try:
                                exact = e[5](value_raw)
                                cached = (plain_text(exact), float(exact))
                            except ValueError as exc:
                                cached = (None, str(exc))
                            if len(cache) >= value_limit:
                                cache.clear()
                            cache[value_raw] = cached
                        value, number = cached
                        if value is None:
                            if not reject(line, cells):
                                blank += 1
                            floats_append(nan)
                            continue
                    if not has_comment:
                        comment = ""
                    elif comment:
                        if spill_check and _spilled(value_raw, comment):
                            reject(line, cells)
                            floats_append(nan)
                            continue
                        comment = comment.strip()
                    if not cross_row:
                        out_append((e[0], u[0], p[0], value, comment, line, e[3], u[1]))
                        continue
                    key = u[2] ^ p[2] ^ e[1]
                    if seen_setdefault(key, line) != line:
                        reject(line, cells)  # a duplicate
                        floats_append(nan)
                        continue
                    floats_append(number)
                    if e[7]:
                        tracked[key] = (line, value, e, u[0], p[0])
                    if e[8]:
                        # Outliers: only comparisons here; a warning is the rare slow path.
                        if p[5] in periods_in_file:
                            before = seen_get(key ^ p[3], 0)
                            if before > 0:
                                previous = floats[before - base]
                                if outlier(number, previous):
                                    warn(line, number, previous, p[5], before)
                            elif not before and has_existing:
                                stored = existing_get((e[0], u[0], p[5]))
                                if stored is not None:
                                    previous = float(stored)
                                    if outlier(number, previous):
                                        warn(line, number, previous, p[5], None)
                        elif has_existing:
                            stored = existing_get((e[0], u[0], p[5]))
                            if stored is not None:
                                previous = float(stored)
                                if outlier(number, previous):
                                    warn(line, number, previous, p[5], None)
                        if p[6] in periods_in_file:  # the next period came first: compare back
                            after = seen_get(key ^ p[4], 0)
                            if after > 0:
                                later = floats[after - base]
                                if outlier(later, number) or (warnings and after in warnings):
                                    warn(after, later, number, p[0], line)
                    out_append((e[0], u[0], p[0], value, comment, line, e[3], u[1]))
                self.report.rows_total = line - first_line - blank
                self.report.rows_skipped = blank
                if out:
                    if gc_was_enabled:
                        gc.enable()
                    yield out
                    gc.disable()
        except csv.Error as exc:
            raise table.read_error(exc, table.position() or line + 1) from exc
        finally:
            if gc_was_enabled:
                gc.enable()
        self.report.rows_total = line - first_line - blank
        self.report.rows_skipped = blank

    def _fit(
        self, cells: Sequence[str], width: int, line: int
    ) -> tuple[list[str], RowError | None]:
        """Pad a short row; trim a long one, reporting non-empty cells past the header."""
        if len(cells) < width:
            return [*cells, *[""] * (width - len(cells))], None
        surplus = [c.strip() for c in cells[width:] if c.strip()]
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

    # -- the slow path: a row with something wrong --------------------------------------------

    def _reject(self, line: int, cells: Sequence[str], extra: RowError | None = None) -> bool:
        """Record every error of a row the fast path refused. False if the row has no value and
        no comment (blank, or a template row left empty): it is skipped, not an error."""
        index = self._columns.index
        if extra is None and (
            is_blank(cells)
            or (
                not cells[index["value"]].strip()
                and ("comment" not in index or not cells[index["comment"]].strip())
            )
        ):
            return False
        label = self._columns.label
        problems: list[RowError] = [extra] if extra is not None else []

        def add(name: str, value: str, reason: str) -> None:
            problems.append(RowError(line, label[name], value.strip(), reason, name))

        unit_raw = cells[index["org_unit"]]
        element_raw = cells[index["element"]]
        period_raw = cells[index["period"]]
        value_raw = cells[index["value"]]
        e = self._element(element_raw)
        u = self._unit(unit_raw)
        p = self._period(period_raw)
        known = e[0] is not None, u[0] is not None, p[0] is not None
        if not unit_raw.strip():
            add("org_unit", unit_raw, bilingual("单位代码为空", "org unit is empty"))
        elif not known[1]:
            add("org_unit", unit_raw, bilingual("单位代码不存在", "unknown org unit"))
        elif not u[3]:
            add(
                "org_unit",
                unit_raw,
                bilingual("该单位不在您的填报权限范围内", "org unit outside your scope"),
            )
        if not element_raw.strip():
            add("element", element_raw, bilingual("数据项为空", "element is empty"))
        elif not known[0]:
            add("element", element_raw, bilingual("数据项不存在", "unknown element"))
        if not known[2]:
            try:
                parse_period(period_raw)
            except PeriodError as exc:
                add("period", period_raw, str(exc))
        elif known[0] and e[2] is not p[1]:
            zh, en, _ = _PERIOD_NAMES.get(e[2], (str(e[2]), str(e[2]), ""))
            got_zh, _, got_en = _PERIOD_NAMES[p[1]]
            add(
                "period",
                period_raw,
                bilingual(
                    f"数据项 {e[0]} 按{zh}填报，{p[0]} 是{got_zh}",
                    f"element {e[0]} is reported by {en}; {p[0]} is {got_en}",
                ),
            )
        if isinstance(value_raw, FormulaText):
            add("value", value_raw, _FORMULA_WITHOUT_VALUE)
        elif known[0]:
            try:
                e[5](value_raw)
            except ValueError as exc:
                add("value", value_raw, str(exc))
        elif not value_raw.strip():
            add("value", value_raw, bilingual("数值为空", "value is empty"))
        elif not number_or_word(value_raw):
            add("value", value_raw, bilingual("不是数字", "not a number"))
        if "comment" in index and index["comment"] == index["value"] + 1:
            comment = cells[index["comment"]]
            if _spilled(value_raw, comment):
                add(
                    "comment",
                    comment,
                    bilingual(
                        f"备注“{comment.strip()}”像是数值的一部分：带千分位逗号的数字须加引号"
                        f'（如 "{value_raw.strip()},{comment.strip()}"）或去掉逗号',
                        "the comment looks like the rest of a number split at an unquoted "
                        f'thousands separator: quote it ("{value_raw.strip()},{comment.strip()}") '
                        "or drop the comma",
                    ),
                )
        if all(known) and self.cross_row:
            key = u[2] ^ p[2] ^ e[1]
            first = self._seen.setdefault(key, -line)
            if first != -line:
                add("element", element_raw, duplicate_reason(abs(first)))
        if not problems:  # pragma: no cover - the fast path and this one disagree
            raise AssertionError(f"line {line} was refused without a reason")
        self._add_errors(problems)
        return True

    def _add_errors(self, problems: list[RowError]) -> None:
        report = self.report
        line = problems[0].line
        if line not in self._errors_by_line:
            self._errors_by_line.add(line)
            report.rows_invalid += 1
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
        self._warnings.pop(line, None)
        reason = outlier_reason(current, previous, period, from_line)
        if reason is None:
            return
        if len(self._warnings) >= self.max_errors:
            self._warnings_dropped += 1
            return
        label = self._columns.label["value"]
        self._warnings[line] = RowError(line, label, shown_number(current), reason, "value")

    def _check_not_above(self) -> None:
        """A value may not exceed its ``not_above`` element's value for the same unit and period:
        the one in the file if there is one, else the stored one."""
        tracked = self._tracked
        if not tracked:
            return
        label = self._columns.label["value"]
        problems: list[RowError] = []
        for key, (line, value, e, unit_code, period) in tracked.items():
            rule = self.elements[e[0]]
            if not rule.not_above:
                continue
            limit_line: int | None = None
            limit = None
            other = self._element_by_code(rule.not_above)
            if other is not None:
                found = tracked.get(key ^ e[1] ^ other[1])
                if found is not None:
                    limit_line, limit = found[0], found[1]
            if limit is None:
                limit = self.existing.get((rule.not_above, unit_code, period))
            reason = not_above_violation(
                Decimal(value),
                None if limit is None else Decimal(limit),
                other=rule.not_above,
                limit_line=limit_line,
            )
            if reason:
                problems.append(RowError(line, label, shown_number(value), reason, "value"))
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
        self._floats = array("d")
        self._errors_by_line = set()


def _ignore(_value) -> None:
    pass


_FORMULA_WITHOUT_VALUE = bilingual(
    "公式没有计算结果：请在 Excel 中打开并保存文件，或填入数值",
    "formula without a value: open and save the file in Excel, or type the value",
)


def duplicate_reason(first_line: int) -> str:
    return bilingual(
        f"与第 {first_line} 行重复（同一数据项、单位和期间）",
        f"duplicate of line {first_line}: same element, org unit and period",
    )


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
    max_errors: int = MAX_ERRORS,
) -> ValuesReport:
    """Validate a whole values file; ``report.rows`` holds every valid row (see the module
    docstring for the tuple). Raises :class:`TabularError` when the file cannot be read."""
    validator = ValuesValidator(
        elements=elements,
        org_units=org_units,
        scope=scope,
        existing=existing,
        max_errors=max_errors,
    )
    rows: list[ValueRow] = []
    for chunk in validator.chunks(source):
        rows.extend(chunk)
    validator.report.rows = rows
    return validator.report


# --------------------------------------------------------------------------------------------
# Error report


def errors_to_csv(errors: Sequence[RowError], total: int | None = None) -> bytes:
    """The error report as a CSV that Excel opens correctly (UTF-8 with BOM). With ``total``
    larger than ``len(errors)``, a last line says how many errors were left out."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    # In the language of the page it is downloaded from, like the page's own table.
    writer.writerow([gettext("行号"), gettext("列"), gettext("数值"), gettext("原因")])
    for error in errors:
        writer.writerow(
            [
                error.line,
                safe_cell(error.column),
                safe_cell(error.value),
                safe_cell(error.reason),
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


def upload_errors_csv(job) -> bytes:
    """The error report of an upload job (its stored errors and their total) as a CSV."""
    return errors_to_csv([RowError(**e) for e in job.errors], total=job.error_count)

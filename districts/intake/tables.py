"""Reading the tabular files users send: CSV (UTF-8, UTF-8 with BOM or GB18030) or XLSX.

Pure: no ORM. A file becomes a :class:`Table` — its header and its rows as lists of strings with
line numbers — and :func:`map_columns` maps the header onto canonical column names through an alias
table (English and Chinese headers, any order, case and spacing ignored).

Line numbers are what the user sees in Excel: the header is line 1 and every record (blank ones
included) is one line, so a CSV field with an embedded newline still counts as one line.

Problems with the file as a whole (unreadable, empty, bad header, no data rows) raise
:class:`TabularError`; problems with single rows are :class:`RowError` values, reported all at
once. Every message is Chinese first, English after in parentheses.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import os
import posixpath
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from itertools import chain
from typing import IO, NamedTuple
from xml.etree import ElementTree as ET

from django.conf import settings
from openpyxl import load_workbook
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.exceptions import InvalidFileException
from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum

from core.text import bilingual

try:
    from lxml.etree import XMLSyntaxError
except ImportError:  # openpyxl then parses with the standard library (ET.ParseError)
    XMLSyntaxError = ET.ParseError

CSV = "csv"
XLSX = "xlsx"

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy binary .xls / .et
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_CHUNK = 1 << 20

# Encodings tried in order. UTF-8 first: a GB18030 file with any Chinese in it is, in practice,
# never valid UTF-8, while GB18030 would happily (and wrongly) decode much UTF-8 text.
ENCODINGS = ("utf-8-sig", "gb18030")

Source = bytes | bytearray | memoryview | str | os.PathLike | IO[bytes]
"""A file's content (bytes), a path (str or PathLike), or an open binary file object."""

EXCEL_MAX_ROWS = 1_048_576


@dataclass(frozen=True)
class Limits:
    """What a file sent to the portal may be, so that a hostile one is refused in seconds with
    nothing written: its size, what an XLSX inflates to (in all and per compressed byte: a zip
    bomb inflates a few kilobytes to gigabytes) and its rows (Excel's own limit).
    :func:`default_limits` reads them from the settings ``UPLOAD_MAX_BYTES``,
    ``UPLOAD_MAX_INFLATED_BYTES``, ``UPLOAD_MAX_RATIO`` and ``UPLOAD_MAX_ROWS``."""

    max_bytes: int = 50 * 1024 * 1024
    max_inflated_bytes: int = 512 * 1024 * 1024
    max_ratio: int = 200
    max_rows: int = EXCEL_MAX_ROWS


def default_limits() -> Limits:
    """The limits from Django's settings when they are configured, else the built-in ones."""
    built_in = Limits()
    if not settings.configured:
        return built_in
    return Limits(
        max_bytes=getattr(settings, "UPLOAD_MAX_BYTES", built_in.max_bytes),
        max_inflated_bytes=getattr(
            settings, "UPLOAD_MAX_INFLATED_BYTES", built_in.max_inflated_bytes
        ),
        max_ratio=getattr(settings, "UPLOAD_MAX_RATIO", built_in.max_ratio),
        max_rows=getattr(settings, "UPLOAD_MAX_ROWS", built_in.max_rows),
    )


def _megabytes(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size:,} B"
    return f"{size / (1024 * 1024):.1f} MB"


class TabularError(ValueError):
    """The file as a whole cannot be read: the message says why, Chinese first then English."""

    def __init__(
        self,
        message: str,
        *,
        missing: Sequence[str] = (),
        unknown: Sequence[str] = (),
        duplicate: Sequence[str] = (),
    ):
        super().__init__(message)
        self.message = message
        self.missing = list(missing)
        self.unknown = list(unknown)
        self.duplicate = list(duplicate)


class RowError(NamedTuple):
    """A problem with one cell (or one row, when ``column`` is empty) of a file.

    ``column`` is the header as written in the file (``数值`` or ``value``); ``field`` is the
    canonical column name. ``reason`` is Chinese first, English in parentheses.
    """

    line: int
    column: str
    value: str
    reason: str
    field: str = ""

    def __str__(self) -> str:
        where = f"第 {self.line} 行" + (f"，{self.column} 列" if self.column else "")
        shown = f"“{self.value}”：" if self.value else ""
        return f"{where}：{shown}{self.reason}"

    def as_dict(self) -> dict[str, object]:
        return {
            "line": self.line,
            "column": self.column,
            "value": self.value,
            "reason": self.reason,
            "field": self.field,
        }


# --------------------------------------------------------------------------------------------
# Reading a file


@dataclass(eq=False)
class Table:
    """An open tabular file: its header, then its data rows.

    Iterate :meth:`rows` for ``(line, cells)`` pairs with blank rows skipped, or :meth:`raw_rows`
    (the fast path for big files) for the bare cell lists, blank ones included, whose line numbers
    run consecutively from ``header_line + 1``. Cells are strings; a row may be shorter or longer
    than the header. Use as a context manager, or call :meth:`close`.
    """

    format: str
    encoding: str | None
    header: list[str]
    header_line: int
    _rows: Iterator[Sequence[str]]
    _close: Callable[[], None] = field(repr=False, default=lambda: None)
    _position: Callable[[], int | None] = field(repr=False, default=lambda: None)
    # Whether a cell may hold a NUL character (checked row by row only then): a CSV whose bytes
    # have one, and every XLSX (an _x0000_ escape is one).
    may_hold_nul: bool = True

    def raw_rows(self) -> Iterator[Sequence[str]]:
        """Every row after the header, blank ones included. A malformed CSV raises ``csv.Error``
        while iterating; turn it into a :class:`TabularError` with :meth:`read_error`."""
        return self._rows

    def rows(self) -> Iterator[tuple[int, Sequence[str]]]:
        """``(line, cells)`` for every non-blank row after the header."""
        line = self.header_line
        try:
            for cells in self._rows:
                line += 1
                if not is_blank(cells):
                    yield line, cells
        except csv.Error as exc:
            raise self.read_error(exc, self.position() or line + 1) from exc

    def position(self) -> int | None:
        """For a CSV, the physical line the reader has read up to (where a ``csv.Error``
        happened); ``None`` for an XLSX."""
        return self._position()

    def read_error(self, exc: Exception, line: int) -> TabularError:
        return TabularError(
            bilingual(f"第 {line} 行无法读取：{exc}", f"line {line} cannot be read: {exc}")
        )

    def close(self) -> None:
        self._close()

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def is_blank(cells: Sequence[str]) -> bool:
    """Whether a row has nothing but empty or whitespace-only cells."""
    return not any(cells) or all(not c.strip() for c in cells)


def open_table(source: Source, limits: Limits | None = None) -> Table:
    """Open a CSV or XLSX file (see :data:`Source`) and read its header.

    Raises :class:`TabularError` for an empty file, an undecodable one, a legacy ``.xls``, a
    broken XLSX, or a header with no data rows after it. The CSV encoding is decided before any
    row is parsed (UTF-8, with or without BOM, else GB18030, each tried strictly over the whole
    file in 1 MB chunks), so a decoding error can never surface half-way through an import.

    A file beyond ``limits`` (:func:`default_limits` when not given: size, an XLSX's inflated
    size and ratio, rows; an XLSX with a DTD or entity declarations) is refused before its rows
    are read, or (rows) as soon as the row past the limit is read.
    """
    limits = limits or default_limits()
    stream, owned = _binary_stream(source)
    try:
        size = stream.seek(0, os.SEEK_END)
        stream.seek(0)
        if size > limits.max_bytes:
            raise TabularError(
                bilingual(
                    f"文件过大：{_megabytes(size)}，上限为 {_megabytes(limits.max_bytes)}",
                    f"the file is too large: {_megabytes(size)}, "
                    f"the limit is {_megabytes(limits.max_bytes)}",
                )
            )
        head = stream.read(8)
        stream.seek(0)
        if head.startswith(_ZIP_MAGIC):
            _check_xlsx(stream, limits)
            table = _open_xlsx(stream, owned)
        elif head.startswith(_OLE_MAGIC):
            raise TabularError(
                bilingual(
                    "不支持旧版 Excel（.xls）文件，请另存为 .xlsx 或 CSV",
                    "legacy Excel .xls files are not supported: save as .xlsx or CSV",
                )
            )
        elif head.startswith(_UTF16_BOMS):
            raise TabularError(
                bilingual(
                    "不支持 UTF-16 编码（Excel“Unicode 文本”），请另存为“CSV UTF-8”或 .xlsx",
                    "UTF-16 files (Excel “Unicode text”) are not supported: save as “CSV UTF-8” or .xlsx",
                )
            )
        else:
            table = _open_csv(stream, owned)
    except BaseException:
        if owned:
            stream.close()
        raise
    return _with_first_data_row(_guarded(table, limits.max_rows))


def _binary_stream(source: Source) -> tuple[IO[bytes], bool]:
    """A seekable binary stream over ``source`` and whether we must close it."""
    if isinstance(source, bytes | bytearray | memoryview):
        return io.BytesIO(source), True  # BytesIO shares the bytes' buffer until written to
    if isinstance(source, str | os.PathLike):
        return open(source, "rb"), True  # closed by Table.close
    if hasattr(source, "seekable") and source.seekable():
        source.seek(0)
        return source, False
    return io.BytesIO(source.read()), True


@dataclass
class _Scan:
    """What one pass over a CSV's bytes found besides its encoding."""

    encoding: str
    has_nul: bool = False
    quotes: int = 0


def detect_encoding(stream: IO[bytes]) -> str:
    """The first of :data:`ENCODINGS` that decodes the whole stream strictly; rewinds it.
    A file of UTF-8 lines and GB18030 lines is refused, naming the first line of each."""
    return _scan_csv(stream).encoding


def _scan_csv(stream: IO[bytes]) -> _Scan:
    first_bad = 0
    scan = _Scan(ENCODINGS[0])
    for encoding in ENCODINGS:
        stream.seek(0)
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        offset = 0
        first = encoding == ENCODINGS[0]
        try:
            while chunk := stream.read(_CHUNK):
                if first:
                    # NUL bytes and quotes are counted on the way: both are rare, and a cheap
                    # count says whether the slow look for where they are is needed at all.
                    scan.has_nul = scan.has_nul or b"\x00" in chunk
                    scan.quotes += chunk.count(b'"')
                decoder.decode(chunk)
                offset += len(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            if first:
                first_bad = offset + max(exc.start, 0) + 1
                _refuse_mixed_encodings(stream)
            continue
        stream.seek(0)
        scan.encoding = encoding
        if not first:
            # The counts of the UTF-8 pass stopped at its error: count again.
            scan.has_nul, scan.quotes = False, 0
            while chunk := stream.read(_CHUNK):
                scan.has_nul = scan.has_nul or b"\x00" in chunk
                scan.quotes += chunk.count(b'"')
            stream.seek(0)
        return scan
    raise TabularError(
        bilingual(
            f"无法识别文件编码：既不是 UTF-8 也不是 GB18030（第 {first_bad} 字节）。"
            "请在 Excel 中另存为“CSV UTF-8”或 .xlsx",
            f"cannot decode the file as UTF-8 or GB18030 (byte {first_bad}); "
            "save it from Excel as “CSV UTF-8” or .xlsx",
        )
    )


def _refuse_mixed_encodings(stream: IO[bytes]) -> None:
    """A file that is not UTF-8 as a whole may still have UTF-8 lines: one pasted from another
    file, or edited by another program. GB18030 would decode those into mojibake without a
    word, so a file with both is refused. A line counts as UTF-8 when it decodes as UTF-8 and
    has a character of three UTF-8 bytes (every Chinese character): GB18030 text almost never
    does, while a short GB18030 word may pass for a two-byte UTF-8 letter."""
    stream.seek(0)
    utf8_line = other_line = 0
    bom = stream.read(3) == codecs.BOM_UTF8
    if bom:
        utf8_line = 1
    stream.seek(3 if bom else 0)
    number = 0
    for raw in _byte_lines(stream):
        number += 1
        if raw.isascii():
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            other_line = other_line or number
        else:
            if any(ord(c) >= 0x800 for c in text):
                utf8_line = utf8_line or number
        if utf8_line and other_line:
            stream.seek(0)
            raise TabularError(
                bilingual(
                    f"文件混用了两种编码：第 {utf8_line} 行是 UTF-8，第 {other_line} 行不是"
                    "（可能是 GB18030）。请统一另存为“CSV UTF-8”或 .xlsx",
                    f"the file mixes two encodings: line {utf8_line} is UTF-8, line "
                    f"{other_line} is not (GB18030?); save it all as “CSV UTF-8” or .xlsx",
                )
            )
    stream.seek(0)


def _byte_lines(stream: IO[bytes]) -> Iterator[bytes]:
    """The physical lines of a byte stream (split at \\n), read in chunks."""
    tail = b""
    while chunk := stream.read(_CHUNK):
        lines = (tail + chunk).split(b"\n")
        tail = lines.pop()
        yield from lines
    if tail:
        yield tail


def _empty_file() -> TabularError:
    return TabularError(bilingual("文件是空的", "the file is empty"))


def _open_csv(stream: IO[bytes], owned: bool) -> Table:
    scan = _scan_csv(stream)
    encoding = scan.encoding
    if scan.quotes % 2:
        _refuse_unterminated_quote(stream, encoding)
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")

    def close() -> None:
        if owned:
            text.close()
        else:
            text.detach()  # leave the caller's file open

    try:
        first = text.readline()
        # Skip leading blank lines; the header is the first line with something in it.
        line = 1
        while first and not first.strip(" \t\r\n,;"):
            first = text.readline()
            line += 1
        if not first:
            raise _empty_file()
        delimiter = _sniff_delimiter(first)
        reader = csv.reader(chain((first,), text), delimiter=delimiter)
        header = [_clean_header(h) for h in next(reader)]
    except BaseException:
        close()
        raise
    skipped = line - 1
    table = Table(CSV, encoding, header, line, reader, close, lambda: skipped + reader.line_num)
    table.may_hold_nul = scan.has_nul
    if scan.has_nul:
        _refuse_nul(table, header, line)
    return table


def _refuse_unterminated_quote(stream: IO[bytes], encoding: str) -> None:
    """An odd number of quotes: perhaps a quoted field never closed, which would swallow every
    line after it into one cell without a word. Read strictly to find the line where it began
    (a quote inside an unquoted field, as in 12", is only a character: then nothing is
    refused)."""
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    try:
        first = text.readline()
        reader = csv.reader(chain((first,), text), delimiter=_sniff_delimiter(first), strict=True)
        line = 0
        try:
            for _cells in reader:
                line += 1
        except csv.Error as exc:
            if "unexpected end of data" not in str(exc):
                return  # something else the tolerant reader reads as it always has
            begun = line + 1
            raise TabularError(
                bilingual(
                    f"第 {begun} 行：引号没有结束，从这一行开始的带引号字段一直延续到文件末尾，"
                    "吞掉了后面的行。请补上结束的引号",
                    f"line {begun}: unterminated quote: the quoted field that begins on this "
                    "line runs to the end of the file, swallowing the lines after it; "
                    "close the quote",
                )
            ) from None
    finally:
        text.detach()
        stream.seek(0)


def _nul_error(line: int, column: str) -> TabularError:
    where = f"“{column}”列" if column else ""
    return TabularError(
        bilingual(
            f"第 {line} 行{where}含有空字符（NUL），文件可能已损坏或不是文本文件",
            f"line {line}{f', column {column}' if column else ''}: contains a NUL character; "
            "the file may be damaged or not a text file",
        )
    )


def _refuse_nul(table: Table, header: Sequence[str], line: int) -> None:
    for index, cell in enumerate(header):
        if "\x00" in cell:
            table.close()
            raise _nul_error(line, cell.replace("\x00", "") or f"#{index + 1}")


def _sniff_delimiter(header_line: str) -> str:
    """Comma, unless the header has none and uses tabs or semicolons (other Excel locales)."""
    if "," in header_line or "，" in header_line:
        return ","
    if "\t" in header_line:
        return "\t"
    if ";" in header_line:
        return ";"
    return ","


def _clean_header(text: str) -> str:
    return text.replace("\ufeff", "").strip()


# XLSX files are read by python-calamine (Rust; about ten times openpyxl's speed, see
# bench/xlsx_read.py) whenever it is sure to give exactly the texts the openpyxl path gives, and
# by openpyxl (read-only) otherwise. Calamine sees no number formats and reads a few things its
# own way, so a cheap look at the zip first (styles.xml, then the first sheet's XML and the
# shared strings, streamed) sends to openpyxl any workbook that has one of them:
#   - a percent number format: 15% is stored as 0.15, and only openpyxl can say "15%";
#   - a number format the two readers disagree on (date or not): the Chinese/Japanese built-in
#     date formats 27-36 and 50-58, and any custom format whose classification differs;
#   - error cells (#N/A: "" to calamine), _xHHHH_ escapes (unescaped by calamine only), text
#     with leading or trailing spaces not marked xml:space="preserve" (trimmed by calamine),
#     integers of 16 digits or more (calamine has only floats) and -0;
#   - in a date-formatted cell, a negative number or a time within half a millisecond of
#     midnight (dated differently).
# Calamine's rows are cut like openpyxl's: from column A to the last non-empty cell (openpyxl's
# may go on with empty cells that carry a style: only such trailing "" differ).
# Memory: calamine holds the whole sheet while its rows are read (about 370 bytes a row of five
# cells); openpyxl's read-only sheet stays flat.

CALAMINE = "calamine"
OPENPYXL = "openpyxl"

# Built-in number formats that calamine reads as dates and openpyxl as plain numbers.
_LOCALE_DATE_FORMAT_IDS = frozenset([*range(27, 37), *range(50, 59)])
_PERCENT_FORMAT_IDS = frozenset([9, 10])
# The root element of a part, for the prefix its elements carry (x:c, x:v...) if any.
_ROOT_ELEMENT = re.compile(rb"<(?:(\w+):)?(?:worksheet|sst)[\s>]")
_SCAN_CHUNK = 1 << 20
_SCAN_TAIL = 256 << 10
# An XML part's root element comes within this many bytes, after the XML declaration.
_PROLOG_LIMIT = 64 << 10
_MIN_RATIO_CHECKED = 1 << 20  # small parts compress as they like
_ROW_TAG = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br=["\'](\d+)')


def _hostile_xlsx(zh: str, en: str) -> TabularError:
    return TabularError(bilingual(f"拒绝处理该 XLSX 文件：{zh}", f"XLSX file refused: {en}"))


def _check_xlsx(stream: IO[bytes], limits: Limits) -> None:
    """Refuse, before any reader inflates it, an XLSX that would inflate beyond the limits, whose
    parts are compressed suspiciously well (a zip bomb), whose XML declares a DTD or entities
    (entity expansion), or whose first sheet has more rows than allowed. A file that is not a
    readable zip is left to the reader, whose error is the one reported. Rewinds the stream."""
    try:
        with zipfile.ZipFile(stream) as archive:
            infos = archive.infolist()
            inflated = sum(info.file_size for info in infos)
            if inflated > limits.max_inflated_bytes:
                raise _hostile_xlsx(
                    f"解压后有 {_megabytes(inflated)}，上限为 {_megabytes(limits.max_inflated_bytes)}",
                    f"it inflates to {_megabytes(inflated)}, the limit is "
                    f"{_megabytes(limits.max_inflated_bytes)}",
                )
            for info in infos:
                if info.file_size > _MIN_RATIO_CHECKED and info.file_size > limits.max_ratio * max(
                    info.compress_size, 1
                ):
                    raise _hostile_xlsx(
                        f"{info.filename} 的压缩比超过 {limits.max_ratio} 倍（疑似压缩炸弹）",
                        f"{info.filename} is compressed more than {limits.max_ratio} times "
                        "(a zip bomb?)",
                    )
            for info in infos:
                if info.filename.endswith((".xml", ".rels", ".vml")) and _declares_entities(
                    archive, info
                ):
                    raise _hostile_xlsx(
                        f"{info.filename} 含有 DTD 或实体声明",
                        f"{info.filename} declares a DTD or entities",
                    )
            reason, sheet, _parts = _first_sheet(archive)
            if reason is None:
                _check_sheet_rows(archive, sheet, limits.max_rows)
    except TabularError:
        raise
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, ET.ParseError, EOFError, zlib.error):
        pass
    finally:
        stream.seek(0)


def _declares_entities(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """Whether an XML part has a DTD (where entities are declared) before its root element, or
    a prolog too long to be an ordinary one."""
    with archive.open(info) as part:
        head = part.read(_PROLOG_LIMIT)
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        return True
    return len(head) == _PROLOG_LIMIT and re.search(rb"<[A-Za-z_]", head) is None


def _check_sheet_rows(archive: zipfile.ZipFile, sheet: str, max_rows: int) -> None:
    """Refuse a first sheet with a row past ``max_rows``: rows come in order, so the last row
    of each chunk read says how far the sheet has gone. Read in chunks, in linear time."""
    with archive.open(sheet) as part:
        tail = b""
        while chunk := part.read(_SCAN_CHUNK):
            block = tail + chunk
            pos = len(block)
            for _ in range(8):  # the last opening <row> tag of the block (not a </row>)
                last = block.rfind(b"row", 0, pos)
                if last < 0:
                    break
                found = _ROW_TAG.match(block, max(block.rfind(b"<", 0, last), 0))
                if found is not None:
                    if int(found.group(1)) > max_rows:
                        raise TabularError(
                            bilingual(
                                f"工作表超过 {max_rows} 行（Excel 的上限为 {EXCEL_MAX_ROWS} 行），"
                                "请分成几个文件上传",
                                f"the sheet has more than {max_rows} rows (Excel's limit is "
                                f"{EXCEL_MAX_ROWS}): split it into several files",
                            )
                        )
                    break
                pos = last
            tail = block[-256:]


def xlsx_reader(stream: IO[bytes]) -> str:
    """Which reader :func:`open_table` uses for this XLSX: :data:`CALAMINE` when it is sure to
    give the very cell texts openpyxl gives, else :data:`OPENPYXL`. Rewinds the stream."""
    return OPENPYXL if calamine_obstacle(stream) else CALAMINE


def calamine_obstacle(stream: IO[bytes]) -> str | None:
    """Why this XLSX must be read by openpyxl (``None``: calamine reads it exactly as openpyxl
    would). A file that is not a readable workbook goes to openpyxl, whose error is the one
    reported. Rewinds the stream."""
    try:
        with zipfile.ZipFile(stream) as archive:
            return _calamine_obstacle(archive)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, ET.ParseError, EOFError) as exc:
        return f"not a workbook calamine can be trusted with: {exc!r}"
    finally:
        stream.seek(0)


def _first_sheet(archive: zipfile.ZipFile) -> tuple[str | None, str, dict]:
    """(why there is no first worksheet or None, its part's path, the workbook's parts)."""
    workbook = next(
        (t for kind, t in _relationships(archive, "").values() if kind == "officeDocument"), None
    )
    if workbook is None:
        return "no workbook part", "", {}
    parts = _relationships(archive, workbook)
    first_sheet = next(
        (el for el in ET.fromstring(archive.read(workbook)).iter() if _local(el.tag) == "sheet"),
        None,
    )
    if first_sheet is None:
        return "no sheet", "", parts
    rel_id = next((v for k, v in first_sheet.attrib.items() if _local(k) == "id" and "}" in k), "")
    kind, sheet = parts.get(rel_id, ("", ""))
    if kind != "worksheet":
        return "the first sheet is not a worksheet", "", parts
    return None, sheet, parts


def _calamine_obstacle(archive: zipfile.ZipFile) -> str | None:
    reason, sheet, parts = _first_sheet(archive)
    if reason:
        return reason
    date_styles: frozenset[int] = frozenset()
    for kind, target in parts.values():
        if kind == "styles":
            reason, date_styles = _number_formats_obstacle(archive.read(target))
            if reason:
                return reason
    strings = [target for kind, target in parts.values() if kind == "sharedStrings"]
    for target in [sheet, *strings]:
        if _part_matches(archive, target, date_styles if target == sheet else frozenset()):
            return f"{target} has cells calamine reads differently"
    return None


def _number_formats_obstacle(styles: bytes) -> tuple[str | None, frozenset[int]]:
    """Why the number formats of a workbook's cells need openpyxl (if they do), and which
    cell styles (the ``s`` of a cell) are dates."""
    root = ET.fromstring(styles)
    custom: dict[int, str] = {}
    styles_formats: list[int] = []
    for element in root:
        name = _local(element.tag)
        if name == "numFmts":
            for fmt in element:
                custom[int(fmt.get("numFmtId", "-1"))] = fmt.get("formatCode", "")
        elif name == "cellXfs":
            styles_formats = [int(xf.get("numFmtId", "0")) for xf in element]
    kinds: dict[int, str] = {}
    for fmt_id in sorted(set(styles_formats)):
        code = custom.get(fmt_id)
        if code is None:
            if fmt_id in _PERCENT_FORMAT_IDS:
                return f"percent number format {fmt_id}", frozenset()
            if fmt_id in _LOCALE_DATE_FORMAT_IDS:
                return f"locale date format {fmt_id}", frozenset()
            kinds[fmt_id] = _openpyxl_format_kind(BUILTIN_FORMATS.get(fmt_id, "General"))
        elif "%" in code:  # as _value_text tests it: quoted or not
            return f"percent number format {code!r}", frozenset()
        else:
            kinds[fmt_id] = _openpyxl_format_kind(code)
            if _calamine_format_kind(code) != kinds[fmt_id]:
                return f"number format {code!r} is read differently", frozenset()
    dates = frozenset(i for i, fmt_id in enumerate(styles_formats) if kinds[fmt_id] == "date")
    return None, dates


def _openpyxl_format_kind(code: str) -> str:
    if not is_date_format(code):
        return "number"
    return "elapsed" if is_timedelta_format(code) else "date"


def _calamine_format_kind(code: str) -> str:
    """How calamine reads a number in a custom format: ``date``, ``elapsed`` ([h]:mm) or
    ``number``. Only the first section counts; quoted text, characters after ``\\``, ``_`` or
    ``*`` and bracketed modifiers ([Red], [$-804]) are skipped; a date letter or an AM/PM (A/P)
    marker makes a date, a bracket of one repeated h, m or s an elapsed time. Calamine's rule,
    checked against calamine itself in tests/districts/test_xlsx_calamine.py."""
    quoted = escaped = am_pm = False
    depth = 0
    bracket = ""
    for ch in code:
        if escaped:
            escaped = False
        elif quoted:
            quoted = ch != '"'
        elif ch in "\\_*":
            escaped = True
        elif ch == '"':
            quoted = True
        elif ch == ";":
            break
        elif ch == "[":
            depth += 1
            bracket = ""
        elif ch == "]":
            if depth == 1 and bracket[:1] in ("h", "m", "s") and len(set(bracket)) == 1:
                return "elapsed"
            depth = max(depth - 1, 0)
        elif depth:
            bracket += ch.lower()
        elif am_pm:  # after an "a", only the rest of an AM/PM or A/P marker counts
            if ch in "pPmM/":
                return "date"
        elif ch in "dmhysDMHYS":
            return "date"
        elif ch in "aA":
            am_pm = True
    return "number"


def _part_matches(archive: zipfile.ZipFile, name: str, date_styles: frozenset[int]) -> bool:
    """Whether a sheet or shared-strings part has anything calamine reads differently (in
    cells of ``date_styles``, numbers it turns into other dates too), read in chunks."""
    with archive.open(name) as part:
        tail = b""
        patterns: tuple[list[re.Pattern[bytes]], re.Pattern[bytes] | None] | None = None
        odd_dates: tuple[bytes, ...] = ()
        while chunk := part.read(_SCAN_CHUNK):
            block = tail + chunk
            if patterns is None:
                root = _ROOT_ELEMENT.search(block)
                prefix = root.group(1) + b":" if root and root.group(1) else b""
                patterns = _cell_patterns(prefix, date_styles)
                odd_dates = (b"<" + prefix + b"v>-", b".99999999")
            cells, dates = patterns
            # One pattern at a time: each begins with a literal, which re finds fast.
            if any(pattern.search(block) for pattern in cells):
                return True
            if dates and any(s in block for s in odd_dates) and dates.search(block):
                return True
            # A match holds at most four "<" (<c>, <f>, </f>, <v>): whatever starts at the
            # fourth "<" from the end may be cut short, so it is read again with the next chunk.
            # But never more than _SCAN_TAIL bytes (a cell holds at most 32,767 characters):
            # a part without "<" for megabytes would otherwise be carried over and scanned
            # again with every chunk, in time growing with the square of its size.
            cut = len(block)
            for _ in range(4):
                cut = block.rfind(b"<", 0, cut)
                if cut <= 0:
                    break
            tail = block[max(cut, 0, len(block) - _SCAN_TAIL) :]
    return False


# A character reference to a white-space character (what calamine trims: Unicode White_Space).
_SPACE_CODES = (9, 10, 11, 12, 13, 32, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028,
                0x2029, 0x202F, 0x205F, 0x3000)  # fmt: skip
_SPACE_REF = (
    rb"&#(?:0*(?:"
    + b"|".join(str(c).encode() for c in _SPACE_CODES)
    + rb")|[xX]0*(?:"
    + b"|".join(f"{c:x}".encode() + b"|" + f"{c:X}".encode() for c in _SPACE_CODES)
    + rb"));"
)


@functools.lru_cache(maxsize=64)
def _cell_patterns(
    prefix: bytes, date_styles: frozenset[int]
) -> tuple[list[re.Pattern[bytes]], re.Pattern[bytes] | None]:
    """The patterns of what calamine reads differently, for parts whose elements carry
    ``prefix``; then the one for cells of ``date_styles`` that it dates differently."""
    p = re.escape(prefix)
    cells = [
        rb"""t=["']e["']""",  # an error cell: "" to calamine
        rb"_x[0-9A-Fa-f]{4}_",  # an escaped character: unescaped by calamine only
        # Text with a space (or a character reference) at either end, not marked
        # xml:space="preserve": trimmed by calamine only.
        # (A character reference counts when it stands for white space: writers that spell
        # every Chinese character as &#21333; leave the rest to calamine.)
        b"<" + p + rb"t>(?:\s|" + _SPACE_REF + rb"|[^<]*(?:\s|" + _SPACE_REF + rb")</)",
        # An integer of 16 digits or more (calamine has only floats), or -0.
        b"<" + p + rb"v>(?:-?\d{16}|-0(?:\.0*)?(?:[eE][-+]?\d+)?<)",
        # A formula without a calculated value: "" to calamine; openpyxl reads its formula too.
        b"<" + p + rb"c\b[^>]*>\s*<" + p + rb"f\b(?:[^>]*/>|[^>]*>[^<]*</" + p + rb"f>)\s*"
        rb"(?:<" + p + rb"v\s*/>\s*|<" + p + rb"v>\s*</" + p + rb"v>\s*)?</" + p + rb"c>",
    ]
    # Numbers the two readers turn into different dates: negative ones, and times of day
    # within half a millisecond of midnight (the next day to openpyxl, 00:00 to calamine).
    odd = rb"(?:-|0?\.99999999[4-9])"
    if not date_styles:
        dates = None
    elif 0 in date_styles:  # cells without a style are dates too: any such number counts
        dates = re.compile(b"<" + p + b"v>" + odd)
    else:
        styles = b"|".join(str(s).encode() for s in sorted(date_styles))
        dates = re.compile(
            b"<" + p + rb"c\s[^>]*?\bs=[\"'](?:" + styles + rb")[\"'][^>]*>"
            rb"(?:<" + p + rb"f\b[^>]*/>|<" + p + rb"f\b[^>]*>[^<]*</" + p + rb"f>)?"
            b"<" + p + b"v>" + odd
        )
    return [re.compile(pattern) for pattern in cells], dates


def _relationships(archive: zipfile.ZipFile, source: str) -> dict[str, tuple[str, str]]:
    """A part's relationships: id → (kind, e.g. ``worksheet``; the target's path in the zip)."""
    folder, _, name = source.rpartition("/")
    rels = f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels"
    try:
        root = ET.fromstring(archive.read(rels))
    except KeyError:
        return {}
    found = {}
    for rel in root:
        target = rel.get("Target", "")
        if rel.get("TargetMode") == "External":
            continue
        path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
        kind = rel.get("Type", "").rpartition("/")[2]
        found[rel.get("Id", "")] = (kind, posixpath.normpath(path))
    return found


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _open_xlsx(stream: IO[bytes], owned: bool) -> Table:
    if xlsx_reader(stream) == CALAMINE:
        table = _open_xlsx_calamine(stream, owned)
        if table is not None:
            return table
    return _open_xlsx_openpyxl(stream, owned)


def _open_xlsx_calamine(stream: IO[bytes], owned: bool) -> Table | None:
    """The first worksheet read by calamine; ``None`` when calamine cannot open the file."""
    try:
        workbook = CalamineWorkbook.from_filelike(stream)
    except (CalamineError, OSError, ValueError):
        stream.seek(0)
        return None
    closed = False

    def close() -> None:
        nonlocal closed
        if not closed:
            closed = True
            workbook.close()
            if owned:
                stream.close()

    try:
        metadata = workbook.sheets_metadata
        if not metadata or metadata[0].typ != SheetTypeEnum.WorkSheet:
            sheet = None
        else:
            sheet = workbook.get_sheet_by_index(0)  # the sheet's cells, held by calamine
    except CalamineError:
        sheet = None
    if sheet is None:
        workbook.close()
        stream.seek(0)
        return None
    try:
        start = sheet.start
        if start is None:
            raise _empty_file()
        rows = _calamine_rows(sheet.iter_rows(), start[1])
        header, line = _sheet_header(rows)
    except BaseException:
        close()
        raise
    return Table(XLSX, None, header, line, rows, close)


def _sheet_header(rows: Iterator[list[str]]) -> tuple[list[str], int]:
    """The first non-blank row of a sheet and its line; the rows after it stay in ``rows``."""
    line = 0
    for cells in rows:
        line += 1
        if not is_blank(cells):
            return [_clean_header(h) for h in cells], line
    raise _empty_file()


def _calamine_rows(values: Iterator[list], first_column: int) -> Iterator[list[str]]:
    """Calamine's rows as openpyxl's: texts, starting at column A, ending at the last cell
    with something in it. (python-calamine's iter_rows starts at row 1 but at the first
    column with data.)"""
    pad = [""] * first_column
    text = _value_text
    for row in values:
        cells = [v if type(v) is str else text(v) for v in row]
        while cells and not cells[-1]:
            cells.pop()
        yield pad + cells if pad and cells else cells


class FormulaText(str):
    """The text of a formula cell that has no calculated value (a workbook written by a
    program, or saved without recalculating): the formula itself, so that the validator can say
    "formula without a value" rather than "value is empty" or "not a number"."""


def _open_xlsx_openpyxl(stream: IO[bytes], owned: bool) -> Table:
    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
        # Formulas are read too, only when some formula has no value: reading twice costs.
        formulas = (
            load_workbook(stream, read_only=True, data_only=False)
            if _has_formula_without_value(stream)
            else None
        )
    except (InvalidFileException, *_BROKEN_XLSX) as exc:
        raise _unreadable_xlsx(exc) from exc

    def close() -> None:
        workbook.close()
        if formulas is not None:
            formulas.close()
        if owned:
            stream.close()

    def first_sheet(book):
        sheets = [ws for ws in book.worksheets if hasattr(ws, "iter_rows")]
        if not sheets:
            raise _empty_file()
        # Writers other than Excel often record a wrong <dimension>; read what is really there.
        sheets[0].reset_dimensions()
        return sheets[0]

    try:
        sheet = first_sheet(workbook)
        rows = _openpyxl_rows(sheet)
        if formulas is not None:
            rows = _with_formulas(rows, _openpyxl_formulas(first_sheet(formulas)))
        header, line = _sheet_header(rows)
    except BaseException:
        close()
        raise
    return Table(XLSX, None, header, line, rows, close)


def _has_formula_without_value(stream: IO[bytes]) -> bool:
    """Whether the first sheet has a formula cell without a cached value. Rewinds the stream."""
    try:
        with zipfile.ZipFile(stream) as archive:
            reason, sheet, _parts = _first_sheet(archive)
            if reason:
                return False
            with archive.open(sheet) as part:
                tail = b""
                while chunk := part.read(_SCAN_CHUNK):
                    block = tail + chunk
                    if b"<f" in block or b":f" in block:
                        if _FORMULA_WITHOUT_VALUE.search(block):
                            return True
                    tail = block[-_SCAN_TAIL:]
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, ET.ParseError, EOFError):
        return False
    finally:
        stream.seek(0)
    return False


# A formula cell whose <v> is missing or empty: <c r="D2"><f>B2*C2</f></c>.
_FORMULA_WITHOUT_VALUE = re.compile(
    rb"<(\w+:)?c\b[^>]*>\s*<(?:\w+:)?f\b(?:[^>]*/>|[^>]*>[^<]*</(?:\w+:)?f>)\s*"
    rb"(?:<(?:\w+:)?v\s*/>\s*|<(?:\w+:)?v>\s*</(?:\w+:)?v>\s*)?</(?:\w+:)?c>"
)


def _openpyxl_formulas(sheet) -> Iterator[list[object]]:
    try:
        for cells in sheet.iter_rows(min_row=1, min_col=1):
            yield [c.value for c in cells]
    except _BROKEN_XLSX as exc:
        raise _unreadable_xlsx(exc) from exc


def _with_formulas(
    rows: Iterator[list[str]], formulas: Iterator[list[object]]
) -> Iterator[list[str]]:
    """The rows, with the text of each formula that has no value in place of its ``""``."""
    for cells, raw in zip(rows, chain(formulas, iter(list, None)), strict=False):
        for index, cell in enumerate(cells):
            if not cell and index < len(raw):
                formula = raw[index]
                if isinstance(formula, str) and formula.startswith("="):
                    cells[index] = FormulaText(formula)
        yield cells


# What openpyxl raises, when opening or while reading rows, for a damaged file (its XML parser
# is lxml's when lxml is installed).
_BROKEN_XLSX = (
    zipfile.BadZipFile,
    KeyError,
    OSError,
    ValueError,
    EOFError,
    zlib.error,
    ET.ParseError,
    XMLSyntaxError,
)


def _unreadable_xlsx(exc: BaseException) -> TabularError:
    return TabularError(
        bilingual(f"无法读取 XLSX 文件：{exc}", f"cannot read the XLSX file: {exc}")
    )


def _openpyxl_rows(sheet) -> Iterator[list[str]]:
    # A read-only sheet is parsed as it is iterated: a damaged sheet fails here, half-way.
    try:
        for cells in sheet.iter_rows(min_row=1, min_col=1):
            yield [_cell_text(c) for c in cells]
    except _BROKEN_XLSX as exc:
        raise _unreadable_xlsx(exc) from exc


def _cell_text(cell) -> str:
    """A cell as the text the user typed (as far as Excel lets us know it)."""
    return _value_text(cell.value, cell.number_format)


def _value_text(value: object, number_format: str | None = None) -> str:
    """A cell's value as the text the user typed; ``number_format`` only for openpyxl cells."""
    if value is None:
        return ""
    kind = type(value)
    if kind is str:
        return value
    if kind is int:
        return str(value)
    if kind is float:
        # A percent-formatted cell stores 15% as 0.15: give back what the user sees.
        if number_format and "%" in number_format:
            return f"{value * 100:.13g}%"
        # 15 significant digits: what Excel itself shows, hiding binary noise (0.1 + 0.2). An
        # integer stored as a float (calamine has no other numbers) comes out as an integer.
        return f"{value:.15g}"
    if kind is bool:
        return "true" if value else "false"
    if kind is datetime:
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _guarded(table: Table, max_rows: int) -> Table:
    """The table's rows, refused past line ``max_rows`` and at a cell with a NUL character
    (which PostgreSQL cannot store, and which no one types), by line and column."""
    rows = table._rows
    header = table.header
    check_nul = table.may_hold_nul

    def guarded() -> Iterator[Sequence[str]]:
        line = table.header_line
        for cells in rows:
            line += 1
            if line > max_rows:
                raise TabularError(
                    bilingual(
                        f"文件超过 {max_rows} 行（Excel 的上限为 {EXCEL_MAX_ROWS} 行），请分成几个文件上传",
                        f"the file has more than {max_rows} lines (Excel's limit is "
                        f"{EXCEL_MAX_ROWS}): split it into several files",
                    )
                )
            if check_nul:
                for index, cell in enumerate(cells):
                    if "\x00" in cell:
                        column = header[index] if index < len(header) else f"#{index + 1}"
                        raise _nul_error(line, column)
            yield cells

    table._rows = guarded()
    return table


def _with_first_data_row(table: Table) -> Table:
    """Fail now, not at the end, when a header has no data rows after it."""
    peeked: list[Sequence[str]] = []
    try:
        for cells in table._rows:
            peeked.append(cells)
            if not is_blank(cells):
                break
        else:
            raise TabularError(
                bilingual("文件只有表头，没有数据行", "no data rows: the file has a header only")
            )
    except csv.Error as exc:
        table.close()
        raise table.read_error(exc, table.position() or table.header_line + 1) from exc
    except BaseException:
        table.close()
        raise
    table._rows = chain(peeked, table._rows)
    return table


# --------------------------------------------------------------------------------------------
# Headers


def normalise_header(text: str) -> str:
    """``" Org_Unit "`` → ``orgunit``: full-width folded, case, spaces, ``_`` and ``-`` ignored."""
    folded = unicodedata.normalize("NFKC", text.replace("\ufeff", "")).casefold()
    return re.sub(r"[\s_\-]+", "", folded)


@dataclass(frozen=True)
class ColumnMap:
    """Where each canonical column sits in the file, and the header the file gave it."""

    index: dict[str, int]
    label: dict[str, str]

    def __contains__(self, name: str) -> bool:
        return name in self.index


def map_columns(
    header: Sequence[str],
    aliases: Mapping[str, Iterable[str]],
    required: Collection[str],
) -> ColumnMap:
    """Map a header row onto canonical names.

    ``aliases`` maps each canonical name to its other accepted headers (the canonical name is
    always accepted). Empty header cells are ignored. Missing required columns, unknown columns
    and columns given twice are all reported in one :class:`TabularError`, each by name.
    """
    lookup: dict[str, str] = {}
    for name, others in aliases.items():
        for alias in (name, *others):
            key = normalise_header(alias)
            if lookup.setdefault(key, name) != name:
                raise ValueError(f"alias {alias!r} is given for both {lookup[key]} and {name}")
    index: dict[str, int] = {}
    label: dict[str, str] = {}
    unknown: list[str] = []
    duplicate: list[str] = []
    for position, text in enumerate(header):
        if not text.strip():
            continue
        name = lookup.get(normalise_header(text))
        if name is None:
            unknown.append(text)
        elif name in index:
            duplicate.append(f"{label[name]} / {text}")
        else:
            index[name] = position
            label[name] = text
    missing = [name for name in aliases if name in required and name not in index]
    if missing or unknown or duplicate:
        zh: list[str] = []
        en: list[str] = []

        def shown(name: str) -> str:
            chinese = next((a for a in aliases[name] if not a.isascii()), "")
            return f"{name}/{chinese}" if chinese else name

        if missing:
            zh.append("缺少列 " + "、".join(shown(n) for n in missing))
            en.append(_plural("missing column", missing) + ", ".join(shown(n) for n in missing))
        if unknown:
            zh.append("未知列 " + "、".join(unknown))
            en.append(_plural("unknown column", unknown) + ", ".join(unknown))
        if duplicate:
            zh.append("列重复 " + "、".join(duplicate))
            en.append(_plural("duplicate column", duplicate) + ", ".join(duplicate))
        accepted = ", ".join(shown(n) for n in aliases)
        raise TabularError(
            bilingual("；".join(zh), "; ".join(en) + f". Accepted columns: {accepted}"),
            missing=missing,
            unknown=unknown,
            duplicate=duplicate,
        )
    return ColumnMap(index, label)


def _plural(noun: str, items: Sequence[object]) -> str:
    return f"{noun}{'s' if len(items) > 1 else ''}: "

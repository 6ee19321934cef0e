"""Reading XLSX with python-calamine: the same cells, line numbers and errors as the openpyxl path,
and openpyxl whenever calamine cannot be sure of giving them (pure, no database)."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, time, timedelta
from xml.sax.saxutils import escape, quoteattr

import openpyxl
import pytest

from districts.intake import tables as tabular
from districts.intake.tables import CALAMINE, OPENPYXL, TabularError, open_table, xlsx_reader

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def openpyxl_bytes(rows, *, formats=None, at="A1") -> bytes:
    """An XLSX written by openpyxl: ``rows`` from cell ``at`` on; ``formats`` maps (row, col)
    (1-based, in the sheet) to a number format; a second sheet that must be ignored."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    first = sheet[at]
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.cell(row=first.row + r, column=first.column + c, value=value)
    for (row, col), number_format in (formats or {}).items():
        sheet.cell(row=row, column=col).number_format = number_format
    workbook.create_sheet("说明").append(["只导入第一个工作表"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def raw_xlsx(
    sheet_data: str,
    *,
    shared: tuple[str, ...] = (),
    num_fmts: dict[int, str] | None = None,
    xf_formats: tuple[int, ...] = (0,),
    date1904: bool = False,
    prefix: str = "",
) -> bytes:
    """A minimal XLSX with the given ``<sheetData>`` content (cells styled ``s="1"`` take
    ``xf_formats[1]``), shared strings (``<si>`` contents), custom number formats; ``prefix``
    writes the sheet with a namespace prefix (``x:c``), as some writers do."""
    p = f"{prefix}:" if prefix else ""
    xmlns = f'xmlns:{prefix}="{MAIN}"' if prefix else f'xmlns="{MAIN}"'
    rels_ns = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    fmts = "".join(
        f"<numFmt numFmtId={quoteattr(str(i))} formatCode={quoteattr(code)}/>"
        for i, code in (num_fmts or {}).items()
    )
    xfs = "".join(f'<xf numFmtId="{i}" fontId="0" fillId="0" borderId="0"/>' for i in xf_formats)
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{MAIN}" xmlns:r="{rels_ns}">'
            + ('<workbookPr date1904="1"/>' if date1904 else "")
            + '<sheets><sheet name="数据" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{rel}/styles" Target="styles.xml"/>'
            f'<Relationship Id="rId3" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>"
        ),
        "xl/styles.xml": (
            f'<styleSheet xmlns="{MAIN}">'
            + (f'<numFmts count="{len(num_fmts or {})}">{fmts}</numFmts>' if fmts else "")
            + '<fonts count="1"><font><sz val="11"/></font></fonts>'
            '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
            '<borders count="1"><border/></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            f'<cellXfs count="{len(xf_formats)}">{xfs}</cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>"
        ),
        "xl/sharedStrings.xml": (
            f'<sst xmlns="{MAIN}" count="{len(shared)}" uniqueCount="{len(shared)}">'
            + "".join(f"<si>{s}</si>" for s in shared)
            + "</sst>"
        ),
        "xl/worksheets/sheet1.xml": (
            f"<{p}worksheet {xmlns}><{p}sheetData>{sheet_data}</{p}sheetData></{p}worksheet>"
        ),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, '<?xml version="1.0" encoding="UTF-8"?>\n' + text)
    return out.getvalue()


def row(number: int, *cells: str) -> str:
    return f'<row r="{number}">{"".join(cells)}</row>'


def read_with(opener, data: bytes) -> tuple[int, list[str], list[tuple[int, list[str]]]]:
    """Header line, header and ``(line, cells)`` rows as one of the two readers gives them."""
    table = opener(io.BytesIO(data), True)
    assert table is not None, "calamine could not open the file"
    with table:
        return table.header_line, table.header, [(n, list(c)) for n, c in table.rows()]


# The two readers themselves, for comparing them directly (taken before readers_used wraps them).
_CALAMINE_PATH = tabular._open_xlsx_calamine
_OPENPYXL_PATH = tabular._open_xlsx_openpyxl


def by_calamine(data: bytes):
    return read_with(_CALAMINE_PATH, data)


def by_openpyxl(data: bytes):
    return read_with(_OPENPYXL_PATH, data)


@pytest.fixture
def readers_used(monkeypatch) -> list[str]:
    """The readers open_table opens files with, in order (each still does its real work)."""
    used: list[str] = []
    for name, opener in [(CALAMINE, "_open_xlsx_calamine"), (OPENPYXL, "_open_xlsx_openpyxl")]:
        real = getattr(tabular, opener)

        def recording(stream, owned, real=real, name=name):
            used.append(name)
            return real(stream, owned)

        monkeypatch.setattr(tabular, opener, recording)
    return used


# --- an ordinary workbook ---------------------------------------------------------------------

ORDINARY = [
    ["单位代码", "期间", "数据项", "数值", "备注"],
    ["441900003001", "2015", "population.resident", 12000, "东城街道"],
    [441900003002, 2015, "services.online_rate", 0.1 + 0.2, None],
    [None, None, None, None, None],
    ["441900101001001", date(2015, 7, 1), "budget.total", 1234567.5, True],
    ["441900101", datetime(2015, 8, 1), "budget.total", -3.25, False],
    ["441900101", datetime(2015, 8, 1, 9, 30), "x", 123456789012345, "  两端有空格  "],
    [None, None, None, None, None],
    [None, None, None, None, None],
    ["442000001", "2016Q3", None, 7, None],
    ["442000001", time(10, 15), "y", 1e20, "最后一行"],
]


def test_an_ordinary_workbook_reads_the_same_through_calamine_and_openpyxl():
    data = openpyxl_bytes(ORDINARY, at="B3")  # blank rows and a blank column before the header

    assert xlsx_reader(io.BytesIO(data)) == CALAMINE
    assert by_calamine(data) == by_openpyxl(data)
    header_line, header, rows = by_calamine(data)
    assert header_line == 3
    assert header == ["", "单位代码", "期间", "数据项", "数值", "备注"]
    assert rows == [
        (4, ["", "441900003001", "2015", "population.resident", "12000", "东城街道"]),
        (5, ["", "441900003002", "2015", "services.online_rate", "0.3"]),
        (7, ["", "441900101001001", "2015-07-01", "budget.total", "1234567.5", "true"]),
        (8, ["", "441900101", "2015-08-01", "budget.total", "-3.25", "false"]),
        (9, ["", "441900101", "2015-08-01 09:30:00", "x", "123456789012345", "  两端有空格  "]),
        (12, ["", "442000001", "2016Q3", "", "7"]),
        (13, ["", "442000001", "10:15:00", "y", "1e+20", "最后一行"]),
    ]


def test_open_table_reads_an_ordinary_workbook_with_calamine(readers_used):
    data = openpyxl_bytes(ORDINARY)
    with open_table(data) as table:
        rows = list(table.rows())
    assert readers_used == [CALAMINE]
    assert table.format == "xlsx" and table.encoding is None
    assert rows[0] == (2, ["441900003001", "2015", "population.resident", "12000", "东城街道"])
    assert [line for line, _ in rows] == [2, 3, 5, 6, 7, 10, 11]


def test_a_template_with_text_formatted_codes_is_read_with_calamine(readers_used, tmp_path):
    # What the portal's own XLSX template looks like: codes and periods in "@" (text) cells.
    path = tmp_path / "values.xlsx"
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("数据")

    def text(value: str):
        cell = openpyxl.cell.WriteOnlyCell(sheet, value=value)
        cell.number_format = "@"
        return cell

    sheet.append([text(h) for h in ["单位代码", "期间", "数据项", "数值", "备注"]])
    sheet.append([text("441900003001"), text("2015"), text("population.resident"), 12000, None])
    workbook.save(path)
    with open_table(path) as table:
        assert list(table.rows()) == [(2, ["441900003001", "2015", "population.resident", "12000"])]
    assert readers_used == [CALAMINE]


# --- what takes the openpyxl path -------------------------------------------------------------


@pytest.mark.parametrize("number_format", ["0%", "0.00%", "0.0%", '0.0"%"'])
def test_a_percent_formatted_workbook_is_read_by_openpyxl_as_typed(number_format, readers_used):
    data = openpyxl_bytes(
        [["单位代码", "数值"], ["441900", 0.15], ["441901", 0.855]],
        formats={(2, 2): number_format, (3, 2): "0.0%"},
    )
    assert "percent" in tabular.calamine_obstacle(io.BytesIO(data))
    assert xlsx_reader(io.BytesIO(data)) == OPENPYXL
    with open_table(data) as table:
        rows = list(table.rows())
    assert readers_used == [OPENPYXL]
    assert rows == [(2, ["441900", "15%"]), (3, ["441901", "85.5%"])]


HEADER_ROW = row(1, '<c r="A1" t="inlineStr"><is><t>数值</t></is></c>')

# Workbooks calamine would read differently from openpyxl, each with what openpyxl reads.
READ_DIFFERENTLY = {
    "an error cell": (
        raw_xlsx(HEADER_ROW + row(2, '<c r="A2" t="e"><v>#DIV/0!</v></c>')),
        "#DIV/0!",
    ),
    "an escaped carriage return": (
        raw_xlsx(HEADER_ROW + row(2, '<c r="A2" t="s"><v>0</v></c>'), shared=("<t>a_x000D_b</t>",)),
        "a_x000D_b",
    ),
    "a shared string with an unpreserved trailing space": (
        raw_xlsx(HEADER_ROW + row(2, '<c r="A2" t="s"><v>0</v></c>'), shared=("<t>东城 </t>",)),
        "东城 ",
    ),
    "an inline string with a leading character reference": (
        raw_xlsx(HEADER_ROW + row(2, '<c r="A2" t="inlineStr"><is><t>&#10;a</t></is></c>')),
        "\na",
    ),
    "a 16-digit integer": (
        raw_xlsx(HEADER_ROW + row(2, '<c r="A2"><v>9007199254740993</v></c>')),
        "9007199254740993",
    ),
    "minus zero": (raw_xlsx(HEADER_ROW + row(2, '<c r="A2"><v>-0</v></c>')), "0"),
    "a negative number in a date format": (
        raw_xlsx(HEADER_ROW + row(2, '<c r="A2" s="1"><v>-1</v></c>'), xf_formats=(0, 14)),
        "1899-12-29",
    ),
    "a time just before midnight": (
        raw_xlsx(HEADER_ROW + row(2, '<c r="A2" s="1"><v>0.999999999</v></c>'), xf_formats=(0, 21)),
        "1900-01-01",
    ),
    "a Chinese built-in date format": (
        raw_xlsx(HEADER_ROW + row(2, '<c r="A2" s="1"><v>42186</v></c>'), xf_formats=(0, 31)),
        "42186",
    ),
    "a custom format only openpyxl takes for a date": (
        raw_xlsx(
            HEADER_ROW + row(2, '<c r="A2" s="1"><v>42186</v></c>'),
            num_fmts={164: "*d0"},
            xf_formats=(0, 164),
        ),
        "2015-07-01",
    ),
    "a custom format only calamine takes for a date": (
        raw_xlsx(
            HEADER_ROW + row(2, '<c r="A2" s="1"><v>42186</v></c>'),
            num_fmts={164: "0 A/P"},
            xf_formats=(0, 164),
        ),
        "42186",
    ),
    "an error cell in a sheet written with a namespace prefix": (
        raw_xlsx(
            '<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>数值</x:t></x:is></x:c></x:row>'
            '<x:row r="2"><x:c r="A2" t="e"><x:v>#N/A</x:v></x:c></x:row>',
            prefix="x",
        ),
        "#N/A",
    ),
}


@pytest.mark.parametrize("case", READ_DIFFERENTLY)
def test_cells_calamine_reads_its_own_way_send_the_workbook_to_openpyxl(case, readers_used):
    data, typed = READ_DIFFERENTLY[case]
    assert by_openpyxl(data) == (1, ["数值"], [(2, [typed])])
    assert by_calamine(data) != by_openpyxl(data)  # the check is needed...
    assert xlsx_reader(io.BytesIO(data)) == OPENPYXL  # ...and made
    with open_table(data) as table:
        assert list(table.rows()) == [(2, [typed])]
    assert readers_used == [OPENPYXL]


# Workbooks both readers read alike, each with what they read.
READ_ALIKE = {
    "1904 dates": (
        raw_xlsx(
            HEADER_ROW + row(2, '<c r="A2" s="1"><v>42186</v></c>'),
            xf_formats=(0, 14),
            date1904=True,
        ),
        "2019-07-02",
    ),
    "a date and time": (
        raw_xlsx(HEADER_ROW + row(2, '<c r="A2" s="1"><v>42186.75</v></c>'), xf_formats=(0, 22)),
        "2015-07-01 18:00:00",
    ),
    "an elapsed time": (
        raw_xlsx(HEADER_ROW + row(2, '<c r="A2" s="1"><v>1.5</v></c>'), xf_formats=(0, 46)),
        "1 day, 12:00:00",
    ),
    "a custom Chinese date format": (
        raw_xlsx(
            HEADER_ROW + row(2, '<c r="A2" s="1"><v>42186</v></c>'),
            num_fmts={176: 'yyyy"年"m"月"d"日"'},
            xf_formats=(0, 176),
        ),
        "2015-07-01",
    ),
    "a custom number format": (
        raw_xlsx(
            HEADER_ROW + row(2, '<c r="A2" s="1"><v>1234.5</v></c>'),
            num_fmts={177: '#,##0.00_);[Red](#,##0.00);"元"'},
            xf_formats=(0, 177),
        ),
        "1234.5",
    ),
    "rich text with a preserved space": (
        raw_xlsx(
            HEADER_ROW + row(2, '<c r="A2" t="s"><v>0</v></c>'),
            shared=('<r><t>东城</t></r><r><t xml:space="preserve"> 街道</t></r>',),
        ),
        "东城 街道",
    ),
    "a line break inside a cell": (
        raw_xlsx(HEADER_ROW + row(2, '<c r="A2" t="inlineStr"><is><t>a\r\nb</t></is></c>')),
        "a\nb",
    ),
    "a formula's cached value": (
        raw_xlsx(HEADER_ROW + row(2, '<c r="A2"><f>1+2</f><v>3</v></c>')),
        "3",
    ),
    "a number in exponent form": (
        raw_xlsx(HEADER_ROW + row(2, '<c r="A2"><v>1E+15</v></c>')),
        "1e+15",
    ),
    "a 15-digit integer": (
        raw_xlsx(HEADER_ROW + row(2, '<c r="A2"><v>441900003001001</v></c>')),
        "441900003001001",
    ),
    "an ISO date cell": (
        raw_xlsx(HEADER_ROW + row(2, '<c r="A2" t="d"><v>2015-07-01T00:00:00</v></c>')),
        "2015-07-01",
    ),
    "a sheet written with a namespace prefix": (
        raw_xlsx(
            '<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>数值</x:t></x:is></x:c></x:row>'
            '<x:row r="2"><x:c r="A2"><x:v>5</x:v></x:c></x:row>',
            prefix="x",
        ),
        "5",
    ),
}


@pytest.mark.parametrize("case", READ_ALIKE)
def test_workbooks_calamine_reads_alike_stay_with_calamine(case, readers_used):
    data, typed = READ_ALIKE[case]
    assert xlsx_reader(io.BytesIO(data)) == CALAMINE
    assert by_calamine(data) == by_openpyxl(data) == (1, ["数值"], [(2, [typed])])
    with open_table(data) as table:
        assert list(table.rows()) == [(2, [typed])]
    assert readers_used == [CALAMINE]


def test_every_built_in_number_format_is_read_alike_or_left_to_openpyxl():
    values = ["42186", "42186.25", "0.5", "3", "1234.5"]
    cells = "".join(f'<c r="{"ABCDE"[i]}2" s="1"><v>{v}</v></c>' for i, v in enumerate(values))
    header = row(1, *(f'<c r="{c}1" t="inlineStr"><is><t>{c}</t></is></c>' for c in "ABCDE"))
    to_openpyxl = []
    for fmt_id in range(164):
        data = raw_xlsx(header + row(2, cells), xf_formats=(0, fmt_id))
        if xlsx_reader(io.BytesIO(data)) == OPENPYXL:
            to_openpyxl.append(fmt_id)
        else:
            assert by_calamine(data) == by_openpyxl(data), fmt_id
    assert to_openpyxl == [9, 10, *range(27, 37), *range(50, 59)]


@pytest.mark.parametrize(
    "code",
    [
        "0.00", "#,##0", "@", "General", "G/通用格式", "[DBNum1][$-804]General", "0.00E+00",
        '"元"#,##0.00', "#,##0.00_);[Red](#,##0.00)", "0.00_ ", "[Red]0.00", "# ?/?",
        "yyyy-mm-dd", 'yyyy"年"m"月"d"日"', "yyyy年m月d日", "m月d日", "yyyy/m/d h:mm", "mm:ss",
        "h:mm AM/PM", "[$-F800]dddd, mmmm dd, yyyy", "[$-409]mmm-yy", "m", "y", "ddd", "mmmm",
        "[h]:mm:ss", "[mm]:ss", "[hh]", "[ss]", "[H]:MM", "[s].00", "[Blue][h]", "[h]:mm;@",
        "[hm]", "A/P", "a/p", "AM/PM", "aaaa", "[$-804]aaaa", "aaaa yyyy", "aa/yy", "e", "bbbb",
        "\\d0", "_d0", '"d"0', "*d0", '0"d"', '#" days"', '0.0 "min"', "[>=100]0;0.00",
        '0;[Red]-0;"zero";@', "General;[Red]-General", "[$-404]e/m/d",
    ],
)  # fmt: skip
def test_custom_number_formats_are_classified_as_calamine_reads_them(code):
    data = raw_xlsx(
        HEADER_ROW + row(2, '<c r="A2" s="1"><v>42186.25</v></c>'),
        num_fmts={164: code},
        xf_formats=(0, 164),
    )
    from python_calamine import CalamineWorkbook

    [[value]] = (
        CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()[1:]
    )
    kind = {float: "number", datetime: "date", timedelta: "elapsed"}[type(value)]
    assert tabular._calamine_format_kind(code) == kind
    if xlsx_reader(io.BytesIO(data)) == CALAMINE:
        assert by_calamine(data) == by_openpyxl(data)


@pytest.mark.parametrize("case", [*READ_DIFFERENTLY, "plain"])
@pytest.mark.parametrize("chunk", [7, 16, 23, 40, 64])
def test_the_look_at_the_zip_finds_what_straddles_two_chunks(case, chunk, monkeypatch):
    # The sheet and shared strings are read in chunks; with tiny ones, every match crosses a
    # boundary somewhere.
    monkeypatch.setattr(tabular, "_SCAN_CHUNK", chunk)
    padding = "".join(
        row(n, f'<c r="A{n}" t="inlineStr"><is><t>{escape("行" * n)}</t></is></c>')
        for n in range(3, 12)
    )
    if case == "plain":
        data = raw_xlsx(HEADER_ROW + padding)
        assert xlsx_reader(io.BytesIO(data)) == CALAMINE
        return
    original = READ_DIFFERENTLY[case][0]
    with zipfile.ZipFile(io.BytesIO(original)) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    end = "</x:sheetData>" if "<x:sheetData>" in sheet else "</sheetData>"
    if end == "</sheetData>":
        parts["xl/worksheets/sheet1.xml"] = sheet.replace(end, padding + end).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    assert xlsx_reader(io.BytesIO(out.getvalue())) == OPENPYXL


# --- damaged files ----------------------------------------------------------------------------


def _rezipped(data: bytes, name: str, content: bytes | None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as archive:
        for item in source.namelist():
            if item != name:
                archive.writestr(item, source.read(item))
            elif content is not None:
                archive.writestr(item, content)
    return out.getvalue()


GOOD = openpyxl_bytes(ORDINARY)
DAMAGED = {
    "not a zip": b"PK\x03\x04" + b"not really a zip file" * 10,
    "cut in half": GOOD[: len(GOOD) // 2],
    "no workbook part": _rezipped(GOOD, "xl/workbook.xml", None),
    "a broken sheet": _rezipped(
        GOOD, "xl/worksheets/sheet1.xml", b"<worksheet><sheetData><row><c r="
    ),
    "broken styles": _rezipped(GOOD, "xl/styles.xml", b"<styleSheet"),
}


@pytest.mark.parametrize("case", DAMAGED)
def test_a_damaged_xlsx_is_refused_with_a_bilingual_message(case):
    with pytest.raises(TabularError, match=r"^无法读取 XLSX 文件：.*（cannot read the XLSX file: "):
        open_table(DAMAGED[case])


def test_a_sheet_cut_off_half_way_is_refused_with_a_bilingual_message():
    rows = "".join(
        row(n, f'<c r="A{n}" t="inlineStr"><is><t>{n}</t></is></c>') for n in range(1, 200)
    )
    sheet = f'<worksheet xmlns="{MAIN}"><sheetData>{rows}<row r="200"><c r='
    broken = _rezipped(raw_xlsx(rows), "xl/worksheets/sheet1.xml", sheet.encode())
    with pytest.raises(TabularError, match=r"^无法读取 XLSX 文件：.*（cannot read the XLSX file: "):
        with open_table(broken) as table:
            list(table.rows())


def test_empty_styled_cells_at_the_end_of_a_row_are_the_only_difference():
    # openpyxl's rows end at the last cell written, which may be an empty one with a style;
    # calamine's at the last non-empty cell. Readers of a Table pad short rows anyway.
    data = openpyxl_bytes(
        [["单位代码", "数值", "备注"], ["441900", 5]], formats={(2, 3): "@", (2, 4): "0.00"}
    )
    assert xlsx_reader(io.BytesIO(data)) == CALAMINE
    assert by_openpyxl(data) == (1, ["单位代码", "数值", "备注"], [(2, ["441900", "5", "", ""])])
    assert by_calamine(data) == (1, ["单位代码", "数值", "备注"], [(2, ["441900", "5"])])

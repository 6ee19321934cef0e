"""Files built to hurt (issue 14): refused quickly, by line and column where there is one, with a
bilingual message, before anything is written. Pure: the table reader and the validator."""

from __future__ import annotations

import io
import os
import zipfile

import pytest

from districts.intake import tables, upload_process
from districts.intake.tables import Limits, TabularError, open_table, xlsx_reader
from districts.intake.validator import validate_values
from districts.models import DataValue, UploadJob
from districts.rules import ElementRule, check_value
from tests import factories
from tests.districts.test_upload_worker_killed import make_job
from tests.districts.test_xlsx_calamine import openpyxl_bytes, raw_xlsx, row

HEADER = "单位代码,期间,数据项,数值,备注\r\n"
ELEMENTS = {
    "population.resident": ElementRule("population.resident", "integer", "year", "persons", id=1),
    "spending.balance": ElementRule("spending.balance", "number", "year", "万元", id=5),
}
ORG_UNITS = {"441900": 10, "441900003": 11}


def read_all(data: bytes, limits: Limits | None = None) -> list:
    with open_table(data, limits) as table:
        return list(table.rows())


def validate(text: str, **kwargs):
    return validate_values(
        (HEADER + text).encode(), elements=ELEMENTS, org_units=ORG_UNITS, **kwargs
    )


# --- encodings, quotes, NUL --------------------------------------------------------------------


def test_a_file_mixing_utf8_and_gb18030_lines_is_refused_naming_the_lines():
    data = (HEADER + "441900,2015,population.resident,1,东城\r\n").encode(
        "utf-8"
    ) + "441900,2016,population.resident,2,石碣\r\n".encode("gb18030")
    with pytest.raises(
        TabularError, match=r"第 1 行是 UTF-8，第 3 行不是.*line 1 is UTF-8, line 3"
    ):
        read_all(data)


def test_a_gb18030_file_is_still_read():
    data = (HEADER + "441900,2015,population.resident,1,东城\r\n").encode("gb18030")
    assert read_all(data) == [(2, ["441900", "2015", "population.resident", "1", "东城"])]


@pytest.mark.parametrize("end", ["\r\n", ""])
def test_an_unterminated_quote_is_refused_at_the_line_where_it_began(end):
    data = (
        HEADER
        + "441900,2014,population.resident,1,ok\r\n"
        + '441900,2015,population.resident,1,"note\r\n'
        + "441900,2016,population.resident,2,"
        + end
    ).encode()
    with pytest.raises(TabularError, match=r"^第 3 行：引号没有结束.*line 3: unterminated quote"):
        read_all(data)


def test_a_closed_multi_line_comment_and_a_stray_inch_mark_are_still_read():
    data = (
        HEADER
        + '441900,2015,population.resident,1,"two\r\nlines"\r\n'
        + '441900,2016,population.resident,2,12"\r\n'
    ).encode()
    assert [cells[4] for _line, cells in read_all(data)] == ["two\r\nlines", '12"']


def test_a_nul_in_a_csv_cell_is_refused_by_line_and_column():
    data = (HEADER + "441900,2015,population.resident,1,ok\r\n441900,2016,x,2,a\x00b\r\n").encode()
    with pytest.raises(TabularError, match=r"^第 3 行“备注”列含有空字符.*line 3, column 备注"):
        read_all(data)


# --- size and rows --------------------------------------------------------------------------------


def test_a_file_above_the_size_limit_is_refused_before_it_is_read():
    data = (HEADER + "441900,2015,population.resident,1,\r\n" * 100).encode()
    with pytest.raises(TabularError, match=r"^文件过大.*the file is too large"):
        read_all(data, Limits(max_bytes=1000))
    assert len(read_all(data, Limits(max_bytes=len(data)))) == 100


def test_default_limits_come_from_the_settings(settings):
    settings.UPLOAD_MAX_BYTES = 123
    settings.UPLOAD_MAX_ROWS = 45
    assert tables.default_limits().max_bytes == 123
    assert tables.default_limits().max_rows == 45


def test_a_csv_with_more_lines_than_allowed_is_refused():
    data = (HEADER + "441900,2015,population.resident,1,\r\n" * 20).encode()
    with pytest.raises(TabularError, match=r"^文件超过 10 行（Excel 的上限为 1048576 行）"):
        read_all(data, Limits(max_rows=10))
    assert len(read_all(data, Limits(max_rows=21))) == 20


def test_an_xlsx_sheet_with_rows_beyond_the_limit_is_refused_before_it_is_read(monkeypatch):
    opened = []
    monkeypatch.setattr(tables, "_open_xlsx", lambda *args: opened.append(args))
    data = raw_xlsx(
        row(1, '<c r="A1" t="inlineStr"><is><t>单位代码</t></is></c>')
        + row(1048577, '<c r="A1048577"><v>1</v></c>')
    )
    with pytest.raises(TabularError, match=r"^工作表超过 1048576 行.*more than 1048576 rows"):
        read_all(data)
    assert opened == []  # no reader was given the sheet


# --- zip bombs, entities ----------------------------------------------------------------------------


def _zip(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return out.getvalue()


def test_a_zip_bomb_is_refused_by_its_compression_ratio():
    bomb = b"<worksheet><sheetData>" + b" " * (64 << 20) + b"</sheetData></worksheet>"
    data = _zip({"[Content_Types].xml": b"<Types/>", "xl/worksheets/sheet1.xml": bomb})
    assert len(data) < 200_000
    with pytest.raises(TabularError, match=r"压缩比超过 200 倍.*compressed more than 200 times"):
        read_all(data)


def test_an_xlsx_inflating_beyond_the_limit_is_refused():
    data = openpyxl_bytes([["单位代码", "数值"], ["441900", 1]])
    with pytest.raises(TabularError, match=r"^拒绝处理该 XLSX 文件：解压后有 .*inflates to"):
        read_all(data, Limits(max_inflated_bytes=1000))


def test_an_xlsx_declaring_entities_is_refused():
    good = openpyxl_bytes([["单位代码", "数值"], ["441900", 1]])
    with zipfile.ZipFile(io.BytesIO(good)) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    )
    workbook = parts["xl/workbook.xml"]
    parts["xl/workbook.xml"] = laughs + (
        workbook.split(b"?>", 1)[1] if b"?>" in workbook else workbook
    )
    with pytest.raises(TabularError, match=r"xl/workbook.xml 含有 DTD 或实体声明"):
        read_all(_zip(parts))


def test_the_look_at_a_sheet_without_tags_for_megabytes_holds_a_bounded_block(monkeypatch):
    """A sheet whose text runs for megabytes without a "<" was carried over and scanned again
    with every chunk: the time grew with the square of its size."""
    longest = []
    real = tables._cell_patterns

    class Recording:
        def __init__(self, pattern):
            self.pattern = pattern

        def search(self, block):
            longest.append(len(block))
            return self.pattern.search(block)

    def recording(prefix, dates):
        cells, date_pattern = real(prefix, dates)
        return [Recording(p) for p in cells], date_pattern

    monkeypatch.setattr(tables, "_cell_patterns", recording)
    text = os.urandom(3 << 20).hex()  # 6 MB without "<", not compressible enough to refuse
    data = raw_xlsx(
        row(1, '<c r="A1" t="inlineStr"><is><t>单位代码</t></is></c>')
        + row(2, f'<c r="A2" t="inlineStr"><is><t>{text}</t></is></c>')
    )
    xlsx_reader(io.BytesIO(data))
    assert longest and max(longest) <= tables._SCAN_CHUNK + tables._SCAN_TAIL


# --- values: rounding, tiny values, blank rows ---------------------------------------------------


def test_a_value_that_rounds_up_to_the_limit_is_refused_with_line_and_column():
    report = validate("441900,2015,spending.balance,99999999999999.9999995,\r\n")
    assert [(e.line, e.column, e.reason) for e in report.errors] == [
        (2, "数值", "数值过大（须小于 1e14）（value too large: must be below 1e14）")
    ]
    assert report.rows == []


@pytest.mark.parametrize("text", ["1e-30", "0.0000004", "-1e-9"])
def test_a_value_that_would_be_stored_as_zero_is_refused(text):
    with pytest.raises(ValueError, match="value too small: it would be stored as 0"):
        check_value(text, ELEMENTS["spending.balance"])


def test_values_rounded_to_six_places_are_still_accepted():
    rule = ELEMENTS["spending.balance"]
    assert str(check_value("0.0000005", rule)) == "0.000001"
    assert str(check_value("0.3333333333", rule)) == "0.333333"
    assert str(check_value("0", rule)) == "0"


def test_rows_without_a_value_are_skipped_and_counted_not_errors():
    report = validate(
        "441900,2015,population.resident,12,\r\n"
        "441900,2015,spending.balance,,\r\n"  # a template row left empty
        ",,,,\r\n"
        "\r\n"
        "441900,2016,population.resident,abc,\r\n"  # the one real error
        "441900,2016,spending.balance,,no figure this year\r\n"  # a comment without a value
    )
    assert [(e.line, e.reason) for e in report.errors] == [
        (6, "不是数字（not a number）"),
        (7, "数值为空（value is empty）"),
    ]
    assert report.rows_skipped == 3
    assert report.rows_total == 3


# --- through the upload job, on the test database (PostgreSQL) ---------------------------------


@pytest.fixture
def population(db):
    factories.element("spending.balance", level="community")
    return factories.element("population.resident", level="community")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("441900003001,2015,spending.balance,99999999999999.9999995,", "数值过大"),
        ("441900003001,2015,spending.balance,1e-30,", "数值过小"),
    ],
)
def test_an_upload_with_a_value_past_the_column_fails_by_line_and_column(
    cast, population, text, found
):
    job = make_job(cast["admin"], HEADER + text + "\r\n")
    job = upload_process(job_id=job.pk)
    assert job.state == UploadJob.FAILED
    assert [(e["line"], e["column"]) for e in job.errors] == [(2, "数值")]
    assert found in job.errors[0]["reason"]
    assert not DataValue.objects.exists()


@pytest.mark.django_db
def test_an_upload_with_a_nul_fails_by_line_and_column_and_writes_nothing(cast, population):
    text = HEADER + "441900003001,2015,population.resident,1,ok\r\n441900003001,2016,x,2,a\x00\r\n"
    job = upload_process(job_id=make_job(cast["admin"], text).pk)
    assert job.state == UploadJob.FAILED
    assert "第 3 行“备注”列含有空字符" in job.message
    assert not DataValue.objects.exists()


@pytest.mark.django_db
def test_an_upload_says_how_many_rows_without_a_value_it_skipped(cast, population):
    text = (
        HEADER
        + "441900003001,2015,population.resident,12,\r\n"
        + "441900003002,2015,population.resident,,\r\n,,,,\r\n"
    )
    job = upload_process(job_id=make_job(cast["admin"], text).pk)
    assert job.state == UploadJob.SUCCEEDED, job.errors
    assert "跳过 2 行没有数值的行（2 rows without a value skipped）" in job.message
    assert DataValue.objects.count() == 1


def test_a_formula_without_a_calculated_value_is_reported_as_such():
    def text(ref: str, value: str) -> str:
        return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'

    header = ["单位代码", "期间", "数据项", "数值"]
    data = raw_xlsx(
        row(1, *(text(f"{c}1", h) for c, h in zip("ABCD", header, strict=True)))
        + row(2, text("A2", "441900"), text("B2", "2015"), text("C2", "population.resident"),
              '<c r="D2"><f>10*2</f></c>')
        + row(3, text("A3", "441900"), text("B3", "2016"), text("C3", "population.resident"),
              '<c r="D3"><f>10*3</f><v>30</v></c>')
    )  # fmt: skip
    assert xlsx_reader(io.BytesIO(data)) == tables.OPENPYXL
    report = validate_values(data, elements=ELEMENTS, org_units=ORG_UNITS)
    assert [(e.line, e.column, e.value, e.reason) for e in report.errors] == [
        (
            2,
            "数值",
            "=10*2",
            "公式没有计算结果：请在 Excel 中打开并保存文件，或填入数值"
            "（formula without a value: open and save the file in Excel, or type the value）",
        )
    ]
    assert [r[3] for r in report.rows] == ["30"]

"""Reading CSV/XLSX files and the org-units file (pure, no database)."""

from __future__ import annotations

import io
from datetime import date, datetime

import openpyxl
import pytest

from districts.intake.orgunits import OrgUnitRow, order_orgunit_rows, parse_orgunit_file
from districts.intake.tables import (
    RowError,
    TabularError,
    map_columns,
    normalise_header,
    open_table,
)

ALIASES = {
    "org_unit": ("单位代码",),
    "period": ("期间",),
    "value": ("数值",),
    "comment": ("备注",),
}
REQUIRED = ("org_unit", "period", "value")

ZH_CSV = "单位代码,期间,数值,备注\r\n441900,2015,12,东城街道\r\n441901,2016,13,石碣镇\r\n"


def read_all(source) -> tuple[list[str], list[tuple[int, list[str]]], object]:
    with open_table(source) as table:
        return table.header, [(line, list(cells)) for line, cells in table.rows()], table


def xlsx_bytes(rows, *, formats=None) -> bytes:
    """An XLSX with ``rows`` in the first sheet; ``formats`` maps (row, col) → number format."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    for (row, col), number_format in (formats or {}).items():
        sheet.cell(row=row, column=col).number_format = number_format
    workbook.create_sheet("second").append(["ignored"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --- encodings --------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_every_accepted_encoding_reads_the_same(encoding):
    header, rows, table = read_all(ZH_CSV.encode(encoding))
    assert header == ["单位代码", "期间", "数值", "备注"]
    assert rows == [
        (2, ["441900", "2015", "12", "东城街道"]),
        (3, ["441901", "2016", "13", "石碣镇"]),
    ]
    assert table.format == "csv"
    assert table.encoding == ("gb18030" if encoding == "gb18030" else "utf-8-sig")


def test_utf8_bom_is_not_part_of_the_first_header():
    header, _, _ = read_all(("org_unit,period,value\n1,2015,3\n").encode("utf-8-sig"))
    assert header[0] == "org_unit"


def test_gb18030_detected_even_when_chinese_appears_only_deep_in_a_large_file():
    body = "".join(f"{i},2015,{i}\r\n" for i in range(1, 300_000))  # > 1 MB of ASCII first
    text = "org_unit,period,value,comment\r\n" + body + "9,2015,9,备注\r\n"
    _, rows, table = read_all(text.encode("gb18030"))
    assert table.encoding == "gb18030"
    assert rows[-1] == (300_001, ["9", "2015", "9", "备注"])


def test_undecodable_file_is_refused_naming_both_encodings():
    data = b"org_unit,period,value\r\n1,2015,\xff\xfe\x80\r\n"
    with pytest.raises(TabularError) as excinfo:
        open_table(data)
    message = str(excinfo.value)
    assert "UTF-8" in message and "GB18030" in message
    assert message.startswith("无法识别文件编码")
    assert "byte 31" in message  # 1-based, as editors count


def test_utf16_and_legacy_xls_files_are_refused_with_advice():
    with pytest.raises(TabularError, match="UTF-16"):
        open_table("org_unit\tvalue\r\n".encode("utf-16"))
    with pytest.raises(TabularError, match=r"\.xls"):
        open_table(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)


# --- empty and header-only files --------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\r\n\r\n", b",,,\r\n"])
def test_empty_file_is_refused(data):
    with pytest.raises(TabularError, match=r"文件是空的（the file is empty）"):
        open_table(data)


@pytest.mark.parametrize(
    "data", [b"org_unit,period,value\r\n", b"org_unit,period,value\r\n,,\r\n\r\n"]
)
def test_header_only_file_is_refused(data):
    with pytest.raises(TabularError, match="no data rows"):
        open_table(data)


def test_header_only_xlsx_is_refused():
    with pytest.raises(TabularError, match="no data rows"):
        open_table(xlsx_bytes([["org_unit", "period", "value"]]))


def test_empty_xlsx_is_refused():
    with pytest.raises(TabularError, match="the file is empty"):
        open_table(xlsx_bytes([]))


def test_broken_xlsx_is_refused():
    with pytest.raises(TabularError, match="cannot read the XLSX file"):
        open_table(b"PK\x03\x04" + b"not really a zip file" * 10)


# --- rows and line numbers --------------------------------------------------------------------


def test_blank_rows_are_skipped_but_still_count_as_lines():
    data = b"org_unit,period,value\r\n1,2015,1\r\n\r\n,,\r\n  , ,\r\n2,2015,2\r\n"
    _, rows, _ = read_all(data)
    assert [line for line, _ in rows] == [2, 6]


def test_a_quoted_field_with_a_newline_is_one_line_like_in_excel():
    data = b'org_unit,period,value,comment\r\n1,2015,1,"two\r\nlines"\r\n2,2015,"1,234",x\r\n'
    _, rows, _ = read_all(data)
    assert rows == [(2, ["1", "2015", "1", "two\r\nlines"]), (3, ["2", "2015", "1,234", "x"])]


def test_leading_blank_lines_move_the_header_down():
    _, rows, table = read_all(b"\r\n\r\norg_unit,period,value\r\n1,2015,1\r\n")
    assert table.header_line == 3
    assert rows == [(4, ["1", "2015", "1"])]


def test_tab_and_semicolon_separated_files_are_read():
    _, rows, _ = read_all(b"org_unit\tperiod\tvalue\r\n1\t2015\t1,5\r\n")
    assert rows == [(2, ["1", "2015", "1,5"])]
    _, rows, _ = read_all(b"org_unit;period;value\r\n1;2015;7\r\n")
    assert rows == [(2, ["1", "2015", "7"])]


def test_raw_rows_run_consecutively_from_the_line_after_the_header():
    with open_table(b"a,b\r\n1,2\r\n\r\n3,4\r\n") as table:
        raw = [list(r) for r in table.raw_rows()]
    assert table.header_line == 1
    assert raw == [["1", "2"], [], ["3", "4"]]


def test_a_path_and_an_open_file_are_read_and_the_callers_file_stays_open(tmp_path):
    path = tmp_path / "values.csv"
    path.write_bytes(ZH_CSV.encode("gb18030"))
    assert read_all(path)[1] == read_all(str(path))[1] == read_all(ZH_CSV.encode("utf-8"))[1]
    with open(path, "rb") as handle:
        handle.read(5)  # wherever the caller left it, the file is read from the start
        _, rows, _ = read_all(handle)
        assert not handle.closed
    assert len(rows) == 2


def test_non_seekable_stream_is_read():
    class Stream(io.RawIOBase):
        def __init__(self, data: bytes):
            self._inner = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            return self._inner.readinto(buffer)

    _, rows, _ = read_all(io.BufferedReader(Stream(ZH_CSV.encode("utf-8"))))
    assert len(rows) == 2


def test_malformed_csv_row_raises_a_tabular_error_naming_the_line():
    data = b"org_unit,period,value\r\n1,2015,1\r\n" + b"2,2015," + b"x" * 200_000 + b"\r\n"
    with open_table(data) as table, pytest.raises(TabularError, match="line 3"):
        list(table.rows())


# --- XLSX -------------------------------------------------------------------------------------


def test_xlsx_first_sheet_is_read_with_cells_as_typed():
    data = xlsx_bytes(
        [
            ["单位代码", "期间", "数值", "备注"],
            [441900003001, 2015, 12000, None],
            ["441900003002", "2015Q3", 0.1 + 0.2, "文本"],
            [None, None, None, None],
            [441900101, datetime(2015, 7, 1), 0.85, True],
            [441900102, date(2015, 8, 1), 1234567.5],
        ],
        formats={(5, 3): "0%"},
    )
    header, rows, table = read_all(data)
    assert table.format == "xlsx" and table.encoding is None
    assert header == ["单位代码", "期间", "数值", "备注"]
    assert rows == [
        (2, ["441900003001", "2015", "12000"]),  # rows end at their last written cell
        (3, ["441900003002", "2015Q3", "0.3", "文本"]),
        (5, ["441900101", "2015-07-01", "85%", "true"]),
        (6, ["441900102", "2015-08-01", "1234567.5"]),
    ]


def test_xlsx_line_numbers_are_excel_row_numbers_even_with_leading_blank_rows():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["B3"] = "org_unit"
    sheet["C3"] = "value"
    sheet["B7"] = "441900"
    sheet["C7"] = 5
    out = io.BytesIO()
    workbook.save(out)
    header, rows, table = read_all(out.getvalue())
    assert table.header_line == 3
    assert header == ["", "org_unit", "value"]
    assert rows == [(7, ["", "441900", "5"])]


# --- headers ----------------------------------------------------------------------------------


def test_headers_match_in_any_order_ignoring_case_spaces_and_full_width():
    columns = map_columns([" VALUE ", "Period", "ＯＲＧ　ＵＮＩＴ", "备注"], ALIASES, REQUIRED)
    assert columns.index == {"value": 0, "period": 1, "org_unit": 2, "comment": 3}
    assert columns.label["org_unit"] == "ＯＲＧ　ＵＮＩＴ"
    assert normalise_header(" Org_Unit ") == normalise_header("org-unit") == "orgunit"


def test_chinese_and_english_headers_may_be_mixed_and_optional_columns_left_out():
    columns = map_columns(["单位代码", "period", "数值", ""], ALIASES, REQUIRED)
    assert columns.index == {"org_unit": 0, "period": 1, "value": 2}
    assert "comment" not in columns


def test_missing_required_column_is_named_in_chinese_then_english():
    with pytest.raises(TabularError) as excinfo:
        map_columns(["org_unit", "period"], ALIASES, REQUIRED)
    error = excinfo.value
    assert str(error).startswith("缺少列 value/数值（missing column: value/数值")
    assert error.missing == ["value"]


def test_unknown_and_duplicate_columns_are_named_together():
    with pytest.raises(TabularError) as excinfo:
        map_columns(["org_unit", "period", "value", "数值", "amount"], ALIASES, REQUIRED)
    error = excinfo.value
    assert error.unknown == ["amount"]
    assert error.duplicate == ["value / 数值"]
    assert "未知列 amount" in str(error) and "列重复 value / 数值" in str(error)
    assert "unknown column: amount" in str(error)
    assert "duplicate column: value / 数值" in str(error)


def test_an_alias_given_to_two_columns_is_a_programming_error():
    with pytest.raises(ValueError, match="given for both"):
        map_columns(["a"], {"a": ("x",), "b": ("X",)}, ())


# --- RowError ---------------------------------------------------------------------------------


def test_row_error_reads_as_a_sentence_and_round_trips_through_a_dict():
    error = RowError(3, "数值", "abc", "不是数字（not a number）", "value")
    assert str(error) == "第 3 行，数值 列：“abc”：不是数字（not a number）"
    assert RowError(**error.as_dict()) == error


# --- org units file ---------------------------------------------------------------------------

ORGUNITS_ZH = (
    "代码,名称,英文名称,层级,上级代码\r\n"
    "441900003001,东城社区A,Dongcheng A,社区,441900003\r\n"
    "441900003,东城街道,Dongcheng,街道,441900\r\n"
    "441900,东莞市,Dongguan,市,\r\n"
    "441900101,石碣镇,Shijie,镇,441900\r\n"
)


def test_orgunit_file_with_chinese_headers_and_levels_parses():
    rows, errors = parse_orgunit_file(ORGUNITS_ZH.encode("gb18030"))
    assert errors == []
    assert rows[0] == OrgUnitRow(
        2, "441900003001", "东城社区A", "Dongcheng A", "community", "441900003"
    )
    assert [r.level for r in rows] == ["community", "subdistrict", "city", "town"]
    assert rows[2].parent_code is None


def test_orgunit_file_in_english_without_name_en_and_as_xlsx():
    data = xlsx_bytes(
        [
            ["Level", "parent_code", "code", "name_zh"],
            ["County", "441900", 441900201, "某县"],
            ["grid", "441900201", "441900201001", "网格一"],
        ]
    )
    rows, errors = parse_orgunit_file(data)
    assert errors == []
    assert [(r.code, r.level, r.name_en, r.parent_code) for r in rows] == [
        ("441900201", "district", "", "441900"),
        ("441900201001", "grid", "", "441900201"),
    ]


def test_orgunit_row_errors_are_all_reported_with_line_column_and_reason():
    text = (
        "code,name_zh,name_en,level,parent_code\r\n"
        "A,甲,,city,\r\n"
        ",乙,,town,A\r\n"  # line 3: no code
        "A,丙,,town,\r\n"  # line 4: duplicate of line 2
        "B,,,kingdom,A\r\n"  # line 5: no name, unknown level
        "C,丁,,town,C\r\n"  # line 6: its own parent
        "D E,戊,,town,A\r\n"  # line 7: space in code
    )
    rows, errors = parse_orgunit_file(text.encode())
    assert [r.code for r in rows] == ["A"]
    assert [(e.line, e.column, e.value) for e in errors] == [
        (3, "code", ""),
        (4, "code", "A"),
        (5, "name_zh", ""),
        (5, "level", "kingdom"),
        (6, "parent_code", "C"),
        (7, "code", "D E"),
    ]
    reasons = [e.reason for e in errors]
    assert reasons[0] == "代码为空（code is empty）"
    assert reasons[1] == "代码与第 2 行重复（duplicate code: already on line 2）"
    assert reasons[2] == "名称为空（name is empty）"
    assert "level must be one of country, province, city" in reasons[3]
    assert reasons[4] == "上级代码不能是自身（a unit cannot be its own parent）"
    assert "空格" in reasons[5]


def test_orgunit_file_missing_a_required_column_is_refused():
    with pytest.raises(TabularError, match=r"缺少列 level/层级"):
        parse_orgunit_file("code,name_zh,parent_code\r\nA,甲,\r\n".encode())


def _unit(line, code, parent):
    return OrgUnitRow(line, code, code, "", "town", parent)


def test_parents_are_ordered_before_children_even_when_they_come_later_in_the_file():
    rows, _ = parse_orgunit_file(ORGUNITS_ZH.encode())
    ordered, errors = order_orgunit_rows(rows, existing_codes=set())
    assert errors == []
    assert [r.code for r in ordered] == ["441900", "441900003", "441900003001", "441900101"]


def test_parent_already_in_the_database_is_accepted():
    ordered, errors = order_orgunit_rows([_unit(2, "X1", "441900")], existing_codes={"441900"})
    assert errors == [] and [r.code for r in ordered] == ["X1"]


def test_parent_missing_from_file_and_database_is_reported():
    rows = [_unit(2, "X1", "NOPE"), _unit(3, "X2", "X1")]
    ordered, errors = order_orgunit_rows(rows, existing_codes={"441900"})
    assert errors == [
        RowError(
            2,
            "parent_code",
            "NOPE",
            "上级代码 NOPE 既不在文件中也不在系统中（parent NOPE is neither in the file nor in the database）",
            "parent_code",
        )
    ]
    assert [r.code for r in ordered] == ["X1", "X2"]


def test_a_cycle_of_parents_is_reported_on_every_member_and_left_out():
    rows = [_unit(2, "A", "C"), _unit(3, "B", "A"), _unit(4, "C", "B"), _unit(5, "D", None)]
    ordered, errors = order_orgunit_rows(rows, existing_codes=set())
    assert [e.line for e in errors] == [2, 3, 4]
    assert all("cycle" in e.reason and "循环" in e.reason for e in errors)
    assert "A → C → B → A" in errors[0].reason
    assert [r.code for r in ordered] == ["D"]


def test_a_deep_chain_in_reverse_order_is_ordered_without_recursion():
    rows = [_unit(i + 2, f"U{i}", f"U{i - 1}" if i else None) for i in range(5000)][::-1]
    ordered, errors = order_orgunit_rows(rows, existing_codes=set())
    assert errors == []
    assert [r.code for r in ordered] == [f"U{i}" for i in range(5000)]

"""Validating a data-values file (SPEC §4.3) without a database: every rule, with the line,
column and reason it reports."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import openpyxl
import pytest

from core.periods import parse_period
from districts.intake.tables import RowError, TabularError
from districts.intake.validator import ValuesValidator, errors_to_csv, validate_values
from districts.rules import MAX_ABS, ElementRule, check_value, parse_number

ELEMENTS = {
    rule.code: rule
    for rule in [
        ElementRule("population.resident", "integer", "year", "persons", id=1),
        ElementRule(
            "volunteers.registered", "integer", "year", "persons", "population.resident", id=2
        ),
        ElementRule("services.online_rate", "percent", "month", "%", id=3),
        ElementRule("centre.exists", "boolean", "year", "", id=4),
        ElementRule("spending.balance", "number", "year", "万元", id=5),
        ElementRule("elderly.beds_per_100", "number", "quarter", "张", id=6),
        ElementRule("households.poor", "number", "year", "households", id=7),
    ]
}
ORG_UNITS = {"441900": 10, "441900003": 11, "441900003001": 12, "441900101": 13}
HEADER = "org_unit,period,element,value,comment\r\n"


def csv_bytes(*lines: str, header: str = HEADER, encoding: str = "utf-8") -> bytes:
    return (header + "".join(f"{line}\r\n" for line in lines)).encode(encoding)


def validate(*lines: str, **lookups):
    kwargs = {"elements": ELEMENTS, "org_units": ORG_UNITS, **lookups}
    return validate_values(csv_bytes(*lines), **kwargs)


def only_error(report) -> RowError:
    assert report.errors_total == 1, report.errors
    return report.errors[0]


# --- a valid file -----------------------------------------------------------------------------


def test_valid_file_yields_typed_rows_with_line_numbers_and_ids():
    report = validate(
        "441900003001,2015,population.resident,12000,社区上报",
        "441900003001, 2015 ,volunteers.registered,1500,",
        "441900003001,2015-7,services.online_rate,85%,",
        "441900,2015,centre.exists,是,",
    )
    assert report.ok and report.errors == [] and report.warnings == []
    assert (report.rows_total, report.rows_valid, report.rows_invalid) == (4, 4, 0)
    assert report.rows == [
        ("population.resident", "441900003001", "2015", "12000", "社区上报", 2, 1, 12),
        ("volunteers.registered", "441900003001", "2015", "1500", "", 3, 2, 12),
        ("services.online_rate", "441900003001", "2015-07", "85", "", 4, 3, 12),
        ("centre.exists", "441900", "2015", "1", "", 5, 4, 10),
    ]
    assert report.columns == {
        "org_unit": "org_unit",
        "period": "period",
        "element": "element",
        "value": "value",
        "comment": "comment",
    }


def test_chinese_headers_in_gb18030_with_columns_in_another_order():
    data = csv_bytes(
        "12000,population.resident,2015,441900003001,东城",
        header="数值,数据项,期间,单位代码,备注\r\n",
        encoding="gb18030",
    )
    report = validate_values(data, elements=ELEMENTS, org_units=ORG_UNITS)
    assert report.ok and report.encoding == "gb18030"
    assert report.rows[0][:5] == ("population.resident", "441900003001", "2015", "12000", "东城")
    assert report.columns["value"] == "数值"


def test_xlsx_values_file_with_a_percent_cell_and_an_excel_date_period():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["单位代码", "期间", "数据项", "数值"])
    sheet.append([441900003001, 2015, "population.resident", 12000])
    sheet.append(["441900003001", "2015-07-01", "services.online_rate", 0.855])
    sheet.cell(row=3, column=4).number_format = "0.0%"
    out = io.BytesIO()
    workbook.save(out)
    report = validate_values(out.getvalue(), elements=ELEMENTS, org_units=ORG_UNITS)
    assert report.ok, report.errors
    assert [(r[2], r[3]) for r in report.rows] == [("2015", "12000"), ("2015-07", "85.5")]


def test_comment_column_is_optional_and_blank_rows_are_not_counted():
    data = csv_bytes(
        "441900,2015,population.resident,5", "", ",,,", "441900,2016,population.resident,6",
        header="org_unit,period,element,value\r\n",
    )  # fmt: skip
    report = validate_values(data, elements=ELEMENTS, org_units=ORG_UNITS)
    assert report.ok and report.rows_total == 2
    assert [(r[2], r[4], r[5]) for r in report.rows] == [("2015", "", 2), ("2016", "", 5)]


def test_a_missing_value_column_refuses_the_whole_file():
    with pytest.raises(TabularError, match=r"^缺少列 value/数值（missing column: value/数值"):
        validate_values(
            b"org_unit,period,element\r\n441900,2015,x\r\n", elements=ELEMENTS, org_units={}
        )


# --- one rule at a time: line, column, reason -------------------------------------------------


@pytest.mark.parametrize(
    ("line", "column", "value", "reason"),
    [
        ("99999,2015,population.resident,1,", "org_unit", "99999", "单位代码不存在（unknown org unit）"),
        (",2015,population.resident,1,", "org_unit", "", "单位代码为空（org unit is empty）"),
        ("441900,2015,no.such.element,1,", "element", "no.such.element", "数据项不存在（unknown element）"),
        ("441900,2015,,1,", "element", "", "数据项为空（element is empty）"),
        ("441900,2015,population.resident,,备注", "value", "", "数值为空（value is empty）"),
        ("441900,2015,population.resident,abc,", "value", "abc", "不是数字（not a number）"),
        ("441900,2015,population.resident,-5,", "value", "-5",
         "整数型数据项不能为负数（negative not allowed for integer elements）"),
        ("441900,2015,households.poor,-5,", "value", "-5",
         "以“households”计的数值不能为负数（negative not allowed for a count in households）"),
        ("441900,2015,population.resident,12.5,", "value", "12.5",
         "整数型数据项不能有小数（integer element: no fractions allowed）"),
        ("441900,2015-01,services.online_rate,100.5,", "value", "100.5",
         "百分比不能超过 100（percent must be between 0 and 100）"),
        ("441900,2015-01,services.online_rate,101,", "value", "101",
         "百分比不能超过 100（percent must be between 0 and 100）"),
        ("441900,2015-01,services.online_rate,-1,", "value", "-1",
         "百分比不能小于 0（percent must be between 0 and 100）"),
        ("441900,2015,centre.exists,2,", "value", "2",
         "是/否型数据项应填 1/0、是/否、true/false 或 yes/no（boolean element: use 1/0, 是/否, true/false or yes/no）"),
        ("441900,2015,centre.exists,maybe,", "value", "maybe",
         "是/否型数据项应填 1/0、是/否、true/false 或 yes/no（boolean element: use 1/0, 是/否, true/false or yes/no）"),
        ("441900,2015,population.resident,15%,", "value", "15%",
         "只有百分比型数据项可以带 %（“%” is only allowed for percent elements）"),
        ("441900,2015,spending.balance,1e15,", "value", "1e15",
         "数值过大（须小于 1e14）（value too large: must be below 1e14）"),
        ("441900,2015,population.resident,\"1,23\",", "value", "1,23",
         "不是数字：千分位逗号位置不对（not a number: misplaced thousands separator）"),
        ("441900,2015Q5,population.resident,1,", "period", "2015Q5",
         "期间格式不对，应为 2015、2015Q3 或 2015-07（“2015Q5” is not a period: use 2015, 2015Q3 or 2015-07）"),
        ("441900,1899,population.resident,1,", "period", "1899",
         "期间格式不对，应为 2015、2015Q3 或 2015-07（“1899”: year 1899 is outside 1900–2100）"),
        ("441900,,population.resident,1,", "period", "", "期间为空（period is empty）"),
        ("441900,2015Q3,population.resident,1,", "period", "2015Q3",
         "数据项 population.resident 按年填报，2015Q3 是季度（element population.resident is reported by year; 2015Q3 is a quarter）"),
        ("441900,2015,services.online_rate,1,", "period", "2015",
         "数据项 services.online_rate 按月填报，2015 是年（element services.online_rate is reported by month; 2015 is a year）"),
    ],
)  # fmt: skip
def test_each_invalid_cell_is_reported_with_line_column_and_reason(line, column, value, reason):
    report = validate(line)
    assert not report.ok
    assert only_error(report) == RowError(2, column, value, reason, column)
    assert (report.rows_total, report.rows_valid, report.rows_invalid) == (1, 0, 1)


def test_unit_outside_the_uploaders_scope_is_refused():
    report = validate("441900101,2015,population.resident,1,", scope={"441900003", "441900003001"})
    assert only_error(report) == RowError(
        2,
        "org_unit",
        "441900101",
        "该单位不在您的填报权限范围内（org unit outside your scope）",
        "org_unit",
    )
    assert validate("441900003001,2015,population.resident,1,", scope={"441900003001"}).ok


def test_duplicate_key_names_the_earlier_line():
    report = validate(
        "441900,2015,population.resident,1,",
        "441900,2016,population.resident,1,",
        " 441900 ,2015 ,population.resident,2,",
    )
    assert only_error(report) == RowError(
        4,
        "element",
        "population.resident",
        "与第 2 行重复（同一数据项、单位和期间）（duplicate of line 2: same element, org unit and period）",
        "element",
    )


def test_duplicate_of_an_invalid_row_is_still_a_duplicate():
    report = validate("441900,2015,population.resident,abc,", "441900,2015,population.resident,2,")
    assert [(e.line, e.column) for e in report.errors] == [(2, "value"), (3, "element")]
    assert "duplicate of line 2" in report.errors[1].reason


def test_a_row_with_several_problems_reports_each_of_them():
    report = validate("99999,2015Q3,no.such,abc,")
    assert [(e.line, e.column) for e in report.errors] == [
        (2, "org_unit"),
        (2, "element"),
        (2, "value"),
    ]
    report = validate("99999,2015Q9,population.resident,-1,")
    assert [(e.column, e.reason.split("（")[0]) for e in report.errors] == [
        ("org_unit", "单位代码不存在"),
        ("period", "期间格式不对，应为 2015、2015Q3 或 2015-07"),
        ("value", "整数型数据项不能为负数"),
    ]
    assert report.rows_invalid == 1 and report.errors_total == 3


def test_every_invalid_row_is_reported_not_just_the_first():
    lines = [f"441900,{2000 + i},population.resident,{'x' if i % 2 else i},," for i in range(20)]
    report = validate(*[line.rstrip(",") for line in lines])
    assert [e.line for e in report.errors] == [i + 2 for i in range(20) if i % 2]
    assert (report.rows_valid, report.rows_invalid) == (10, 10)
    assert [r[5] for r in report.rows] == [i + 2 for i in range(20) if not i % 2]
    assert not report.ok  # all-or-nothing: the caller writes none of the valid rows


def test_extra_non_empty_cells_are_an_error_hinting_at_an_unquoted_comma():
    data = csv_bytes(
        "441900,2015,population.resident,1,234",
        "441900,2016,population.resident,7,,,",
        header="org_unit,period,element,value\r\n",
    )
    report = validate_values(data, elements=ELEMENTS, org_units=ORG_UNITS)
    error = only_error(report)
    assert (error.line, error.column, error.value) == (2, "", "234")
    assert "unquoted comma" in error.reason and "多出 1 个非空单元格" in error.reason


def test_a_number_split_into_the_comment_by_an_unquoted_comma_is_an_error():
    report = validate(
        "441900,2015,population.resident,12,345",
        "441900,2016,population.resident,12,345 户",  # a real comment
        '441900,2017,population.resident,"12,345",',
    )
    error = only_error(report)
    assert (error.line, error.column, error.value) == (2, "comment", "345")
    assert 'quote it ("12,345")' in error.reason
    assert [r[3] for r in report.rows] == ["12", "12345"]


def test_short_rows_are_padded_and_reported_as_empty_cells():
    report = validate("441900,2015,,5")
    assert [(e.column, e.reason) for e in report.errors] == [
        ("element", "数据项为空（element is empty）"),
    ]


def test_a_short_row_without_a_value_is_skipped():
    report = validate("441900,2015", "441900,2016,population.resident,5")
    assert report.ok and report.rows_skipped == 1 and len(report.rows) == 1


# --- not_above --------------------------------------------------------------------------------


def test_value_above_its_not_above_element_in_the_file_is_refused_in_either_order():
    for lines, bad_line, limit_line in [
        (["441900,2015,population.resident,1000", "441900,2015,volunteers.registered,1001"], 3, 2),
        (["441900,2015,volunteers.registered,1001", "441900,2015,population.resident,1000"], 2, 3),
    ]:
        report = validate(*lines)
        assert only_error(report) == RowError(
            bad_line,
            "value",
            "1001",
            f"不能大于同一单位同一期间的 population.resident（第 {limit_line} 行：1000）"
            f"（may not exceed population.resident for the same org unit and period "
            f"(line {limit_line}: 1000)）",
            "value",
        )
        assert (report.rows_valid, report.rows_invalid) == (1, 1)


def test_not_above_holds_per_unit_and_period_and_equal_is_fine():
    report = validate(
        "441900,2015,population.resident,1000",
        "441900,2015,volunteers.registered,1000",
        "441900,2016,volunteers.registered,5000",
        "441900101,2015,volunteers.registered,5000",
    )
    assert report.ok


def test_not_above_uses_the_stored_value_when_the_file_lacks_it():
    existing = {("population.resident", "441900", "2015"): Decimal(800)}
    report = validate("441900,2015,volunteers.registered,801", existing=existing)
    assert only_error(report).reason == (
        "不能大于同一单位同一期间的 population.resident（已有数据：800）"
        "（may not exceed population.resident for the same org unit and period (stored value: 800)）"
    )
    # the file's own value wins over the stored one
    report = validate(
        "441900,2015,volunteers.registered,801",
        "441900,2015,population.resident,900",
        existing=existing,
    )
    assert report.ok


# --- number normalisation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234567", "1234567"),
        ('"1,234,567"', "1234567"),
        ("1，234", "1234"),
        ("１２３４", "1234"),
        ("  42  ", "42"),
        ("１，２３４", "1234"),
        ("1.2e3", "1200"),
        ("1E6", "1000000"),
        ("+7", "7"),
        ("007", "7"),
        ("0", "0"),
        ("12.0", "12"),
    ],
)
def test_integer_values_become_plain_exact_text(text, expected):
    report = validate(f"441900,2015,population.resident,{text}")
    assert report.ok, report.errors
    assert report.rows[0][3] == expected  # plain notation, ready for COPY
    assert Decimal(report.rows[0][3]) == Decimal(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-1234.5", "-1234.5"),
        ("－１２３４．５", "-1234.5"),
        ("\u22123.25", "-3.25"),
        ('"1,234.75"', "1234.75"),
        ("1234.75", "1234.75"),
        ("0.85", "0.85"),
        (".5", "0.5"),
        ("2.5e-3", "0.0025"),
        ("5e-7", "0.000001"),
        ("0.1234564", "0.123456"),
        ("0.1234565", "0.123457"),
        ("-0", "0"),
    ],
)
def test_number_values_accept_signs_fractions_and_round_to_six_places(text, expected):
    report = validate(f"441900,2015,spending.balance,{text}")
    assert report.ok, report.errors
    assert report.rows[0][3] == expected


@pytest.mark.parametrize(
    "text", ["NaN", "inf", "Infinity", "1_000", "1 234", "0x10", "1.2.3", "1e", "--1"]
)
def test_things_python_would_parse_are_still_not_numbers(text):
    report = validate(f"441900,2015,spending.balance,{text}")
    assert only_error(report).reason.startswith("不是数字")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("15%", "15"), ("15 %", "15"), ("１５％", "15"), ("15", "15"), ("0.5", "0.5"), ("100%", "100"),
     ("99.999999", "99.999999"), ("100.0", "100.0")],
)  # fmt: skip
def test_percent_elements_accept_a_percent_sign(text, expected):
    report = validate(f"441900,2015-01,services.online_rate,{text}")
    assert report.ok, report.errors
    assert report.rows[0][3] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", "1"), ("0", "0"), ("是", "1"), ("否", "0"), ("TRUE", "1"), ("false", "0"), ("Yes", "1"),
     ("no", "0"), ("1.0", "1"), ("有", "1")],
)  # fmt: skip
def test_boolean_elements_accept_words(text, expected):
    report = validate(f"441900,2015,centre.exists,{text}")
    assert report.ok, report.errors
    assert report.rows[0][3] == expected


def test_negative_is_fine_for_a_number_element_not_counting_things():
    assert validate("441900,2015,spending.balance,-12.5").ok
    assert not validate("441900,2015Q1,elderly.beds_per_100,-1").ok  # 张: beds are counted


def test_parse_number_and_check_value_are_usable_alone():
    assert parse_number("１,２３４．５％") == (Decimal("1234.5"), True)
    assert check_value("85%", ELEMENTS["services.online_rate"]) == Decimal(85)
    assert check_value("1.2e3", ELEMENTS["population.resident"]) == Decimal(1200)
    with pytest.raises(ValueError, match="negative not allowed for integer elements"):
        check_value("-1", ELEMENTS["population.resident"])
    assert MAX_ABS == Decimal("1e14")


@pytest.mark.parametrize(
    ("text", "canonical"),
    [("2015", "2015"), ("２０１５Ｑ３", "2015Q3"), ("2015-07-01", "2015-07"), ("2015/7/1", "2015-07"),
     ("2015-07-01 00:00:00", "2015-07"), ("2015年7月", "2015-07")],
)  # fmt: skip
def test_periods_including_excel_dates_for_the_first_of_a_month(text, canonical):
    assert str(parse_period(text)) == canonical


def test_a_date_that_is_not_the_first_of_a_month_is_not_a_period():
    report = validate("441900,2015-07-15,services.online_rate,1")
    assert only_error(report).column == "period"


# --- outlier warnings -------------------------------------------------------------------------


def test_value_over_three_times_the_stored_previous_period_is_a_warning_not_an_error():
    existing = {
        ("population.resident", "441900", "2014"): Decimal(1000),
        ("population.resident", "441900101", "2014"): Decimal(1000),
        ("population.resident", "441900003", "2014"): Decimal(1000),
    }
    report = validate(
        "441900,2015,population.resident,3001",
        "441900101,2015,population.resident,333",
        "441900003,2015,population.resident,3000",
        existing=existing,
    )
    assert report.ok and report.warnings_total == 2
    assert report.warnings == [
        RowError(
            2,
            "value",
            "3001",
            "比上期 2014（已有数据：1000）高出 3 倍以上，请核对"
            "（more than 3× the previous period 2014 (stored value: 1000)）",
            "value",
        ),
        RowError(
            3,
            "value",
            "333",
            "不到上期 2014（已有数据：1000）的三分之一，请核对"
            "（less than a third of the previous period 2014 (stored value: 1000)）",
            "value",
        ),
    ]


def test_previous_period_in_the_same_file_is_compared_in_either_order():
    for lines, warned in [
        (["441900,2014,population.resident,100", "441900,2015,population.resident,400"], 3),
        (["441900,2015,population.resident,400", "441900,2014,population.resident,100"], 2),
    ]:
        report = validate(*lines)
        assert report.ok
        assert [(w.line, w.value) for w in report.warnings] == [(warned, "400")]
        other = 2 if warned == 3 else 3
        assert f"第 {other} 行：100" in report.warnings[0].reason


def test_previous_period_in_the_file_supersedes_the_stored_one():
    existing = {("population.resident", "441900", "2014"): Decimal(1)}
    report = validate(
        "441900,2015,population.resident,400",  # 400× the stored value ...
        "441900,2014,population.resident,300",  # ... but the file replaces it with 300
        existing=existing,
    )
    assert report.ok and report.warnings == []


def test_quarters_and_months_compare_with_the_period_just_before():
    existing = {
        ("elderly.beds_per_100", "441900", "2014Q4"): Decimal(10),
        ("services.online_rate", "441900", "2014-12"): Decimal(90),
    }
    report = validate(
        "441900,2015Q1,elderly.beds_per_100,31",
        "441900,2015-01,services.online_rate,20",
        existing=existing,
    )
    assert [(w.line, "2014Q4" in w.reason or "2014-12" in w.reason) for w in report.warnings] == [
        (2, True),
        (3, True),
    ]


def test_no_outlier_warning_for_booleans_or_a_zero_previous_value():
    existing = {
        ("centre.exists", "441900", "2014"): Decimal(0),
        ("population.resident", "441900", "2014"): Decimal(0),
    }
    report = validate(
        "441900,2015,centre.exists,1", "441900,2015,population.resident,50", existing=existing
    )
    assert report.ok and report.warnings == []


# --- big files: caps and streaming ------------------------------------------------------------


def test_errors_past_the_cap_are_counted_not_kept():
    lines = [f"441900,{1950 + i},population.resident,x" for i in range(30)]
    report = validate(*lines, max_errors=5)
    assert len(report.errors) == 5 and report.errors_total == 30
    assert report.errors_truncated and report.rows_invalid == 30
    assert [e.line for e in report.errors] == [2, 3, 4, 5, 6]


def test_chunks_stream_valid_rows_and_the_report_is_final_after_the_last_chunk():
    validator = ValuesValidator(elements=ELEMENTS, org_units=ORG_UNITS)
    data = csv_bytes(
        "441900,2015,volunteers.registered,5000",  # above the population that comes last
        *[f"441900,{2000 + i},population.resident,{100 + i}" for i in range(5)],
        "441900,2015,population.resident,1000",
    )
    sizes = []
    for chunk in validator.chunks(data, chunk_size=2):
        sizes.append(len(chunk))
        assert validator.report.errors_total == 0  # not known yet
    assert sizes == [2, 2, 2, 1]
    report = validator.report
    assert report.rows_total == 7 and report.errors_total == 1
    assert report.errors[0].line == 2 and "population.resident" in report.errors[0].reason
    assert not report.ok


def test_a_validator_can_be_reused_for_another_file():
    validator = ValuesValidator(elements=ELEMENTS, org_units=ORG_UNITS)
    list(validator.chunks(csv_bytes("441900,2015,population.resident,1")))
    assert validator.report.ok
    list(validator.chunks(csv_bytes("441900,2015,population.resident,1")))
    assert validator.report.ok and validator.report.rows_total == 1  # no stale duplicate


# --- error report CSV -------------------------------------------------------------------------


def test_errors_csv_opens_in_excel_and_neutralises_formulas():
    errors = [
        RowError(2, "数值", '=HYPERLINK("x")', "不是数字（not a number）", "value"),
        RowError(
            3, "value", "-5", "整数型数据项不能为负数（negative not allowed for integer elements）"
        ),
    ]
    from django.utils import translation

    with translation.override("zh-hans"):
        data = errors_to_csv(errors, total=7)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["行号", "列", "数值", "原因"]
    with translation.override("en"):
        english = errors_to_csv(errors).decode("utf-8-sig").splitlines()[0]
    assert english == "Row,Column,Value,Reason"
    assert rows[1] == ["2", "数值", '\'=HYPERLINK("x")', "不是数字（not a number）"]
    assert rows[2][2] == "'-5"
    assert rows[3] == [
        "",
        "",
        "",
        "仅列出前 2 条错误，共 7 条（only the first 2 of 7 errors are listed）",
    ]


def test_errors_csv_of_a_real_report_round_trips():
    report = validate("99999,2015,population.resident,1", "441900,2015,population.resident,abc")
    rows = list(csv.reader(io.StringIO(errors_to_csv(report.errors).decode("utf-8-sig"))))
    assert [r[:3] for r in rows[1:]] == [["2", "org_unit", "99999"], ["3", "value", "abc"]]


def test_outliers_line_up_with_their_rows_across_blank_invalid_and_duplicate_lines():
    report = validate(
        "441900,2014,population.resident,abc",  # 2: invalid
        "",  # 3: blank
        "441900101,2014,population.resident,100",  # 4
        "441900101,2014,population.resident,100",  # 5: duplicate of 4
        ",,,,",  # 6: blank
        "441900101,2015,population.resident,1000",  # 7: 10× line 4
        "441900,2015,population.resident,5",  # 8: its 2014 row was invalid: no comparison
    )
    assert [(e.line, e.column) for e in report.errors] == [(2, "value"), (5, "element")]
    assert [(w.line, w.value) for w in report.warnings] == [(7, "1000")]
    assert "第 4 行：100" in report.warnings[0].reason
    assert report.rows_total == 5  # blank lines are not rows


def test_interleaved_periods_are_compared_whichever_comes_first():
    existing = {("population.resident", "441900", "2014"): Decimal(1)}
    report = validate(
        "441900,2015,population.resident,1000",  # compared with the stored 1 ...
        "441900101,2014,population.resident,10",
        "441900,2014,population.resident,900",  # ... until the file's own 2014 arrives
        "441900101,2015,population.resident,40",  # 4× line 3 of its unit
        existing=existing,
    )
    assert [(w.line, w.value) for w in report.warnings] == [(5, "40")]


def test_period_written_the_chinese_way_is_accepted():
    report = validate(
        "441900,2015年,population.resident,1", "441900,2015年7月,services.online_rate,1"
    )
    assert report.ok and [r[2] for r in report.rows] == ["2015", "2015-07"]


def test_malformed_csv_refuses_the_file_naming_the_line():
    data = csv_bytes(
        "441900,2015,population.resident,1", "441900,2016,population.resident," + "9" * 200_000
    )
    with pytest.raises(TabularError, match=r"第 3 行无法读取.*line 3 cannot be read"):
        validate_values(data, elements=ELEMENTS, org_units=ORG_UNITS)


def test_xlsx_rows_shorter_than_the_header_are_padded():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["org_unit", "period", "element", "value", "comment"])
    sheet.append(["441900", "2015", "population.resident", 7])
    sheet.append(["441900", "2016", "population.resident", 8, "备注"])
    sheet.append(["441900", "2017"])  # no value: skipped
    sheet.append(["441900", "2018", None, 9])
    out = io.BytesIO()
    workbook.save(out)
    report = validate_values(out.getvalue(), elements=ELEMENTS, org_units=ORG_UNITS)
    assert [(r[3], r[4]) for r in report.rows] == [("7", ""), ("8", "备注")]
    assert [(e.line, e.column) for e in report.errors] == [(5, "element")]
    assert report.rows_skipped == 1


def test_garbage_collection_is_back_on_after_the_file_even_when_abandoned():
    import gc

    validator = ValuesValidator(elements=ELEMENTS, org_units=ORG_UNITS)
    lines = [f"441900,{1950 + i},population.resident,{i}" for i in range(10)]
    for _chunk in validator.chunks(csv_bytes(*lines), chunk_size=3):
        assert gc.isenabled()  # the consumer runs with the collector on
        break
    assert gc.isenabled()
    list(validator.chunks(csv_bytes(*lines), chunk_size=3))
    assert gc.isenabled()

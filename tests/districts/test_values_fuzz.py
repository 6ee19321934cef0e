"""Fuzzing the values-file reader (issue 14): random bytes, encodings, delimiters, quotes, huge
cells and NUL. Whatever comes in, the reader answers with row errors or refuses the file with
its own error (TabularError), never another exception; every row it keeps can be stored; and an
upload that fails writes nothing.

Examples: 600 files for the pure reader and validator, 60 through the upload job on the test
database (hypothesis' ``max_examples`` below; ``--hypothesis-show-statistics`` prints them).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from districts.intake import upload_process
from districts.intake.tables import RowError, TabularError
from districts.intake.validator import validate_values
from districts.models import DataValue, UploadJob
from districts.rules import MAX_ABS, ElementRule
from tests import factories

ELEMENTS = {
    "population.resident": ElementRule("population.resident", "integer", "year", "persons", id=1),
    "spending.balance": ElementRule("spending.balance", "number", "year", "万元", id=2),
    "services.online_rate": ElementRule("services.online_rate", "percent", "month", "%", id=3),
    "centre.exists": ElementRule("centre.exists", "boolean", "year", "", id=4),
}
ORG_UNITS = {"441900003001": 12, "441900003002": 13}
HEADERS = (
    ["单位代码", "期间", "数据项", "数值", "备注"],
    ["org_unit", "period", "element", "value", "comment"],
    ["数值", "单位代码", "期间", "数据项"],
)

# Cells close to real ones, mixed with the characters that break readers.
plausible = st.sampled_from(
    [
        "441900003001", "441900003002", "2015", "2015-07", "2016Q3", "population.resident",
        "spending.balance", "services.online_rate", "centre.exists", "12", "1,234", "１２３",
        "15%", "是", "-0", "1e-30", "99999999999999.9999995", "1e14", "0.0000005", "", " ",
        "东城社区", '"', '""', "\x00", "\r", "\n", "\ufeff", "NaN", "inf",
    ]
)  # fmt: skip
wild = st.text(
    alphabet=st.sampled_from(list('0123456789.,;-+eE% \t"\r\n\x00东城是否１２ＡBc\u2212\ufeff')),
    max_size=40,
)
huge = st.sampled_from(["9" * 5000, "东" * 40000, '"' + "x" * 100_000, "1" + "0" * 400])
cell = st.one_of(plausible, plausible, wild, huge)


@st.composite
def values_files(draw) -> bytes:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=2000))  # anything at all
    header = draw(st.sampled_from(HEADERS))
    delimiter = draw(st.sampled_from([",", ";", "\t", "，"]))
    rows = draw(st.lists(st.lists(cell, min_size=0, max_size=7), max_size=12))
    newline = draw(st.sampled_from(["\r\n", "\n", "\r"]))
    lines = [delimiter.join(header), *(delimiter.join(r) for r in rows)]
    encodings = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "mixed"]))
    if encodings != "mixed":
        return newline.join(lines).encode(encodings, errors="replace")
    return b"\r\n".join(
        line.encode(draw(st.sampled_from(["utf-8", "gb18030"])), errors="replace") for line in lines
    )


def check_report(data: bytes):
    """The reader's answer: its own error, or a report of rows and row errors."""
    try:
        report = validate_values(data, elements=ELEMENTS, org_units=ORG_UNITS)
    except TabularError:
        return None
    assert report.rows_valid + report.rows_invalid == report.rows_total
    assert report.ok == (report.errors_total == 0)
    for error in report.errors:
        assert isinstance(error, RowError) and error.line >= 1 and error.reason
    for row in report.rows:
        value = Decimal(row[3])
        assert value.is_finite() and abs(value) < MAX_ABS
        assert value.as_tuple().exponent >= -6
        assert "\x00" not in row[4] and row[1] in ORG_UNITS and row[0] in ELEMENTS
    return report


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values_files())
def test_the_reader_answers_any_file_with_row_errors_or_its_own_error(data):
    check_report(data)


@pytest.fixture
def catalog(db):
    factories.element("population.resident", level="community")
    factories.element("spending.balance", level="community")


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=values_files())
def test_an_upload_of_any_file_finishes_and_writes_nothing_when_it_fails(cast, catalog, data):
    before = DataValue.objects.count()
    job = UploadJob(original_name="fuzz.csv", created_by=cast["admin"])
    job.file.save("fuzz.csv", ContentFile(data), save=False)
    job.save()
    job = upload_process(job_id=job.pk)  # no exception escapes
    assert job.state in (UploadJob.SUCCEEDED, UploadJob.FAILED)
    if job.state == UploadJob.FAILED:
        assert DataValue.objects.count() == before
        assert job.message

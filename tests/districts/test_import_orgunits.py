"""import_orgunits (SPEC §4.2): encodings, XLSX, Chinese headers, any row order, all or nothing."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from districts.models import OrgUnit

ROWS = [
    # a child before its parent, and a grandchild before both
    ("441900003001", "东城社区A", "Dongcheng A", "社区", "441900003"),
    ("441900003", "东城街道", "Dongcheng", "街道", "441900"),
    ("441900", "东莞市", "Dongguan", "市", ""),
]


def csv_bytes(header: str, rows, encoding: str) -> bytes:
    lines = [header] + [",".join(r) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def run(tmp_path, data: bytes, name: str = "units.csv") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    out = io.StringIO()
    call_command("import_orgunits", str(path), stdout=out)
    return out.getvalue()


def assert_tree_loaded():
    community = OrgUnit.objects.get(code="441900003001")
    assert community.parent.code == "441900003"
    assert community.parent.parent.code == "441900"
    assert community.path == "441900/441900003/441900003001/"
    assert (community.level, community.depth) == ("community", 2)
    assert OrgUnit.objects.get(code="441900003").level == "subdistrict"


@pytest.mark.django_db
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_each_encoding_with_chinese_headers(tmp_path, encoding):
    output = run(tmp_path, csv_bytes("代码,名称,英文名称,层级,上级代码", ROWS, encoding))
    assert "3 created, 0 updated, 0 unchanged" in output
    assert_tree_loaded()
    assert OrgUnit.objects.get(code="441900").name_zh == "东莞市"


@pytest.mark.django_db
def test_xlsx_with_english_headers_in_another_order(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["parent_code", "level", "code", "name_zh", "name_en"])
    for code, zh, en, level, parent in ROWS:
        sheet.append([parent or None, level, code, zh, en])
    buffer = io.BytesIO()
    book.save(buffer)
    run(tmp_path, buffer.getvalue(), "units.xlsx")
    assert_tree_loaded()


@pytest.mark.django_db
def test_reimport_changes_nothing_and_a_rename_updates(tmp_path):
    data = csv_bytes("code,name_zh,name_en,level,parent_code", ROWS, "utf-8")
    run(tmp_path, data)
    assert "0 created, 0 updated, 3 unchanged" in run(tmp_path, data)
    renamed = [(c, n + "（新）" if c == "441900003" else n, e, lv, p) for c, n, e, lv, p in ROWS]
    out = run(tmp_path, csv_bytes("code,name_zh,name_en,level,parent_code", renamed, "utf-8"))
    assert "0 created, 1 updated, 2 unchanged" in out
    assert OrgUnit.objects.get(code="441900003").name_zh == "东城街道（新）"


@pytest.mark.django_db
def test_moving_a_unit_rebuilds_its_subtree_paths(tmp_path):
    header = "code,name_zh,name_en,level,parent_code"
    run(tmp_path, csv_bytes(header, [*ROWS, ("441900101", "石碣镇", "", "镇", "441900")], "utf-8"))
    run(tmp_path, csv_bytes(header, [("441900003", "东城街道", "", "街道", "441900101")], "utf-8"))
    community = OrgUnit.objects.get(code="441900003001")
    assert community.path == "441900/441900101/441900003/441900003001/"
    assert community.depth == 3


@pytest.mark.django_db
def test_invalid_file_is_rejected_whole_with_line_and_reason(tmp_path):
    rows = [
        *ROWS,
        ("442000001", "石岐街道", "", "镇", "999999"),
        ("", "无代码", "", "社区", "441900"),
    ]
    with pytest.raises(CommandError) as excinfo:
        run(tmp_path, csv_bytes("code,name_zh,name_en,level,parent_code", rows, "utf-8"))
    message = str(excinfo.value)
    assert "第 6 行" in message and "code is empty" in message
    assert (
        "第 5 行" in message
        and "parent 999999 is neither in the file nor in the database" in message
    )
    assert not OrgUnit.objects.exists()  # nothing written, not even the valid rows


@pytest.mark.django_db
def test_unknown_parent_is_named(tmp_path):
    rows = [("442000001", "石岐街道", "", "街道", "999999")]
    with pytest.raises(
        CommandError, match="parent 999999 is neither in the file nor in the database"
    ):
        run(tmp_path, csv_bytes("code,name_zh,name_en,level,parent_code", rows, "utf-8"))


@pytest.mark.django_db
def test_cycle_is_reported(tmp_path):
    rows = [("A1", "甲", "", "镇", "B1"), ("B1", "乙", "", "镇", "A1")]
    with pytest.raises(CommandError, match="cycle"):
        run(tmp_path, csv_bytes("code,name_zh,name_en,level,parent_code", rows, "utf-8"))
    assert not OrgUnit.objects.exists()


@pytest.mark.django_db
def test_missing_column_is_named(tmp_path):
    with pytest.raises(CommandError, match="level"):
        run(tmp_path, "code,name_zh,parent_code\r\nX,甲,\r\n".encode())


@pytest.mark.django_db
def test_an_org_unit_file_above_the_size_limit_is_refused_and_nothing_written(tmp_path, settings):
    data = csv_bytes("代码,名称,英文名称,层级,上级代码", ROWS, "utf-8")
    settings.UPLOAD_MAX_BYTES = len(data) - 1
    with pytest.raises(CommandError, match=r"文件过大.*the file is too large"):
        run(tmp_path, data)
    assert not OrgUnit.objects.exists()


@pytest.mark.django_db
def test_an_org_unit_zip_bomb_is_refused_and_nothing_written(tmp_path):
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<worksheet>" + b" " * (64 << 20))
    with pytest.raises(CommandError, match=r"疑似压缩炸弹.*a zip bomb"):
        run(tmp_path, out.getvalue(), "units.xlsx")
    assert not OrgUnit.objects.exists()

"""How fast hostile values files are refused (issue 14), and the XLSX pre-scan's time on a sheet
without "<" for megabytes (quadratic before: the tail was carried over and scanned again).

Builds in memory: a zip bomb (about 1 MB inflating to 256 MB of sheet XML), an XLSX whose
sheet claims row 11,000,000, an XLSX with a "billion laughs" DTD, a CSV above the size limit;
then times ``open_table`` refusing each with the default limits. Then times ``xlsx_reader``
(the pre-scan) on sheets of 8, 16 and 32 MB of text without "<" with the limits lifted: linear
time means the MB/s stays flat as the size doubles.

    .venv/bin/python bench/hostile_files.py
"""

from __future__ import annotations

import io
import os
import sys
import time
import zipfile
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
django.setup()  # districts.intake's public face imports the models

from districts.intake.tables import Limits, TabularError, open_table, xlsx_reader  # noqa: E402 - after django.setup()

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def workbook(sheet: bytes, *, level: int = zipfile.ZIP_DEFLATED, prolog: bytes = b"") -> bytes:
    parts = {
        "[Content_Types].xml": b"<Types/>",
        "_rels/.rels": (
            f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="r1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ).encode(),
        "xl/workbook.xml": prolog
        + (
            f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
            '<sheet name="数据" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ).encode(),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>"
        ).encode(),
        "xl/worksheets/sheet1.xml": sheet,
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", level) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return out.getvalue()


def sheet_xml(rows: bytes) -> bytes:
    return f'<worksheet xmlns="{MAIN}"><sheetData>'.encode() + rows + b"</sheetData></worksheet>"


def refused(name: str, data: bytes, limits: Limits | None = None) -> None:
    started = time.perf_counter()
    try:
        with open_table(data, limits) as table:
            for _row in table.raw_rows():
                pass
        outcome = "READ (not refused!)"
    except TabularError as exc:
        outcome = str(exc)[:90]
    print(
        f"{name:<34} {len(data) / 1024:>9.0f} KB  {time.perf_counter() - started:6.2f} s  {outcome}"
    )


def main() -> None:
    print("refusals with the default limits:")
    row = b'<row r="2"><c r="A2" t="inlineStr"><is><t>441900</t></is></c></row>'
    refused("zip bomb (256 MB of rows)", workbook(sheet_xml(row * ((256 << 20) // len(row)))))
    refused(
        "row 11,000,000",
        workbook(sheet_xml(b'<row r="11000000"><c r="A11000000"><v>1</v></c></row>')),
    )
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        + b"".join(
            f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(9)
        )
        + b"]>"
    )
    refused("billion laughs DTD", workbook(sheet_xml(row), prolog=laughs))
    csv = b"\xe5\x8d\x95\xe4\xbd\x8d\xe4\xbb\xa3\xe7\xa0\x81,x\r\n" + b"441900,1\r\n" * 6_000_000
    refused("CSV of 60 MB", csv)

    print("\nXLSX pre-scan of a sheet without '<' for megabytes (limits lifted):")
    for megabytes in (8, 16, 32):
        text = os.urandom(megabytes << 19).hex().encode()  # incompressible-ish, no "<"
        data = workbook(
            sheet_xml(b'<row r="1"><c r="A1" t="inlineStr"><is><t>' + text + b"</t></is></c></row>")
        )
        started = time.perf_counter()
        xlsx_reader(io.BytesIO(data))
        took = time.perf_counter() - started
        print(f"  {megabytes:>3} MB sheet: {took:6.2f} s ({megabytes / took:6.1f} MB/s)")


if __name__ == "__main__":
    main()

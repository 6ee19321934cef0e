"""Shared writers for CSV/JSON exports (commands, API, report packs).

Spreadsheet-formula injection is neutralised: a text cell that starts with = + - @ (or a tab or
carriage return) would be run as a formula by Excel, so it is prefixed with an apostrophe.
Numbers are written as numbers and never touched.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import IO

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    if isinstance(value, list | tuple):
        return safe_cell(";".join(str(v) for v in value))
    return value


def write_csv(out: IO[str], columns: Sequence[str], rows: Iterable[dict]) -> None:
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else safe_cell(row.get(c)) for c in columns])


def _default(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def write_json(out: IO[str], rows: list[dict]) -> None:
    json.dump(rows, out, ensure_ascii=False, indent=2, default=_default)
    out.write("\n")

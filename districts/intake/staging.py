"""Staging the valid rows of a file where the checks and the write read them: a spool in
PostgreSQL's COPY text format, then (on PostgreSQL) the session's own temporary tables
``upload_rows`` and ``upload_periods``.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import connection

from core.periods import Period


def copy_text(text: str) -> str:
    """Escape a text field for COPY's text format."""
    if not text:
        return ""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def spool_rows(
    spool,
    chunk,
    periods: set[str],
    keys: dict[str, set] | None,
    keep_comments: bool,
    previous_periods: dict[str, str],
    no_outliers: set[int],
) -> None:
    """Append valid rows to the spool in COPY text format: element id, unit id, period, value,
    comment, line, previous period (NULL where no outlier is looked for). Period dates are not
    repeated on every row: they join in from a small table. A file without a comment column
    leaves stored comments as they are: its rows carry NULL (``\\N``), not an empty comment.
    This runs once per row of the file, so it is one comprehension and no calls per row."""
    in_chunk = {row[2] for row in chunk}
    periods.update(in_chunk)
    for period in in_chunk - previous_periods.keys():
        previous_periods[period] = str(Period.parse(period).previous())
    if keys is not None:
        keys["elements"].update({row[0] for row in chunk})
        keys["units"].update({row[1] for row in chunk})
    previous = previous_periods
    null = "\\N"  # COPY's NULL
    if keep_comments:
        spool.writelines(
            [
                f"{e_id}\t{u_id}\t{period}\t{value}\t{null}\t{line}\t"
                f"{null if e_id in no_outliers else previous[period]}\n"
                for _e, _u, period, value, _comment, line, e_id, u_id in chunk
            ]
        )
        return
    escape = copy_text
    spool.writelines(
        [
            f"{e_id}\t{u_id}\t{period}\t{value}\t{escape(comment) if comment else ''}\t{line}\t"
            f"{null if e_id in no_outliers else previous[period]}\n"
            for _e, _u, period, value, comment, line, e_id, u_id in chunk
        ]
    )


def period_dates(periods: set[str]) -> dict[str, tuple[date, date]]:
    return {p: (Period.parse(p).start, Period.parse(p).end) for p in periods}


def _drop_upload_tables(cursor) -> None:
    cursor.execute("DROP TABLE IF EXISTS upload_rows, upload_periods, upload_repeats")


@dataclass
class Stage:
    """The valid rows of a file, where the checks against stored values and the write read
    them: on PostgreSQL the session's temporary tables ``upload_rows`` and ``upload_periods``;
    elsewhere (the SQLite quick start) the spool itself."""

    spool: object
    periods: dict[str, tuple[date, date]]
    on_postgresql: bool

    def lines(self):
        """The spooled rows (ORM path): (element id, unit id, period, value, comment or None
        for "keep the stored one", line)."""
        self.spool.seek(0)
        for text in self.spool:
            e_id, u_id, period, value, comment, line, _previous = text.rstrip("\n").split("\t")
            yield (
                int(e_id),
                int(u_id),
                period,
                Decimal(value),
                None if comment == "\\N" else uncopy_text(comment),
                int(line),
            )


@contextmanager
def staged(spool, periods: dict[str, tuple[date, date]]):
    """COPY the spool into the session's own temporary tables (PostgreSQL): nobody else sees
    them, and a worker that dies takes them with its connection. Dropped on the way out."""
    stage = Stage(spool, periods, connection.vendor == "postgresql")
    if not stage.on_postgresql:
        yield stage
        return
    with connection.cursor() as cursor:
        _drop_upload_tables(cursor)
        cursor.execute(
            "CREATE TEMP TABLE upload_rows (element_id bigint, org_unit_id bigint, "
            "period varchar(10), value numeric(20, 6), comment text, line integer, "
            "prev_period varchar(10))"
        )
        cursor.cursor.copy_expert("COPY upload_rows FROM STDIN", spool)
        cursor.execute("ANALYZE upload_rows")
        cursor.execute(
            "CREATE TEMP TABLE upload_periods (period varchar(10) PRIMARY KEY, "
            "period_start date, period_end date)"
        )
        cursor.executemany(
            "INSERT INTO upload_periods VALUES (%s, %s, %s)",
            [(p, start, end) for p, (start, end) in periods.items()],
        )
    try:
        yield stage
    finally:
        with connection.cursor() as cursor:
            _drop_upload_tables(cursor)


_COPY_ESCAPES = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


def uncopy_text(text: str) -> str:
    """The inverse of :func:`copy_text`."""
    if "\\" not in text:
        return text
    return re.sub(r"\\(.)", lambda m: _COPY_ESCAPES.get(m.group(1), m.group(1)), text)

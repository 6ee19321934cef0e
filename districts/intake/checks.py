"""The checks of an upload that compare rows with each other and with stored values, run in
PostgreSQL on the rows the job has staged (the session's temporary table ``upload_rows``).

The per-row rules (unit, element, period, number, scope…) are checked as the file streams by
:class:`districts.intake.validator.ValuesValidator`; the cross-row ones — a key given twice, a value above
its ``not_above`` element's, an outlier against the previous period — need every row at once,
and in Python that meant remembering every row (about 200 bytes each) plus the stored values of
the uploader's scope. Here they are three joins over rows already in the database, so the job's
memory stays flat however long the file, and stored values are always compared, however many.

The rules and their words are those of :mod:`districts.rules` (:func:`~districts.rules.not_above_reason`,
:func:`~districts.rules.outlier_reason`, with :data:`~districts.rules.OUTLIER_FACTOR` passed to the
SQL) and the validator's :func:`~districts.intake.validator.duplicate_reason`: the SQLite quick
start runs them in Python (``cross_row=True``) and gets the same report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection

from core.numbers import shown_number
from core.text import bilingual

from ..models import DataValue
from ..rules import OUTLIER_FACTOR, not_above_reason, outlier_reason
from .staging import Stage
from .tables import RowError
from .validator import MAX_ERRORS, duplicate_reason

# A key given more than once: every row after the first is an error naming the first. Only the
# keys that repeat are joined back, so the usual file (no repeat) costs one hash aggregate.
_DUPLICATES_SQL = """
CREATE TEMP TABLE upload_repeats AS
SELECT org_unit_id, period, element_id, min(line) AS first_line
FROM upload_rows
GROUP BY org_unit_id, period, element_id
HAVING count(*) > 1;
SELECT r.line, k.first_line, e.code, count(*) OVER ()
FROM upload_rows r
JOIN upload_repeats k
  ON k.org_unit_id = r.org_unit_id AND k.period = r.period AND k.element_id = r.element_id
JOIN targets_dataelement e ON e.id = r.element_id
WHERE r.line <> k.first_line
ORDER BY r.line
LIMIT %(limit)s
"""

# The repeats are errors already: they take no part in the checks after this one.
_DROP_REPEATS_SQL = """
DELETE FROM upload_rows r
USING upload_repeats k
WHERE k.org_unit_id = r.org_unit_id AND k.period = r.period AND k.element_id = r.element_id
  AND r.line <> k.first_line;
DROP TABLE upload_repeats;
"""

# The not_above rule (districts.rules.not_above_violation) for every row at once: a value above
# its not_above element's for the same unit and period, the file's, else stored.
_NOT_ABOVE_SQL = """
SELECT c.line, c.value, o.code, l.line, coalesce(l.value, d.value), count(*) OVER ()
FROM upload_rows c
JOIN targets_dataelement e ON e.id = c.element_id AND e.not_above_id IS NOT NULL
JOIN targets_dataelement o ON o.id = e.not_above_id
LEFT JOIN upload_rows l
       ON l.org_unit_id = c.org_unit_id AND l.period = c.period AND l.element_id = o.id
LEFT JOIN districts_datavalue d
       ON l.line IS NULL AND d.org_unit_id = c.org_unit_id AND d.period = c.period
      AND d.element_id = o.id
WHERE c.value > coalesce(l.value, d.value)
ORDER BY c.line
LIMIT %(limit)s
"""

# The outlier rule of districts.rules.outlier_kind against the previous period's value: the
# file's, else stored. Compared as double precision, like the validator's floats. prev_period is NULL where no outlier is
# looked for (booleans).
_OUTLIERS_SQL = """
WITH compared AS (
    SELECT c.line, c.value::float8 AS current, c.prev_period, p.line AS previous_line,
           coalesce(p.value, d.value)::float8 AS previous
    FROM upload_rows c
    LEFT JOIN upload_rows p
           ON p.org_unit_id = c.org_unit_id AND p.period = c.prev_period
          AND p.element_id = c.element_id
    LEFT JOIN districts_datavalue d
           ON p.line IS NULL AND d.org_unit_id = c.org_unit_id AND d.period = c.prev_period
          AND d.element_id = c.element_id
    WHERE c.prev_period IS NOT NULL AND c.value >= 0
)
SELECT line, current, prev_period, previous_line, previous, count(*) OVER ()
FROM compared
WHERE previous > 0 AND (current > %(factor)s * previous OR current * %(factor)s < previous)
ORDER BY line
LIMIT %(limit)s
"""


@dataclass
class Findings:
    errors: list[RowError] = field(default_factory=list)
    errors_total: int = 0
    warnings: list[RowError] = field(default_factory=list)
    warnings_total: int = 0


def staged_checks(*, labels: dict[str, str]) -> Findings:
    """Duplicates, ``not_above`` and outliers of the staged rows. ``labels``: the file's header
    of each canonical column, for the errors' column."""
    found = Findings()
    element_label, value_label = labels.get("element", "element"), labels.get("value", "value")
    with connection.cursor() as cursor:
        # Hash aggregates and joins over a million rows: in memory rather than in temp files,
        # and hash joins rather than merge joins, which sort a million period strings in the
        # database's collation first (twice as slow here). JIT compiles for longer than these
        # simple expressions take.
        cursor.execute("SET work_mem = '256MB'; SET enable_mergejoin = off; SET jit = off")
        try:
            cursor.execute(_DUPLICATES_SQL, {"limit": MAX_ERRORS})
            repeats = cursor.fetchall()
            for line, first_line, code, total in repeats:
                found.errors.append(
                    RowError(line, element_label, code, duplicate_reason(first_line), "element")
                )
                found.errors_total = total
            if repeats:
                cursor.execute(_DROP_REPEATS_SQL)
            else:
                cursor.execute("DROP TABLE upload_repeats")
            cursor.execute(_NOT_ABOVE_SQL, {"limit": MAX_ERRORS})
            above = cursor.fetchall()
            for line, value, other, limit_line, limit, _total in above:
                found.errors.append(
                    RowError(
                        line,
                        value_label,
                        shown_number(value),
                        not_above_reason(other, limit, limit_line),
                        "value",
                    )
                )
            found.errors_total += above[0][5] if above else 0
            cursor.execute(_OUTLIERS_SQL, {"limit": MAX_ERRORS, "factor": OUTLIER_FACTOR})
            for line, current, period, previous_line, previous, total in cursor.fetchall():
                reason = outlier_reason(current, previous, period, previous_line)
                if reason is not None:  # pragma: no branch - the SQL applies the same test
                    found.warnings.append(
                        RowError(line, value_label, shown_number(current), reason, "value")
                    )
                found.warnings_total = total
        finally:
            cursor.execute("RESET work_mem; RESET enable_mergejoin; RESET jit")
    found.errors.sort(key=lambda e: e.line)
    return found


# --- approved values, locked against an official's upload ---------------------------------


def approved_locked(value: Decimal, comment: str | None, stored: DataValue) -> bool:
    """The rule, for one row: an official's row may not change an approved value (value or
    comment); the same figure again is simply unchanged. A reviewer reopens it first."""
    return stored.state == DataValue.APPROVED and (
        stored.value != value or (comment is not None and stored.comment != comment)
    )


_APPROVED_REASON = bilingual(
    "该数值已审核通过并锁定，需审核员重新开放后才能修改",
    "approved value: a reviewer must reopen it before it can change",
)

# The same rule as approved_locked, for every row at once.
_APPROVED_CONFLICTS_SQL = """
SELECT r.line, r.value, count(*) OVER ()
FROM upload_rows r
JOIN districts_datavalue d
  ON d.org_unit_id = r.org_unit_id AND d.period = r.period AND d.element_id = r.element_id
WHERE d.state = 'approved' AND (d.value <> r.value OR d.comment <> coalesce(r.comment, d.comment))
ORDER BY r.line
LIMIT %(limit)s
"""


def approved_conflicts(stage: Stage, label: str) -> tuple[list[RowError], int]:
    """Rows of an official's file that would change an approved value, as errors on their
    value cell, and how many there are. Only the values themselves are locked, as in the entry
    form: other values of the same unit and period may still be corrected."""

    def error(line: int, value: Decimal) -> RowError:
        return RowError(line, label, shown_number(value), _APPROVED_REASON, "value")

    if stage.on_postgresql:
        with connection.cursor() as cursor:
            cursor.execute(_APPROVED_CONFLICTS_SQL, {"limit": MAX_ERRORS})
            found = cursor.fetchall()
        return [error(line, value) for line, value, _total in found], (found[0][2] if found else 0)
    errors: list[RowError] = []
    total = 0
    for e_id, u_id, period, value, comment, line in stage.lines():
        stored = DataValue.objects.filter(
            element_id=e_id, org_unit_id=u_id, period=period, state=DataValue.APPROVED
        ).first()
        if stored is not None and approved_locked(value, comment, stored):
            total += 1
            if len(errors) < MAX_ERRORS:
                errors.append(error(line, value))
    return errors, total

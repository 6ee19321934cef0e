"""Writing a checked upload on PostgreSQL: one merge from the staged temporary tables, in one
transaction (see the SQL below)."""

from __future__ import annotations

import logging
import time

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ..models import DataValue, UploadJob

log = logging.getLogger("districts.intake")


# The merge, in one transaction, from the checked rows in the temporary table ``upload_rows``
# (and their periods' dates in ``upload_periods``):
# 1. the elements and units the rows reference are locked FOR KEY SHARE — what a foreign key
#    would do row by row (the values table has none: see DataValue) — so none is deleted
#    under the upload;
# 2. values whose value, comment or state would change: one UPDATE, and their history from its
#    RETURNING (rows that would not change are not touched: re-importing a file writes
#    nothing). An official's upload never overwrites an approved value: one approved since the
#    file was checked is skipped here and refused by the check after the writes;
# 3. new values: one INSERT in index order (a value entered meanwhile under the same key fails
#    the whole upload rather than being overwritten silently), their history from RETURNING.
# Element and unit codes for the history come from hash joins on the two small tables.
_LOCK_REFERENCED_SQL = """
SELECT 1 FROM targets_dataelement
WHERE id IN (SELECT DISTINCT element_id FROM upload_rows) FOR KEY SHARE;
SELECT 1 FROM districts_orgunit
WHERE id IN (SELECT DISTINCT org_unit_id FROM upload_rows) FOR KEY SHARE;
"""

_UPDATE_SQL = """
WITH changed AS (
    UPDATE districts_datavalue d
    SET value = c.value, comment = c.comment, state = %(state)s, source = %(source)s,
        upload_id = %(job)s, updated_by_id = %(actor)s, reviewed_by_id = %(reviewer)s,
        reviewed_at = %(reviewed_at)s, review_comment = '', version = d.version + 1,
        updated_at = %(now)s
    FROM (
        SELECT r.element_id, r.org_unit_id, r.period, r.value,
               coalesce(r.comment, v.comment) AS comment,
               v.id AS value_id, v.value AS old_value, v.state AS old_state
        FROM upload_rows r
        JOIN districts_datavalue v
          ON v.org_unit_id = r.org_unit_id AND v.period = r.period
         AND v.element_id = r.element_id
        WHERE (v.value <> r.value OR v.comment <> coalesce(r.comment, v.comment)
               OR v.state <> %(state)s) {unchanged_approved}
    ) c
    WHERE d.id = c.value_id {not_approved}
    RETURNING d.id, c.element_id, c.org_unit_id, c.period, c.old_value, c.value, c.old_state,
              c.comment
)
INSERT INTO districts_datavaluechange
    (data_value_id, element_code, org_unit_code, period, action, old_value, new_value,
     old_state, new_state, source, upload_id, actor_id, comment, at)
SELECT c.id, e.code, o.code, c.period, 'update', c.old_value, c.value, c.old_state,
       %(state)s, %(source)s, %(job)s, %(actor)s, c.comment, %(now)s
FROM changed c
JOIN targets_dataelement e ON e.id = c.element_id
JOIN districts_orgunit o ON o.id = c.org_unit_id;
"""

_INSERT_SQL = """
WITH created AS (
    INSERT INTO districts_datavalue
        (element_id, org_unit_id, period, period_start, period_end, value, state, comment,
         review_comment, source, upload_id, created_by_id, updated_by_id, reviewed_by_id,
         reviewed_at, version, created_at, updated_at)
    SELECT r.element_id, r.org_unit_id, r.period, p.period_start, p.period_end, r.value,
           %(state)s, coalesce(r.comment, ''), '', %(source)s, %(job)s, %(actor)s, %(actor)s, %(reviewer)s,
           %(reviewed_at)s, 1, %(now)s, %(now)s
    FROM upload_rows r
    JOIN upload_periods p ON p.period = r.period
    WHERE NOT EXISTS (
        SELECT 1 FROM districts_datavalue v
        WHERE v.org_unit_id = r.org_unit_id AND v.period = r.period
          AND v.element_id = r.element_id
    )
    ORDER BY r.org_unit_id, r.period, r.element_id
    RETURNING id, element_id, org_unit_id, period, value, comment
)
INSERT INTO districts_datavaluechange
    (data_value_id, element_code, org_unit_code, period, action, old_value, new_value,
     old_state, new_state, source, upload_id, actor_id, comment, at)
SELECT c.id, e.code, o.code, c.period, 'create', NULL, c.value, '', %(state)s, %(source)s,
       %(job)s, %(actor)s, c.comment, %(now)s
FROM created c
JOIN targets_dataelement e ON e.id = c.element_id
JOIN districts_orgunit o ON o.id = c.org_unit_id;
"""


def write(job: UploadJob, total: int) -> tuple[int, int, int]:
    state = DataValue.APPROVED if job.approve else DataValue.SUBMITTED
    now = timezone.now()
    params = {
        "state": state,
        "source": job.source,
        "job": job.pk,
        "actor": job.created_by_id,
        "reviewer": job.created_by_id if job.approve else None,
        "reviewed_at": now if job.approve else None,
        "now": now,
    }
    # An official's upload leaves approved values alone: the same figure again is unchanged
    # (a different one was refused by the check before the write).
    not_approved = "" if job.approve else "AND d.state <> 'approved'"
    unchanged_approved = "" if job.approve else "AND v.state <> 'approved'"
    started = time.perf_counter()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_LOCK_REFERENCED_SQL)
            cursor.execute(
                _UPDATE_SQL.replace("{not_approved}", not_approved).replace(
                    "{unchanged_approved}", unchanged_approved
                ),
                params,
            )
            updated = cursor.rowcount
            cursor.execute(_INSERT_SQL, params)
            created = cursor.rowcount
            if not job.approve:
                _refuse_locked(cursor)
            merged = time.perf_counter()
        log.info(
            "upload %s: merge %.2fs, commit %.2fs",
            job.pk,
            merged - started,
            time.perf_counter() - merged,
        )
    except IntegrityError as exc:
        raise ValidationError(
            "导入时有数值被同时填报，未导入任何数据，请重新上传"
            f"（a value was entered meanwhile; nothing was written, upload again）: {exc}"
        ) from exc
    return created, updated, total - created - updated


def _refuse_locked(cursor) -> None:
    """After the writes, inside the transaction: a value of the file still approved but
    different was approved while the file was being checked, and the UPDATE skipped it. The
    whole upload fails rather than leave it out silently."""
    cursor.execute(
        "SELECT u.line FROM upload_rows u JOIN districts_datavalue d "
        "ON d.org_unit_id = u.org_unit_id AND d.period = u.period "
        "AND d.element_id = u.element_id "
        "WHERE d.state = 'approved' "
        "AND (d.value <> u.value OR d.comment <> coalesce(u.comment, d.comment)) "
        "ORDER BY u.line LIMIT 20"
    )
    lines = [row[0] for row in cursor.fetchall()]
    if lines:
        raise ValidationError(
            f"第 {', '.join(map(str, lines))} 行的数值刚被审核锁定（approved meanwhile: lines "
            f"{', '.join(map(str, lines))}）"
        )

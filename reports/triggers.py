"""What to recompute when the values that count change (approval, reopen, approved upload).

Only the indicators fed by the changed elements, and only the changed units with their
ancestors, are recomputed; the job is enqueued after the transaction commits so the worker
sees the new values.
"""

from __future__ import annotations

from django.db import transaction


def progress_recompute_for_values(values) -> None:
    element_codes = {v.element.code for v in values}
    unit_codes = {v.org_unit.code for v in values}
    progress_recompute_for_keys(element_codes=element_codes, unit_codes=unit_codes)


def progress_recompute_for_keys(*, element_codes, unit_codes, trigger: str = "approval") -> None:
    if not element_codes:
        return
    from .services import indicators_fed_by
    from .tasks import recompute_progress

    indicator_codes = sorted(indicators_fed_by(element_codes))
    if not indicator_codes:
        return
    transaction.on_commit(
        lambda: recompute_progress.delay(
            indicator_codes=indicator_codes, unit_codes=sorted(unit_codes), trigger=trigger
        )
    )

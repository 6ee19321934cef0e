"""What to recompute when the values that count change (approval, reopen, approved upload).

Only the indicators fed by the changed elements, and only the changed units with their
ancestors, are recomputed: a queued ``ProgressRun`` carries that scope and is run after the
transaction commits (core.jobs), so the worker sees the new values.
"""

from __future__ import annotations

from django.utils import timezone

from core import jobs

from .models import ProgressRun
from .services import indicators_fed_by


def progress_recompute_for_values(values) -> None:
    element_codes = {v.element.code for v in values}
    unit_codes = {v.org_unit.code for v in values}
    progress_recompute_for_keys(element_codes=element_codes, unit_codes=unit_codes)


def progress_recompute_for_keys(*, element_codes, unit_codes, trigger: str = "approval") -> None:
    if not element_codes:
        return
    indicator_codes = sorted(indicators_fed_by(element_codes))
    if not indicator_codes:
        return
    run = ProgressRun.objects.create(
        trigger=trigger,
        indicator_codes=indicator_codes,
        org_unit_codes=sorted(unit_codes),
        as_of=timezone.localdate(),
    )
    jobs.enqueue(run)


def on_approved_values_changed(sender, *, element_codes, unit_codes, trigger, **kwargs) -> None:
    """The values layer's announcement (districts.signals), connected in ReportsConfig.ready."""
    progress_recompute_for_keys(element_codes=element_codes, unit_codes=unit_codes, trigger=trigger)

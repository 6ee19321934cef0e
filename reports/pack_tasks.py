"""Background jobs for report packs. Registered by ``ReportsConfig.ready()`` so the worker knows
them; each takes the pack's id and is safe to run twice (see :func:`reports.packs.report_pack_build`)."""

from __future__ import annotations

from celery import shared_task

from . import packs


@shared_task(name="reports.build_report_pack", acks_late=True)
def build_report_pack(pack_id: int) -> bool:
    return packs.report_pack_build(pack_id=pack_id)

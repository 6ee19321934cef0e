"""Background jobs of the accountability app (found by Celery's autodiscovery)."""

from __future__ import annotations

from celery import shared_task

from . import bulletins


@shared_task(name="accountability.build_bulletin", acks_late=True)
def build_bulletin(bulletin_id: int) -> bool:
    return bulletins.bulletin_build(bulletin_id=bulletin_id)

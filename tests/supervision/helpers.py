"""Helpers for the supervision tests."""

from __future__ import annotations

from decimal import Decimal


def report(actor, element, unit_code: str, period: str = "2024", value=1, submit=True):
    from core.periods import Period
    from districts.models import OrgUnit
    from districts.services import value_save

    return value_save(
        actor=actor,
        element=element,
        org_unit=OrgUnit.objects.get(code=unit_code),
        period=Period.parse(period),
        value=Decimal(value),
        submit=submit,
    )


def mails_to(outbox, name: str) -> list:
    return [m for m in outbox if f"{name}@example.org" in m.to]

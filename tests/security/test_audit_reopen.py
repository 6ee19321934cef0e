"""The audit log: reopening a period (supervision.services.period_reopen)."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from tests.supervision.conftest import elements, people, schedules, setup  # noqa: F401


def test_reopening_a_period_is_recorded(setup_reopen):
    bob, unit = setup_reopen
    from core.periods import Period
    from supervision.services import period_reopen

    period_reopen(actor=bob, org_unit=unit, period=Period.parse("2024"), reason="更正")
    event = AuditEvent.objects.get(action="period.reopen")
    assert event.actor == bob
    assert event.detail == {"org_unit": unit.code, "period": "2024", "values": 1, "reason": "更正"}


@pytest.fixture
def setup_reopen(setup):  # noqa: F811 (the supervision fixture, imported above)
    from districts.models import OrgUnit
    from districts.services import values_approve
    from tests.supervision.helpers import report

    cast, made = setup["cast"], setup["elements"]
    value = report(cast["alice"], made["town"], "441900003", value=120)
    values_approve(actor=cast["bob"], values=[value])
    return cast["bob"], OrgUnit.objects.get(code="441900003")

"""Period locking: once every due value of a unit's period is approved, officials can change
none of them; a reviewer reopens the whole period with a reason, recorded in the history."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from core.periods import Period
from districts.models import DataValue, DataValueChange, OrgUnit
from districts.services import value_save, values_approve
from supervision import rules, selectors
from supervision.models import Notification, PeriodReopen
from supervision.services import period_reopen
from tests.supervision.helpers import report

pytestmark = pytest.mark.django_db

DONGCHENG = "441900003"


@pytest.fixture
def approved(setup):
    """东城街道's 2024 town figure, and 东城社区A's community figure, both approved by bob."""
    cast, elements = setup["cast"], setup["elements"]
    values = [
        report(cast["alice"], elements["town"], DONGCHENG, value=120),
        report(cast["alice"], elements["community"], "441900003001", value=9000),
    ]
    values_approve(actor=cast["bob"], values=values)
    return values


def test_an_approved_period_is_locked_for_officials(setup, approved):
    unit = OrgUnit.objects.get(code=DONGCHENG)
    assert selectors.period_is_locked(unit, "2024", as_of=date(2025, 4, 10))
    [status] = selectors.unit_statuses(setup["cast"]["bob"], unit, as_of=date(2025, 4, 10))
    assert status.state == rules.APPROVED and status.locked
    with pytest.raises(ValidationError):
        value_save(
            actor=setup["cast"]["alice"],
            element=setup["elements"]["town"],
            org_unit=unit,
            period=Period.parse("2024"),
            value=Decimal(121),
        )


def test_a_reviewer_reopens_the_period_with_a_reason_recorded_in_the_history(setup, approved):
    cast = setup["cast"]
    unit = OrgUnit.objects.get(code=DONGCHENG)
    record = period_reopen(
        actor=cast["bob"], org_unit=unit, period=Period.parse("2024"), reason="街道数字需更正"
    )
    assert (record.value_count, record.reason, record.actor) == (1, "街道数字需更正", cast["bob"])
    value = DataValue.objects.get(org_unit=unit, period="2024")
    assert value.state == DataValue.DRAFT
    change = DataValueChange.objects.filter(data_value=value).order_by("-id").first()
    assert (change.action, change.comment, change.actor, change.old_state) == (
        "reopen",
        "街道数字需更正",
        cast["bob"],
        "approved",
    )
    # Only 东城街道's period: its community's approved figure stays locked.
    assert DataValue.objects.get(org_unit__code="441900003001").state == DataValue.APPROVED
    assert not selectors.period_is_locked(unit, "2024", as_of=date(2025, 4, 10))
    note = Notification.objects.get(kind="reopened")
    assert (note.recipient, note.message, note.actor) == (
        cast["alice"],
        "街道数字需更正",
        cast["bob"],
    )
    value_save(
        actor=cast["alice"],
        element=setup["elements"]["town"],
        org_unit=unit,
        period=Period.parse("2024"),
        value=Decimal(121),
    )


def test_a_reopen_needs_a_reason(setup, approved):
    unit = OrgUnit.objects.get(code=DONGCHENG)
    with pytest.raises(ValidationError):
        period_reopen(
            actor=setup["cast"]["bob"], org_unit=unit, period=Period.parse("2024"), reason=" "
        )
    assert not PeriodReopen.objects.exists()


def test_officials_and_leaders_cannot_reopen(setup, approved):
    unit = OrgUnit.objects.get(code=DONGCHENG)
    for name in ("alice", "carol", "erin"):
        with pytest.raises(PermissionDenied):
            period_reopen(
                actor=setup["cast"][name], org_unit=unit, period=Period.parse("2024"), reason="x"
            )
    assert DataValue.objects.filter(state=DataValue.APPROVED).count() == 2


def test_nothing_approved_nothing_to_reopen(setup, approved):
    unit = OrgUnit.objects.get(code="441900101")
    with pytest.raises(ValidationError):
        period_reopen(
            actor=setup["cast"]["bob"], org_unit=unit, period=Period.parse("2024"), reason="x"
        )


def test_the_reopen_button_is_for_reviewers(client, setup, approved):
    url = reverse("supervision:unit_status", args=[DONGCHENG])
    client.force_login(setup["cast"]["bob"])
    assert "确认重新开放" in client.get(url, {"as_of": "2025-04-10"}).content.decode()
    client.force_login(setup["cast"]["alice"])
    html = client.get(url, {"as_of": "2025-04-10"}).content.decode()
    assert "确认重新开放" not in html and "已锁定" in html
    overdue = reverse("supervision:overdue")
    client.force_login(setup["cast"]["bob"])
    html = client.get(overdue, {"as_of": "2025-04-10", "state": "approved"}).content.decode()
    assert html.count("确认重新开放") == 2


def test_reopening_through_the_page(client, setup, approved):
    url = reverse("supervision:reopen", args=[DONGCHENG])
    client.force_login(setup["cast"]["bob"])
    response = client.post(
        url, {"period": "2024", "reason": "复核发现错误", "next": "/supervision/overdue/"}
    )
    assert response.status_code == 302 and response["Location"] == "/supervision/overdue/"
    assert PeriodReopen.objects.get().reason == "复核发现错误"
    response = client.post(
        url, {"period": "2024", "reason": "again", "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("supervision:unit_status", args=[DONGCHENG])


def test_the_page_refuses_officials_and_strangers(client, setup, approved):
    url = reverse("supervision:reopen", args=[DONGCHENG])
    client.force_login(setup["cast"]["alice"])
    assert client.post(url, {"period": "2024", "reason": "x"}).status_code == 403
    client.force_login(setup["cast"]["erin"])
    assert client.post(url, {"period": "2024", "reason": "x"}).status_code == 404
    assert not PeriodReopen.objects.exists()


def test_a_reason_is_required_on_the_page_too(client, setup, approved):
    client.force_login(setup["cast"]["bob"])
    url = reverse("supervision:reopen", args=[DONGCHENG])
    response = client.post(url, {"period": "2024", "reason": ""}, follow=True)
    assert "原因" in response.content.decode() and not PeriodReopen.objects.exists()

"""Issue 17 — /data/ shows what is due (the supervision rule) and the period picker offers only
the periods valid for the unit and its elements."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from core.periods import Period
from districts import services
from districts.models import OrgUnit
from targets.models import DataElement

COMMUNITY = "441900003001"


@pytest.fixture
def setup(cast, monkeypatch):
    from supervision import selectors as supervision_selectors
    from supervision.models import ReportingSchedule
    from supervision.services import schedules_seed

    schedules_seed()
    ReportingSchedule.objects.filter(code="default-year").update(active_from=date(2024, 1, 1))
    monkeypatch.setattr(supervision_selectors, "today", lambda: date(2025, 4, 10))
    pop = DataElement.objects.create(
        code="population.resident", name_zh="常住人口", name_en="Resident population",
        unit="persons", value_type="integer", period_type="year", aggregation="sum",
        temporal="last", level="community",
    )  # fmt: skip
    return {"pop": pop}


def test_data_index_lists_what_is_due_with_deadline_state_and_link(client, cast, setup):
    client.force_login(cast["alice"])
    html = client.get(reverse("districts:index")).content.decode()
    section = html.split('id="due-h"', 1)[1].split("</section>", 1)[0]
    row = section.split(COMMUNITY, 1)[1].split("</tr>", 1)[0]
    assert "2024" in row and "2025-03-31" in row
    assert 'data-state="overdue"' in row and "已逾期" in row  # a word and an icon, not colour
    assert f"?unit={COMMUNITY}&amp;period=2024" in row
    # dave's village is outside alice's scope.
    assert "441900101001" not in section


def test_leaders_see_no_due_list(client, cast, setup):
    client.force_login(cast["carol"])
    html = client.get(reverse("districts:index")).content.decode()
    assert 'id="due-h"' not in html


def test_period_picker_is_a_select_of_valid_periods(client, cast, setup):
    services.value_save(
        actor=cast["alice"], element=setup["pop"], org_unit=OrgUnit.objects.get(code=COMMUNITY),
        period=Period.parse("2015"), value=Decimal(100),
    )  # fmt: skip
    client.force_login(cast["alice"])
    response = client.get(reverse("districts:entry"), {"unit": COMMUNITY})
    html = response.content.decode()
    assert '<select id="pick-period" name="period"' in html
    assert '<input id="pick-period"' not in html
    values = [c.value for c in response.context["period_choices"]]
    assert values[0] == "2024"  # overdue first
    assert "2015" in values  # has values
    assert "2025" not in values  # not yet due: reporting opens after the year ends
    assert not any("-" in v or "Q" in v for v in values)  # no monthly or quarterly elements
    assert "已逾期" in response.context["period_choices"][0].label


def test_period_picker_waits_for_a_unit(client, cast, setup):
    client.force_login(cast["bob"])  # a reviewer: no write scope → 403, nothing to pick
    assert client.get(reverse("districts:entry")).status_code == 403
    client.force_login(cast["alice"])
    html = client.get(reverse("districts:entry")).content.decode()
    assert "请先选择单位" in html


def test_template_period_is_a_select_of_due_periods_and_periods_with_values(client, cast, setup):
    services.value_save(
        actor=cast["alice"], element=setup["pop"], org_unit=OrgUnit.objects.get(code=COMMUNITY),
        period=Period.parse("2015"), value=Decimal(100),
    )  # fmt: skip
    client.force_login(cast["alice"])
    html = client.get(reverse("districts:uploads")).content.decode()
    select = html.split('name="period"', 1)[1].split("</select>", 1)[0]
    options = [o.split('"', 2)[1] for o in select.split("<option value=")[1:]]
    assert options[0] == "2024" and "2015" in options and "2025" not in options
    assert "已逾期" in select.split("</option>", 1)[0]

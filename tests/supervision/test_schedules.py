"""Schedules: the default ones seeded idempotently, and which schedule governs an element at a
unit (its own, then its plan's inside the plan's city, then the default)."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError

from districts.models import OrgUnit
from supervision import rules, selectors
from supervision.models import ReportingSchedule
from supervision.services import schedules_seed
from tests import factories

pytestmark = pytest.mark.django_db


def test_seeding_twice_creates_the_defaults_once_and_keeps_edits(db):
    out = StringIO()
    call_command("seed_schedules", stdout=out)
    assert "3 created" in out.getvalue()
    ReportingSchedule.objects.filter(code="default-month").update(due_day=15)
    assert schedules_seed() == 0
    assert ReportingSchedule.objects.count() == 3
    assert ReportingSchedule.objects.get(code="default-month").due_day == 15


def test_the_monthly_default_is_the_tenth_of_the_next_month(db):
    schedules_seed()
    monthly = ReportingSchedule.objects.get(code="default-month").rule
    assert rules.deadline_for(monthly, rules.Period.parse("2025-06")) == date(2025, 7, 10)
    yearly = ReportingSchedule.objects.get(code="default-year").rule
    assert rules.deadline_for(yearly, rules.Period.parse("2024")) == date(2025, 3, 31)
    quarterly = ReportingSchedule.objects.get(code="default-quarter").rule
    assert rules.deadline_for(quarterly, rules.Period.parse("2025Q2")) == date(2025, 7, 15)


def test_one_default_per_period_type(db):
    schedules_seed()
    with pytest.raises(IntegrityError):
        ReportingSchedule.objects.create(code="another-year", name_zh="x", period_type="year")


def test_an_elements_own_schedule_beats_the_default(setup):
    town = setup["elements"]["town"]
    ReportingSchedule.objects.create(
        code="online-items", name_zh="网上办理事项：次年1月31日前", period_type="year",
        element=town, due_months_after=1, due_day=31,
    )  # fmt: skip
    rows = selectors.reporting_statuses(setup["cast"]["bob"], as_of=date(2025, 2, 10))
    by_unit = {r.unit.code: r for r in rows}
    assert by_unit["441900003"].schedule.code == "online-items"
    assert by_unit["441900003"].state == rules.OVERDUE
    assert by_unit["441900003001"].schedule.code == "default-year"
    assert by_unit["441900003001"].state == rules.OPEN


def test_a_plans_schedule_applies_inside_the_plans_city_only(setup):
    community = setup["elements"]["community"]
    zhongshan = OrgUnit.objects.get(code="442000")
    plan = factories.plan(zhongshan, "zs-test", title_zh="中山测试规划")
    factories.indicator(
        factories.goal(plan), "zs.pop", name_zh="人口", element=community,
        deadline=date(2025, 12, 31),
    )  # fmt: skip
    ReportingSchedule.objects.create(
        code="zs-plan-year", name_zh="中山规划：次年2月底前", period_type="year", plan=plan,
        due_months_after=2, due_day=31,
    )  # fmt: skip
    rows = selectors.reporting_statuses(setup["cast"]["admin"], as_of=date(2025, 3, 5))
    by_unit = {r.unit.code: r for r in rows}
    assert by_unit["442000001001"].schedule.code == "zs-plan-year"
    assert by_unit["442000001001"].deadline == date(2025, 2, 28)
    assert by_unit["442000001001"].state == rules.OVERDUE
    assert by_unit["442000001"].schedule.code == "default-year"  # the town figure: not in the plan
    assert by_unit["441900003001"].schedule.code == "default-year"  # Dongguan: not its plan


def test_an_inactive_schedule_supervises_nothing(setup):
    ReportingSchedule.objects.update(is_active=False)
    assert selectors.reporting_statuses(setup["cast"]["admin"], as_of=date(2025, 4, 10)) == []


def test_who_reports_follows_the_data_entry_rule(setup):
    """A town with no communities in the tree enters the community figures itself."""
    OrgUnit.objects.filter(code="441900101001").delete()
    rows = selectors.reporting_statuses(setup["cast"]["bob"], as_of=date(2025, 4, 10))
    shijie = [r for r in rows if r.unit.code == "441900101"]
    assert len(shijie) == 1 and shijie[0].due == 2

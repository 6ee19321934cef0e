"""Shared fixtures for the supervision tests: the default schedules (the yearly one supervising
2024 onwards), one town-level and one community-level yearly element, and e-mail addresses for
the cast.

With the default yearly schedule, 2024's values open on 2025-01-01 and are due on 2025-03-31;
reminders go 14, 7, 3 and 1 days before, then every 7 days late; reviewers hear after 14 days.
Who owes what in the test tree: 东城街道, 石碣镇 and 石岐街道 the town figure; 东城社区A/B,
石碣村A and 石岐社区A the community figure. alice (official on 东城) answers for 东城 and its
communities, dave for 石碣 and its village; nobody is an official in 中山.
"""

from __future__ import annotations

from datetime import date

import pytest

DEADLINE_2024 = date(2025, 3, 31)


@pytest.fixture
def schedules(db):
    from supervision.models import ReportingSchedule
    from supervision.services import schedules_seed

    schedules_seed()
    ReportingSchedule.objects.filter(code="default-year").update(active_from=date(2024, 1, 1))
    return {s.code: s for s in ReportingSchedule.objects.all()}


@pytest.fixture
def elements(db):
    from targets.models import DataElement

    common = dict(
        unit="items", value_type="integer", period_type="year", aggregation="sum", temporal="last"
    )
    town = DataElement.objects.create(
        code="services.online_items", name_zh="网上办理事项数", name_en="Items online",
        level="town", **common,
    )  # fmt: skip
    community = DataElement.objects.create(
        code="population.resident", name_zh="常住人口", name_en="Resident population",
        level="community", **common,
    )  # fmt: skip
    return {"town": town, "community": community}


@pytest.fixture
def people(cast):
    for name, user in cast.items():
        user.email = f"{name}@example.org"
        user.save(update_fields=["email"])
    return cast


@pytest.fixture
def setup(tree, people, schedules, elements):
    """Everything the reminder and page tests need."""
    return {"tree": tree, "cast": people, "schedules": schedules, "elements": elements}

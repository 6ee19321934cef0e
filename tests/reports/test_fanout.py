"""The full recompute split into one Celery task per plan (issue 18): the parts together store
exactly the rows of the serial run, and the parent run records them."""

from __future__ import annotations

import random
from datetime import date

import pytest

from reports import fanout, services
from reports.models import DashboardSummary, ProgressRow, ProgressRun
from targets.models import DataElement, Goal, Indicator, Plan
from tests.reports.test_progress_job import COMMUNITIES, plan, put, snapshot  # noqa: F401

AS_OF = date(2015, 12, 31)


@pytest.fixture
def two_plans(plan, tree):  # noqa: F811
    """Dongguan's plan from the job tests, a second Dongguan plan and a Zhongshan plan, with
    values at every community."""
    rng = random.Random(1818)
    units = [*COMMUNITIES, "442000001001"]
    for year in (2011, 2012, 2013):
        for unit in units:
            put("population.resident", unit, year, rng.randint(1000, 5000))
            put("volunteers.registered", unit, year, rng.randint(0, 500))
    pop = DataElement.objects.get(code="population.resident")
    for code, city in (("dg-second", "441900"), ("zs-test", "442000")):
        p = Plan.objects.create(code=code, city=tree[city], title_zh=code)
        goal = Goal.objects.create(plan=p, code="1", title_zh="人口")
        Indicator.objects.create(
            code=f"{code}.pop",
            plan=p,
            goal=goal,
            name_zh="常住人口",
            kind="value",
            element=pop,
            comparator=">=",
            target=9000,
            deadline=date(2015, 12, 31),
            quote="9000人",
        )


def summaries_snapshot():
    return {(s.org_unit_id, s.period): s.data for s in DashboardSummary.objects.all()}


def _check(parent, serial, serial_summaries):
    parent.refresh_from_db()
    parts = fanout.parts_of(parent)
    assert parent.state == ProgressRun.SUCCEEDED
    assert parts.count() == 3 and set(parts.values_list("state", flat=True)) == {"succeeded"}
    assert sorted(parts.values_list("plan_code", flat=True)) == ["dg-second", "dg-test", "zs-test"]
    assert parent.rows_written == len(serial) == ProgressRow.objects.count()
    assert snapshot() == serial
    assert summaries_snapshot() == serial_summaries


@pytest.mark.django_db
def test_parts_store_exactly_the_rows_of_the_serial_run(
    two_plans, django_capture_on_commit_callbacks
):
    services.progress_recompute(as_of=AS_OF)
    serial, serial_summaries = snapshot(), summaries_snapshot()
    assert serial and serial_summaries
    ProgressRow.objects.all().delete()
    DashboardSummary.objects.all().delete()

    with django_capture_on_commit_callbacks(execute=True):
        parent = fanout.start(as_of=AS_OF)  # eager here: the parts run in-process

    _check(parent, serial, serial_summaries)


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_group_recompute_on_the_live_worker_gives_the_serial_rows(two_plans, live_celery):
    from tests.conftest import wait_for

    services.progress_recompute(as_of=AS_OF)
    serial, serial_summaries = snapshot(), summaries_snapshot()
    ProgressRow.objects.all().delete()
    DashboardSummary.objects.all().delete()

    parent = fanout.start(as_of=AS_OF)  # autocommit: sent at once, as the beat task does
    wait_for(
        lambda: (
            ProgressRun.objects.filter(pk=parent.pk).exclude(state=ProgressRun.RUNNING).exists()
        ),
        timeout=60,
    )
    _check(parent, serial, serial_summaries)


@pytest.mark.django_db
def test_the_reaper_leaves_a_split_recompute_parent_to_its_parts():
    from datetime import timedelta

    from django.utils import timezone

    from core import jobs

    long_ago = timezone.now() - timedelta(hours=2)
    parent = ProgressRun.objects.create(
        trigger=fanout.FANOUT, as_of=date(2015, 12, 31), state=ProgressRun.RUNNING,
        started_at=long_ago,
    )  # fmt: skip
    lost = ProgressRun.objects.create(
        trigger="manual", as_of=date(2015, 12, 31), state=ProgressRun.RUNNING,
        started_at=long_ago, attempts=ProgressRun.max_attempts(),
    )  # fmt: skip
    jobs.reap(models=[ProgressRun])
    parent.refresh_from_db()
    lost.refresh_from_db()
    assert parent.state == ProgressRun.RUNNING  # its last part closes it
    assert lost.state == ProgressRun.FAILED  # an ordinary run whose worker died is reaped

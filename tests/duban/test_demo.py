"""seed_duban_demo on the real catalog: tasks in every state, evidence, a red task with its
督办单, instructions with replies, the Langxia milestone written on close; and a second run
changes nothing."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.management import call_command

from duban import rules
from duban.models import Evidence, Instruction, Task, TaskTransition

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 3)


@pytest.fixture
def catalog(media, django_user_model):
    from districts.services import role_grant

    call_command("seed_catalog", stdout=io.StringIO())
    django_user_model.objects.create_superuser("admin", password="x")
    for username, role, unit in [
        ("leader_dongguan", "leader", "441900"),
        ("reviewer_dongguan", "reviewer", "441900"),
        ("official_dongcheng", "official", "441900003"),
        ("reviewer_langxia", "reviewer", "310116107"),
        ("official_langxia", "official", "310116107"),
    ]:
        role_grant(username=username, role=role, org_unit_code=unit, create=True)


def test_the_demo_has_every_state_a_red_task_and_instructions_and_is_idempotent(catalog):
    out = io.StringIO()
    call_command("seed_duban_demo", "--today", TODAY.isoformat(), stdout=out)
    assert "新建 7 项" in out.getvalue() and "skipped" not in out.getvalue()
    assert set(Task.objects.values_list("state", flat=True)) == set(rules.STATES)
    from duban.selectors import lamp_of

    lamps = {t.title_zh: lamp_of(t, TODAY) for t in Task.objects.all()}
    assert lamps["出台政府向社会组织放权目录"] == rules.RED
    assert lamps["基本建成“十分钟文化体育圈”"] == rules.YELLOW
    assert rules.GREEN in lamps.values()
    langxia = Task.objects.get(plan__code="langxia-2013-xgy")
    assert langxia.steps.count() == 7 and langxia.state == rules.CLOSED
    assert all(s.done_on for s in langxia.steps.all())
    from districts.models import DataValue

    assert DataValue.objects.filter(
        element__code="coordinators.exited_informal_orgs", org_unit__code="310116107",
        state="approved", value=1,
    ).exists()  # fmt: skip
    returned = TaskTransition.objects.filter(source="reported", target="in_progress")
    assert returned.count() == 1 and returned.get().note
    assert Evidence.objects.filter(kind="pdf").count() >= 8
    assert all(e.file.read(5) == b"%PDF-" for e in Evidence.objects.all())
    instruction = Instruction.objects.get(task__title_zh="出台政府向社会组织放权目录")
    assert instruction.done and instruction.replies.get().evidence.exists()
    assert Instruction.objects.filter(unit__code="441900").exists()

    counts = (Task.objects.count(), TaskTransition.objects.count(), Evidence.objects.count(),
              Instruction.objects.count())  # fmt: skip
    again = io.StringIO()
    call_command("seed_duban_demo", "--today", TODAY.isoformat(), stdout=again)
    assert "新建 0 项，已有 7 项" in again.getvalue()
    assert counts == (Task.objects.count(), TaskTransition.objects.count(),
                      Evidence.objects.count(), Instruction.objects.count())  # fmt: skip

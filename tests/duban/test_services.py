"""The task loop through the services: who may do what (the scope rule), every move recorded,
illegal moves refused, and the milestone value a closed task writes."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied

from duban import rules, services
from duban.models import Task, TaskTransition
from tests.duban.conftest import pdf_bytes

pytestmark = pytest.mark.django_db

CLOSE_DAY = date(2026, 11, 20)


def _loop_to_reported(task, cast):
    services.task_transition(actor=cast["alice"], task=task, to=rules.ACKNOWLEDGED)
    services.task_transition(actor=cast["alice"], task=task, to=rules.IN_PROGRESS)
    services.task_transition(
        actor=cast["alice"],
        task=task,
        to=rules.REPORTED,
        note="目录已印发",
        files=[("目录.pdf", pdf_bytes())],
        today=CLOSE_DAY,
    )


def test_the_whole_loop_is_recorded_move_by_move(dongcheng_task, cast):
    task = dongcheng_task
    _loop_to_reported(task, cast)
    services.task_transition(actor=cast["bob"], task=task, to=rules.IN_PROGRESS, note="缺盖章页")
    services.task_transition(
        actor=cast["alice"], task=task, to=rules.REPORTED, files=[("盖章.pdf", pdf_bytes())],
        today=CLOSE_DAY,
    )  # fmt: skip
    services.task_transition(actor=cast["bob"], task=task, to=rules.CLOSED, today=CLOSE_DAY)
    task.refresh_from_db()
    assert task.state == rules.CLOSED and task.closed_on == CLOSE_DAY
    moves = list(
        TaskTransition.objects.filter(task=task).values_list("actor__username", "source", "target")
    )
    assert moves == [
        ("bob", "", "assigned"),
        ("alice", "assigned", "acknowledged"),
        ("alice", "acknowledged", "in_progress"),
        ("alice", "in_progress", "reported"),
        ("bob", "reported", "in_progress"),
        ("alice", "in_progress", "reported"),
        ("bob", "reported", "closed"),
    ]
    assert TaskTransition.objects.get(task=task, source="reported", target="in_progress").note == (
        "缺盖章页"
    )
    feedback = task.progress_reports.filter(is_feedback=True)
    assert feedback.count() == 2
    assert all(r.evidence.count() == 1 for r in feedback)


def test_transitions_are_append_only(dongcheng_task):
    row = TaskTransition.objects.get(task=dongcheng_task)
    row.note = "改写"
    with pytest.raises(Exception, match="append-only"):
        row.save()
    with pytest.raises(Exception, match="append-only"):
        row.delete()


@pytest.mark.parametrize(
    ("user", "allowed"),
    [("alice", True), ("dave", False), ("bob", False), ("carol", False), ("erin", False),
     ("zoe", False), ("admin", True)],
)  # fmt: skip
def test_only_officials_of_the_assignee_units_acknowledge(dongcheng_task, cast, user, allowed):
    if allowed:
        services.task_transition(actor=cast[user], task=dongcheng_task, to=rules.ACKNOWLEDGED)
        assert Task.objects.get(pk=dongcheng_task.pk).state == rules.ACKNOWLEDGED
    else:
        with pytest.raises(PermissionDenied):
            services.task_transition(actor=cast[user], task=dongcheng_task, to=rules.ACKNOWLEDGED)
        assert Task.objects.get(pk=dongcheng_task.pk).state == rules.ASSIGNED


@pytest.mark.parametrize(
    ("user", "allowed"),
    [("bob", True), ("alice", False), ("dave", False), ("carol", False), ("erin", False),
     ("admin", True)],
)  # fmt: skip
def test_only_reviewers_over_the_lead_unit_close(dongcheng_task, cast, user, allowed):
    _loop_to_reported(dongcheng_task, cast)
    if allowed:
        services.task_transition(actor=cast[user], task=dongcheng_task, to=rules.CLOSED)
    else:
        with pytest.raises(PermissionDenied):
            services.task_transition(actor=cast[user], task=dongcheng_task, to=rules.CLOSED)
    assert (Task.objects.get(pk=dongcheng_task.pk).state == rules.CLOSED) is allowed


@pytest.mark.parametrize(
    ("user", "allowed"),
    [("bob", True), ("carol", True), ("admin", True), ("alice", False), ("dave", False),
     ("erin", False), ("zoe", False)],
)  # fmt: skip
def test_leaders_and_reviewers_in_scope_assign(plans, tree, cast, user, allowed):
    def assign():
        return services.task_assign(
            actor=cast[user], plan=plans["dg"], title_zh="建立社区工作准入制度",
            deadline=date(2026, 12, 31), lead_unit=tree["441900101"],
            assignees=[tree["441900101"]],
        )  # fmt: skip

    if allowed:
        assert assign().state == rules.ASSIGNED
    else:
        with pytest.raises(PermissionDenied):
            assign()


def test_an_illegal_move_is_refused_and_changes_nothing(dongcheng_task, cast):
    with pytest.raises(services.TransitionRefused) as refused:
        services.task_transition(actor=cast["bob"], task=dongcheng_task, to=rules.CLOSED)
    assert refused.value.code == rules.ILLEGAL
    assert "不能转为“办结”" in refused.value.message_text
    assert TaskTransition.objects.filter(task=dongcheng_task).count() == 1


def test_a_return_without_a_reason_is_refused(dongcheng_task, cast):
    _loop_to_reported(dongcheng_task, cast)
    with pytest.raises(services.TransitionRefused) as refused:
        services.task_transition(actor=cast["bob"], task=dongcheng_task, to=rules.IN_PROGRESS)
    assert refused.value.code == rules.INCOMPLETE
    assert Task.objects.get(pk=dongcheng_task.pk).state == rules.REPORTED


def test_progress_reports_start_the_work_and_are_refused_before_acknowledgement(
    dongcheng_task, cast
):
    with pytest.raises(services.TransitionRefused):
        services.progress_report_add(actor=cast["alice"], task=dongcheng_task, text="已起草")
    services.task_transition(actor=cast["alice"], task=dongcheng_task, to=rules.ACKNOWLEDGED)
    report = services.progress_report_add(
        actor=cast["alice"], task=dongcheng_task, text="已起草初稿", percent=40,
        files=[("初稿.pdf", pdf_bytes())],
    )  # fmt: skip
    assert report.evidence.count() == 1
    assert Task.objects.get(pk=dongcheng_task.pk).state == rules.IN_PROGRESS
    with pytest.raises(PermissionDenied):
        services.progress_report_add(actor=cast["bob"], task=dongcheng_task, text="审核员代报")


def test_closing_writes_the_milestone_as_an_approved_value_with_history(
    dongcheng_task, cast, plans, django_capture_on_commit_callbacks, monkeypatch
):
    from districts.models import DataValue, DataValueChange

    recomputed = []
    monkeypatch.setattr(
        "reports.triggers.progress_recompute_for_keys",
        lambda **kw: recomputed.append(kw),
    )
    _loop_to_reported(dongcheng_task, cast)
    assert not DataValue.objects.exists()
    services.task_transition(
        actor=cast["bob"], task=dongcheng_task, to=rules.CLOSED, today=CLOSE_DAY
    )
    value = DataValue.objects.get()
    assert (value.element, value.org_unit.code, value.period) == (
        plans["element"],
        "441900003",
        "2026",
    )
    assert value.value == 1 and value.state == DataValue.APPROVED
    assert value.reviewed_by == cast["bob"]
    change = DataValueChange.objects.get(data_value=value)
    assert change.actor == cast["bob"] and change.new_state == "approved"
    assert "督办事项" in change.comment
    assert recomputed and recomputed[0]["element_codes"] == {"gov.purchase_catalogue"}


def test_closing_approves_a_hand_typed_zero(dongcheng_task, cast, plans, tree):
    from districts.models import DataValue

    DataValue.objects.create(
        element=plans["element"], org_unit=tree["441900003"], period="2026",
        period_start=date(2026, 1, 1), period_end=date(2026, 12, 31), value=0, state="draft",
    )  # fmt: skip
    _loop_to_reported(dongcheng_task, cast)
    services.task_transition(
        actor=cast["bob"], task=dongcheng_task, to=rules.CLOSED, today=CLOSE_DAY
    )
    value = DataValue.objects.get()
    assert value.value == 1 and value.state == "approved" and value.version == 2
    assert value.changes.get().old_value == 0


def test_instructions_are_written_by_leaders_in_scope_and_answered_by_the_addressee(
    dongcheng_task, cast, tree
):
    with pytest.raises(PermissionDenied):
        services.instruction_create(
            actor=cast["erin"], text="加快进度", addressee=tree["441900003"], task=dongcheng_task
        )
    with pytest.raises(PermissionDenied):
        services.instruction_create(
            actor=cast["bob"], text="加快进度", addressee=tree["441900003"], task=dongcheng_task
        )
    instruction = services.instruction_create(
        actor=cast["carol"], text="请于月底前印发", addressee=tree["441900003"], task=dongcheng_task
    )
    with pytest.raises(PermissionDenied):
        services.instruction_reply(actor=cast["dave"], instruction=instruction, text="收到")
    services.instruction_reply(
        actor=cast["alice"], instruction=instruction, text="已印发", mark_done=True,
        files=[("印发.pdf", pdf_bytes())],
    )  # fmt: skip
    instruction.refresh_from_db()
    assert instruction.done and instruction.done_by == cast["alice"]
    assert instruction.replies.get().evidence.count() == 1

"""The task state machine and the lamps, pure (no database)."""

from __future__ import annotations

from datetime import date

import pytest

from duban import rules
from duban.rules import (
    ACKNOWLEDGED,
    ASSIGNED,
    ASSIGNEE,
    CLOSED,
    IN_PROGRESS,
    REPORTED,
    REVIEWER,
    StepDue,
    TransitionError,
    check_move,
    task_lamp,
    working_days_after,
)

LEGAL = {
    (ASSIGNED, ACKNOWLEDGED): ASSIGNEE,
    (ACKNOWLEDGED, IN_PROGRESS): ASSIGNEE,
    (IN_PROGRESS, REPORTED): ASSIGNEE,
    (REPORTED, CLOSED): REVIEWER,
    (REPORTED, IN_PROGRESS): REVIEWER,
}
ALL_EDGES = [(s, t) for s in rules.STATES for t in rules.STATES]


@pytest.mark.parametrize(("source", "target"), ALL_EDGES)
@pytest.mark.parametrize("party", rules.PARTIES)
def test_every_transition_is_allowed_only_on_its_edge_to_its_party(source, target, party):
    kwargs = dict(source=source, target=target, parties={party}, note="理由", evidence_count=1)
    if LEGAL.get((source, target)) == party:
        assert check_move(**kwargs).target == target
        return
    with pytest.raises(TransitionError) as refused:
        check_move(**kwargs)
    expected = rules.FORBIDDEN if (source, target) in LEGAL else rules.ILLEGAL
    assert refused.value.code == expected
    assert "（" in refused.value.message and refused.value.message.endswith("）")


def test_an_illegal_move_says_what_the_task_is_and_what_it_may_become():
    with pytest.raises(TransitionError) as refused:
        check_move(source=ASSIGNED, target=CLOSED, parties=set(rules.PARTIES))
    assert refused.value.code == rules.ILLEGAL
    assert "“交办”" in refused.value.message and "可转为：签收" in refused.value.message
    assert "cannot become closed" in refused.value.message


def test_a_closed_task_moves_nowhere():
    for target in rules.STATES:
        with pytest.raises(TransitionError, match="已办结"):
            check_move(source=CLOSED, target=target, parties=set(rules.PARTIES))


def test_an_unknown_state_is_illegal():
    with pytest.raises(TransitionError) as refused:
        check_move(source=ASSIGNED, target="done", parties={ASSIGNEE})
    assert refused.value.code == rules.ILLEGAL


def test_a_return_needs_a_reason():
    with pytest.raises(TransitionError) as refused:
        check_move(source=REPORTED, target=IN_PROGRESS, parties={REVIEWER}, note="  ")
    assert (refused.value.code, refused.value.field) == (rules.INCOMPLETE, "note")


def test_reporting_done_needs_evidence():
    with pytest.raises(TransitionError) as refused:
        check_move(source=IN_PROGRESS, target=REPORTED, parties={ASSIGNEE}, evidence_count=0)
    assert (refused.value.code, refused.value.field) == (rules.INCOMPLETE, "evidence")


def test_the_moves_offered_are_the_party_s():
    assert [m.target for m in rules.moves_for(REPORTED, {REVIEWER})] == [CLOSED, IN_PROGRESS]
    assert rules.moves_for(REPORTED, {ASSIGNEE, rules.ASSIGNER}) == []
    assert rules.may_report_progress(IN_PROGRESS, {ASSIGNEE})
    assert not rules.may_report_progress(ASSIGNED, {ASSIGNEE})
    assert not rules.may_report_progress(IN_PROGRESS, {REVIEWER})


# --- lamps: 2026-12-31 is a Thursday -------------------------------------------------------------

DEADLINE = date(2026, 12, 31)


@pytest.mark.parametrize(
    ("as_of", "lamp"),
    [
        (date(2026, 12, 1), rules.GREEN),
        (date(2026, 12, 25), rules.GREEN),  # Fri: 4 working days left (28, 29, 30, 31)
        (date(2026, 12, 27), rules.GREEN),  # Sun: still 4 (Mon 28 … Thu 31)
        (date(2026, 12, 28), rules.YELLOW),  # Mon: 3 left
        (date(2026, 12, 31), rules.YELLOW),  # the deadline itself: 0 left, not yet late
        (date(2027, 1, 1), rules.RED),
    ],
)
def test_the_lamp_by_the_deadline(as_of, lamp):
    assert task_lamp(state=IN_PROGRESS, deadline=DEADLINE, as_of=as_of) == lamp


def test_a_late_step_turns_the_lamp_yellow_and_a_done_one_does_not():
    late = StepDue(due=date(2026, 10, 31))
    done = StepDue(due=date(2026, 10, 31), done_on=date(2026, 11, 2))
    as_of = date(2026, 11, 10)
    assert task_lamp(state=IN_PROGRESS, deadline=DEADLINE, as_of=as_of, steps=[late]) == "yellow"
    assert task_lamp(state=IN_PROGRESS, deadline=DEADLINE, as_of=as_of, steps=[done]) == "green"
    on_the_day = date(2026, 10, 31)
    assert (
        task_lamp(state=ACKNOWLEDGED, deadline=DEADLINE, as_of=on_the_day, steps=[late]) == "green"
    )


def test_a_closed_task_is_green_even_after_its_deadline():
    assert task_lamp(state=CLOSED, deadline=DEADLINE, as_of=date(2027, 3, 1)) == rules.GREEN
    assert task_lamp(state=REPORTED, deadline=DEADLINE, as_of=date(2027, 3, 1)) == rules.RED


def test_working_days_skip_weekends():
    friday = date(2026, 12, 25)
    assert working_days_after(friday, date(2026, 12, 28)) == 1  # Sat, Sun, Mon
    assert working_days_after(friday, date(2027, 1, 8)) == 10
    assert working_days_after(friday, friday) == 0
    assert working_days_after(friday, date(2026, 12, 1)) == 0


def test_only_a_worse_lamp_is_an_alert():
    assert rules.lamp_worsened(rules.GREEN, rules.YELLOW)
    assert rules.lamp_worsened(rules.YELLOW, rules.RED)
    assert not rules.lamp_worsened(rules.RED, rules.YELLOW)
    assert not rules.lamp_worsened(None, rules.GREEN)

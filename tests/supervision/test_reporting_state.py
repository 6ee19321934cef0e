"""The pure rules: deadlines, the reporting state at every boundary, reminder steps, the periods
in view, which schedule governs and who is told. No database, no clock: ``as_of`` is passed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.periods import Period
from supervision import rules
from supervision.rules import (
    APPROVED,
    DUE_SOON,
    NOT_DUE,
    OPEN,
    OVERDUE,
    SUBMITTED,
    Candidate,
    ScheduleRule,
    Step,
    Tally,
)

MONTHLY = ScheduleRule(period_type="month", due_months_after=1, due_day=10)
YEARLY = ScheduleRule(
    period_type="year",
    due_months_after=3,
    due_day=31,
    remind_days_before=(1, 3, 7, 14),
    overdue_every_days=7,
    escalate_after_days=14,
)
QUARTERLY = ScheduleRule(
    period_type="quarter", deadline_rule=rules.DAYS_AFTER_END, due_days_after_end=15
)
NOTHING = Tally(due=2)


def state(rule, period, as_of, tally=NOTHING):
    return rules.reporting_state(rule=rule, period=Period.parse(period), as_of=as_of, tally=tally)


# --- deadlines ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "period", "deadline"),
    [
        (MONTHLY, "2025-01", date(2025, 2, 10)),
        (MONTHLY, "2024-12", date(2025, 1, 10)),  # across the year end
        (YEARLY, "2024", date(2025, 3, 31)),
        (
            ScheduleRule(period_type="year", due_months_after=2, due_day=31),
            "2024",
            date(2025, 2, 28),
        ),
        (
            ScheduleRule(period_type="year", due_months_after=2, due_day=31),
            "2023",
            date(2024, 2, 29),
        ),
        (QUARTERLY, "2025Q1", date(2025, 4, 15)),
        (QUARTERLY, "2024Q4", date(2025, 1, 15)),
        (
            ScheduleRule(period_type="quarter", due_months_after=1, due_day=20),
            "2025Q2",
            date(2025, 7, 20),
        ),
    ],
)
def test_deadline_of_each_rule(rule, period, deadline):
    assert rules.deadline_for(rule, Period.parse(period)) == deadline


def test_reporting_opens_the_day_after_the_period_unless_configured():
    assert rules.opens_on(MONTHLY, Period.parse("2025-01")) == date(2025, 2, 1)
    early = ScheduleRule(period_type="year", opens_days_after_end=-9)
    assert rules.opens_on(early, Period.parse("2024")) == date(2024, 12, 22)


# --- the reporting state at every boundary -----------------------------------------------------


def test_not_due_the_day_before_reporting_opens():
    assert state(MONTHLY, "2025-01", date(2025, 1, 31)) == NOT_DUE


def test_open_on_the_day_reporting_opens():
    assert state(MONTHLY, "2025-01", date(2025, 2, 1)) == OPEN


def test_still_open_four_days_before_the_deadline():
    assert state(MONTHLY, "2025-01", date(2025, 2, 6)) == OPEN


def test_due_soon_from_three_days_before_the_deadline():
    assert state(MONTHLY, "2025-01", date(2025, 2, 7)) == DUE_SOON


def test_due_soon_on_the_deadline_itself():
    assert state(MONTHLY, "2025-01", date(2025, 2, 10)) == DUE_SOON


def test_overdue_the_day_after_the_deadline():
    assert state(MONTHLY, "2025-01", date(2025, 2, 11)) == OVERDUE


def test_overdue_long_after_the_deadline():
    assert state(YEARLY, "2024", date(2026, 1, 1)) == OVERDUE


def test_partly_reported_is_still_overdue():
    assert state(MONTHLY, "2025-01", date(2025, 2, 11), Tally(due=2, reported=1)) == OVERDUE


def test_submitted_when_every_due_value_is_submitted_or_approved():
    tally = Tally.from_states(["submitted", "approved"])
    assert state(MONTHLY, "2025-01", date(2025, 2, 11), tally) == SUBMITTED
    assert state(MONTHLY, "2025-01", date(2025, 2, 5), tally) == SUBMITTED


def test_approved_when_every_due_value_is_approved():
    tally = Tally.from_states(["approved", "approved"])
    assert state(MONTHLY, "2025-01", date(2025, 2, 20), tally) == APPROVED


def test_reported_early_counts_before_reporting_opens():
    assert state(MONTHLY, "2025-01", date(2025, 1, 20), Tally(due=1, reported=1)) == SUBMITTED


@pytest.mark.parametrize("other", ["draft", "rejected", None])
def test_a_draft_rejected_or_missing_value_is_not_reported(other):
    tally = Tally.from_states(["submitted", other])
    assert tally.missing == 1
    assert state(MONTHLY, "2025-01", date(2025, 2, 11), tally) == OVERDUE


def test_nothing_due_is_not_due():
    assert state(MONTHLY, "2025-01", date(2025, 3, 1), Tally(due=0)) == NOT_DUE


def test_due_soon_days_is_configurable():
    rule = ScheduleRule(period_type="month", due_soon_days=5)
    assert state(rule, "2025-01", date(2025, 2, 4)) == OPEN
    assert state(rule, "2025-01", date(2025, 2, 5)) == DUE_SOON


# --- reminder steps ----------------------------------------------------------------------------


def steps(rule, period, as_of, st=OPEN):
    return rules.reminder_steps(rule=rule, period=Period.parse(period), as_of=as_of, state=st)


def test_no_reminder_before_the_first_offset():
    assert steps(YEARLY, "2024", date(2025, 3, 16)) == []


def test_reminders_on_each_offset_before_the_deadline():
    deadline = date(2025, 3, 31)
    for days in (14, 7, 3, 1):
        assert steps(YEARLY, "2024", deadline - timedelta(days=days)) == [
            Step(rules.OFFICIALS, f"before:{days}")
        ]


def test_a_missed_day_is_caught_up_with_the_latest_step_only():
    assert steps(YEARLY, "2024", date(2025, 3, 26)) == [Step(rules.OFFICIALS, "before:7")]
    # The deadline day repeats the last before-step: the database finds it already sent.
    assert steps(YEARLY, "2024", date(2025, 3, 31)) == [Step(rules.OFFICIALS, "before:1")]


def test_late_reminders_are_numbered_every_n_days():
    assert steps(YEARLY, "2024", date(2025, 4, 1), OVERDUE) == [Step(rules.OFFICIALS, "overdue:1")]
    assert steps(YEARLY, "2024", date(2025, 4, 7), OVERDUE)[0].kind == "overdue:1"
    assert steps(YEARLY, "2024", date(2025, 4, 8), OVERDUE)[0].kind == "overdue:2"
    assert steps(YEARLY, "2024", date(2025, 4, 13), OVERDUE)[0].kind == "overdue:2"


def test_one_late_reminder_only_when_the_interval_is_zero():
    rule = ScheduleRule(period_type="year", due_months_after=3, due_day=31, overdue_every_days=0)
    assert steps(rule, "2024", date(2025, 6, 1), OVERDUE)[0].kind == "overdue:1"


def test_escalation_to_reviewers_after_the_delay():
    assert [s.kind for s in steps(YEARLY, "2024", date(2025, 4, 13), OVERDUE)] == ["overdue:2"]
    assert steps(YEARLY, "2024", date(2025, 4, 14), OVERDUE) == [
        Step(rules.OFFICIALS, "overdue:2"),
        Step(rules.REVIEWERS, "escalation"),
    ]


def test_no_escalation_when_the_schedule_has_none():
    rule = ScheduleRule(
        period_type="year", due_months_after=3, due_day=31, escalate_after_days=None
    )
    assert [s.audience for s in steps(rule, "2024", date(2026, 1, 1), OVERDUE)] == ["official"]


@pytest.mark.parametrize("st", [SUBMITTED, APPROVED, NOT_DUE])
def test_reported_units_are_not_reminded(st):
    assert steps(YEARLY, "2024", date(2025, 4, 20), st) == []


def test_no_reminder_before_reporting_opens():
    rule = ScheduleRule(period_type="month", remind_days_before=(14,))
    assert steps(rule, "2025-01", date(2025, 1, 28)) == []
    assert steps(rule, "2025-01", date(2025, 2, 1)) == [Step(rules.OFFICIALS, "before:14")]


# --- periods in view ---------------------------------------------------------------------------


def test_periods_in_view_are_open_and_not_older_than_the_horizon():
    found = rules.periods_in_view(MONTHLY, as_of=date(2025, 4, 5), horizon_days=60)
    assert [str(p) for p in found] == ["2025-03", "2025-02", "2025-01"]


def test_a_period_opening_before_it_ends_is_in_view():
    rule = ScheduleRule(period_type="year", opens_days_after_end=-9, due_months_after=3, due_day=31)
    found = rules.periods_in_view(rule, as_of=date(2025, 12, 23), horizon_days=30)
    assert [str(p) for p in found] == ["2025"]


def test_active_from_leaves_older_periods_out():
    rule = ScheduleRule(period_type="month", active_from=date(2025, 2, 1))
    found = rules.periods_in_view(rule, as_of=date(2025, 4, 5), horizon_days=366)
    assert [str(p) for p in found] == ["2025-03", "2025-02"]


# --- which schedule governs, who is told ---------------------------------------------------


def test_most_specific_then_most_local_then_earliest_schedule_governs():
    default = Candidate(1, "default", 0, 0, YEARLY)
    city = Candidate(2, "city", 0, 2, ScheduleRule(period_type="year", due_months_after=6))
    plan_late = Candidate(3, "plan-b", 1, 2, ScheduleRule(period_type="year", due_months_after=5))
    plan_early = Candidate(4, "plan-a", 1, 2, ScheduleRule(period_type="year", due_months_after=2))
    own = Candidate(5, "own", 2, 0, ScheduleRule(period_type="year", due_months_after=9))
    year = Period.parse("2024")
    assert rules.choose_schedule([default, city], year).key == 2
    assert rules.choose_schedule([default, city, plan_late, plan_early], year).key == 4
    assert rules.choose_schedule([default, plan_early, own], year).key == 5
    assert rules.choose_schedule([], year) is None
    monthly_only = Candidate(6, "m", 2, 0, MONTHLY)
    assert rules.choose_schedule([monthly_only, default], year).key == 1


def test_the_nearest_unit_with_holders_answers():
    holders = {"441900": [1], "441900003": [3, 2]}
    assert rules.nearest_holders(["441900", "441900003", "441900003001"], holders) == [2, 3]
    assert rules.nearest_holders(["441900", "441900101", "441900101001"], holders) == [1]
    assert rules.nearest_holders(["442000", "442000001"], holders) == []
    assert rules.chain_of("441900/441900003/") == ["441900", "441900003"]

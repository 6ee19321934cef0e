"""Reporting deadlines, reporting states and reminder steps (督查督办). Pure: plain dataclasses in
and out, no ORM and no clock — the date a question is asked on is always a parameter (``as_of``).

A schedule says, for the periods of one type, when reporting opens, when it is due, from when a
unit is "due soon", which days before the deadline officials are reminded, how often they are
chased once late, and after how many days a late report is escalated to the reviewers.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from core.periods import Period, period_for_date

# --- reporting states (per org unit, schedule and period) --------------------------------------

NOT_DUE = "not_due"
OPEN = "open"
DUE_SOON = "due_soon"
OVERDUE = "overdue"
SUBMITTED = "submitted"
APPROVED = "approved"
STATES = (NOT_DUE, OPEN, DUE_SOON, OVERDUE, SUBMITTED, APPROVED)
NOT_REPORTED = (OPEN, DUE_SOON, OVERDUE)
"""States in which a unit still owes figures for a period that is open."""
URGENCY = {OVERDUE: 0, DUE_SOON: 1, OPEN: 2, SUBMITTED: 3, APPROVED: 4, NOT_DUE: 5}
"""Most urgent first: the order of the overdue page."""

# --- deadline rules ------------------------------------------------------------------------

DAY_OF_MONTH = "day_of_month"
"""Due on day ``due_day`` of the month ``due_months_after`` months after the period's last month
(monthly values by the 10th of the next month: 1 and 10; yearly values by 31 March: 3 and 31)."""
DAYS_AFTER_END = "days_after_end"
"""Due ``due_days_after_end`` days after the period's last day (quarterly: 15 days after)."""
DEADLINE_RULES = (DAY_OF_MONTH, DAYS_AFTER_END)

# --- reminder kinds ------------------------------------------------------------------------

OFFICIALS = "official"
REVIEWERS = "reviewer"
BEFORE = "before"
LATE = "overdue"
ESCALATION = "escalation"


@dataclass(frozen=True, slots=True)
class ScheduleRule:
    """The timing of one reporting schedule."""

    period_type: str
    deadline_rule: str = DAY_OF_MONTH
    due_months_after: int = 1
    due_day: int = 10
    due_days_after_end: int = 0
    opens_days_after_end: int = 1
    """Reporting opens this many days after the period's last day (1: the next day; 0 or less:
    before the period ends, e.g. -9 opens a year on 22 December)."""
    due_soon_days: int = 3
    remind_days_before: tuple[int, ...] = (3, 1)
    overdue_every_days: int = 3
    """Late reminders on the first day late and then every N days; 0 sends one only."""
    escalate_after_days: int | None = 5
    """Days late after which the reviewers are told; ``None`` never escalates."""
    active_from: date | None = None
    """Periods ending before this date are not supervised under this schedule."""


def add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def last_month(period: Period) -> int:
    return period.end.month


def deadline_for(rule: ScheduleRule, period: Period) -> date:
    """The last day on which ``period``'s values count as reported on time."""
    if rule.deadline_rule == DAYS_AFTER_END:
        return period.end + timedelta(days=rule.due_days_after_end)
    year, month = add_months(period.end.year, last_month(period), rule.due_months_after)
    # "By the 31st" in a shorter month means its last day.
    day = min(rule.due_day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


def opens_on(rule: ScheduleRule, period: Period) -> date:
    return period.end + timedelta(days=rule.opens_days_after_end)


def applies_to(rule: ScheduleRule, period: Period) -> bool:
    return period.period_type == rule.period_type and (
        rule.active_from is None or period.end >= rule.active_from
    )


@dataclass(frozen=True, slots=True)
class Tally:
    """What a unit has reported for the elements due from it in one period: how many are due,
    how many of them are submitted or approved, and how many approved."""

    due: int
    reported: int = 0
    approved: int = 0

    @classmethod
    def from_states(cls, states: Sequence[str | None]) -> Tally:
        """One state per due element; ``None`` for an element with no value yet."""
        return cls(
            due=len(states),
            reported=sum(1 for s in states if s in (SUBMITTED, APPROVED)),
            approved=sum(1 for s in states if s == APPROVED),
        )

    @property
    def missing(self) -> int:
        return max(self.due - self.reported, 0)


def reporting_state(*, rule: ScheduleRule, period: Period, as_of: date, tally: Tally) -> str:
    """The reporting state of one unit for one period on ``as_of``.

    Approved when every due value is approved (the period is then locked for officials),
    submitted when every due value is at least submitted; otherwise by the calendar: not due
    before reporting opens, overdue after the deadline, due soon from ``due_soon_days`` before
    the deadline up to the deadline itself, open in between. A draft or rejected value is not
    reported. A unit with nothing due is not due.
    """
    if tally.due <= 0:
        return NOT_DUE
    if tally.approved >= tally.due:
        return APPROVED
    if tally.reported >= tally.due:
        return SUBMITTED
    if as_of < opens_on(rule, period):
        return NOT_DUE
    deadline = deadline_for(rule, period)
    if as_of > deadline:
        return OVERDUE
    if as_of >= deadline - timedelta(days=rule.due_soon_days):
        return DUE_SOON
    return OPEN


def periods_in_view(rule: ScheduleRule, *, as_of: date, horizon_days: int) -> list[Period]:
    """The periods supervised on ``as_of``, newest first: reporting has opened and the deadline
    is at most ``horizon_days`` ago (older gaps are no longer chased or listed)."""
    oldest_deadline = as_of - timedelta(days=horizon_days)
    found: list[Period] = []
    period = period_for_date(as_of, rule.period_type)
    # A period may open before it ends (negative offset): look one period ahead as well.
    candidates = [_next(period), period]
    for _step in range(2000):  # bounded: a horizon of years at most, in months
        if deadline_for(rule, period) < oldest_deadline:
            break
        period = period.previous()
        candidates.append(period)
    for p in candidates:
        if (
            applies_to(rule, p)
            and opens_on(rule, p) <= as_of
            and deadline_for(rule, p) >= oldest_deadline
        ):
            found.append(p)
    return sorted(set(found), reverse=True)


def _next(period: Period) -> Period:
    end = period.end + timedelta(days=1)
    return period_for_date(end, period.period_type)


@dataclass(frozen=True, slots=True)
class Step:
    """A reminder due on a date: who it goes to and its kind, unique per unit and period
    (``before:3``, ``overdue:2``, ``escalation``)."""

    audience: str
    kind: str


def reminder_steps(*, rule: ScheduleRule, period: Period, as_of: date, state: str) -> list[Step]:
    """The reminders due on ``as_of`` for a unit in ``state``.

    Only the latest step reached is returned, so a day on which the job did not run is caught
    up with one reminder, never a burst: three days before the deadline sends ``before:3``; the
    first day late ``overdue:1``, then every ``overdue_every_days`` the next number. The
    escalation to reviewers is one step, once ``escalate_after_days`` late. Whether a step was
    already sent is the database's business (one row per step and recipient).
    """
    if state not in NOT_REPORTED or as_of < opens_on(rule, period):
        return []
    deadline = deadline_for(rule, period)
    days_left = (deadline - as_of).days
    steps: list[Step] = []
    if days_left >= 0:
        reached = [d for d in rule.remind_days_before if d >= days_left]
        if reached:
            steps.append(Step(OFFICIALS, f"{BEFORE}:{min(reached)}"))
        return steps
    late = -days_left
    every = rule.overdue_every_days
    number = (late - 1) // every + 1 if every > 0 else 1
    steps.append(Step(OFFICIALS, f"{LATE}:{number}"))
    if rule.escalate_after_days is not None and late >= max(rule.escalate_after_days, 1):
        steps.append(Step(REVIEWERS, ESCALATION))
    return steps


# --- who reports, and who is told ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Candidate:
    """A schedule that could govern an element at a unit: how specific it is (2 an element's
    own schedule, 1 a plan's, 0 the default for the period type) and how deep its root unit
    lies (a city's own rule beats a nationwide one)."""

    key: int
    code: str
    specificity: int
    root_depth: int
    rule: ScheduleRule = field(compare=False)


def choose_schedule(candidates: Iterable[Candidate], period: Period) -> Candidate | None:
    """The schedule that governs: the most specific, then the most local, then the earliest
    deadline for ``period`` (reporting by it satisfies the others), then by code."""
    usable = [c for c in candidates if applies_to(c.rule, period)]
    if not usable:
        return None
    return min(
        usable,
        key=lambda c: (-c.specificity, -c.root_depth, deadline_for(c.rule, period), c.code),
    )


def nearest_holders(chain: Sequence[str], holders: dict[str, list[int]]) -> list[int]:
    """The users responsible for a unit: those holding the role on the nearest unit of
    ``chain`` (the unit's codes from the root down to itself) that has anyone holding it.

    The nearest level answers: a community's own official is chased, not every official of the
    town and the city above it; a community without one falls back to its town's.
    """
    for code in reversed(chain):
        users = holders.get(code)
        if users:
            return sorted(set(users))
    return []


def chain_of(path: str) -> list[str]:
    """The codes of a unit's ancestors and itself, root first, from its tree ``path``."""
    return [code for code in path.split("/") if code]

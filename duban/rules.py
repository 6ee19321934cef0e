"""The 督办 task state machine and the task lamps. Pure: no ORM and no clock — who the actor is
on a task (the parties they act for) and the day asked about (``as_of``) are parameters.

A task is assigned (交办) by a leader or reviewer, acknowledged (签收) by an official of an
assignee unit, worked on (办理中) with dated progress reports, reported done (反馈) with
evidence, and reviewed (复核): a reviewer over the lead unit accepts it (办结) or returns it with
a reason, back to 办理中.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from core.text import bilingual

# --- states ------------------------------------------------------------------------------------

ASSIGNED = "assigned"
ACKNOWLEDGED = "acknowledged"
IN_PROGRESS = "in_progress"
REPORTED = "reported"
CLOSED = "closed"
STATES = (ASSIGNED, ACKNOWLEDGED, IN_PROGRESS, REPORTED, CLOSED)
STATE_LABELS = {
    ASSIGNED: ("交办", "assigned"),
    ACKNOWLEDGED: ("签收", "acknowledged"),
    IN_PROGRESS: ("办理中", "in progress"),
    REPORTED: ("反馈", "reported done"),
    CLOSED: ("办结", "closed"),
}
OPEN_STATES = (ASSIGNED, ACKNOWLEDGED, IN_PROGRESS, REPORTED)

# --- the parties a user may act for on one task -----------------------------------------------

ASSIGNER = "assigner"
"""A leader or reviewer whose scope covers the task's units: creates (assigns) tasks."""
ASSIGNEE = "assignee"
"""An official of an assignee (or the lead) unit: acknowledges, works on and reports."""
REVIEWER = "reviewer"
"""A reviewer whose scope covers the lead unit: accepts or returns what was reported."""
PARTIES = (ASSIGNER, ASSIGNEE, REVIEWER)


@dataclass(frozen=True, slots=True)
class Move:
    """One legal transition: who may make it, and what it needs."""

    source: str
    target: str
    party: str
    verb_zh: str
    verb_en: str
    needs_note: bool = False
    needs_evidence: bool = False


MOVES: tuple[Move, ...] = (
    Move(ASSIGNED, ACKNOWLEDGED, ASSIGNEE, "签收", "acknowledge"),
    Move(ACKNOWLEDGED, IN_PROGRESS, ASSIGNEE, "开始办理", "start work"),
    Move(IN_PROGRESS, REPORTED, ASSIGNEE, "反馈办结", "report done", needs_evidence=True),
    Move(REPORTED, CLOSED, REVIEWER, "复核通过并办结", "accept and close"),
    Move(REPORTED, IN_PROGRESS, REVIEWER, "退回重办", "return", needs_note=True),
)
MOVE_BY_EDGE = {(m.source, m.target): m for m in MOVES}

# Error codes: how the page and the API answer (409 a move that does not exist from this state,
# 403 a move the user may not make, 400 a move missing its reason or evidence).
ILLEGAL = "illegal"
FORBIDDEN = "forbidden"
INCOMPLETE = "incomplete"


class TransitionError(Exception):
    """A refused transition, with a bilingual message and one of the codes above."""

    def __init__(self, code: str, message: str, field: str = "to"):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


def state_label(state: str) -> str:
    """Both languages, the house message format (errors, e-mail)."""
    zh, en = STATE_LABELS.get(state, (state, state))
    return bilingual(zh, en)


def state_name(state: str, english: bool = False) -> str:
    """The state's name in one language (page labels)."""
    zh, en = STATE_LABELS.get(state, (state, state))
    return en if english else zh


def check_move(
    *,
    source: str,
    target: str,
    parties: Iterable[str],
    note: str = "",
    evidence_count: int = 0,
) -> Move:
    """The move from ``source`` to ``target`` if the actor (acting for ``parties``) may make it
    with this note and this many evidence files; otherwise a :class:`TransitionError`."""
    if target not in STATES:
        raise TransitionError(
            ILLEGAL, bilingual(f"未知状态“{target}”", f"unknown state {target!r}")
        )
    move = MOVE_BY_EDGE.get((source, target))
    if move is None:
        allowed = "、".join(STATE_LABELS[m.target][0] for m in MOVES if m.source == source)
        allowed_en = ", ".join(STATE_LABELS[m.target][1] for m in MOVES if m.source == source)
        raise TransitionError(
            ILLEGAL,
            bilingual(
                f"事项当前为“{STATE_LABELS[source][0]}”，不能转为“{STATE_LABELS[target][0]}”"
                + (f"；可转为：{allowed}" if allowed else "；事项已办结"),
                f"a task that is {STATE_LABELS[source][1]} cannot become "
                f"{STATE_LABELS[target][1]}"
                + (f"; allowed: {allowed_en}" if allowed_en else "; the task is closed"),
            ),
        )
    if move.party not in set(parties):
        who = {
            ASSIGNEE: ("承办单位的填报员", "an official of an assignee unit"),
            REVIEWER: ("牵头单位范围内的审核员", "a reviewer over the lead unit"),
            ASSIGNER: ("范围内的领导或审核员", "a leader or reviewer in scope"),
        }[move.party]
        raise TransitionError(
            FORBIDDEN,
            bilingual(f"只有{who[0]}可以{move.verb_zh}", f"only {who[1]} may {move.verb_en}"),
        )
    if move.needs_note and not (note or "").strip():
        raise TransitionError(
            INCOMPLETE, bilingual("退回时请填写原因", "a return needs a reason"), field="note"
        )
    if move.needs_evidence and evidence_count < 1:
        raise TransitionError(
            INCOMPLETE,
            bilingual("反馈办结须附证明材料", "reporting done needs at least one evidence file"),
            field="evidence",
        )
    return move


def moves_for(source: str, parties: Iterable[str]) -> list[Move]:
    """The moves an actor acting for ``parties`` may make from ``source`` (the page's buttons)."""
    held = set(parties)
    return [m for m in MOVES if m.source == source and m.party in held]


def may_report_progress(state: str, parties: Iterable[str]) -> bool:
    """Dated progress reports are written by the assignees while the task is being worked on."""
    return state in (ACKNOWLEDGED, IN_PROGRESS) and ASSIGNEE in set(parties)


# --- lamps -------------------------------------------------------------------------------------

GREEN = "green"
YELLOW = "yellow"
RED = "red"
LAMPS = (GREEN, YELLOW, RED)
LAMP_LABELS = {
    GREEN: ("正常", "on time"),
    YELLOW: ("预警", "due soon or a step late"),
    RED: ("逾期", "overdue"),
}
DUE_SOON_WORKING_DAYS = 3


def working_days_after(start: date, end: date) -> int:
    """Working days (Monday to Friday) in ``(start, end]``; 0 when ``end`` is not after
    ``start``. Public holidays and make-up weekends (调休) are not known here: the lamp errs a
    day early around them, which is the safe side for a warning."""
    if end <= start:
        return 0
    days = (end - start).days
    weeks, rest = divmod(days, 7)
    count = weeks * 5
    for offset in range(1, rest + 1):
        if (start + timedelta(days=weeks * 7 + offset)).weekday() < 5:
            count += 1
    return count


@dataclass(frozen=True, slots=True)
class StepDue:
    due: date
    done_on: date | None = None


def task_lamp(*, state: str, deadline: date, as_of: date, steps: Sequence[StepDue] = ()) -> str:
    """The lamp of a task on ``as_of``, by the reporting lamps' rule: red once the deadline has
    passed and the task is not closed; yellow when the deadline is within
    ``DUE_SOON_WORKING_DAYS`` working days or an interim step is late (behind 序时进度: its date
    has passed and it is not done); green otherwise. A closed task is green."""
    if state == CLOSED:
        return GREEN
    if as_of > deadline:
        return RED
    if working_days_after(as_of, deadline) <= DUE_SOON_WORKING_DAYS:
        return YELLOW
    for step in steps:
        if step.done_on is None and as_of > step.due:
            return YELLOW
    return GREEN


def lamp_label(lamp: str) -> str:
    zh, en = LAMP_LABELS.get(lamp, (lamp, lamp))
    return bilingual(zh, en)


def lamp_name(lamp: str, english: bool = False) -> str:
    zh, en = LAMP_LABELS.get(lamp, (lamp, lamp))
    return en if english else zh


LAMP_RANK = {GREEN: 0, YELLOW: 1, RED: 2}


def lamp_worsened(before: str | None, after: str) -> bool:
    """Whether a lamp change deserves an alert: to yellow or red from anything milder."""
    return LAMP_RANK.get(after, 0) > LAMP_RANK.get(before or GREEN, 0)

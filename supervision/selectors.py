"""Reads for supervision (督查督办): who must report what by when, the reporting state of every
unit and period, and notifications — always inside the asking user's scope.

The state of a unit for a period comes from :func:`supervision.rules.reporting_state`; this
module only gathers its inputs. A whole city costs a fixed handful of queries: the schedules,
the units of the scope, the elements, and one aggregate of the data values per group of units
that owe the same elements (not one per unit).

For the dashboards and the reviewer inbox:

- :func:`who_has_not_reported` — the units that still owe figures, most urgent first;
- :func:`counts_by_area` — those (or any statuses) counted per district/town;
- :func:`reporting_statuses` — every (schedule, unit, period) in view with its state;
- :func:`status_map` — (unit code, period) → status, for the inbox's groups in one call;
- :func:`unit_statuses` — one unit's own periods;
- :func:`period_is_locked` — whether a unit's period is approved (locked for officials);
- :func:`unread_count` — the badge of the notification list.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from core.periods import Period
from core.text import name_of
from districts import scopes
from districts.models import DataValue, OrgUnit, RoleAssignment

# Who must report an element is the data-entry rule, so the entry form, the upload template and
# the chasers never disagree about what a unit owes.
from districts.selectors import tier_of, unit_reports
from targets.models import DataElement, Indicator

from . import rules
from .models import Notification, PeriodReopen, ReminderRun, ReportingSchedule

STATE_LABELS: dict[str, Promise] = {
    rules.NOT_DUE: _("未到期"),
    rules.OPEN: _("填报中"),
    rules.DUE_SOON: _("即将到期"),
    rules.OVERDUE: _("已逾期"),
    rules.SUBMITTED: _("已提交"),
    rules.APPROVED: _("已审核"),
}
STATE_ICONS = {
    rules.NOT_DUE: "–",
    rules.OPEN: "○",
    rules.DUE_SOON: "!",
    rules.OVERDUE: "✗",
    rules.SUBMITTED: "↑",
    rules.APPROVED: "✓",
}
STATE_LIGHTS = {
    rules.NOT_DUE: "grey",
    rules.OPEN: "grey",
    rules.DUE_SOON: "yellow",
    rules.OVERDUE: "red",
    rules.SUBMITTED: "blue",
    rules.APPROVED: "green",
}


def horizon_days() -> int:
    return int(getattr(settings, "REMINDER_HORIZON_DAYS", 366))


def today() -> date:
    return timezone.localdate()


@dataclass(frozen=True, slots=True)
class StateShown:
    """A reporting state as shown: traffic-light colour, icon and word (never colour alone)."""

    code: str
    label: str
    icon: str
    light: str


def state_shown(code: str) -> StateShown:
    return StateShown(
        code=code,
        label=str(STATE_LABELS.get(code, code)),
        icon=STATE_ICONS.get(code, "·"),
        light=STATE_LIGHTS.get(code, "grey"),
    )


def state_legend() -> list[StateShown]:
    return [state_shown(code) for code in rules.STATES]


# --- schedules ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleInfo:
    """A schedule as the computation needs it: its rule, what it covers and where."""

    id: int
    code: str
    name_zh: str
    name_en: str
    period_type: str
    rule: rules.ScheduleRule
    specificity: int
    root_path: str | None
    element_ids: frozenset[int] | None
    """The elements covered; ``None`` for a default schedule (every element of its type)."""

    def covers_unit(self, path: str) -> bool:
        return self.root_path is None or path.startswith(self.root_path)

    def covers_element(self, element_id: int) -> bool:
        return self.element_ids is None or element_id in self.element_ids

    @property
    def candidate(self) -> rules.Candidate:
        depth = self.root_path.count("/") if self.root_path else 0
        return rules.Candidate(
            key=self.id,
            code=self.code,
            specificity=self.specificity,
            root_depth=depth,
            rule=self.rule,
        )

    @property
    def name(self) -> str:
        return name_of(self)


_PLAN_ELEMENT_FIELDS = (
    "element_id",
    "numerator_id",
    "denominator_id",
    "condition_element_id",
    "condition_numerator_id",
    "condition_denominator_id",
)


def active_schedules(*, code: str = "", period_type: str = "") -> list[ScheduleInfo]:
    """The active schedules (two queries: the schedules, and the elements of plan schedules)."""
    qs = ReportingSchedule.objects.filter(is_active=True).select_related("root", "plan__city")
    if code:
        qs = qs.filter(code=code)
    if period_type:
        qs = qs.filter(period_type=period_type)
    schedules = list(qs)
    plan_ids = {s.plan_id for s in schedules if s.plan_id}
    plan_elements: dict[int, set[int]] = defaultdict(set)
    if plan_ids:
        for row in Indicator.objects.filter(plan_id__in=plan_ids).values(
            "plan_id", *_PLAN_ELEMENT_FIELDS
        ):
            plan_elements[row["plan_id"]].update(
                row[f] for f in _PLAN_ELEMENT_FIELDS if row[f] is not None
            )
    infos = []
    for s in schedules:
        root = s.root or (s.plan.city if s.plan_id else None)
        if s.element_id:
            element_ids: frozenset[int] | None = frozenset({s.element_id})
        elif s.plan_id:
            element_ids = frozenset(plan_elements.get(s.plan_id, ()))
        else:
            element_ids = None
        infos.append(
            ScheduleInfo(
                id=s.id,
                code=s.code,
                name_zh=s.name_zh,
                name_en=s.name_en,
                period_type=s.period_type,
                rule=s.rule,
                specificity=s.specificity,
                root_path=root.path if root else None,
                element_ids=element_ids,
            )
        )
    return infos


def has_any_scope(user) -> bool:
    paths = scopes.scope_paths(user, scopes.READ)
    return paths is None or bool(paths)


def last_reminder_run() -> ReminderRun | None:
    return ReminderRun.objects.order_by("-started_at", "-id").first()


def schedules_for_page() -> QuerySet[ReportingSchedule]:
    return ReportingSchedule.objects.select_related("element", "plan", "root").order_by(
        "period_type", "-is_active", "code"
    )


# --- units -------------------------------------------------------------------------------------


@dataclass
class UnitInfo:
    unit: OrgUnit
    tier: int
    parent_tier: int | None
    is_leaf: bool
    chain: list[str]

    @property
    def reporting_class(self) -> tuple[int, int | None, bool]:
        return (self.tier, self.parent_tier, self.is_leaf)


_UNIT_FIELDS = ("id", "code", "name_zh", "name_en", "level", "parent_id", "path", "depth")


def _paths_under(paths: list[str] | None, root: OrgUnit | None) -> list[str] | None:
    """The scope ``paths`` (``None``: everywhere) narrowed to ``root``'s subtree."""
    if root is None:
        return paths
    if paths is None:
        return [root.path]
    kept = []
    for p in paths:
        if p.startswith(root.path):
            kept.append(p)
        elif root.path.startswith(p):
            kept.append(root.path)
    return sorted(set(kept))


def _load_units(paths: list[str] | None) -> list[UnitInfo]:
    """Every unit of the subtrees at ``paths`` (all units for ``None``), with what the
    reporting rule needs: its tier, its parent's tier and whether it has children."""
    qs = OrgUnit.objects.only(*_UNIT_FIELDS).order_by("path")
    if paths is not None:
        if not paths:
            return []
        q = Q()
        for p in paths:
            q |= Q(path__startswith=p)
        qs = qs.filter(q)
    units = list(qs)
    by_id = {u.id: u for u in units}
    outside = {u.parent_id for u in units if u.parent_id and u.parent_id not in by_id}
    parent_levels = dict(
        OrgUnit.objects.filter(id__in=outside).values_list("id", "level") if outside else []
    )
    has_children = {u.parent_id for u in units}
    infos = []
    for u in units:
        if u.parent_id is None:
            parent_tier = None
        elif u.parent_id in by_id:
            parent_tier = tier_of(by_id[u.parent_id].level)
        else:
            parent_tier = tier_of(parent_levels.get(u.parent_id, ""))
        infos.append(
            UnitInfo(
                unit=u,
                tier=tier_of(u.level),
                parent_tier=parent_tier,
                is_leaf=u.id not in has_children,
                chain=rules.chain_of(u.path),
            )
        )
    return infos


def _one_unit(unit: OrgUnit) -> UnitInfo:
    parent_level = (
        OrgUnit.objects.filter(id=unit.parent_id).values_list("level", flat=True).first()
        if unit.parent_id
        else None
    )
    return UnitInfo(
        unit=unit,
        tier=tier_of(unit.level),
        parent_tier=tier_of(parent_level) if parent_level is not None else None,
        is_leaf=not OrgUnit.objects.filter(parent_id=unit.id).exists(),
        chain=rules.chain_of(unit.path),
    )


def _areas(infos: list[UnitInfo]) -> dict[str, OrgUnit]:
    """Each unit's district or town: its ancestor just below the city (itself if it is one,
    or the city itself for a city). One query for the ancestors outside the loaded units."""
    loaded = {i.unit.code: i.unit for i in infos}
    wanted = {code for i in infos for code in i.chain} - set(loaded)
    if wanted:
        for u in OrgUnit.objects.filter(code__in=wanted).only(*_UNIT_FIELDS):
            loaded[u.code] = u
    areas: dict[str, OrgUnit] = {}
    for info in infos:
        chain = info.chain
        area = info.unit
        for index, code in enumerate(chain):
            ancestor = loaded.get(code)
            if ancestor is not None and ancestor.level == "city":
                below = chain[index + 1] if index + 1 < len(chain) else code
                area = loaded.get(below, info.unit)
                break
        areas[info.unit.code] = area
    return areas


# --- reporting statuses ------------------------------------------------------------------------


@dataclass
class UnitPeriodStatus:
    """The reporting state of one unit for one period under one schedule, on ``as_of``."""

    unit: OrgUnit
    area: OrgUnit
    schedule: ScheduleInfo
    period: str
    opens_on: date
    deadline: date
    as_of: date
    state: str
    due: int
    reported: int
    approved: int
    element_ids: frozenset[int] = field(repr=False, default=frozenset())
    chain: list[str] = field(repr=False, default_factory=list)

    @property
    def missing(self) -> int:
        return max(self.due - self.reported, 0)

    @property
    def days_late(self) -> int:
        """Days past the deadline (negative: days left)."""
        return (self.as_of - self.deadline).days

    @property
    def days_left(self) -> int:
        return -self.days_late

    @property
    def shown(self) -> StateShown:
        return state_shown(self.state)

    @property
    def unit_name(self) -> str:
        return name_of(self.unit)

    @property
    def area_name(self) -> str:
        return name_of(self.area)

    @property
    def locked(self) -> bool:
        return self.state == rules.APPROVED

    @property
    def sort_key(self) -> tuple:
        return (rules.URGENCY[self.state], -self.days_late, self.unit.path, self.period)


def _compute(
    infos: list[UnitInfo],
    *,
    as_of: date,
    period: str = "",
    period_type: str = "",
    schedule_code: str = "",
) -> list[UnitPeriodStatus]:
    if not infos:
        return []
    schedules = active_schedules(code=schedule_code, period_type=period_type)
    if not schedules:
        return []
    horizon = horizon_days()
    views = {
        s.id: set(map(str, rules.periods_in_view(s.rule, as_of=as_of, horizon_days=horizon)))
        for s in schedules
    }
    by_id = {s.id: s for s in schedules}
    types = sorted({s.period_type for s in schedules})
    elements_by_type: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for eid, level, ptype in DataElement.objects.filter(period_type__in=types).values_list(
        "id", "level", "period_type"
    ):
        elements_by_type[ptype].append((eid, tier_of(level)))

    # Units that owe the same elements under the same schedules form one group.
    groups: dict[tuple, list[UnitInfo]] = defaultdict(list)
    for info in infos:
        covering = tuple(s.id for s in schedules if s.covers_unit(info.unit.path))
        if covering:
            groups[(info.reporting_class, covering)].append(info)

    # (schedule, elements, periods) → units: one aggregate query each.
    work: dict[tuple[int, frozenset[int]], dict[str, list[UnitInfo]]] = defaultdict(dict)
    for (klass, covering), members in groups.items():
        tier, parent_tier, is_leaf = klass
        for ptype in types:
            owed = [
                eid
                for eid, etier in elements_by_type.get(ptype, ())
                if unit_reports(
                    unit_tier=tier, parent_tier=parent_tier, is_leaf=is_leaf, element_tier=etier
                )
            ]
            if not owed:
                continue
            candidates = [by_id[k] for k in covering if by_id[k].period_type == ptype]
            periods = set().union(*(views[s.id] for s in candidates)) if candidates else set()
            if period:
                periods &= {period}
            for p_text in periods:
                p = _parse(p_text)
                assigned: dict[int, set[int]] = defaultdict(set)
                for eid in owed:
                    chosen = rules.choose_schedule(
                        (s.candidate for s in candidates if s.covers_element(eid)), p
                    )
                    if chosen is not None and p_text in views[chosen.key]:
                        assigned[chosen.key].add(eid)
                for sid, eids in assigned.items():
                    bucket = work[(sid, frozenset(eids))].setdefault(p_text, [])
                    bucket.extend(members)

    results: list[UnitPeriodStatus] = []
    areas = _areas(infos)
    for (sid, eids), by_period in work.items():
        schedule = by_id[sid]
        unit_ids = {m.unit.id for members in by_period.values() for m in members}
        counts = {
            (row["org_unit_id"], row["period"]): row
            for row in DataValue.objects.filter(
                org_unit_id__in=unit_ids, period__in=list(by_period), element_id__in=eids
            )
            .values("org_unit_id", "period")
            .annotate(
                reported=Count("id", filter=Q(state__in=[DataValue.SUBMITTED, DataValue.APPROVED])),
                approved=Count("id", filter=Q(state=DataValue.APPROVED)),
            )
        }
        for p_text, members in by_period.items():
            p = _parse(p_text)
            deadline = rules.deadline_for(schedule.rule, p)
            opens = rules.opens_on(schedule.rule, p)
            for info in members:
                row = counts.get((info.unit.id, p_text), {})
                tally = rules.Tally(
                    due=len(eids),
                    reported=row.get("reported", 0),
                    approved=row.get("approved", 0),
                )
                results.append(
                    UnitPeriodStatus(
                        unit=info.unit,
                        area=areas[info.unit.code],
                        schedule=schedule,
                        period=p_text,
                        opens_on=opens,
                        deadline=deadline,
                        as_of=as_of,
                        state=rules.reporting_state(
                            rule=schedule.rule, period=p, as_of=as_of, tally=tally
                        ),
                        due=tally.due,
                        reported=tally.reported,
                        approved=tally.approved,
                        element_ids=eids,
                        chain=info.chain,
                    )
                )
    results.sort(key=lambda s: s.sort_key)
    return results


def _parse(text: str) -> Period:
    return Period.parse(text)


def reporting_statuses(
    user,
    *,
    as_of: date | None = None,
    root: OrgUnit | None = None,
    period: str = "",
    period_type: str = "",
    schedule_code: str = "",
    states: Iterable[str] | None = None,
    action: str = scopes.READ,
) -> list[UnitPeriodStatus]:
    """Every (schedule, unit, period) in view on ``as_of`` (default: today) inside ``user``'s
    ``action`` scope (and ``root``'s subtree), most urgent first; ``states`` keeps only those.

    A period is in view from the day reporting opens until ``REMINDER_HORIZON_DAYS`` after its
    deadline. The caller checks that ``user`` may read ``root``.
    """
    paths = _paths_under(scopes.scope_paths(user, action), root)
    statuses = _compute(
        _load_units(paths),
        as_of=as_of or today(),
        period=period,
        period_type=period_type,
        schedule_code=schedule_code,
    )
    if states is not None:
        wanted = set(states)
        statuses = [s for s in statuses if s.state in wanted]
    return statuses


def all_statuses(*, as_of: date, states: Iterable[str] | None = None) -> list[UnitPeriodStatus]:
    """Every unit's statuses, for the reminder job (no user: the whole tree)."""
    statuses = _compute(_load_units(None), as_of=as_of)
    if states is not None:
        wanted = set(states)
        statuses = [s for s in statuses if s.state in wanted]
    return statuses


def who_has_not_reported(
    user,
    *,
    as_of: date | None = None,
    root: OrgUnit | None = None,
    period: str = "",
    period_type: str = "",
    late_only: bool = False,
    action: str = scopes.READ,
) -> list[UnitPeriodStatus]:
    """The units in ``user``'s scope that still owe figures for a period in view: overdue
    first (longest late first), then due soon, then open (unless ``late_only``: overdue only).

    Each row carries ``unit``, ``area`` (its district/town), ``period``, ``deadline``,
    ``days_late``, ``due``/``reported``/``missing`` counts and ``shown`` (label, icon, light).
    """
    states = (rules.OVERDUE,) if late_only else rules.NOT_REPORTED
    return reporting_statuses(
        user,
        as_of=as_of,
        root=root,
        period=period,
        period_type=period_type,
        states=states,
        action=action,
    )


def status_map(
    user,
    *,
    as_of: date | None = None,
    root: OrgUnit | None = None,
    period: str = "",
    action: str = scopes.READ,
) -> dict[tuple[str, str], UnitPeriodStatus]:
    """The reporting state of every (unit code, period) in view, for pages that show many
    units at once (the reviewer inbox's groups): one call, then a lookup per row. Where two
    schedules cover one unit and period, the more urgent state is kept."""
    found: dict[tuple[str, str], UnitPeriodStatus] = {}
    for s in reporting_statuses(user, as_of=as_of, root=root, period=period, action=action):
        found.setdefault((s.unit.code, s.period), s)  # sorted most urgent first
    return found


def unit_statuses(
    user, unit: OrgUnit, *, as_of: date | None = None, action: str = scopes.READ
) -> list[UnitPeriodStatus]:
    """One unit's own periods in view (not its subtree), newest period first. Empty when the
    unit is outside ``user``'s scope."""
    if not scopes.can(user, action, unit):
        return []
    statuses = _compute([_one_unit(unit)], as_of=as_of or today())
    return sorted(statuses, key=lambda s: (s.schedule.period_type, s.period), reverse=True)


def period_is_locked(unit: OrgUnit, period: str, *, as_of: date | None = None) -> bool:
    """Whether every value due from ``unit`` for ``period`` is approved (officials can then
    change none of them until a reviewer reopens the period)."""
    statuses = [
        s
        for s in _compute([_one_unit(unit)], as_of=as_of or today(), period=period)
        if s.period == period
    ]
    return bool(statuses) and all(s.state == rules.APPROVED for s in statuses)


@dataclass
class AreaCounts:
    """Counts of (unit, period) reports per district/town, by state."""

    area: OrgUnit
    counts: dict[str, int] = field(default_factory=dict)
    late_units: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        return name_of(self.area)

    @property
    def overdue(self) -> int:
        return self.counts.get(rules.OVERDUE, 0)

    @property
    def due_soon(self) -> int:
        return self.counts.get(rules.DUE_SOON, 0)

    @property
    def open(self) -> int:
        return self.counts.get(rules.OPEN, 0)

    @property
    def submitted(self) -> int:
        return self.counts.get(rules.SUBMITTED, 0)

    @property
    def approved(self) -> int:
        return self.counts.get(rules.APPROVED, 0)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def units_late(self) -> int:
        return len(self.late_units)


def counts_by_area(statuses: Iterable[UnitPeriodStatus]) -> list[AreaCounts]:
    """Per district/town: how many (unit, period) reports are in each state, and how many
    units are late; the areas with the most overdue first."""
    areas: dict[str, AreaCounts] = {}
    for s in statuses:
        entry = areas.setdefault(s.area.code, AreaCounts(area=s.area))
        entry.counts[s.state] = entry.counts.get(s.state, 0) + 1
        if s.state == rules.OVERDUE:
            entry.late_units.add(s.unit.code)
    return sorted(areas.values(), key=lambda a: (-a.overdue, -a.due_soon, a.area.path))


def missing_elements(status: UnitPeriodStatus) -> list[tuple[DataElement, str | None]]:
    """The elements a unit owes for the status's period with their value state (``None``: no
    value), unreported first."""
    elements = list(DataElement.objects.filter(id__in=status.element_ids).order_by("code"))
    states = dict(
        DataValue.objects.filter(
            org_unit=status.unit, period=status.period, element_id__in=status.element_ids
        ).values_list("element_id", "state")
    )
    rows = [(e, states.get(e.id)) for e in elements]
    reported = (DataValue.SUBMITTED, DataValue.APPROVED)
    return sorted(rows, key=lambda r: (r[1] in reported, r[0].code))


def reopens_for(unit: OrgUnit) -> QuerySet[PeriodReopen]:
    return PeriodReopen.objects.filter(org_unit=unit).select_related("actor")


# --- who is told -----------------------------------------------------------------------------


def role_holders(role: str) -> dict[str, list[int]]:
    """Active users holding ``role``, by unit code (one query, for the whole tree)."""
    holders: dict[str, list[int]] = defaultdict(list)
    for code, user_id in RoleAssignment.objects.filter(role=role, user__is_active=True).values_list(
        "org_unit__code", "user_id"
    ):
        holders[code].append(user_id)
    return holders


# --- notifications ---------------------------------------------------------------------------


def notifications_for(user, *, unread_only: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.filter(recipient=user).select_related("org_unit", "schedule", "actor")
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-id")


def unread_count(user) -> int:
    if not (user and user.is_authenticated):
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()

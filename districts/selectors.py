"""Reads for the data-entry, upload, review and history pages, always inside the user's scope.

Which elements a unit reports: an element's ``level`` is the lowest level at which it is
reported; higher units get aggregates. On each branch of the tree the figure is entered by the
first unit at or below that level (so in Dongguan, where towns sit directly under the city, a
district-level figure is entered by the towns), and by a leaf unit above that level when nothing
below it could report it (a town whose communities are not in the tree yet). An element without
a level may be entered by any unit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Min, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from core.numbers import plain
from core.periods import Period, PeriodError, period_for_date
from core.text import is_english, name_of, title_of, unit_label
from targets.models import DataElement, Indicator

from . import scopes
from .models import DataValue, DataValueChange, OrgUnit, UploadJob
from .rules import BOOLEAN, BOOLEAN_WORDS, OUTLIER_FACTOR, not_above_violation, outlier_kind

# Tiers of the tree: towns and subdistricts (镇/街道) are one tier, communities and villages
# (社区/村) another, as in districts.levels.COVERAGE_LEVEL_MEMBERS.
TIER = {
    "country": 0,
    "province": 1,
    "city": 2,
    "district": 3,
    "town": 4,
    "subdistrict": 4,
    "community": 5,
    "village": 5,
    "grid": 6,
}
ANY_LEVEL = -1

INBOX_PAGE_SIZE = 200
HISTORY_PAGE_SIZE = 200


def tier_of(level: str) -> int:
    return TIER.get(level, ANY_LEVEL) if level else ANY_LEVEL


def unit_reports(
    *, unit_tier: int, parent_tier: int | None, is_leaf: bool, element_tier: int
) -> bool:
    """Whether a unit enters an element's value itself (see the module docstring)."""
    if element_tier == ANY_LEVEL:
        return True
    if unit_tier >= element_tier:
        return parent_tier is None or parent_tier < element_tier
    return is_leaf


# --- org units and periods ---------------------------------------------------------------------


def unit_for(user, code: str, action: str) -> OrgUnit:
    """The unit with ``code`` if ``user`` may ``action`` on it.

    Raises Http404 when the unit does not exist or lies outside every scope of the user, and
    PermissionDenied when the user may read it but not ``action`` on it.
    """
    unit = OrgUnit.objects.filter(code=code.strip()).select_related("parent").first()
    if unit is None or not scopes.can(user, scopes.READ, unit):
        raise Http404("org unit")
    if not scopes.can(user, action, unit):
        raise PermissionDenied("org unit outside scope")
    return unit


def unit_choices(user, action: str) -> list[tuple[str, str]]:
    """(code, indented name) of every unit the user may ``action`` on, in tree order."""
    units = (
        scopes.units_in_scope(user, action)
        .order_by("path")
        .only("code", "name_zh", "name_en", "depth")
    )
    units = list(units)
    top = min((u.depth for u in units), default=0)
    # Indented with no-break spaces: an ideographic space is a full-width character on an
    # English page.
    indent = "\u00a0\u00a0"
    return [(u.code, f"{indent * (u.depth - top)}{name_of(u)} ({u.code})") for u in units]


def default_period(period_type: str = "year", today=None) -> Period:
    """Last year: what an official usually reports."""
    today = today or date.today()
    return period_for_date(today, period_type).previous()


# --- the entry grid --------------------------------------------------------------------------


@dataclass
class PeriodChoice:
    """One option of the entry form's period picker."""

    value: str
    label: str
    state: str = ""  # the reporting state (supervision.rules) when the period is in view


def reported_period_types(unit: OrgUnit) -> list[str]:
    """The period types (year, quarter, month) for which ``unit`` enters at least one element."""
    parent_tier, is_leaf = _reporting_context(unit)
    unit_tier = tier_of(unit.level)
    return sorted(
        {
            ptype
            for ptype, level in DataElement.objects.values_list("period_type", "level").distinct()
            if unit_reports(
                unit_tier=unit_tier,
                parent_tier=parent_tier,
                is_leaf=is_leaf,
                element_tier=tier_of(level),
            )
        }
    )


def entry_period_choices(unit: OrgUnit, statuses, current: str = "") -> list[PeriodChoice]:
    """The periods an official may open for ``unit``: those in view under a reporting schedule
    (``statuses``: supervision.selectors.unit_statuses, with their state and deadline) and those
    that already have values, of the period types the unit reports — never a year the unit has
    nothing to enter for. ``current`` (a period opened by a link) is kept so the picker shows
    what the grid shows."""
    types = set(reported_period_types(unit))
    choices: dict[str, PeriodChoice] = {}
    for s in statuses:
        if s.schedule.period_type in types and s.period not in choices:
            shown = s.shown
            label = _("%(period)s · %(state)s · 截止 %(deadline)s") % {
                "period": s.period,
                "state": shown.label,
                "deadline": s.deadline.isoformat(),
            }
            choices[s.period] = PeriodChoice(value=s.period, label=label, state=s.state)
    for text in periods_with_values(None, unit):
        try:
            ptype = Period.parse(text).period_type
        except (ValueError, PeriodError):
            continue
        if ptype in types and text not in choices:
            choices[text] = PeriodChoice(value=text, label=text)
    if current and current not in choices:
        choices[current] = PeriodChoice(value=current, label=current)
    # Most urgent first (what is due now), then newest first.
    urgency = {"overdue": 0, "due_soon": 1, "open": 2}
    return sorted(choices.values(), key=lambda c: (urgency.get(c.state, 3), _neg_key(c.value)))


def template_period_choices(user, statuses) -> list[tuple[str, str]]:
    """(value, label) of the periods a template may be asked for: those open under a reporting
    schedule in the user's write scope (``statuses``, most urgent first) and those that already
    have values there."""
    seen: dict[str, str] = {}
    for s in statuses:
        seen.setdefault(s.period, f"{s.period} · {s.shown.label}")
    with_values = (
        scopes.filter_in_scope(DataValue.objects.all(), user, scopes.WRITE)
        .values_list("period", flat=True)
        .distinct()
        .order_by("-period")[:24]
    )
    for period in with_values:
        seen.setdefault(period, period)
    return list(seen.items())


def _neg_key(text: str) -> tuple:
    return tuple(-ord(ch) for ch in text)


@dataclass
class GridRow:
    """One element on the entry form for one unit and period."""

    element: DataElement
    name: str
    value: DataValue | None
    previous: DataValue | None
    text: str = ""  # what the cell shows (the stored value, or what the user typed)
    comment: str = ""
    error: str = ""
    warning: str = ""
    section: str = ""

    @property
    def is_boolean(self) -> bool:
        return self.element.value_type == BOOLEAN

    @property
    def yes(self) -> bool | None:
        """A yes/no cell's state: True, False, or None when nothing is entered."""
        text = self.text.strip().casefold()
        if not text:
            return None
        if text in BOOLEAN_WORDS:
            return bool(BOOLEAN_WORDS[text])
        return None

    @property
    def unit_shown(self) -> str:
        return unit_label(self.element.unit)

    @property
    def expected(self) -> tuple[str, str] | None:
        """The range a value is expected in, from the outlier rule (districts.rules): within
        :data:`OUTLIER_FACTOR` of last period's value either way."""
        if self.previous is None or self.is_boolean or self.previous.value is None:
            return None
        prev = self.previous.value
        if prev <= 0:
            return None
        low = (prev / OUTLIER_FACTOR).quantize(Decimal("0.01"))
        return plain(low), plain(prev * OUTLIER_FACTOR)

    @property
    def locked(self) -> bool:
        return self.value is not None and self.value.state == DataValue.APPROVED

    @property
    def version(self) -> int:
        return self.value.version if self.value is not None else 0

    @property
    def previous_shown(self) -> str:
        return plain(self.previous.value) if self.previous is not None else ""

    @property
    def input_name(self) -> str:
        return f"v-{self.element.id}"


@dataclass
class GridSection:
    title: str
    rows: list[GridRow]


@dataclass
class Grid:
    unit: OrgUnit
    period: Period
    rows: list[GridRow] = field(default_factory=list)
    hidden: int = 0  # elements of this period type the unit does not report (shown on request)
    order: list[str] = field(default_factory=list)  # section titles, in plan and goal order

    @property
    def sections(self) -> list[GridSection]:
        """The rows grouped by the plan and goal that use them (names first, codes small), in
        the plans' order; elements no plan of the unit's city uses come last."""
        by_title: dict[str, list[GridRow]] = {}
        for row in self.rows:
            by_title.setdefault(row.section, []).append(row)
        titles = [t for t in self.order if t in by_title]
        titles += [t for t in by_title if t not in titles]
        return [GridSection(title=t, rows=by_title[t]) for t in titles]

    @property
    def outliers(self) -> int:
        return sum(1 for r in self.rows if r.warning)

    @property
    def editable(self) -> int:
        return sum(1 for r in self.rows if not r.locked)

    @property
    def submittable(self) -> int:
        return sum(
            1
            for r in self.rows
            if r.value is not None and r.value.state in (DataValue.DRAFT, DataValue.REJECTED)
        )


def outlier_note(current: Decimal | None, previous: Decimal | None) -> str:
    """The outlier rule (:func:`districts.rules.outlier_kind`) for one cell of the entry grid:
    ``"high"``, ``"low"`` or ``""``."""
    return outlier_kind(current, previous) or ""


def _reporting_context(unit: OrgUnit) -> tuple[int | None, bool]:
    parent_tier = tier_of(unit.parent.level) if unit.parent_id else None
    is_leaf = not OrgUnit.objects.filter(parent_id=unit.id).exists()
    return parent_tier, is_leaf


def elements_reported_by(unit: OrgUnit, period_type: str) -> tuple[list[DataElement], int]:
    """The elements ``unit`` enters for periods of ``period_type``, and how many other elements
    of that period type it does not (aggregated from below or reported above)."""
    parent_tier, is_leaf = _reporting_context(unit)
    unit_tier = tier_of(unit.level)
    elements = list(DataElement.objects.filter(period_type=period_type).order_by("code"))
    mine = [
        e
        for e in elements
        if unit_reports(
            unit_tier=unit_tier,
            parent_tier=parent_tier,
            is_leaf=is_leaf,
            element_tier=tier_of(e.level),
        )
    ]
    return mine, len(elements) - len(mine)


def entry_grid(*, unit: OrgUnit, period: Period, show_all: bool = False) -> Grid:
    """The entry form of ``unit`` for ``period``: its elements, their stored values (state,
    version, reviewer's comment) and last period's values. Three queries whatever the size."""
    mine, hidden = elements_reported_by(unit, period.period_type)
    if show_all:
        mine = list(DataElement.objects.filter(period_type=period.period_type).order_by("code"))
        hidden = 0
    previous = str(period.previous())
    stored = DataValue.objects.filter(
        org_unit=unit, period__in=[str(period), previous], element__in=mine
    ).select_related("reviewed_by", "updated_by")
    current: dict[int, DataValue] = {}
    before: dict[int, DataValue] = {}
    for v in stored:
        (current if v.period == str(period) else before)[v.element_id] = v
    grid = Grid(unit=unit, period=period, hidden=hidden)
    section_of, grid.order = _sections_for(unit, mine)
    other = _("其他数据项")
    for element in mine:
        value = current.get(element.id)
        prev = before.get(element.id)
        row = GridRow(
            element=element,
            name=name_of(element),
            value=value,
            previous=prev,
            section=section_of.get(element.id, other),
        )
        if value is not None:
            row.text = plain(value.value)
            row.comment = value.comment
            row.warning = outlier_note(value.value, prev.value if prev else None)
        grid.rows.append(row)
    return grid


def _sections_for(unit: OrgUnit, elements) -> tuple[dict[int, str], list[str]]:
    """Each element's section on the grid: the first plan and goal of the unit's city (or an
    ancestor's) whose indicators use it. One query."""
    ids = [e.id for e in elements]
    if not ids:
        return {}, []
    uses = (
        Q(element_id__in=ids)
        | Q(numerator_id__in=ids)
        | Q(denominator_id__in=ids)
        | Q(condition_element_id__in=ids)
        | Q(condition_numerator_id__in=ids)
        | Q(condition_denominator_id__in=ids)
    )
    indicators = (
        Indicator.objects.filter(uses)
        .select_related("plan", "plan__city", "goal")
        .order_by("plan__code", "goal__position", "goal__code", "id")
    )
    wanted = set(ids)
    section_of: dict[int, str] = {}
    order: list[str] = []
    for ind in indicators:
        if not unit.path.startswith(ind.plan.city.path):
            continue
        title = f"{title_of(ind.plan)} · {ind.goal.code} {title_of(ind.goal)}"
        for eid in (
            ind.element_id,
            ind.numerator_id,
            ind.denominator_id,
            ind.condition_element_id,
            ind.condition_numerator_id,
            ind.condition_denominator_id,
        ):
            if eid in wanted and eid not in section_of:
                section_of[eid] = title
                if title not in order:
                    order.append(title)
    return section_of, order


@dataclass
class TemplatePlan:
    """What an official must report for one period under one unit: (unit, elements) pairs."""

    period: Period
    units: list[tuple[OrgUnit, list[DataElement]]]

    @property
    def elements(self) -> list[DataElement]:
        seen: dict[int, DataElement] = {}
        for _unit, elements in self.units:
            for e in elements:
                seen.setdefault(e.id, e)
        return sorted(seen.values(), key=lambda e: e.code)


def reporting_plan(*, root: OrgUnit, period: Period) -> TemplatePlan:
    """Every unit of ``root``'s subtree with the elements it enters for ``period``.

    One pass over the subtree: a unit's parent tier and whether it has children come from the
    same list, so a city of thousands of communities costs two queries.
    """
    units = list(OrgUnit.objects.filter(path__startswith=root.path).order_by("path"))
    elements = list(DataElement.objects.filter(period_type=period.period_type).order_by("code"))
    by_id = {u.id: u for u in units}
    parents_of_children = {u.parent_id for u in units}
    root_parent_tier = tier_of(root.parent.level) if root.parent_id else None
    plan: list[tuple[OrgUnit, list[DataElement]]] = []
    for unit in units:
        if unit.id == root.id:
            parent_tier = root_parent_tier
        else:
            parent_tier = tier_of(by_id[unit.parent_id].level)
        unit_tier = tier_of(unit.level)
        is_leaf = unit.id not in parents_of_children
        mine = [
            e
            for e in elements
            if unit_reports(
                unit_tier=unit_tier,
                parent_tier=parent_tier,
                is_leaf=is_leaf,
                element_tier=tier_of(e.level),
            )
        ]
        if mine:
            plan.append((unit, mine))
    return TemplatePlan(period=period, units=plan)


# --- review ------------------------------------------------------------------------------


def inbox_queryset(
    user, *, unit_code: str = "", period: str = "", element: str = "", state: str = "submitted"
) -> QuerySet[DataValue]:
    """Values waiting for ``user``'s review (or in another state, for the filters), in scope.

    ``unit_code`` keeps that unit's whole subtree.
    """
    qs = scopes.filter_in_scope(DataValue.objects.all(), user, scopes.REVIEW)
    if state:
        qs = qs.filter(state=state)
    if unit_code:
        unit = OrgUnit.objects.filter(code=unit_code).only("path").first()
        qs = qs.filter(org_unit__path__startswith=unit.path) if unit else qs.none()
    if period:
        qs = qs.filter(period=period)
    if element:
        qs = qs.filter(element__code=element)
    return qs.select_related("element", "org_unit", "updated_by", "upload").order_by(
        "org_unit__path", "-period_end", "period", "element__code"
    )


@dataclass
class InboxGroup:
    unit: OrgUnit
    period: str
    values: list[DataValue]


def group_inbox(values) -> list[InboxGroup]:
    groups: list[InboxGroup] = []
    for v in values:
        if not groups or groups[-1].unit.id != v.org_unit_id or groups[-1].period != v.period:
            groups.append(InboxGroup(unit=v.org_unit, period=v.period, values=[]))
        groups[-1].values.append(v)
    return groups


def inbox_summary(user) -> dict:
    """Counts for the inbox's header: submitted values and how many units/periods."""
    qs = scopes.filter_in_scope(DataValue.objects.all(), user, scopes.REVIEW).filter(
        state=DataValue.SUBMITTED
    )
    return qs.aggregate(
        values=Count("id"),
        units=Count("org_unit", distinct=True),
        oldest=Min("updated_at"),
    )


def inbox_period_choices(user) -> list[str]:
    qs = scopes.filter_in_scope(DataValue.objects.all(), user, scopes.REVIEW).filter(
        state=DataValue.SUBMITTED
    )
    return sorted(set(qs.values_list("period", flat=True).distinct()[:200]), reverse=True)


def values_for_action(user, ids: list[int]) -> list[DataValue]:
    """The values a review/submit form names, each visible to ``user`` (else Http404: an id
    outside the user's read scope is treated as not existing)."""
    wanted = set(ids)
    found = list(scopes.filter_in_scope(DataValue.objects.filter(pk__in=wanted), user, scopes.READ))
    if len(found) != len(wanted):
        raise Http404("data value")
    return found


# --- history -----------------------------------------------------------------------------


def value_for(user, pk: int) -> DataValue:
    value = (
        scopes.filter_in_scope(DataValue.objects.all(), user, scopes.READ)
        .select_related("element", "org_unit", "created_by", "updated_by", "reviewed_by", "upload")
        .filter(pk=pk)
        .first()
    )
    if value is None:
        raise Http404("data value")
    return value


def value_history(value: DataValue) -> QuerySet[DataValueChange]:
    """Every change of the value's key (element, unit, period), including earlier incarnations
    removed by a rollback; newest first."""
    return (
        DataValueChange.objects.filter(
            element_code=value.element.code,
            org_unit_code=value.org_unit.code,
            period=value.period,
        )
        .select_related("actor", "upload")
        .order_by("-at", "-id")
    )


# --- uploads -----------------------------------------------------------------------------


def uploads_for(user) -> QuerySet[UploadJob]:
    """The uploads listed on the upload page: one's own (every upload for an administrator)."""
    qs = UploadJob.objects.select_related("created_by").order_by("-created_at", "-id")
    if not scopes.is_admin(user):
        qs = qs.filter(created_by=user)
    return qs


def upload_for(user, pk: int) -> UploadJob:
    """An upload its creator, an administrator or a reviewer of every unit it wrote may see;
    Http404 for anyone else."""
    job = UploadJob.objects.select_related("created_by").filter(pk=pk).first()
    if job is None or not scopes.upload_visible_to(user, job):
        raise Http404("upload")
    return job


def upload_changes(job: UploadJob) -> QuerySet[DataValueChange]:
    return DataValueChange.objects.filter(upload=job).select_related("actor").order_by("id")


def upload_touched_units(job: UploadJob) -> list[str]:
    return list(
        DataValueChange.objects.filter(upload=job)
        .values_list("org_unit_code", flat=True)
        .distinct()
        .order_by("org_unit_code")[:50]
    )


def periods_with_values(user, unit: OrgUnit) -> list[str]:
    """Periods that already have values for ``unit`` (newest first), for the period picker."""
    return list(
        DataValue.objects.filter(org_unit=unit)
        .values_list("period", flat=True)
        .distinct()
        .order_by("-period")[:24]
    )


def pending_review_count(user) -> int:
    if not (scopes.is_admin(user) or scopes.scope_paths(user, scopes.REVIEW)):
        return 0
    return (
        scopes.filter_in_scope(DataValue.objects.all(), user, scopes.REVIEW)
        .filter(state=DataValue.SUBMITTED)
        .count()
    )


def has_role(user, action: str) -> bool:
    return scopes.is_admin(user) or bool(scopes.scope_paths(user, action))


def rejected_groups(user, limit: int = 20) -> list[dict]:
    """Units and periods with values sent back by a reviewer, for the official's start page."""
    if not (scopes.is_admin(user) or scopes.scope_paths(user, scopes.WRITE)):
        return []
    rows = (
        scopes.filter_in_scope(DataValue.objects.all(), user, scopes.WRITE)
        .filter(state=DataValue.REJECTED)
        .values("org_unit__code", "org_unit__name_zh", "org_unit__name_en", "period")
        .annotate(n=Count("id"))
        .order_by("org_unit__code", "period")[:limit]
    )
    english = is_english()
    return [
        {
            "code": r["org_unit__code"],
            "name": (english and r["org_unit__name_en"]) or r["org_unit__name_zh"],
            "period": r["period"],
            "n": r["n"],
        }
        for r in rows
    ]


def overlay_posted(
    grid: Grid, cells, errors: dict[str, str], warnings: dict[str, str] | None = None
) -> None:
    """Show a refused form again as the official typed it, with each cell's message and the
    warnings ("high", "low", "empty") "complete" asks to confirm."""
    by_element = {c.element.id: c for c in cells}
    warnings = warnings or {}
    for row in grid.rows:
        cell = by_element.get(row.element.id)
        if cell is not None:
            row.text, row.comment = cell.text, cell.comment
        row.error = errors.get(row.element.code, "")
        row.warning = warnings.get(row.element.code, "")


def annotate_values(values) -> None:
    """Display strings and names for the inbox (no queries)."""
    for v in values:
        v.shown = plain(v.value)
        v.element_name = name_of(v.element)
        v.unit_shown = unit_label(v.element.unit)
        v.org_unit.display_name = name_of(v.org_unit)


def _previous_label(period: str) -> str:
    try:
        return str(Period.parse(period).previous())
    except (ValueError, PeriodError):
        return ""


def annotate_review(values) -> None:
    """What a reviewer should see beside each value: the previous period's value and the change,
    and the flags of :mod:`districts.rules` — an outlier against the previous period and a part
    larger than its whole (``not_above``) — so "30 against 3 last year" stands out. Two queries
    for the whole page."""
    values = list(values)
    annotate_values(values)
    if not values:
        return
    units = {v.org_unit_id for v in values}
    wanted_prev = {(v.element_id, v.org_unit_id, _previous_label(v.period)) for v in values}
    prev_rows = DataValue.objects.filter(
        org_unit_id__in=units,
        element_id__in={e for e, _u, _p in wanted_prev},
        period__in={p for _e, _u, p in wanted_prev if p},
    ).values_list("element_id", "org_unit_id", "period", "value")
    previous = {(e, u, p): val for e, u, p, val in prev_rows}
    limit_ids = {v.element.not_above_id for v in values if v.element.not_above_id}
    limits: dict[tuple[int, int, str], Decimal] = {}
    limit_names: dict[int, str] = {}
    if limit_ids:
        rows = DataValue.objects.filter(
            org_unit_id__in=units,
            element_id__in=limit_ids,
            period__in={v.period for v in values},
        ).values_list("element_id", "org_unit_id", "period", "value")
        limits = {(e, u, p): val for e, u, p, val in rows}
        limit_names = {e.id: name_of(e) for e in DataElement.objects.filter(id__in=limit_ids)}
    for v in values:
        v.previous_period = _previous_label(v.period)
        prev = previous.get((v.element_id, v.org_unit_id, v.previous_period))
        v.previous_shown = plain(prev) if prev is not None else ""
        v.change_shown = ""
        if prev is not None and v.value is not None:
            delta = v.value - prev
            v.change_shown = ("+" if delta > 0 else "") + plain(delta)
            if prev:
                v.change_shown += f" ({delta / prev * 100:+.0f}%)"
        v.outlier = outlier_kind(v.value, prev) or ""
        v.not_above_problem = ""
        if v.element.not_above_id and v.value is not None:
            limit = limits.get((v.element.not_above_id, v.org_unit_id, v.period))
            v.not_above_problem = (
                not_above_violation(
                    v.value, limit, other=limit_names.get(v.element.not_above_id, "")
                )
                or ""
            )
        v.flagged = bool(v.outlier or v.not_above_problem)


_STATE_LABELS = dict(DataValue.STATE_CHOICES)
_SOURCE_LABELS = dict(DataValue.SOURCE_CHOICES)


def annotate_changes(changes) -> None:
    """Display strings for history rows (no queries)."""
    for c in changes:
        c.old_shown = plain(c.old_value)
        c.new_shown = plain(c.new_value)
        c.old_state_label = _STATE_LABELS.get(c.old_state, c.old_state)
        c.new_state_label = _STATE_LABELS.get(c.new_state, c.new_state)
        c.source_label = _SOURCE_LABELS.get(c.source, c.source)

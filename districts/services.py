"""Writes to the org-unit tree and to roles."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from core.periods import Period
from core.text import bilingual
from targets.models import DataElement

from . import scopes
from .intake import upload_create, upload_errors_csv, upload_process, upload_rollback
from .intake.orgunits import order_orgunit_rows, parse_orgunit_file
from .intake.tables import TabularError
from .models import DataValue, DataValueChange, OrgUnit, RoleAssignment
from .rules import BOOLEAN, check_value, element_rule, not_above_violation, outlier_kind
from .signals import announce_approved_values_changed, values_rejected


class OrgUnitImportError(ValueError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class OrgUnitImportResult:
    created: int
    updated: int
    unchanged: int


def orgunits_import(*, data: bytes, filename: str = "") -> OrgUnitImportResult:
    """Create or update org units from a §4.2 file; all or nothing. Parents may come after
    their children in the file or already exist in the database."""
    try:
        rows, errors = parse_orgunit_file(data)
    except TabularError as exc:
        raise OrgUnitImportError([f"{filename}: {exc}"]) from exc
    existing = {u.code: u for u in OrgUnit.objects.all()}
    ordered, problems = order_orgunit_rows(rows, set(existing))
    problems = sorted([*errors, *problems], key=lambda e: e.line)
    if problems:
        # Every bad row at once, so the author fixes the file in one pass.
        raise OrgUnitImportError([f"{filename}: {p}" for p in problems])
    return _write_orgunits(ordered, existing)


@transaction.atomic
def _write_orgunits(ordered, existing: dict[str, OrgUnit]) -> OrgUnitImportResult:
    created = updated = unchanged = 0
    moved: list[OrgUnit] = []
    for row in ordered:
        parent = existing.get(row.parent_code) if row.parent_code else None
        unit = existing.get(row.code)
        if unit is None:
            unit = OrgUnit(code=row.code)
            created += 1
        fields = {
            "name_zh": row.name_zh,
            "name_en": row.name_en or (unit.name_en if unit.pk else ""),
            "level": row.level,
            "parent_id": parent.id if parent else None,
        }
        dirty = [k for k, v in fields.items() if getattr(unit, k) != v]
        if unit.pk and not dirty:
            unchanged += 1
            continue
        if unit.pk:
            updated += 1
        for k in dirty:
            setattr(unit, k, fields[k])
        was_path = unit.path
        _set_path(unit, parent)
        unit.save()
        if was_path and was_path != unit.path:
            moved.append(unit)
        existing[unit.code] = unit
    for unit in moved:
        orgunit_rebuild_subtree_paths(root=unit)
    return OrgUnitImportResult(created, updated, unchanged)


def _set_path(unit: OrgUnit, parent: OrgUnit | None) -> None:
    unit.path = f"{parent.path if parent else ''}{unit.code}/"
    unit.depth = parent.depth + 1 if parent else 0


def orgunit_save(*, unit: OrgUnit) -> OrgUnit:
    """Save one unit, keeping its ``path`` (and its descendants' paths) consistent."""
    parent = OrgUnit.objects.get(pk=unit.parent_id) if unit.parent_id else None
    if parent and parent.path.startswith(f"{unit.path}") and unit.path:
        raise ValueError(f"{unit.code}: a unit cannot move under its own descendant")
    old_path = unit.path
    _set_path(unit, parent)
    with transaction.atomic():
        unit.save()
        if old_path and old_path != unit.path:
            orgunit_rebuild_subtree_paths(root=unit)
    return unit


def orgunit_rebuild_subtree_paths(*, root: OrgUnit) -> None:
    """Recompute paths below ``root`` after it moved."""
    frontier = [root]
    while frontier:
        children = list(OrgUnit.objects.filter(parent__in=frontier))
        by_id = {u.id: u for u in frontier}
        for child in children:
            _set_path(child, by_id[child.parent_id])
        OrgUnit.objects.bulk_update(children, ["path", "depth"])
        frontier = children


class RoleGrantRefused(PermissionDenied):
    """The acting user may not grant (or remove) that role there (districts.scopes.can_grant)."""


def role_grant(
    *,
    username: str,
    role: str,
    org_unit_code: str,
    create: bool = False,
    actor=None,
):
    """Give ``username`` ``role`` on an org unit (its whole subtree); idempotent.

    With an ``actor`` (a person in the portal, the admin, or ``grant_role --as``) the grant must
    lie within the actor's scope and not above the actor's own role (scopes.can_grant), and it is
    written to the audit log. Without one it is the operator's own command line.
    """
    if role not in {r for r, _label in RoleAssignment.ROLE_CHOICES}:
        raise ValueError(f"unknown role “{role}”: use official, reviewer or leader")
    try:
        unit = OrgUnit.objects.get(code=org_unit_code)
    except OrgUnit.DoesNotExist:
        raise ValueError(f"org unit “{org_unit_code}” does not exist") from None
    if actor is not None and not scopes.can_grant(actor, role, unit):
        raise RoleGrantRefused(
            bilingual(
                f"{actor.get_username()} 无权在 {unit.code} 授予“{role}”角色",
                f"{actor.get_username()} may not grant the {role} role on {unit.code}",
            )
        )
    User = get_user_model()
    with transaction.atomic():
        user = User.objects.filter(username=username).first()
        if user is None:
            if not create:
                raise ValueError(f"user “{username}” does not exist (use --create)")
            user = User.objects.create_user(username=username)
        assignment, created = RoleAssignment.objects.get_or_create(
            user=user, role=role, org_unit=unit, department=None
        )
        if created:
            audit_record(
                actor=actor,
                action="role.grant",
                target=assignment,
                detail={"user": user.get_username(), "role": role, "org_unit": unit.code},
            )
    return user, assignment, created


@transaction.atomic
def role_remove(*, assignment: RoleAssignment, actor=None) -> None:
    """Take a role away; the same rule as granting it applies to ``actor``."""
    if actor is not None and not scopes.can_grant(actor, assignment.role, assignment.org_unit):
        raise RoleGrantRefused(
            bilingual(
                f"{actor.get_username()} 无权撤销 {assignment.org_unit.code} 的“{assignment.role}”角色",
                f"{actor.get_username()} may not remove the {assignment.role} role on "
                f"{assignment.org_unit.code}",
            )
        )
    audit_record(
        actor=actor,
        action="role.remove",
        target=assignment,
        detail={
            "user": assignment.user.get_username(),
            "role": assignment.role,
            "org_unit": assignment.org_unit.code,
        },
    )
    assignment.delete()


# The national root and provinces above the four cities, so that a leader role on a province
# or on the country is how cross-city comparison is granted (SPEC §5).
_ROOTS = [
    ("CN", "中国", "China", "country", None),
    ("440000", "广东省", "Guangdong", "province", "CN"),
    ("350000", "福建省", "Fujian", "province", "CN"),
]
_CITY_PROVINCE = {"442000": "440000", "441900": "440000", "440300": "440000", "350200": "350000"}
_KIND_LEVEL = {"town": "town", "subdistrict": "subdistrict", "district": "district"}


@transaction.atomic
def reference_orgunits_load(*, divisions: dict) -> OrgUnitImportResult:
    """Load the four cities and their real first-level units (official codes, names, and
    resident population with its year and source) from four-cities-divisions.json."""
    created = updated = unchanged = 0

    def upsert(code, parent, **fields) -> OrgUnit:
        nonlocal created, updated, unchanged
        unit = OrgUnit.objects.filter(code=code).first()
        if unit is None:
            unit, is_new = OrgUnit(code=code), True
        else:
            is_new = False
        fields["parent_id"] = parent.id if parent else None
        dirty = [k for k, v in fields.items() if getattr(unit, k) != v]
        if not is_new and not dirty:
            unchanged += 1
            return unit
        for k in dirty:
            setattr(unit, k, fields[k])
        orgunit_save(unit=unit)
        created += is_new
        updated += not is_new
        return unit

    roots: dict[str, OrgUnit] = {}
    for code, name_zh, name_en, level, parent in _ROOTS:
        roots[code] = upsert(code, roots.get(parent), name_zh=name_zh, name_en=name_en, level=level)
    for city in divisions["cities"]:
        city_unit = upsert(
            city["code"],
            roots[_CITY_PROVINCE[city["code"]]],
            name_zh=city["name_zh"],
            name_en=city["name_en"],
            level="city",
            population=city.get("population_2020"),
            population_year=2020 if city.get("population_2020") else None,
            population_source=city.get("source", ""),
        )
        kinds = [d["kind"] for d in city["divisions"] if d["kind"] in _KIND_LEVEL]
        # "other" units (development zones, new areas) sit at the tier of their siblings.
        sibling_level = "district" if "district" in kinds else "town"
        for d in city["divisions"]:
            code = d["code"]
            source = d.get("source", "")
            if not code:
                # Functional areas (大鹏新区, 深汕特别合作区) have no statistical division code:
                # the portal gives them a stable one derived from the pinyin name, and says so.
                code = f"{city['code']}-{d['name_en'].split()[0].lower().replace('-', '')}"
                source = (
                    f"无官方区划代码，代码由本平台分配（no official code; assigned here）. {source}"
                )
            upsert(
                code,
                city_unit,
                name_zh=d["name_zh"],
                name_en=d["name_en"],
                level=_KIND_LEVEL.get(d["kind"], sibling_level),
                population=d.get("population"),
                population_year=d.get("year"),
                population_source=source,
            )
    return OrgUnitImportResult(created, updated, unchanged)


# --- data values --------------------------------------------------------------------------
# Every write of a value goes through these functions: they check the scope, keep the review
# state machine, bump the version (optimistic locking for concurrent edits) and write history.


class StaleVersionError(ValidationError):
    """The value changed since the client read it (a concurrent edit)."""


def _record(
    value: DataValue,
    *,
    action: str,
    actor,
    source: str,
    old_value=None,
    old_state: str = "",
    comment: str = "",
    upload=None,
) -> DataValueChange:
    return DataValueChange.objects.create(
        data_value=value,
        element_code=value.element.code,
        org_unit_code=value.org_unit.code,
        period=value.period,
        action=action,
        old_value=old_value,
        new_value=value.value,
        old_state=old_state,
        new_state=value.state,
        source=source,
        upload=upload,
        actor=actor,
        comment=comment,
    )


def check_value_for_element(element, value: Decimal) -> None:
    """The per-element rules (districts.rules), applied to one value, so the entry
    form, the API and a file accept and refuse exactly the same figures."""
    try:
        check_value(format(value.normalize(), "f"), element_rule(element))
    except ValueError as exc:
        raise ValidationError({"value": f"{element.code}: {exc}"}) from exc


def value_save(
    *,
    actor,
    element,
    org_unit,
    period: Period,
    value: Decimal,
    comment: str = "",
    source: str = "form",
    submit: bool = False,
    expected_version: int | None = None,
) -> DataValue:
    """Enter or change one value as ``actor`` (an official in scope, or an administrator).

    Approved values are locked: only a reviewer's reopen makes them editable again. With
    ``expected_version`` the write fails if someone else changed the value meanwhile.
    """
    if not scopes.can(actor, scopes.WRITE, org_unit, element=element):
        raise PermissionDenied(f"{org_unit.code} 不在您的填报范围内（outside your scope）")
    if period.period_type != element.period_type:
        raise ValidationError(
            {
                "period": f"{element.code} 按{element.get_period_type_display()}填报，"
                f"“{period}” 不符（period type does not match）"
            }
        )
    check_value_for_element(element, value)
    with transaction.atomic():
        existing = (
            DataValue.objects.select_for_update()
            .select_related("element", "org_unit")
            .filter(element=element, org_unit=org_unit, period=str(period))
            .first()
        )
        if existing is None:
            if expected_version not in (None, 0):
                raise StaleVersionError({"version": "该数值已被删除（value no longer exists）"})
            row = DataValue.objects.create(
                element=element,
                org_unit=org_unit,
                period=str(period),
                period_start=period.start,
                period_end=period.end,
                value=value,
                comment=comment,
                source=source,
                created_by=actor,
                updated_by=actor,
                state=DataValue.SUBMITTED if submit else DataValue.DRAFT,
            )
            _record(row, action="create", actor=actor, source=source, comment=comment)
            return row
        if expected_version is not None and existing.version != expected_version:
            raise StaleVersionError(
                {
                    "version": f"数值已被他人修改（version {existing.version}, you sent "
                    f"{expected_version}）：请刷新后重试"
                }
            )
        if existing.state == DataValue.APPROVED:
            raise ValidationError(
                {"value": "已审核的数值已锁定，需审核员重新开放（approved values are locked）"}
            )
        new_state = DataValue.SUBMITTED if submit else existing.state
        if new_state == DataValue.REJECTED:
            new_state = DataValue.DRAFT  # a corrected rejected value goes back to draft
        if existing.value == value and existing.comment == comment and existing.state == new_state:
            return existing
        old_value, old_state = existing.value, existing.state
        existing.value, existing.comment, existing.state = value, comment, new_state
        existing.source, existing.updated_by = source, actor
        existing.version += 1
        existing.save()
        _record(
            existing,
            action="update",
            actor=actor,
            source=source,
            old_value=old_value,
            old_state=old_state,
            comment=comment,
        )
        return existing


def _transition(
    *,
    actor,
    values,
    action: str,
    to_state: str,
    from_states: set[str],
    scope_action: str,
    comment: str = "",
    source: str = "form",
) -> list[DataValue]:
    """Move values between review states, all or none; each move is recorded."""
    changed: list[DataValue] = []
    with transaction.atomic():
        rows = list(
            DataValue.objects.select_for_update()
            .select_related("element", "org_unit")
            .filter(pk__in=[v.pk if hasattr(v, "pk") else v for v in values])
        )
        for row in rows:
            if not scopes.can(actor, scope_action, row.org_unit, element=row.element_id):
                raise PermissionDenied(f"{row.org_unit.code} 不在您的范围内（outside your scope）")
            if row.state not in from_states:
                raise ValidationError(
                    f"{row.element.code}@{row.org_unit.code}/{row.period}: "
                    f"状态为“{row.get_state_display()}”，不能{action}（cannot {action} a {row.state} value）"
                )
        now = timezone.now()
        for row in rows:
            old_state = row.state
            row.state = to_state
            row.version += 1
            fields = ["state", "version", "updated_at"]
            if action in ("approve", "reject"):
                row.reviewed_by, row.reviewed_at, row.review_comment = actor, now, comment
                fields += ["reviewed_by", "reviewed_at", "review_comment"]
            row.save(update_fields=fields)
            _record(
                row,
                action=action,
                actor=actor,
                source=source,
                old_value=row.value,
                old_state=old_state,
                comment=comment,
            )
            changed.append(row)
        if action in ("approve", "reopen"):
            _after_approval_change(changed)
    return changed


def values_submit(*, actor, values, source: str = "form") -> list[DataValue]:
    return _transition(
        actor=actor,
        values=values,
        action="submit",
        to_state=DataValue.SUBMITTED,
        from_states={DataValue.DRAFT, DataValue.REJECTED, DataValue.SUBMITTED},
        scope_action=scopes.WRITE,
        source=source,
    )


def values_approve(*, actor, values, comment: str = "", source: str = "form") -> list[DataValue]:
    return _transition(
        actor=actor,
        values=values,
        action="approve",
        to_state=DataValue.APPROVED,
        from_states={DataValue.SUBMITTED},
        scope_action=scopes.REVIEW,
        comment=comment,
        source=source,
    )


def values_reject(*, actor, values, comment: str, source: str = "form") -> list[DataValue]:
    """Send submitted values back with the reviewer's comment; the submitters are told (portal
    notice and e-mail: supervision listens to :data:`districts.signals.values_rejected`)."""
    if not comment.strip():
        raise ValidationError({"comment": "退回时请填写原因（a rejection needs a comment）"})
    with transaction.atomic():
        rejected = _transition(
            actor=actor,
            values=values,
            action="reject",
            to_state=DataValue.REJECTED,
            from_states={DataValue.SUBMITTED},
            scope_action=scopes.REVIEW,
            comment=comment,
            source=source,
        )
        values_rejected.send(sender=None, actor=actor, values=rejected, comment=comment)
    return rejected


def values_reopen(*, actor, values, comment: str, source: str = "form") -> list[DataValue]:
    """A reviewer unlocks approved values so they can be corrected; the reason is recorded."""
    if not comment.strip():
        raise ValidationError({"comment": "重新开放时请填写原因（a reopen needs a reason）"})
    return _transition(
        actor=actor,
        values=values,
        action="reopen",
        to_state=DataValue.DRAFT,
        from_states={DataValue.APPROVED},
        scope_action=scopes.REVIEW,
        comment=comment,
        source=source,
    )


# --- values through the API ---------------------------------------------------------------
# The API's writes: parse nothing, decide nothing about HTTP; they add to value_save what a
# client needs on top of the entry form (create-or-change with "did it exist", a review guarded
# by the version the client read).


def value_check_not_above(*, element, org_unit, period: Period, value: Decimal) -> None:
    """A value may not exceed its ``not_above`` element's stored value for the same unit and
    period — the rule an uploaded file is held to.

    The rule and its wording are districts.rules' (the same for every entry path).
    """
    if not element.not_above_id:
        return
    limit = (
        DataValue.objects.filter(
            element_id=element.not_above_id, org_unit=org_unit, period=str(period)
        )
        .values_list("value", flat=True)
        .first()
    )
    reason = not_above_violation(value, limit, other=element.not_above.code)
    if reason:
        raise ValidationError({"value": reason})


def value_put(
    *,
    actor,
    element,
    org_unit,
    period: Period,
    value: Decimal,
    comment: str = "",
    submit: bool = False,
    expected_version: int | None = None,
    must_exist: bool = False,
    source: str = "api",
) -> tuple[DataValue, bool]:
    """Create or change the value keyed by (element, unit, period); returns it and whether it
    was created. ``must_exist`` (``If-Match: *``) refuses to create one."""
    with transaction.atomic():
        # Locked, so "did it exist" and the write see the same row.
        exists = (
            DataValue.objects.select_for_update()
            .filter(element=element, org_unit=org_unit, period=str(period))
            .exists()
        )
        if must_exist and not exists:
            raise StaleVersionError({"version": "该数值不存在（value does not exist）"})
        value_check_not_above(element=element, org_unit=org_unit, period=period, value=value)
        row = value_save(
            actor=actor, element=element, org_unit=org_unit, period=period, value=value,
            comment=comment, source=source, submit=submit, expected_version=expected_version,
        )  # fmt: skip
    return row, not exists


def value_change(
    *,
    actor,
    value: DataValue,
    expected_version: int,
    new_value: Decimal | None = None,
    comment: str | None = None,
    submit: bool = False,
    source: str = "api",
) -> DataValue:
    """Change some of a value's figure, comment and state; what is not given is kept. The
    version the client read is required: what it left out is filled in from the row it read."""
    number = value.value if new_value is None else new_value
    period = Period.parse(value.period)
    with transaction.atomic():
        value_check_not_above(
            element=value.element, org_unit=value.org_unit, period=period, value=number
        )
        return value_save(
            actor=actor, element=value.element, org_unit=value.org_unit, period=period,
            value=number, comment=value.comment if comment is None else comment, source=source,
            submit=submit, expected_version=expected_version,
        )  # fmt: skip


def value_review(
    *,
    actor,
    value: DataValue,
    decision: str,
    comment: str = "",
    expected_version: int | None = None,
    source: str = "api",
) -> DataValue:
    """Approve or reject (``decision``) one value; with ``expected_version`` only if it is still
    the version the reviewer read."""
    service = {"approve": values_approve, "reject": values_reject}[decision]
    with transaction.atomic():
        if expected_version is not None:
            # Locked for the transaction so the check and the review see the same row.
            locked = DataValue.objects.select_for_update().get(pk=value.pk)
            if locked.version != expected_version:
                raise StaleVersionError(
                    {
                        "version": f"数值已被他人修改（version {locked.version}, you sent "
                        f"{expected_version}）：请刷新后重试"
                    }
                )
        (row,) = service(actor=actor, values=[value.pk], comment=comment, source=source)
    return row


@dataclass(frozen=True)
class GridCell:
    """One cell of the entry form as posted: what was typed and the version the form showed
    (0 when there was no value yet)."""

    element: DataElement
    text: str
    comment: str = ""
    version: int = 0


@dataclass
class GridResult:
    """What saving an entry form did; ``errors`` maps element codes to the cell's message and,
    when it is not empty, nothing was written."""

    saved: int = 0
    submitted: int = 0
    errors: dict[str, str] = field(default_factory=dict)
    warnings: dict[str, str] = field(default_factory=dict)
    """Outliers against last period ("high"/"low") and empty cells ("empty"), which "complete"
    asks the official to confirm before it submits."""
    needs_confirmation: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors and not self.needs_confirmation


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "；".join(m for ms in exc.message_dict.values() for m in ms)
    return "；".join(exc.messages)


def values_save_grid(
    *,
    actor,
    org_unit: OrgUnit,
    period: Period,
    cells: list[GridCell],
    submit: bool = False,
    source: str = "form",
) -> GridResult:
    """Save an entry form (one unit, one period) as ``actor``: every cell or none.

    Cells are read like the cells of an uploaded file (``1,234``, full-width digits, ``15%``,
    是/否). Every problem is reported against its cell at once: a bad number, a value above its
    ``not_above`` element (in the form or stored), an approved (locked) value, a value changed by
    someone else since the form was shown. An empty cell leaves the element unreported. With
    ``submit`` the unit's draft and rejected values of the form are then submitted for review.
    """
    if not scopes.can(actor, scopes.WRITE, org_unit):
        raise PermissionDenied(f"{org_unit.code} 不在您的填报范围内（outside your scope）")
    result = GridResult()
    errors = result.errors
    key = str(period)
    element_ids = [c.element.id for c in cells]
    parsed, stored = _grid_check(org_unit=org_unit, period=period, cells=cells, errors=errors)
    if errors:
        return result
    return _grid_write(
        actor=actor,
        org_unit=org_unit,
        key=key,
        period=period,
        parsed=parsed,
        stored=stored,
        element_ids=element_ids,
        result=result,
        submit=submit,
        source=source,
    )


def values_complete_grid(
    *,
    actor,
    org_unit: OrgUnit,
    period: Period,
    cells: list[GridCell],
    confirmed: bool = False,
    source: str = "form",
) -> GridResult:
    """DHIS2's data-entry "complete": run every check over the whole form — types, ``not_above``
    (errors: nothing is saved), then outliers against last period's values and cells left
    empty (warnings) — and, once the official has confirmed the warnings (``confirmed``), save
    the form and submit it for review."""
    if not scopes.can(actor, scopes.WRITE, org_unit):
        raise PermissionDenied(f"{org_unit.code} 不在您的填报范围内（outside your scope）")
    result = GridResult()
    parsed, stored = _grid_check(
        org_unit=org_unit, period=period, cells=cells, errors=result.errors
    )
    previous = dict(
        DataValue.objects.filter(
            org_unit=org_unit,
            period=str(period.previous()),
            element_id__in=[c.element.id for c in cells],
        ).values_list("element_id", "value")
    )
    for cell in cells:
        code = cell.element.code
        if code in result.errors:
            continue
        if cell.element.id in parsed:
            kind = outlier_kind(parsed[cell.element.id][1], previous.get(cell.element.id))
            if kind and cell.element.value_type != BOOLEAN:
                result.warnings[code] = kind
        elif cell.element.id not in stored:
            result.warnings[code] = "empty"
    if result.errors:
        return result
    if result.warnings and not confirmed:
        result.needs_confirmation = True
        return result
    saved = values_save_grid(
        actor=actor, org_unit=org_unit, period=period, cells=cells, submit=True, source=source
    )
    saved.warnings = result.warnings
    return saved


def _grid_check(*, org_unit: OrgUnit, period: Period, cells: list[GridCell], errors: dict):
    """The checks of a whole form that need no write: types, empty reported cells and
    ``not_above`` (in the form or stored). Fills ``errors``; returns the parsed cells and the
    stored values of the form's elements and their limits."""
    key = str(period)
    element_ids = [c.element.id for c in cells]
    limits = {c.element.not_above_id for c in cells if c.element.not_above_id}
    stored = {
        v.element_id: v
        for v in DataValue.objects.filter(
            org_unit=org_unit, period=key, element_id__in={*element_ids, *limits}
        )
    }
    parsed: dict[int, tuple[GridCell, Decimal]] = {}
    for cell in cells:
        element = cell.element
        if element.period_type != period.period_type:
            errors[element.code] = (
                f"{element.code} 按{element.get_period_type_display()}填报，“{period}” 不符"
                "（period type does not match）"
            )
            continue
        text = cell.text.strip()
        current = stored.get(element.id)
        if not text:
            if current is not None and current.state != DataValue.APPROVED:
                errors[element.code] = (
                    "已填报的数值不能清空，请填写正确的数值（a reported value cannot be cleared）"
                )
            continue
        try:
            parsed[element.id] = (cell, check_value(text, element_rule(element)))
        except ValueError as exc:
            errors[element.code] = str(exc)
    for cell, value in parsed.values():
        element = cell.element
        if not element.not_above_id:
            continue
        in_form = element.not_above_id in parsed
        if in_form:
            limit = parsed[element.not_above_id][1]
        elif element.not_above_id in stored:
            limit = stored[element.not_above_id].value
        else:
            continue
        reason = not_above_violation(value, limit, other=element.not_above.code, from_form=in_form)
        if reason:
            errors[element.code] = reason
    return parsed, stored


def _grid_write(
    *, actor, org_unit, key, period, parsed, stored, element_ids, result, submit, source
) -> GridResult:
    errors = result.errors
    with transaction.atomic():
        for cell, value in parsed.values():
            element = cell.element
            current = stored.get(element.id)
            comment = cell.comment.strip()
            if current is not None and current.value == value and current.comment == comment:
                continue  # untouched: a concurrent change of another cell is not a conflict
            try:
                value_save(
                    actor=actor,
                    element=element,
                    org_unit=org_unit,
                    period=period,
                    value=value,
                    comment=comment,
                    source=source,
                    expected_version=cell.version,
                )
            except ValidationError as exc:
                errors[element.code] = _messages(exc)
                continue
            result.saved += 1
        if errors:
            transaction.set_rollback(True)
            result.saved = 0
            return result
        if submit:
            pending = DataValue.objects.filter(
                org_unit=org_unit,
                period=key,
                element_id__in=element_ids,
                state__in=[DataValue.DRAFT, DataValue.REJECTED],
            )
            result.submitted = len(values_submit(actor=actor, values=list(pending), source=source))
    return result


def _after_approval_change(values: list[DataValue]) -> None:
    """Official progress counts approved values only: announce what changed (reports
    recomputes what those values feed, after commit)."""
    announce_approved_values_changed(
        element_codes={v.element.code for v in values},
        unit_codes={v.org_unit.code for v in values},
        trigger="approval",
    )


@transaction.atomic
def value_record_approved(
    *, actor, element, org_unit, period: Period, value: Decimal, comment: str, source: str
) -> DataValue:
    """A value decided by a reviewer outside the entry form (a closed 督办 task is its milestone's
    value): written approved at once, with its history, and announced as an approval is. The
    same value already approved is left alone."""
    row = (
        DataValue.objects.select_for_update()
        .filter(element=element, org_unit=org_unit, period=str(period))
        .first()
    )
    now = timezone.now()
    if row is None:
        row = DataValue.objects.create(
            element=element,
            org_unit=org_unit,
            period=str(period),
            period_start=period.start,
            period_end=period.end,
            value=value,
            comment=comment,
            source=source,
            created_by=actor,
            updated_by=actor,
            reviewed_by=actor,
            reviewed_at=now,
            review_comment=comment,
            state=DataValue.APPROVED,
        )
        old_value, old_state, action = None, "", "create"
    else:
        if row.value == value and row.state == DataValue.APPROVED:
            return row
        old_value, old_state, action = row.value, row.state, "approve"
        row.value, row.state, row.comment = value, DataValue.APPROVED, comment
        row.updated_by = row.reviewed_by = actor
        row.reviewed_at, row.review_comment = now, comment
        row.source = source
        row.version += 1
        row.save()
    _record(
        row,
        action=action,
        actor=actor,
        source=source,
        old_value=old_value,
        old_state=old_state,
        comment=comment,
    )
    _after_approval_change([row])
    return row


# Uploads live in their own package (districts.intake); these names are also the services'.
__all__ = [
    "upload_create",
    "upload_errors_csv",
    "upload_process",
    "upload_rollback",
]

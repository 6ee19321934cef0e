"""The one permission rule (SPEC §5), used by web views, API querysets, uploads, exports and
the admin alike.

A role on an org unit covers that unit's whole subtree and nothing else. A role on a department
(责任单位) covers that department's indicators — those it leads or supports, directly or through
their goal — and the data elements they are computed from, in every unit of its city: its staff
see and enter them city-wide, its reviewers approve them. Officials write
(enter, submit), reviewers review (approve, reject, reopen), and every role reads. Superusers
are the administrators and may do everything. The catalog (plans, indicators, elements, org
units) is published policy and readable by every signed-in user, so it is not scoped here.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Q, QuerySet

from .models import DataValueChange, OrgUnit, RoleAssignment, UploadJob

READ = "read"
WRITE = "write"
REVIEW = "review"
ASSIGN = "assign"  # 督办: assign tasks (leaders and reviewers)
INSTRUCT = "instruct"  # 督办: write instructions (批示, leaders)

ROLES_FOR_ACTION = {
    READ: (RoleAssignment.OFFICIAL, RoleAssignment.REVIEWER, RoleAssignment.LEADER),
    WRITE: (RoleAssignment.OFFICIAL,),
    REVIEW: (RoleAssignment.REVIEWER,),
    ASSIGN: (RoleAssignment.REVIEWER, RoleAssignment.LEADER),
    INSTRUCT: (RoleAssignment.LEADER,),
}


def is_admin(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_superuser)


def scope_paths(user, action: str = READ) -> list[str] | None:
    """Tree paths of the units whose subtrees ``user`` may act on; ``None`` means everywhere.

    Cached on the user object for the request: every list and check in one request asks the
    same question.
    """
    if is_admin(user):
        return None
    if not (user and user.is_authenticated and user.is_active):
        return []
    cache = user.__dict__.setdefault("_scope_paths_cache", {})
    if action not in cache:
        paths = sorted({path for path, department in _roles(user, action) if department is None})
        # Drop paths already covered by an ancestor's path: fewer OR terms per query.
        kept: list[str] = []
        for path in paths:
            if not any(path.startswith(k) for k in kept):
                kept.append(path)
        cache[action] = kept
    return cache[action]


def _roles(user, action: str) -> list[tuple[str, int | None]]:
    """``(org-unit path, department id or None)`` of the user's roles for ``action``: one
    query for both kinds of role, cached on the user object for the request."""
    cache = user.__dict__.setdefault("_roles_cache", {})
    if action not in cache:
        # One query answers every action (a page asks for several: its own, and the menu's
        # write and review, districts.context_processors).
        rows = list(
            RoleAssignment.objects.filter(user=user)
            .values_list("role", "org_unit__path", "department_id")
            .distinct()
        )
        for name, allowed in ROLES_FOR_ACTION.items():
            cache[name] = list(
                dict.fromkeys((path, dept) for role, path, dept in rows if role in allowed)
            )
    return cache[action]


def path_in_scope(path: str, paths: list[str] | None) -> bool:
    return paths is None or any(path.startswith(p) for p in paths)


def department_grants(user, action: str = READ) -> list[tuple[str, frozenset, frozenset]]:
    """The user's department roles for ``action``: ``(city path, element ids, indicator ids)``
    each. Cached on the user object like :func:`scope_paths`."""
    if is_admin(user) or not (user and user.is_authenticated and user.is_active):
        return []
    cache = user.__dict__.setdefault("_department_grants_cache", {})
    if action not in cache:
        from targets.models import Indicator

        grants = []
        # (a department role sits on the department's city: its path is the city's)
        for city_path, d in _roles(user, action):
            if d is None:
                continue
            indicators = Indicator.objects.filter(
                Q(lead_id=d) | Q(support__id=d) | Q(goal__lead_id=d) | Q(goal__support__id=d)
            ).distinct()
            columns = [f"{name}_id" for name in Indicator.ELEMENT_FIELDS]
            elements = {e for row in indicators.values_list(*columns) for e in row if e}
            indicator_ids = frozenset(indicators.values_list("id", flat=True))
            grants.append((city_path, frozenset(elements), indicator_ids))
        cache[action] = grants
    return cache[action]


def can_any(user, action: str, org_units: Iterable[OrgUnit]) -> bool:
    """Whether ``user`` may ``action`` on at least one of ``org_units`` (a task's units)."""
    paths = scope_paths(user, action)
    return any(path_in_scope(unit.path, paths) for unit in org_units)


def can(user, action: str, org_unit: OrgUnit, *, element=None, indicator=None) -> bool:
    """Whether ``user`` may ``action`` (read / write / review) on ``org_unit`` — for
    ``element`` or ``indicator`` when given, which a department role may cover."""
    if path_in_scope(org_unit.path, scope_paths(user, action)):
        return True
    element_id = getattr(element, "pk", element)
    indicator_id = getattr(indicator, "pk", indicator)
    return any(
        org_unit.path.startswith(path)
        and (
            (element_id is not None and element_id in elements)
            or (indicator_id is not None and indicator_id in indicators)
        )
        for path, elements, indicators in department_grants(user, action)
    )


def scope_q(
    user,
    action: str = READ,
    field: str = "org_unit",
    *,
    element_field: str | None = None,
    indicator_field: str | None = None,
) -> Q:
    """A filter for rows whose ``field`` (an org unit relation) lies in the user's scope.

    ``field=""`` filters OrgUnit rows themselves. With ``element_field`` or
    ``indicator_field`` (the rows' data element or indicator relation), rows a department role
    covers are in scope too.
    """
    paths = scope_paths(user, action)
    if paths is None:
        return Q()
    lookup = f"{field}__path__startswith" if field else "path__startswith"
    q = Q(pk__in=[]) if not paths else Q()
    for path in paths:
        q |= Q(**{lookup: path})
    if element_field or indicator_field:
        for path, elements, indicators in department_grants(user, action):
            covered = Q(pk__in=[])
            if element_field:
                covered |= Q(**{f"{element_field}__in": elements})
            if indicator_field:
                covered |= Q(**{f"{indicator_field}__in": indicators})
            q |= Q(**{lookup: path}) & covered
    return q


def filter_in_scope(queryset: QuerySet, user, action: str = READ, field: str = "org_unit"):
    """``queryset`` limited to the user's scope; rows with a data element or an indicator
    (values, progress) are also in scope where a department role covers them."""
    names = {f.name for f in queryset.model._meta.get_fields()} if field == "org_unit" else set()
    return queryset.filter(
        scope_q(
            user,
            action,
            field,
            element_field="element" if "element" in names else None,
            indicator_field="indicator" if "indicator" in names else None,
        )
    )


def units_in_scope(user, action: str = READ) -> QuerySet[OrgUnit]:
    return OrgUnit.objects.filter(scope_q(user, action, field=""))


def codes_in_scope(user, action: str, codes: Iterable[str] | None = None) -> set[str]:
    """The org-unit codes the user may act on (optionally only among ``codes``): a set lookup
    for bulk checks such as a million-row upload."""
    qs = units_in_scope(user, action)
    if codes is not None:
        qs = qs.filter(code__in=list(codes))
    return set(qs.values_list("code", flat=True))


def scope_roots(user, action: str = READ) -> QuerySet[OrgUnit]:
    """The top units of the user's scope (every root for an administrator)."""
    paths = scope_paths(user, action)
    if paths is None:
        return OrgUnit.objects.filter(parent__isnull=True)
    return OrgUnit.objects.filter(path__in=paths)


# Granting roles. Roles rank official < reviewer < leader (填报 < 审核 < 领导). A role may be
# granted, or removed, only on a unit inside a subtree where the granter holds a role of the same
# rank or higher: a reviewer of a city may make officials and reviewers in that city, not a
# leader, and nothing outside it. Administrators grant anything anywhere.
ROLE_RANK = {RoleAssignment.OFFICIAL: 1, RoleAssignment.REVIEWER: 2, RoleAssignment.LEADER: 3}


def can_grant(granter, role: str, org_unit: OrgUnit) -> bool:
    """Whether ``granter`` may give (or take away) ``role`` on ``org_unit``."""
    if is_admin(granter):
        return True
    if not (granter and granter.is_authenticated and granter.is_active):
        return False
    rank = ROLE_RANK.get(role)
    if rank is None:
        return False
    held = RoleAssignment.objects.filter(user=granter).values_list("role", "org_unit__path")
    return any(
        ROLE_RANK.get(held_role, 0) >= rank and org_unit.path.startswith(path)
        for held_role, path in held
    )


def can_manage_unit(user, org_unit: OrgUnit | None) -> bool:
    """Whether ``user`` may edit the record of ``org_unit`` in the admin (or put something under
    it): only units strictly below the top of one of the user's subtrees. The top itself was
    granted from above, so moving, renaming or deleting it would change what the grant means.
    ``None`` (the top of the tree) is for administrators only."""
    if is_admin(user):
        return True
    if org_unit is None:
        return False
    paths = scope_paths(user, READ) or []
    return any(org_unit.path.startswith(p) and org_unit.path != p for p in paths)


# --- uploads -----------------------------------------------------------------------------------


def visible_uploads(user, queryset: QuerySet[UploadJob] | None = None) -> QuerySet[UploadJob]:
    """The uploads ``user`` may see (among ``queryset``): their own, every one for an
    administrator, and those whose every written value lies in the user's review scope (and
    that wrote something): a reviewer in one city never sees an upload that touched another.
    The one rule for the upload page, its errors CSV and the API."""
    queryset = UploadJob.objects.all() if queryset is None else queryset
    if is_admin(user):
        return queryset
    if not (user and user.is_authenticated):
        return queryset.none()
    visible = Q(created_by=user)
    if scope_paths(user, REVIEW):
        written = DataValueChange.objects.filter(upload=OuterRef("pk"))
        outside = written.exclude(org_unit_code__in=units_in_scope(user, REVIEW).values("code"))
        visible |= Exists(written) & ~Exists(outside)
    return queryset.filter(visible)


def upload_visible_to(user, job: UploadJob) -> bool:
    """Whether ``user`` may see ``job`` (:func:`visible_uploads`), for one upload at hand."""
    if not (user and user.is_authenticated):
        return False
    if is_admin(user) or job.created_by_id == user.id:
        return True
    return visible_uploads(user, UploadJob.objects.filter(pk=job.pk)).exists()

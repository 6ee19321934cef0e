"""Writing the demo (``seed_demo``): reads the catalog and the reference divisions file, writes
the difference to the generated units, users and values (nothing that is already right is
touched, so a second run changes nothing), grants the demo roles and runs the progress job. The
figures themselves come from the pure :mod:`demo.generate`."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password
from django.db import connection, transaction
from django.db.models import Count, F, Q

from core.periods import Period
from districts.groups import STANDARD_GROUP_CODES
from districts.models import DataValue, DataValueChange, OrgUnit, OrgUnitGroup, RoleAssignment
from districts.services import role_grant
from districts.unit_facts import orgunit_groups_assign_defaults, orgunit_groups_ensure
from reports.models import ProgressRow
from reports.services import progress_recompute
from targets.models import DataElement, Indicator
from targets.services import DIVISIONS_FILE

from .generate import (
    _CITY_SLUG,
    CITY_CODES,
    COUNTRY,
    LANGXIA,
    OFFICIAL_UNITS,
    PASSWORD,
    SOURCE,
    DemoData,
    DemoUser,
    ElementIn,
    IndicatorIn,
    Outcome,
    UnitIn,
    _chain,
    build,
    demo_users,
    households_per_person,
    outcome_element,
    review_stamp,
    reviews,
)

# ---------------------------------------------------------------------------------------------


class DemoError(RuntimeError):
    """seed_demo cannot run (e.g. the catalog is not loaded)."""


@dataclass
class SeedSummary:
    units: int = 0
    units_created: int = 0
    units_updated: int = 0
    units_removed: int = 0
    values: int = 0
    values_created: int = 0
    values_updated: int = 0
    values_removed: int = 0
    submitted: int = 0
    rejected: int = 0
    users: int = 0
    users_created: int = 0
    per_city: dict[str, tuple[int, int]] = field(default_factory=dict)
    progress_rows: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    city_statuses: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def line(self) -> str:
        cities = ", ".join(f"{_CITY_SLUG.get(c, c)} {u}/{v}" for c, (u, v) in self.per_city.items())
        statuses = " ".join(f"{k}={n}" for k, n in sorted(self.statuses.items()))
        return (
            f"demo: {self.units} generated units (+{self.units_created} ~{self.units_updated} "
            f"-{self.units_removed}), {self.values} values (+{self.values_created} "
            f"~{self.values_updated} -{self.values_removed}; {self.submitted} submitted, "
            f"{self.rejected} rejected), {self.users} users (+{self.users_created}) "
            f"[units/values: {cities}]; progress: {self.progress_rows} rows ({statuses}) "
            f"in {self.seconds:.1f} s"
        )


def read_inputs() -> dict:
    """What :func:`build` needs, from the database and the reference divisions file."""

    roots = {u.code: u for u in OrgUnit.objects.filter(code__in=[*CITY_CODES, LANGXIA, COUNTRY])}
    missing = [c for c in CITY_CODES if c not in roots]
    if missing or not Indicator.objects.exists():
        raise DemoError(
            "the catalog is not loaded (no plans or no city units): run "
            "`python manage.py seed_catalog` first"
        )
    q = Q(code=COUNTRY)
    for code in (*CITY_CODES, LANGXIA):
        if code in roots:
            q |= Q(path__startswith=roots[code].path)
    units = [
        UnitIn(
            code=u.code, name_zh=u.name_zh, name_en=u.name_en, level=u.level,
            parent=parent, population=u.population, population_year=u.population_year,
            population_source=u.population_source, is_generated=u.is_generated,
            opened=u.opened_on,
        )
        for u, parent in (
            (u, u.parent.code if u.parent_id else None)
            for u in OrgUnit.objects.filter(q).select_related("parent").order_by("path")
        )
    ]  # fmt: skip
    elements = {
        e.code: ElementIn(
            code=e.code, value_type=e.value_type, period_type=e.period_type,
            aggregation=e.aggregation, temporal=e.temporal, level=e.level, unit=e.unit,
            weight=e.weight.code if e.weight_id else None,
            not_above=e.not_above.code if e.not_above_id else None,
        )
        for e in DataElement.objects.select_related("weight", "not_above")
    }  # fmt: skip

    def code(e) -> str | None:
        return e.code if e is not None else None

    indicators = [
        IndicatorIn(
            code=i.code, city=i.plan.city.code, kind=i.kind, comparator=i.comparator,
            target=float(i.target), deadline=i.deadline, element=code(i.element),
            numerator=code(i.numerator), denominator=code(i.denominator),
            factor=float(i.factor or 1), level=i.level,
            condition_element=code(i.condition_element),
            condition_numerator=code(i.condition_numerator),
            condition_denominator=code(i.condition_denominator),
            condition_factor=float(i.condition_factor or 1),
            condition_comparator=i.condition_comparator,
            condition_value=float(i.condition_value or 0), growth_mode=i.growth_mode,
            growth_from=int(i.growth_from[:4]) if i.growth_from else None,
            baseline_value=float(i.baseline_value) if i.baseline_value is not None else None,
            baseline_period=i.baseline_period,
        )
        for i in Indicator.objects.select_related(
            "plan__city", "element", "numerator", "denominator", "condition_element",
            "condition_numerator", "condition_denominator",
        ).order_by("plan__issued_on", "plan__code", "goal__position", "position")
    ]  # fmt: skip
    divisions = json.loads(DIVISIONS_FILE.read_text("utf-8"))
    city_codes = {c["name_en"].lower(): c["code"] for c in divisions["cities"]}
    outcomes = []
    for o in divisions.get("outcomes", []):
        element = outcome_element(o.get("indicator", ""))
        city = city_codes.get(str(o.get("city", "")).lower())
        if element and city and o.get("year") and element in elements:
            outcomes.append(Outcome(city, element, int(o["year"]), float(o["value"]), o["source"]))
    communities = {
        d["code"]: int(d["communities"])
        for c in divisions["cities"]
        for d in c["divisions"]
        if d.get("code") and d.get("communities")
    }
    households = {}
    for c in divisions["cities"]:
        n = households_per_person(c.get("source", ""))
        if n and c.get("population_2020"):
            households[c["code"]] = n / c["population_2020"]
    return {
        "units": units, "elements": elements, "indicators": indicators, "outcomes": outcomes,
        "communities": communities, "households": households,
    }  # fmt: skip


def demo_seed(*, recompute: bool = True) -> SeedSummary:
    """Generate (or bring up to date) the demo units, values and users, then compute progress.
    Idempotent: what is already right is left alone, so a second run changes nothing."""

    started = time.perf_counter()
    inputs = read_inputs()
    data = build(**inputs)
    real = {u.code: u for u in inputs["units"] if not u.is_generated}
    all_units = {**real, **{u.code: u for u in data.units}}
    users = demo_users(all_units)
    summary = SeedSummary()
    with transaction.atomic():
        unit_ids = _write_units(data.units, summary)
        _write_groups(data.units, unit_ids)
        user_ids = _write_users(users, summary)
        _write_values(data, all_units, users, unit_ids, user_ids, summary)
    city_of = {}
    for code in all_units:
        city_of[code] = next((c for c in _chain(all_units, code) if c in _CITY_SLUG), None)
    per_city: dict[str, list[int]] = {c: [0, 0] for c in _CITY_SLUG}
    for u in data.units:
        if city_of.get(u.code):
            per_city[city_of[u.code]][0] += 1
    for v in data.values:
        if city_of.get(v.unit):
            per_city[city_of[v.unit]][1] += 1
    summary.per_city = {c: (n[0], n[1]) for c, n in per_city.items()}
    if recompute:
        run = progress_recompute(trigger="seed_demo")
        summary.progress_rows = run.rows_written
        summary.statuses = dict(
            ProgressRow.objects.values_list("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        )
        summary.city_statuses = dict(
            ProgressRow.objects.filter(org_unit_id=F("indicator__plan__city_id"))
            .values_list("status").annotate(n=Count("id")).values_list("status", "n")
        )  # fmt: skip
    summary.seconds = time.perf_counter() - started
    return summary


def _write_units(generated: list[UnitIn], summary: SeedSummary) -> dict[str, int]:
    """Create, update or remove generated units so that they are exactly ``generated``. Returns
    the ids of every unit by code."""

    known = {code: (pk, path, depth) for pk, code, path, depth in
             OrgUnit.objects.filter(is_generated=False).values_list("id", "code", "path", "depth")}  # fmt: skip
    existing = {u.code: u for u in OrgUnit.objects.filter(is_generated=True)}
    wanted = {u.code for u in generated}
    pending = list(generated)
    fields = ("name_zh", "name_en", "level", "parent_id", "population", "population_year",
              "population_source", "path", "depth")  # fmt: skip
    while pending:
        layer = [u for u in pending if u.parent in known]
        if not layer:
            raise DemoError(
                f"demo units without a parent: {', '.join(u.code for u in pending[:5])}"
            )
        pending = [u for u in pending if u.parent not in known]
        create, update = [], []
        for u in layer:
            parent_id, parent_path, parent_depth = known[u.parent]  # type: ignore[index]
            values = {
                "name_zh": u.name_zh, "name_en": u.name_en, "level": u.level,
                "parent_id": parent_id, "population": u.population,
                "population_year": u.population_year, "population_source": u.population_source,
                "path": f"{parent_path}{u.code}/", "depth": parent_depth + 1,
            }  # fmt: skip
            row = existing.get(u.code)
            if row is None:
                create.append(OrgUnit(code=u.code, is_generated=True, **values))
            elif any(getattr(row, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(row, k, v)
                update.append(row)
            else:
                known[u.code] = (row.id, row.path, row.depth)
        created = OrgUnit.objects.bulk_create(create, batch_size=1000)
        if update:
            OrgUnit.objects.bulk_update(update, fields, batch_size=1000)
        for row in [*created, *update]:
            known[row.code] = (row.id, row.path, row.depth)
        summary.units_created += len(created)
        summary.units_updated += len(update)
    stale = [u for u in existing.values() if u.code not in wanted]
    if stale:
        ids = [u.id for u in stale]
        _delete_values(DataValue.objects.filter(org_unit_id__in=ids, source=SOURCE))
        rows = ProgressRow.objects.filter(org_unit_id__in=ids)
        rows._raw_delete(rows.db)  # computed rows: the next progress run rewrites them
        kept = set(
            DataValue.objects.filter(org_unit_id__in=ids).values_list("org_unit_id", flat=True)
        )
        # A stale unit someone entered real values for stays (with its ancestors).
        keep_paths = [u.path for u in stale if u.id in kept]
        doomed = [u for u in stale if not any(p.startswith(u.path) for p in keep_paths)]
        by_depth: dict[int, list[int]] = defaultdict(list)
        for u in doomed:
            by_depth[u.depth].append(u.id)
        for depth in sorted(by_depth, reverse=True):  # children before their parents
            OrgUnit.objects.filter(pk__in=by_depth[depth]).delete()
        summary.units_removed = len(doomed)
    summary.units = len(generated)
    return {code: pk for code, (pk, _p, _d) in known.items()}


def _write_groups(generated: list[UnitIn], unit_ids: dict[str, int]) -> None:
    """The generated units' memberships of the standard groups are exactly their ``groups``;
    real units get the groups their level and name imply (added, never taken away)."""
    groups = orgunit_groups_ensure()
    standard = {g.id for g in groups.values() if g.code in STANDARD_GROUP_CODES}
    Membership = OrgUnitGroup.units.through
    generated_ids = {unit_ids[u.code] for u in generated}
    wanted = {(groups[g].id, unit_ids[u.code]) for u in generated for g in u.groups}
    held = set(
        Membership.objects.filter(
            orgunitgroup_id__in=standard, orgunit__is_generated=True
        ).values_list("orgunitgroup_id", "orgunit_id")
    )
    stale = [pair for pair in held - wanted if pair[1] in generated_ids]
    for group_id in {g for g, _u in stale}:
        Membership.objects.filter(
            orgunitgroup_id=group_id, orgunit_id__in=[u for g, u in stale if g == group_id]
        ).delete()
    Membership.objects.bulk_create(
        [Membership(orgunitgroup_id=g, orgunit_id=u) for g, u in sorted(wanted - held)],
        batch_size=5000,
    )
    orgunit_groups_assign_defaults(units=OrgUnit.objects.filter(is_generated=False))


def _write_users(users: list[DemoUser], summary: SeedSummary) -> dict[str, int]:

    User = get_user_model()
    existing = {
        u.username: u for u in User.objects.filter(username__in=[d.username for d in users])
    }
    # One hash for all demo users, reused across runs, so a re-run changes nothing (and hashes
    # once: each hash costs a good part of a second by design).
    password = next(
        (
            u.password
            for u in existing.values()
            if u.password and check_password(PASSWORD, u.password)
        ),
        None,
    ) or make_password(PASSWORD)
    for d in users:
        user = existing.get(d.username)
        if user is None:
            user = User(username=d.username, first_name=d.name, password=password)
            user.save()
            existing[d.username] = user
            summary.users_created += 1
        elif user.first_name != d.name or user.password != password or not user.is_active:
            user.first_name, user.password, user.is_active = d.name, password, True
            user.save(update_fields=["first_name", "password", "is_active"])
        role_grant(username=d.username, role=d.role, org_unit_code=d.unit)
    summary.users = len(users)
    return {name: u.id for name, u in existing.items()}


_VALUE_COLUMNS = (
    "element_id", "org_unit_id", "period", "period_start", "period_end", "value", "state",
    "comment", "review_comment", "source", "created_by_id", "updated_by_id", "reviewed_by_id",
    "reviewed_at", "version", "created_at", "updated_at",
)  # fmt: skip


def _write_values(data: DemoData, units: dict[str, UnitIn], users: list[DemoUser],
                  unit_ids: dict[str, int], user_ids: dict[str, int],
                  summary: SeedSummary) -> None:  # fmt: skip

    element_ids = dict(DataElement.objects.values_list("code", "id"))
    states = reviews(data.values, units, users, data.dependencies)
    taken = set(
        DataValue.objects.exclude(source=SOURCE).values_list("element_id", "org_unit_id", "period")
    )
    wanted: dict[tuple[int, int, str], tuple] = {}
    periods: dict[str, tuple[date, date, datetime, datetime]] = {}
    for v, r in zip(data.values, states, strict=True):
        key = (element_ids[v.element], unit_ids[v.unit], v.period)
        if key in taken or key in wanted:
            continue
        stamps = periods.get(v.period)
        if stamps is None:
            p = Period.parse(v.period)
            yearly = p.period_type == "year"
            # Entered three weeks after the period, reviewed a few weeks later (fixed times, so
            # a re-run writes the same).
            stamps = periods[v.period] = (
                p.start, p.end, review_stamp(p.end, 20 if yearly else 5),
                review_stamp(p.end, 45 if yearly else 12),
            )  # fmt: skip
        start, end, entered, reviewed = stamps
        value = v.value
        if r.state == "rejected":  # the figure that made the reviewer send it back
            value = (value * Decimal("1.6")).quantize(Decimal(1))
        creator = user_ids.get(r.created_by)
        reviewer = user_ids.get(r.reviewed_by) if r.reviewed_by else None
        wanted[key] = (
            key[0], key[1], v.period, start, end, value, r.state, v.comment, r.review_comment,
            SOURCE, creator, creator, reviewer, reviewed if reviewer else None, 1, entered,
            reviewed if reviewer else entered,
        )  # fmt: skip
        summary.submitted += r.state == "submitted"
        summary.rejected += r.state == "rejected"
    summary.values = len(wanted)
    compare = ("value", "state", "comment", "review_comment", "created_by_id", "reviewed_by_id",
               "reviewed_at")  # fmt: skip
    index = {c: _VALUE_COLUMNS.index(c) for c in compare}
    stale_ids: list[int] = []
    update: list[DataValue] = []
    existing = DataValue.objects.filter(source=SOURCE).values_list(
        "id", "element_id", "org_unit_id", "period", *compare
    )
    for pk, element_id, unit_id, period, *current in existing.iterator(chunk_size=20000):
        row = wanted.pop((element_id, unit_id, period), None)
        if row is None:
            stale_ids.append(pk)
            continue
        if any(row[index[c]] != got for c, got in zip(compare, current, strict=True)):
            obj = DataValue(pk=pk, **dict(zip(_VALUE_COLUMNS, row, strict=True)))
            update.append(obj)
    new_rows = list(wanted.values())
    replaced = 0
    if len(update) > 500:
        # Many changes (the generator itself changed): replacing the rows is far cheaper than
        # a CASE-per-row UPDATE.
        stale_ids += [obj.pk for obj in update]
        new_rows += [tuple(getattr(obj, c) for c in _VALUE_COLUMNS) for obj in update]
        replaced = len(update)
        update = []
    for start in range(0, len(stale_ids), 5000):
        _delete_values(DataValue.objects.filter(pk__in=stale_ids[start : start + 5000]))
    if update:
        DataValue.objects.bulk_update(
            update, [*compare, "updated_by_id", "period_start", "period_end", "updated_at"],
            batch_size=500,
        )  # fmt: skip
    _insert_values(new_rows)
    summary.values_updated = len(update) + replaced
    summary.values_created = len(new_rows) - replaced
    summary.values_removed = len(stale_ids) - replaced
    # History for what a reviewer will look at: who entered and submitted (and who sent back).
    pending = [r for r in new_rows if r[6] in ("submitted", "rejected")]
    if pending:
        codes = {v: k for k, v in element_ids.items()}
        unit_codes = {v: k for k, v in unit_ids.items()}
        ids = {
            (e, u, p): pk
            for pk, e, u, p in DataValue.objects.filter(
                source=SOURCE, state__in=["submitted", "rejected"]
            ).values_list("id", "element_id", "org_unit_id", "period")
        }
        changes = []
        for r in pending:
            row = dict(zip(_VALUE_COLUMNS, r, strict=True))
            base = {
                "data_value_id": ids.get((r[0], r[1], r[2])), "element_code": codes[r[0]],
                "org_unit_code": unit_codes[r[1]], "period": r[2], "new_value": r[5],
                "source": SOURCE,
            }  # fmt: skip
            changes.append(
                DataValueChange(
                    action="create", new_state="draft", actor_id=row["created_by_id"], **base
                )
            )
            changes.append(DataValueChange(action="submit", old_state="draft", new_state="submitted",
                                           old_value=r[5], actor_id=row["created_by_id"], **base))  # fmt: skip
            if row["state"] == "rejected":
                changes.append(DataValueChange(action="reject", old_state="submitted", new_state="rejected",
                                               old_value=r[5], actor_id=row["reviewed_by_id"],
                                               comment=row["review_comment"], **base))  # fmt: skip
        DataValueChange.objects.bulk_create(changes)


def _delete_values(values) -> None:
    """Delete demo values in one statement (their history keeps its copied keys)."""

    DataValueChange.objects.filter(data_value_id__in=values.values("pk")).update(data_value=None)
    values._raw_delete(values.db)


def _insert_values(rows: list[tuple]) -> None:
    """Insert value rows with their fixed timestamps (the ORM would stamp them with now):
    COPY on PostgreSQL, one executemany elsewhere."""
    if not rows:
        return

    table = DataValue._meta.db_table
    columns = ", ".join(_VALUE_COLUMNS)
    if connection.vendor == "postgresql":
        import io

        buffer = io.StringIO()
        for row in rows:
            buffer.write("\t".join(_copy_text(v) for v in row))
            buffer.write("\n")
        buffer.seek(0)
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)
        return
    ops = connection.ops
    adapted = [
        (
            r[0], r[1], r[2], ops.adapt_datefield_value(r[3]), ops.adapt_datefield_value(r[4]),
            str(r[5]), r[6], r[7], r[8], r[9], r[10], r[11], r[12],
            ops.adapt_datetimefield_value(r[13]), r[14], ops.adapt_datetimefield_value(r[15]),
            ops.adapt_datetimefield_value(r[16]),
        )
        for r in rows
    ]  # fmt: skip
    placeholders = ", ".join(["%s"] * len(_VALUE_COLUMNS))
    with connection.cursor() as cursor:
        for start in range(0, len(adapted), 20000):
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",
                adapted[start : start + 20000],
            )


def _copy_text(v: object) -> str:
    if v is None:
        return "\\N"
    if isinstance(v, datetime):
        return v.isoformat()
    text = str(v)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def demo_logins() -> list[tuple[str, str, str, str]]:
    """(username, role, unit code, unit name) of the demo users that exist, in the order
    seed_demo creates them."""

    units = {
        u.code: UnitIn(u.code, u.name_zh, u.name_en, u.level, None)
        for u in OrgUnit.objects.filter(code__in=[COUNTRY, *_CITY_SLUG, *(
            c for codes in OFFICIAL_UNITS.values() for c in codes)])
    }  # fmt: skip
    wanted = demo_users(units)
    held = set(
        RoleAssignment.objects.filter(user__username__in=[d.username for d in wanted]).values_list(
            "user__username", "role", "org_unit__code"
        )
    )
    return [
        (d.username, d.role, d.unit, units[d.unit].name_zh)
        for d in wanted
        if (d.username, d.role, d.unit) in held
    ]

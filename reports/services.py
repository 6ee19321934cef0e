"""The progress job: read what counts from the database, run the pure engine
(:mod:`reports.progress`), store the rows. Every run leaves a :class:`ProgressRun` row.

Full recomputes cover every plan; incremental ones (after an approval or an upload) cover only
the indicators fed by the changed elements and the changed units with their ancestors. Both
give the same rows for what they cover: the engine aggregates from the whole tree either way.
"""

from __future__ import annotations

import dataclasses
import io
import math
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from core import jobs
from districts.models import DataValue, OrgUnit, OrgUnitGroup
from targets.models import DataElement, Indicator
from targets.selectors import indicator_element_codes

from . import progress as engine
from .models import ProgressRow, ProgressRun

APPROVED_ONLY = ("approved",)
WITH_SUBMITTED = ("approved", "submitted")
# Serialises writers of progress rows: two overlapping runs may compute at the same time, but
# their delete-and-insert of the same keys must not interleave.
_PROGRESS_WRITE_LOCK = 7_345_001


@dataclass
class Scope:
    """What one run covers. Empty lists mean everything."""

    plan_code: str = ""
    indicator_codes: tuple[str, ...] = ()
    unit_codes: tuple[str, ...] = ()


def _indicators(scope: Scope) -> list[Indicator]:
    qs = Indicator.objects.select_related(
        "plan__city",
        "group",
        *Indicator.ELEMENT_FIELDS,
    ).order_by("plan__code", "goal__position", "position")
    if scope.plan_code:
        qs = qs.filter(plan__code=scope.plan_code)
    if scope.indicator_codes:
        qs = qs.filter(code__in=scope.indicator_codes)
    return list(qs)


def _f(number: Decimal | None) -> float | None:
    return None if number is None else float(number)


def _allocations(indicators: Iterable[Indicator]) -> dict[int, tuple]:
    """The units' own targets (目标任务分解) of these indicators, by indicator id."""
    from accountability.models import Allocation

    out: dict[int, list] = defaultdict(list)
    rows = Allocation.objects.filter(indicator__in=[i.pk for i in indicators]).values_list(
        "indicator_id", "org_unit__code", "target", "deadline", "indicator__deadline"
    )
    for indicator_id, unit, target, deadline, default in rows:
        out[indicator_id].append((unit, float(target), deadline or default))
    return {k: tuple(v) for k, v in out.items()}


def indicator_spec(ind: Indicator, allocations: tuple = ()) -> engine.IndicatorSpec:
    """The engine's plain description of an indicator (with its units' own targets)."""

    def ratio(num, den, factor) -> engine.RatioSpec | None:
        if num is None or den is None:
            return None
        return engine.RatioSpec(num.code, den.code, float(factor or 1))

    spec = engine.IndicatorSpec(
        code=ind.code,
        kind=ind.kind,
        city=ind.plan.city.code,
        comparator=ind.comparator,
        target=_f(ind.target),
        deadline=ind.deadline,
        baseline_value=_f(ind.baseline_value),
        baseline_period=ind.baseline_period or None,
        method=ind.effective_method,
        limit=_f(ind.limit),
        at_risk_fraction=float(ind.plan.at_risk_fraction),
        group=ind.group.code if ind.group_id else None,
        allocations=allocations,
    )
    fields: dict = {}
    if ind.kind in ("value", "milestone"):
        fields["element"] = ind.element.code
    elif ind.kind == "ratio":
        fields["ratio"] = ratio(ind.numerator, ind.denominator, ind.factor)
    elif ind.kind == "coverage":
        fields["level"] = ind.level
        fields["condition"] = engine.ConditionSpec(
            comparator=ind.condition_comparator,
            value=float(ind.condition_value),
            element=ind.condition_element.code if ind.condition_element else None,
            ratio=ratio(ind.condition_numerator, ind.condition_denominator, ind.condition_factor),
        )
    elif ind.kind == "growth":
        fields["growth_of_element"] = ind.element.code if ind.element else None
        fields["growth_of_ratio"] = ratio(ind.numerator, ind.denominator, ind.factor)
        fields["growth_mode"] = ind.growth_mode
        fields["growth_from_year"] = int(ind.growth_from[:4])
    return dataclasses.replace(spec, **fields)


def _element_ids(indicators: Iterable[Indicator]) -> set[int]:
    ids: set[int] = set()
    for ind in indicators:
        ids.update(i for f in Indicator.ELEMENT_FIELDS if (i := getattr(ind, f"{f}_id")))
    # weighted averages need their weights
    weights = set(
        DataElement.objects.filter(id__in=ids, weight__isnull=False).values_list(
            "weight_id", flat=True
        )
    )
    return ids | weights


def _units_under(city_paths: Iterable[str]) -> list[tuple[int, str, int | None, str, str]]:
    q = Q()
    for path in set(city_paths):
        q |= Q(path__startswith=path)
    return list(OrgUnit.objects.filter(q).values_list("id", "code", "parent_id", "level", "path"))


def _unit_facts():
    """Each unit's groups (codes) and its opening and closing dates, by unit id; units without
    any are absent. Read whole (there are a handful of groups and few dated units): no list of
    ids in the query, which would exceed SQLite's parameter limit on a big tree."""
    groups: dict[int, set[str]] = defaultdict(set)
    membership = OrgUnitGroup.units.through.objects.values_list("orgunit_id", "orgunitgroup__code")
    for unit_id, code in membership.iterator(chunk_size=20000):
        groups[unit_id].add(code)
    dated = {
        uid: (opened, closed)
        for uid, opened, closed in OrgUnit.objects.exclude(
            opened_on__isnull=True, closed_on__isnull=True
        ).values_list("id", "opened_on", "closed_on")
    }
    return groups, dated


def _load_values(element_ids, unit_ids, as_of: date, states) -> dict[tuple[str, str, str], float]:
    """The values that count, keyed (element code, unit code, period).

    On PostgreSQL months and quarters are rolled into years in SQL (the same rule the engine
    applies: the year's own value wins, then sub-periods of the element's declared type; ``sum``
    for flows, latest for stocks), which cuts what Python reads by up to twelve times. Other
    databases hand the engine the raw periods.
    """
    if connection.vendor == "postgresql":
        return _load_values_rolled_up(element_ids, unit_ids, as_of, states)
    return load_values_raw(element_ids, unit_ids, as_of, states)


def load_values_raw(
    element_ids, unit_ids, as_of: date, states
) -> dict[tuple[str, str, str], float]:
    codes = dict(DataElement.objects.filter(id__in=element_ids).values_list("id", "code"))
    unit_codes = dict(OrgUnit.objects.filter(id__in=unit_ids).values_list("id", "code"))
    rows = DataValue.objects.filter(
        element_id__in=list(codes),
        state__in=states,
        period_start__lte=as_of,
        org_unit_id__in=list(unit_codes),
    ).values_list("element_id", "org_unit_id", "period", "value")
    out: dict[tuple[str, str, str], float] = {}
    for element_id, unit_id, period, value in rows.iterator(chunk_size=20000):
        code = unit_codes.get(unit_id)
        if code is not None:
            out[(codes[element_id], code, period)] = float(value)
    return out


# One hash aggregate per (element, unit, year, period type): the sum for flows and, for stocks,
# the latest value found as max("period value") — period strings of one type sort by time.
# No ORDER BY inside an aggregate, so PostgreSQL never sorts the millions of monthly rows.
_ROLLUP_SQL = """
SELECT dv.element_id, dv.org_unit_id, left(dv.period, 4), length(dv.period),
       sum(dv.value)::float8, max(dv.period || ' ' || dv.value::text)
FROM districts_datavalue dv
WHERE dv.element_id = ANY(%(elements)s) AND dv.state = ANY(%(states)s)
  AND dv.period_start <= %(as_of)s {unit_filter}
GROUP BY 1, 2, 3, 4
"""
# Above this many units the filter costs more than reading the other units' rows and
# dropping them in Python.
_UNIT_FILTER_LIMIT = 5000
_LENGTH_TYPE = {4: "year", 6: "quarter", 7: "month"}


def _load_values_rolled_up(
    element_ids, unit_ids, as_of, states
) -> dict[tuple[str, str, str], float]:
    """Months and quarters rolled into years by the engine's rule: the year's own value wins,
    then sub-periods of the element's declared type, then the other sub-period type; ``sum``
    for flows, the latest value for stocks."""
    unit_codes = dict(OrgUnit.objects.filter(id__in=unit_ids).values_list("id", "code"))
    elements = {
        e.id: (e.code, e.temporal, e.period_type)
        for e in DataElement.objects.filter(id__in=list(element_ids))
    }
    best: dict[tuple[str, str, str], tuple[int, float]] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '256MB'")  # keep the hash aggregate in memory
        small = len(unit_ids) <= _UNIT_FILTER_LIMIT
        cursor.execute(
            _ROLLUP_SQL.format(unit_filter="AND dv.org_unit_id = ANY(%(units)s)" if small else ""),
            {
                "elements": list(element_ids),
                "states": list(states),
                "as_of": as_of,
                "units": list(unit_ids),
            },
        )
        while batch := cursor.fetchmany(50000):
            for element_id, unit_id, year, length, total, last in batch:
                unit = unit_codes.get(unit_id)
                if unit is None:
                    continue
                code, temporal, period_type = elements[element_id]
                kind = _LENGTH_TYPE[length]
                # (a yearly element's months beat its quarters, as in the engine)
                preferred = kind == period_type or (period_type == "year" and kind == "month")
                priority = 0 if kind == "year" else (1 if preferred else 2)
                key = (code, unit, year)
                held = best.get(key)
                if held is not None and held[0] <= priority:
                    continue
                if priority and temporal == "sum":
                    value = total
                else:
                    value = float(last.rpartition(" ")[2])
                best[key] = (priority, value)
    return {key: value for key, (_priority, value) in best.items()}


def _years(indicators: list[Indicator], data_years: set[int], as_of: date) -> list[int]:
    """From the plan's first year with data in its city to the as-of year, but not past the
    last deadline unless data goes on: after it a target is decided, and later years would only
    add no-data rows. (Baselines and growth base years are read by the engine directly.)"""
    last_deadline = max(i.deadline.year for i in indicators)
    if not data_years:
        return [min(as_of.year, last_deadline)]
    last = min(as_of.year, max(last_deadline, max(data_years)))
    return list(range(min(data_years), last + 1))


def _data_years_by_indicator(indicators, units, values) -> dict[str, set[int]]:
    """The years in which each indicator's elements have values inside its plan's city (per
    indicator, so an incremental run sees the same years as a full one)."""
    city_paths = {i.plan.city.path: i.plan.city.code for i in indicators}
    city_of = {}
    for _uid, code, _parent, _level, path in units:
        for city_path, city in city_paths.items():
            if path.startswith(city_path):
                city_of[code] = city
                break
    years_by: dict[tuple[str, str], set[int]] = defaultdict(set)
    for element, unit, period in values:
        city = city_of.get(unit)
        if city is not None:
            years_by[(city, element)].add(int(period[:4]))
    out: dict[str, set[int]] = defaultdict(set)
    for ind in indicators:
        for code in indicator_element_codes(ind):
            out[ind.code] |= years_by.get((ind.plan.city.code, code), set())
    return out


def progress_compute(
    *, indicators: list[Indicator], as_of: date, states=APPROVED_ONLY, only_unit_codes=None
) -> tuple[list[engine.ProgressResult], dict[str, int], int]:
    """Run the engine over stored data; returns rows, unit ids by code, and values read."""
    if not indicators:
        return [], {}, 0
    units = _units_under(i.plan.city.path for i in indicators)
    unit_ids = {code: uid for uid, code, _p, _l, _path in units}
    codes_by_id = {uid: code for uid, code, _p, _l, _path in units}
    groups, dated = _unit_facts()
    no_dates = (None, None)
    nodes = [
        engine.OrgUnitNode(
            code,
            codes_by_id.get(parent_id),
            level,
            frozenset(groups.get(uid, ())),
            *dated.get(uid, no_dates),
        )
        for uid, code, parent_id, level, _path in units
    ]
    element_ids = _element_ids(indicators)
    elements = {
        e.code: engine.ElementSpec(
            code=e.code,
            aggregation=e.aggregation,
            weight=e.weight.code if e.weight else None,
            temporal=e.temporal,
            period_type=e.period_type,
        )
        for e in DataElement.objects.filter(id__in=element_ids).select_related("weight")
    }
    values = _load_values(element_ids, list(unit_ids.values()), as_of, states)
    # Indicators sharing a range of years go to the engine together: it reads the values once.
    data_years = _data_years_by_indicator(indicators, units, values)
    by_years: dict[tuple[int, ...], list[Indicator]] = defaultdict(list)
    for ind in indicators:
        by_years[tuple(_years([ind], data_years.get(ind.code, set()), as_of))].append(ind)
    tree = engine.OrgTree(nodes)
    rows: list[engine.ProgressResult] = []
    only = set(only_unit_codes) if only_unit_codes else None
    depth = {code: path.count("/") for _uid, code, _p, _l, path in units}
    # "No data" rows are kept for a plan's city and its first-level units (the dashboards
    # count who has not reported there) but not for the thousands of communities below,
    # where they would be most of the table and say nothing new.
    keep_depth = {i.code: depth[i.plan.city.code] + 1 for i in indicators}
    allocations = _allocations(indicators)
    for years, group in by_years.items():
        rows.extend(
            row
            for row in engine.compute_progress(
                indicators=[indicator_spec(i, allocations.get(i.pk, ())) for i in group],
                elements=elements,
                units=tree,
                values=values,
                years=list(years),
                as_of=as_of,
                only_units=only,
            )
            if row.status != engine.NO_DATA or depth[row.org_unit] <= keep_depth[row.indicator]
        )
    return rows, unit_ids, len(values)


def progress_recompute(
    *, as_of: date | None = None, scope: Scope | None = None, trigger: str = "manual"
) -> ProgressRun:
    """Compute and store progress for ``scope`` as of ``as_of`` (default: today), now."""
    scope = scope or Scope()
    run = ProgressRun.start_new(
        trigger=trigger,
        plan_code=scope.plan_code,
        indicator_codes=list(scope.indicator_codes),
        org_unit_codes=list(scope.unit_codes),
        as_of=as_of or timezone.localdate(),
    )
    return _progress_run(run)


def progress_run(*, run_id: int) -> ProgressRun | None:
    """Run a queued recompute (its scope is on the row); None when it is not this caller's to
    run (done, or running on a live worker)."""
    run = ProgressRun.claim(run_id)
    return _progress_run(run) if run else None


def _progress_run(run: ProgressRun) -> ProgressRun:
    scope = Scope(
        plan_code=run.plan_code,
        indicator_codes=tuple(run.indicator_codes),
        unit_codes=tuple(run.org_unit_codes),
    )
    as_of = run.as_of
    started = time.perf_counter()
    try:
        with jobs.heartbeat(run):
            indicators = _indicators(scope)
            only = None
            if scope.unit_codes:
                only = _with_ancestors(scope.unit_codes)
                indicators = _plans_containing(indicators, scope.unit_codes)
            rows, unit_ids, values_read = progress_compute(
                indicators=indicators, as_of=as_of, only_unit_codes=only
            )
            indicator_ids = {i.code: i.id for i in indicators}
            written = _store(rows, indicator_ids, unit_ids, run, only)
    except Exception as exc:
        run.fail(
            f"{type(exc).__name__}: {exc}",
            duration_ms=int((time.perf_counter() - started) * 1000),
        )
        raise
    run.finish(
        indicators_count=len(indicators),
        rows_written=written,
        values_read=values_read,
        duration_ms=int((time.perf_counter() - started) * 1000),
    )
    return run


def _plans_containing(indicators: list[Indicator], unit_codes: Iterable[str]) -> list[Indicator]:
    """A change at a unit moves only the indicators of plans whose city contains it."""
    paths = list(OrgUnit.objects.filter(code__in=list(unit_codes)).values_list("path", flat=True))
    return [i for i in indicators if any(p.startswith(i.plan.city.path) for p in paths)]


def _with_ancestors(unit_codes: Iterable[str]) -> set[str]:
    """The units and every unit above them: the rows a change at these units can move."""
    paths = OrgUnit.objects.filter(code__in=list(unit_codes)).values_list("path", flat=True)
    return {code for path in paths for code in path.strip("/").split("/")}


_COLUMNS = (
    "indicator_id",
    "org_unit_id",
    "period",
    "period_end",
    "value",
    "numerator",
    "denominator",
    "target",
    "comparator",
    "deadline",
    "percent_of_target",
    "expected",
    "status",
    "forecast",
    "completeness",
    "share_of_total",
    "ratio",
    "score",
    "reporting_units",
    "expected_units",
    "run_id",
    "computed_at",
)


def _num(x: float | None, places: int = 6) -> str | None:
    """Stored decimals are rounded here, at the edge; non-finite values are not stored."""
    if x is None or not math.isfinite(x) or abs(x) >= _MAX_STORED:
        return None
    return f"{x:.{places}f}"


def _row_tuple(r: engine.ProgressResult, indicator_ids, unit_ids, run_id, now) -> tuple:
    return (
        indicator_ids[r.indicator],
        unit_ids[r.org_unit],
        r.period,
        date(int(r.period[:4]), 12, 31),
        _num(r.value),
        _num(r.numerator),
        _num(r.denominator),
        _num(r.target),
        r.comparator,
        r.deadline,
        _num(r.percent_of_target),
        _num(r.expected),
        r.status,
        _num(r.forecast),
        _num(r.completeness, 4),
        _num(r.share_of_total, 4),
        r.ratio if r.ratio is None or math.isfinite(r.ratio) else None,
        r.score if r.score is None or math.isfinite(r.score) else None,
        r.reporting_units,
        r.expected_units,
        run_id,
        now,
    )


def _store(rows, indicator_ids: dict[str, int], unit_ids: dict[str, int], run, only) -> int:
    """Replace the stored rows of the run's scope with ``rows`` in one transaction, so readers
    see either the old or the new picture, never a gap."""
    now = timezone.now()
    with transaction.atomic():
        stale = ProgressRow.objects.filter(indicator_id__in=list(indicator_ids.values()))
        if only is not None:
            stale = stale.filter(org_unit_id__in=[unit_ids[c] for c in only if c in unit_ids])
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PROGRESS_WRITE_LOCK])
            stale._raw_delete(stale.db)
            _copy_rows(rows, indicator_ids, unit_ids, run.id, now)
        else:
            stale._raw_delete(stale.db)
            _insert_rows(rows, indicator_ids, unit_ids, run.id, now)
    return len(rows)


def _insert_rows(rows, indicator_ids, unit_ids, run_id: int, now) -> None:
    """Other databases (the SQLite quick start): one executemany of pre-adapted tuples,
    several times faster than building model instances for bulk_create."""
    ops = connection.ops
    stamp = ops.adapt_datetimefield_value(now)
    table = ProgressRow._meta.db_table
    sql = (
        f"INSERT INTO {table} ({', '.join(_COLUMNS)}) VALUES ({', '.join(['%s'] * len(_COLUMNS))})"
    )
    params = []
    for r in rows:
        t = list(_row_tuple(r, indicator_ids, unit_ids, run_id, now))
        t[3] = ops.adapt_datefield_value(t[3])
        t[9] = ops.adapt_datefield_value(t[9])
        t[-1] = stamp
        params.append(t)
    with connection.cursor() as cursor:
        for start in range(0, len(params), 5000):
            cursor.executemany(sql, params[start : start + 5000])


# numeric(24, 6) holds 18 integer digits; a ratio over a near-zero target can exceed that
# (and an infinity never fits): such a figure is not stored rather than failing the run.
_MAX_STORED = 1e17


def _copy_number(x: float | None) -> str:
    """A number in COPY text format; the numeric column rounds it to its scale on input."""
    if x is None or x != x or not -_MAX_STORED < x < _MAX_STORED:
        return "\\N"
    return repr(x)


def _copy_int(x: int | None) -> str:
    return "\\N" if x is None else str(x)


def _copy_rows(rows, indicator_ids, unit_ids, run_id: int, now) -> None:
    """PostgreSQL COPY: an order of magnitude faster than INSERTs for a full recompute."""
    n = _copy_number
    tail = f"\t{run_id}\t{now.isoformat()}\n"
    period_ends: dict[str, str] = {}
    buffer = io.StringIO()
    write = buffer.write
    for r in rows:
        end = period_ends.get(r.period) or period_ends.setdefault(r.period, f"{r.period[:4]}-12-31")
        write(
            f"{indicator_ids[r.indicator]}\t{unit_ids[r.org_unit]}\t{r.period}\t{end}\t"
            f"{n(r.value)}\t{n(r.numerator)}\t{n(r.denominator)}\t{n(r.target)}\t"
            f"{r.comparator}\t{r.deadline}\t{n(r.percent_of_target)}\t{n(r.expected)}\t"
            f"{r.status}\t{n(r.forecast)}\t{n(r.completeness)}\t{n(r.share_of_total)}\t"
            f"{n(r.ratio)}\t{n(r.score)}\t{_copy_int(r.reporting_units)}\t"
            f"{_copy_int(r.expected_units)}{tail}"
        )
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f"COPY {ProgressRow._meta.db_table} ({', '.join(_COLUMNS)}) FROM STDIN", buffer
        )


def indicators_fed_by(element_codes: Iterable[str]) -> list[str]:
    """Codes of the indicators whose value depends on any of these elements (directly, or as
    the weight of an element they use)."""
    codes = set(element_codes)
    weighted = set(
        DataElement.objects.filter(weight__code__in=codes).values_list("code", flat=True)
    )
    codes |= weighted
    refs = Q()
    for field in Indicator.ELEMENT_FIELDS:
        refs |= Q(**{f"{field}__code__in": codes})
    return list(Indicator.objects.filter(refs).values_list("code", flat=True))

"""Scoring an assessment (考评, SPEC §7), pure.

An item earns ``points × scoring[status]``; a unit's score is the sum of its items. A veto item
(一票否决) whose status is ``off_track`` or ``missed`` marks the unit vetoed: it ranks after every
unit not vetoed, its score still shown. Equal scores share a rank (1, 2, 2, 4). With
``rank_by_group`` units are ranked within their group (镇 apart from 街道), else all together.
A unit without a progress row for an item has ``no_data``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

VETO_STATUSES = frozenset({"off_track", "missed"})
NO_DATA = "no_data"
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class Item:
    indicator: str
    points: Decimal
    veto: bool = False


class ItemScore(NamedTuple):
    # (a named tuple: a million of them are made per scheme at benchmark scale, bench/assess.py)
    indicator: str
    status: str
    points: Decimal
    earned: Decimal
    veto: bool


@dataclass
class UnitScore:
    unit: str
    group: str
    score: Decimal
    max_score: Decimal
    vetoed: bool
    items: list[ItemScore] = field(default_factory=list)
    rank: int = 0


def score_units(
    *,
    items: Sequence[Item],
    scoring: Mapping[str, float],
    units: Sequence[tuple[str, str]],
    statuses: Mapping[tuple[str, str], str],
    rank_by_group: bool = False,
) -> list[UnitScore]:
    """Score and rank ``units`` (``(code, group)``) from ``statuses`` keyed by ``(indicator,
    unit)``. Returned ranked: by group (when ranked by group), then rank, then code."""
    max_score = sum((i.points for i in items), Decimal(0))
    # Each item's result for each status, worked out once: (ItemScore maker, cents, vetoes).
    factors = {status: Decimal(str(f)) for status, f in scoring.items()}
    zero = Decimal(0)
    tables = []
    for item in items:
        cache: dict[str, tuple[ItemScore, int, bool]] = {}

        def result(status: str, item: Item = item, cache=cache) -> tuple[ItemScore, int, bool]:
            found = cache.get(status)
            if found is None:
                earned = (item.points * factors.get(status, zero)).quantize(
                    _CENT, rounding=ROUND_HALF_UP
                )
                found = cache[status] = (
                    ItemScore(item.indicator, status, item.points, earned, item.veto),
                    int(earned * 100),
                    item.veto and status in VETO_STATUSES,
                )
            return found

        tables.append((item.indicator, cache, result))
    out: list[UnitScore] = []
    get = statuses.get
    for code, group in units:
        scored = []
        cents = 0
        vetoed = False
        for indicator, cache, result in tables:
            status = get((indicator, code), NO_DATA)
            one = cache.get(status) or result(status)
            scored.append(one[0])
            cents += one[1]
            vetoed = vetoed or one[2]
        total = (Decimal(cents) / 100).quantize(_CENT)
        out.append(UnitScore(code, group, total, max_score, vetoed, scored))
    pools: dict[str, list[UnitScore]] = defaultdict(list)
    for unit in out:
        pools[unit.group if rank_by_group else ""].append(unit)
    ranked: list[UnitScore] = []
    for key in sorted(pools):
        pool = sorted(pools[key], key=lambda u: (u.vetoed, -u.score, u.unit))
        for position, unit in enumerate(pool):
            previous = pool[position - 1] if position else None
            if previous and (previous.vetoed, previous.score) == (unit.vetoed, unit.score):
                unit.rank = previous.rank
            else:
                unit.rank = position + 1
        ranked.extend(pool)
    return ranked

"""The ``cagr`` progress method: the Statistics Canada / Open SDG progress measure (SPEC §3).

National SDG reporting platforms built on Open SDG rate each series by its compound annual growth
rate (CAGR) since a base year. With a target, the observed CAGR is compared with the CAGR needed to
reach the target by the target year (``R``); without one, the observed CAGR itself (``v``) is
compared with fixed thresholds that shrink as the value nears a natural limit (e.g. 100 for a
share). The result is a status (``substantial_progress`` … ``deterioration``) and a score in
[−5, 5]. This module reproduces sdg-build 2.4.0 (``sdg/ProgressMeasure.py``) number for number; the
reference series in ``tests/reports/data/statcan-progress-golden.yml`` prove it.

Pure: plain numbers in, a :class:`CagrResult` out; the engine in :mod:`reports.progress` and the
golden test both call :func:`cagr_progress`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Open SDG's status vocabulary, exactly as sdg-build writes it.
TARGET_ACHIEVED = "target_achieved"
SUBSTANTIAL_PROGRESS = "substantial_progress"
MODERATE_PROGRESS = "moderate_progress"
LIMITED_PROGRESS = "limited_progress"
DETERIORATION = "deterioration"
NOT_AVAILABLE = "not_available"

# A zero target or base value makes the growth rate undefined; Open SDG substitutes this.
ZERO_SUBSTITUTE = 0.001
# Exponent of the limit-proximity coefficient C (Statistics Canada methodology).
LIMIT_EXPONENT = 4.44

# Default thresholds: with a target they apply to R (share of the required growth achieved),
# without one to v (the observed growth rate itself, 1.5% / 0.5% / 0% a year).
WITH_TARGET_THRESHOLDS = (0.95, 0.6, 0.0)
WITHOUT_TARGET_THRESHOLDS = (0.015, 0.005, 0.0)


@dataclass(frozen=True, slots=True)
class CagrResult:
    """How one series stands under the cagr method.

    ``progress_value`` is ``R`` (observed over required growth) when there is a target and ``v``
    (signed observed growth) when there is none; ``None`` when it cannot be computed (fewer than
    two years, base year after the current year, values of mixed sign, or a required growth of
    zero). ``score`` is in [−5, 5] (5 when the target is met). ``status`` uses Open SDG's
    vocabulary, so a met target is ``target_achieved`` (the engine reports it as ``achieved``).
    ``coefficient`` is the limit factor ``C`` (1 without a limit or with a target).
    """

    progress_value: float | None
    score: float | None
    status: str
    target_achieved: bool = False
    coefficient: float = 1.0


def growth_rate(value: float, base_value: float, year: float, base_year: float) -> float | None:
    """Compound annual growth from ``base_value`` in ``base_year`` to ``value`` in ``year``.

    ``None`` where the rate is not a real number: no elapsed time, or a negative ratio (Python
    would return a complex number and sdg-build's numpy a NaN)."""
    span = year - base_year
    if span == 0:
        return None
    quotient = value / base_value
    if quotient < 0:
        return None
    return quotient ** (1 / span) - 1


def limit_coefficient(base_value: float, limit: float | None) -> float:
    """The factor ``C`` that shrinks the no-target thresholds as the base value nears ``limit``:
    close to a natural ceiling (a 98% share of 100) little growth is left to make."""
    if limit is None:
        return 1.0
    base = abs(base_value)
    lim = abs(limit)
    # Checked first so that a base and limit both of zero give C = 1, as in sdg-build.
    if base >= 2 * lim:
        return 1.0
    if base <= lim:
        return 1 - (base / lim) ** LIMIT_EXPONENT
    return 1 - ((2 * lim - base) / lim) ** LIMIT_EXPONENT


def target_met(current_value: float, target: float | None, direction: int) -> bool:
    """Whether the current value already satisfies the target in the desired direction."""
    if target is None:
        return False
    return current_value >= target if direction == 1 else current_value <= target


def status_for(progress_value: float | None, thresholds: tuple[float, float, float]) -> str:
    """The status band of a progress value for (high, medium, low) thresholds."""
    if progress_value is None:
        return NOT_AVAILABLE
    high, med, low = thresholds
    if progress_value >= high:
        return SUBSTANTIAL_PROGRESS
    if progress_value >= med:
        return MODERATE_PROGRESS
    if progress_value >= low:
        return LIMITED_PROGRESS
    return DETERIORATION


def cagr_progress(
    base_year: float | None,
    base_value: float | None,
    current_year: float | None,
    current_value: float | None,
    target: float | None,
    target_year: float,
    direction: int,
    limit: float | None = None,
    sign: int | None = None,
) -> CagrResult:
    """Rate one series by the Statistics Canada / Open SDG progress measure.

    ``base_year``/``base_value`` is the first observation at or after the base year asked for
    (see :func:`select_base`), ``current_year``/``current_value`` the latest. ``direction`` is +1
    when higher is better, −1 when lower is better. ``sign`` is −1 when the base value is
    negative; left ``None`` it is derived from ``base_value``. ``limit`` is the natural limit used
    only without a target.
    """
    if direction not in (1, -1):
        raise ValueError(f"direction must be +1 or −1, not {direction!r}")
    if base_value is None or current_value is None or base_year is None or current_year is None:
        return CagrResult(None, None, NOT_AVAILABLE)
    if target == 0:
        target = ZERO_SUBSTITUTE
    if sign is None:
        sign = -1 if base_value < 0 else 1

    achieved = target_met(current_value, target, direction)
    # sdg-build sizes the thresholds from the base value as observed, before a zero base is
    # replaced by 0.001 (the order matters for C, if only in the 20th decimal).
    if target is None:
        coefficient = limit_coefficient(base_value, limit)
        thresholds = tuple(t * coefficient for t in WITHOUT_TARGET_THRESHOLDS)
    else:
        coefficient = 1.0
        thresholds = WITH_TARGET_THRESHOLDS
    high, med, low = thresholds

    progress_value, unbounded = _progress_value(
        base_year, base_value, current_year, current_value, target, target_year, direction, sign
    )

    if achieved:
        return CagrResult(progress_value, 5.0, TARGET_ACHIEVED, True, coefficient)
    if unbounded is not None:
        # The required growth is zero (target equals base) but the value has moved: R is ±∞.
        # sdg-build's numpy yields ±inf here; ±∞ is not a storable number, so the value is None
        # and the band and the clamped score are those ±∞ would get.
        if unbounded > 0:
            return CagrResult(None, 5.0, SUBSTANTIAL_PROGRESS, False, coefficient)
        return CagrResult(None, -5.0, DETERIORATION, False, coefficient)
    status = status_for(progress_value, (high, med, low))
    if progress_value is None:
        return CagrResult(None, None, status, False, coefficient)

    pv = progress_value
    if target is None:
        if pv < low:
            score = max(125 * pv - 2.5, -5.0)
        elif coefficient == 0:
            # The base sits exactly at the limit and is held there: nothing more to gain.
            score = 5.0
        elif pv >= high:
            score = min(500 * pv / coefficient - 5, 5.0)
        elif pv >= med:
            score = 250 * pv / coefficient - 1.25
        else:
            score = 500 * pv / coefficient - 2.5
    elif pv >= med:
        score = min(7.1429 * pv - 4.2857, 5.0)
    else:
        score = max(4.1667 * pv - 2.5, -5.0)
    return CagrResult(pv, score, status, False, coefficient)


def _progress_value(
    base_year: float,
    base_value: float,
    current_year: float,
    current_value: float,
    target: float | None,
    target_year: float,
    direction: int,
    sign: int,
) -> tuple[float | None, int | None]:
    """``(value, None)``, or ``(None, ±1)`` when R is ±∞ (required growth of exactly zero)."""
    if base_value == 0:
        base_value = ZERO_SUBSTITUTE
    if (base_value > 0 and current_value < 0) or (base_value < 0 and current_value > 0):
        return None, None
    if current_year - base_year < 1:  # also covers a base year after the current year
        return None, None
    observed = growth_rate(current_value, base_value, current_year, base_year)
    if observed is None:
        return None, None
    if target is None:
        return sign * direction * observed, None
    required = growth_rate(target, base_value, target_year, base_year)
    if required is None:
        return None, None
    if required == 0:
        numerator = sign * direction * observed
        if numerator == 0:
            return None, None  # 0/0: the golden series store it as null
        return None, (1 if numerator > 0 else -1)
    value = sign * direction * observed / abs(required)
    return (value if math.isfinite(value) else None), None


def select_base(series: Mapping[int, float], base_year: int) -> tuple[int, float] | None:
    """The base observation: the value in ``base_year`` if there is one, else the first year
    with data after it; ``None`` when no year at or after ``base_year`` has data."""
    if base_year in series:
        return base_year, series[base_year]
    later = [year for year in series if year > base_year]
    if not later:
        return None
    year = min(later)
    return year, series[year]


def status_from_score(score: float | None, all_achieved: bool = False) -> str:
    """The status of a mean score (Open SDG's indicator-level roll-up of several series)."""
    if all_achieved:
        return TARGET_ACHIEVED
    if score is None:
        return NOT_AVAILABLE
    if score >= 2.5:
        return SUBSTANTIAL_PROGRESS
    if score >= 0:
        return MODERATE_PROGRESS
    if score >= -2.5:
        return LIMITED_PROGRESS
    return DETERIORATION


def aggregate_cagr(results: Iterable[CagrResult]) -> tuple[float | None, str]:
    """Open SDG's indicator-level result over several series: the mean of the scores that exist,
    and ``target_achieved`` only when every scored series met its target."""
    scored = [r for r in results if r.score is not None]
    if not scored:
        return None, NOT_AVAILABLE
    mean = math.fsum(r.score for r in scored) / len(scored)  # type: ignore[misc]
    return mean, status_from_score(mean, all(r.target_achieved for r in scored))

"""The cagr method against 247 real series from Canada's SDG platform (SPEC §3).

``data/statcan-progress-golden.yml`` is a copy of ``../shared/reference/statcan-progress-golden.yml``:
per indicator, ``progress_status`` and ``score`` (the indicator-level result) and one mapping per
series with its inputs and the ``progress_value``, ``score`` and ``status`` that sdg-build 2.4.0
computed. Indicators with an empty ``progress_status`` and no series had no inputs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from reports.cagr import (
    DETERIORATION,
    LIMITED_PROGRESS,
    MODERATE_PROGRESS,
    NOT_AVAILABLE,
    SUBSTANTIAL_PROGRESS,
    TARGET_ACHIEVED,
    CagrResult,
    aggregate_cagr,
    cagr_progress,
    limit_coefficient,
    select_base,
)

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "data" / "statcan-progress-golden.yml"
SHARED = HERE.parents[2] / "shared" / "reference" / "statcan-progress-golden.yml"

with GOLDEN.open(encoding="utf-8") as fh:
    DATA: dict = yaml.safe_load(fh)

SERIES = [
    (f"{indicator} :: {tag}", inputs)
    for indicator, entry in DATA.items()
    for tag, inputs in entry.items()
    if isinstance(inputs, dict)
]


def _run(inputs: dict) -> CagrResult:
    return cagr_progress(
        inputs["base_year"],
        inputs["base_value"],
        inputs["current_year"],
        inputs["current_value"],
        inputs["target"],
        inputs["target_year"],
        inputs["direction"],
        inputs["limit"],
        inputs["sign"],
    )


def test_the_copy_equals_the_shared_reference():
    if not SHARED.exists():
        pytest.skip("../shared/reference is not present (repository checked out alone)")
    assert GOLDEN.read_bytes() == SHARED.read_bytes()


def test_golden_file_holds_247_series_of_every_status():
    assert len(SERIES) == 247
    statuses = {inputs["status"] for _tag, inputs in SERIES}
    assert statuses == {
        TARGET_ACHIEVED,
        SUBSTANTIAL_PROGRESS,
        MODERATE_PROGRESS,
        LIMITED_PROGRESS,
        DETERIORATION,
        NOT_AVAILABLE,
    }


@pytest.mark.parametrize(("tag", "inputs"), SERIES, ids=[tag for tag, _ in SERIES])
def test_series_reproduces_golden(tag: str, inputs: dict):
    result = _run(inputs)
    assert result.status == inputs["status"]
    if inputs["progress_value"] is None:
        assert result.progress_value is None
    else:
        assert result.progress_value is not None
        assert abs(result.progress_value - inputs["progress_value"]) <= 1e-9
    if inputs["score"] is None:
        assert result.score is None
    else:
        assert result.score is not None
        assert abs(result.score - inputs["score"]) <= 1e-6


# sdg-build stores series components in a dict keyed by the series tag, so when two configured
# series share a tag only the last survives in the file while the indicator's mean score still
# counts both. These five indicators are therefore not reproducible from the file's series alone
# (e.g. 16-3-1: the three series listed average −2.2520 but the recorded mean is −2.1262, which a
# fourth series scoring −1.748 — a duplicate tag — explains).
COLLAPSED_TAGS = {"1-4-1", "16-3-1", "4-5-1", "4-a-1", "9-c-1"}


def test_indicator_level_mean_score_and_status():
    checked = 0
    for indicator, entry in DATA.items():
        results = [_run(v) for v in entry.values() if isinstance(v, dict)]
        score, status = aggregate_cagr(results)
        if score is None or indicator in COLLAPSED_TAGS:
            continue  # manual statuses (no scored series) are metadata, not computed
        checked += 1
        assert abs(score - entry["score"]) <= 1e-9, indicator
        assert status == entry["progress_status"], indicator
    assert checked == 111


def test_collapsed_indicators_really_differ():
    # Guards the exclusion above: if these ever matched, the list would be hiding nothing.
    for indicator in COLLAPSED_TAGS:
        entry = DATA[indicator]
        score, _status = aggregate_cagr([_run(v) for v in entry.values() if isinstance(v, dict)])
        assert score is not None and abs(score - entry["score"]) > 1e-3


# ---------------------------------------------------------------------------------------------
# Hand-worked cases for the branches the golden file exercises rarely or not at all
# ---------------------------------------------------------------------------------------------


def test_no_target_with_limit_scales_thresholds():
    # Golden 1-3-1 (children covered by social protection): 90.0 (2015) → 93.2 (2021), limit 100.
    # v = (93.2/90)^(1/6) − 1 = 0.005840; C = 1 − 0.9^4.44 = 0.37375; thresholds 0.5606% and
    # 0.1869%: v ≥ 0.015·C → substantial; score min(500·v/C − 5, 5) = 2.8154.
    c = 1 - 0.9**4.44
    assert limit_coefficient(90.0, 100) == pytest.approx(c)
    r = cagr_progress(2015, 90.0, 2021, 93.2, None, 2030, 1, 100)
    v = (93.2 / 90) ** (1 / 6) - 1
    assert r.progress_value == pytest.approx(v)
    assert r.status == SUBSTANTIAL_PROGRESS
    assert r.score == pytest.approx(min(500 * v / c - 5, 5))
    # Above the limit the coefficient mirrors: 1 − ((2·100 − 150)/100)^4.44.
    assert limit_coefficient(150.0, 100) == pytest.approx(1 - 0.5**4.44)
    assert limit_coefficient(250.0, 100) == 1.0
    assert limit_coefficient(90.0, None) == 1.0


def test_no_target_bands_without_limit():
    # v = 1% a year: between 0.5% and 1.5% → moderate, score 250·0.01 − 1.25 = 1.25.
    r = cagr_progress(2015, 100.0, 2016, 101.0, None, 2030, 1)
    assert r.status == MODERATE_PROGRESS and r.score == pytest.approx(1.25)
    # v = 0.2%: limited, score 500·0.002 − 2.5 = −1.5.
    r = cagr_progress(2015, 100.0, 2016, 100.2, None, 2030, 1)
    assert r.status == LIMITED_PROGRESS and r.score == pytest.approx(-1.5)
    # Lower is better and the value rose 10%: v = −0.1 → deterioration, max(−12.5 − 2.5, −5).
    r = cagr_progress(2015, 100.0, 2016, 110.0, None, 2030, -1)
    assert r.status == DETERIORATION and r.score == -5.0


def test_zero_target_and_zero_base_are_replaced():
    # Golden 2-b-1 style: target 0 becomes 0.001; the current value 0 meets it.
    r = cagr_progress(2015, 81124.0, 2023, 0.0, 0, 2030, -1)
    assert r.status == TARGET_ACHIEVED and r.score == 5.0
    # A base of 0 becomes 0.001: growth to 1.0 over one year is (1/0.001) − 1 = 999 ≥ 0.015.
    r = cagr_progress(2015, 0.0, 2016, 1.0, None, 2030, 1)
    assert r.progress_value == pytest.approx(999.0)
    assert r.status == SUBSTANTIAL_PROGRESS and r.score == 5.0


def test_zero_target_changes_the_required_growth():
    # ≤ 0 by 2030 from 10 in 2015; 5 in 2020. The target becomes 0.001:
    # CAGR_r = (0.001/10)^(1/15) − 1 = 10^(−4/15) − 1 = −0.458830; CAGR_o = 0.5^(1/5) − 1 =
    # −0.129449; R = −1 · CAGR_o / |CAGR_r| = 0.282129 → limited, score 4.1667·R − 2.5.
    r = cagr_progress(2015, 10.0, 2020, 5.0, 0, 2030, -1)
    expected = (1 - 0.5 ** (1 / 5)) / (1 - 10 ** (-4 / 15))
    assert r.progress_value == pytest.approx(expected)
    assert r.progress_value == pytest.approx(0.282129, abs=1e-6)
    assert r.status == LIMITED_PROGRESS
    assert r.score == pytest.approx(4.1667 * expected - 2.5)


def test_base_at_the_limit_and_held_scores_five():
    # A share already at its natural limit of 100 and kept there: C = 1 − 1^4.44 = 0, every
    # threshold is 0, v = 0 → substantial, and the score is 5 rather than 0/0.
    r = cagr_progress(2015, 100.0, 2020, 100.0, None, 2030, 1, 100)
    assert r.coefficient == 0.0
    assert (r.progress_value, r.status, r.score) == (0.0, SUBSTANTIAL_PROGRESS, 5.0)


def test_not_available_cases():
    assert _status(cagr_progress(2015, 5.0, 2015, 6.0, 10, 2030, 1)) == NOT_AVAILABLE  # one year
    assert _status(cagr_progress(2016, 5.0, 2015, 6.0, 10, 2030, 1)) == NOT_AVAILABLE  # base later
    assert _status(cagr_progress(2015, 5.0, 2020, -6.0, 10, 2030, 1)) == NOT_AVAILABLE  # signs
    assert _status(cagr_progress(None, None, None, None, 10, 2030, 1)) == NOT_AVAILABLE
    # Target met wins even with a single year.
    assert _status(cagr_progress(2015, 12.0, 2015, 12.0, 10, 2030, 1)) == TARGET_ACHIEVED


def test_negative_values_flip_the_sign():
    # Both negative, higher is better: −10 → −5 over 5 years. CAGR_o = (0.5)^(1/5) − 1 < 0, but
    # sign −1 turns it into progress: R = (−1)(+1)(CAGR_o) / |CAGR_r| with target −2 by 2030:
    # CAGR_r = (0.2)^(1/15) − 1.
    r = cagr_progress(2015, -10.0, 2020, -5.0, -2, 2030, 1)
    expected = -1 * (0.5 ** (1 / 5) - 1) / abs(0.2 ** (1 / 15) - 1)
    assert r.progress_value == pytest.approx(expected)
    assert r.progress_value == pytest.approx(1.27235380, abs=1e-8)
    assert r.status == SUBSTANTIAL_PROGRESS  # 1.272 ≥ 0.95


def test_target_equal_to_base_but_moved_away_is_deterioration():
    # Required growth 0 (target = base) and the value worsened: R = −∞ → deterioration, −5.
    r = cagr_progress(2015, 100.0, 2020, 90.0, 100, 2030, 1)
    assert (r.progress_value, r.status, r.score) == (None, DETERIORATION, -5.0)


def test_select_base_takes_first_year_at_or_after():
    series = {2014: 1.0, 2016: 2.0, 2018: 3.0}
    assert select_base(series, 2016) == (2016, 2.0)
    assert select_base(series, 2015) == (2016, 2.0)
    assert select_base(series, 2019) is None


def _status(r: CagrResult) -> str:
    return r.status

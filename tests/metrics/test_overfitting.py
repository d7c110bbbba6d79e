"""PBO (CSCV), deflated and probabilistic Sharpe: hand-computed cases and ffn as the oracle."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmopt.metrics import OrderCounts, compute_shard_metrics
from mmopt.metrics.overfit_report import format_p, overfit_report
from mmopt.metrics.overfitting import (
    blocks_for,
    deflated_sharpe,
    expected_max_sharpe,
    pbo_cscv,
    probabilistic_sharpe,
    sample_moments,
    sharpe_standard_error,
)
from mmopt.metrics.sampling import MIN_INTERVALS, stated_ratios
from mmopt.metrics.slices import TrialSlices, trial_slices
from tests.metrics.metrics_builders import LINEAR, make_equity, make_fills

ffn = pytest.importorskip("ffn", reason="ffn (dev extra) is the independent implementation")


# -- hand-computed cases ---------------------------------------------------------------------

def test_a_trial_better_in_every_slice_is_never_overfit() -> None:
    # 4 blocks of 2 slices, trial A = trial B + 1: same std, higher mean, so A wins in sample
    # and out of sample in all C(4, 2) = 6 combinations: omega = 2/3, logit = ln 2, PBO = 0.
    b = np.array([0.5, -0.2, 0.3, 0.1, -0.4, 0.6, 0.2, 0.0])
    result = pbo_cscv(np.column_stack([b + 1.0, b]), n_blocks=4)
    assert result.n_combinations == 6 and result.n_slices == 8
    assert result.pbo == 0.0
    np.testing.assert_allclose(result.logits, math.log(2.0))
    assert result.mean_oos_rank == pytest.approx(2.0 / 3.0)


def test_a_winner_that_reverses_is_overfit() -> None:
    # A is better on blocks 0-1, B on blocks 2-3, by mirrored amounts. In-sample {0,1}: A wins,
    # ranks last out of sample (omega 1/3, logit ln 1/2); {2,3} the same for B; the four mixed
    # halves tie exactly (same multiset), the first trial is picked and ties out of sample
    # (omega 1/2, logit 0, counted as overfit). PBO = 1, mean omega = (2/3 + 2) / 6.
    x, y = [1.0, 0.5], [0.2, -0.1]
    a = np.array(x + x + y + y)
    b = np.array(y + y + x + x)
    result = pbo_cscv(np.column_stack([a, b]), n_blocks=4)
    half = math.log(0.5)
    np.testing.assert_allclose(result.logits, [half, 0, 0, 0, 0, half], atol=1e-12)
    assert result.pbo == 1.0
    assert result.mean_oos_rank == pytest.approx((2.0 / 3.0 + 2.0) / 6.0)


def test_probabilistic_and_deflated_sharpe_by_hand() -> None:
    # PSR: SR 0.1 per period, 101 observations, normal moments:
    # z = 0.1 * sqrt(100) / sqrt(1 + (3 - 1) / 4 * 0.01) = 0.99751 -> Phi(z) = 0.840741
    assert probabilistic_sharpe(0.1, 101, 0.0, 3.0) == pytest.approx(0.8407413, abs=1e-6)
    # Expected max of 3 trials with Sharpe std 0.05:
    # 0.05 * ((1 - g) * Z(2/3) + g * Z(1 - 1/(3e))) = 0.05 * (0.4227843 * 0.4307273
    #   + 0.5772157 * 1.1619569) = 0.0426402
    assert expected_max_sharpe(3, 0.05) == pytest.approx(0.0426402, abs=1e-6)
    # DSR = Phi((0.1 - 0.0426402) * 10 / sqrt(1.005)) = Phi(0.572169) = 0.716396
    result = deflated_sharpe(0.1, 101, 0.0, 3.0, np.array([0.0, 0.05, 0.1]))
    assert result.dsr == pytest.approx(0.7163963, abs=1e-6)
    assert result.p_value == pytest.approx(1.0 - 0.7163963, abs=1e-6)
    assert result.n_trials == 3 and result.expected_max == pytest.approx(0.0426402, abs=1e-6)
    # more trials tried (pruned ones) raise the hurdle
    assert deflated_sharpe(0.1, 101, 0.0, 3.0, np.array([0.0, 0.05, 0.1]),
                           n_trials=30).dsr < result.dsr


def test_sharpe_standard_error_by_hand() -> None:
    # Mertens: sqrt((1 - skew SR + (kurt - 1)/4 SR^2) / (n - 1)); normal, SR 0.5, n 26:
    # sqrt((1 + 0.125) / 25) = 0.212132
    assert sharpe_standard_error(0.5, 26) == pytest.approx(0.2121320, abs=1e-6)
    assert sharpe_standard_error(0.5, 26, skew=-1.0, kurtosis=6.0) == pytest.approx(
        math.sqrt((1 + 0.5 + 1.25 * 0.25) / 25))
    assert math.isnan(sharpe_standard_error(0.5, 1))


def test_blocks_for_small_samples() -> None:
    assert blocks_for(128) == 16 and blocks_for(64) == 16
    assert blocks_for(40) == 10 and blocks_for(16) == 4
    assert blocks_for(15) == 0


def test_format_p() -> None:
    assert [format_p(p) for p in (0.0001, 0.047, 0.41, 0.996, math.nan)] == [
        "< 0.001", "0.047", "0.41", "> 0.99", "n/a"]


# -- ffn, the independent implementation -------------------------------------------------------

def _ffn_pbo(matrix: np.ndarray, blocks: int) -> dict[str, object]:
    out: dict[str, object] = ffn.calc_prob_backtest_overfitting(
        pd.DataFrame(matrix), n_blocks=blocks, full_output=True)
    return out


@pytest.mark.parametrize(("seed", "n_obs", "n_trials", "blocks"),
                         [(1, 64, 6, 8), (2, 50, 12, 6), (3, 41, 3, 4), (4, 96, 20, 8)])
def test_pbo_matches_ffn(seed: int, n_obs: int, n_trials: int, blocks: int) -> None:
    rng = np.random.default_rng(seed)
    matrix = rng.normal(0.02, 1.0, (n_obs, n_trials))
    matrix[:, 0] += 0.1 * np.sin(np.arange(n_obs) / 5.0)  # some structure over time
    ours = pbo_cscv(matrix, blocks)
    theirs = _ffn_pbo(matrix, blocks)
    assert ours.pbo == pytest.approx(theirs["pbo"], abs=1e-12)
    assert ours.mean_oos_rank == pytest.approx(theirs["mean_oos_rank"], abs=1e-12)
    np.testing.assert_allclose(ours.logits, np.asarray(theirs["logits"]), atol=1e-9)


def test_pbo_matches_ffn_with_tied_columns() -> None:
    rng = np.random.default_rng(5)
    base = rng.normal(0.0, 1.0, (32, 4))
    matrix = np.column_stack([base, base[:, 1]])  # a duplicate trial: ties in and out
    ours = pbo_cscv(matrix, 4)
    theirs = _ffn_pbo(matrix, 4)
    assert ours.pbo == pytest.approx(theirs["pbo"])
    np.testing.assert_allclose(ours.logits, np.asarray(theirs["logits"]), atol=1e-9)


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_deflated_sharpe_matches_ffn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    trials = rng.standard_t(5, (300, 25)) * 0.01 + 0.001
    trials[:, 7] += 0.004  # a trial with some edge
    sharpes = trials.mean(axis=0) / trials.std(axis=0, ddof=1)
    best = int(np.argmax(sharpes))
    mean, std, skew, kurt = sample_moments(trials[:, best])
    ours = deflated_sharpe(mean / std, trials.shape[0], skew, kurt, sharpes)
    theirs = ffn.calc_deflated_sharpe_ratio(pd.Series(trials[:, best]), sharpes,
                                            nperiods=252, annualized_trials=False)
    assert ours.dsr == pytest.approx(float(theirs), abs=1e-12)
    assert expected_max_sharpe(25, float(np.std(sharpes, ddof=1))) == pytest.approx(
        float(ffn.calc_expected_max_sharpe(25, float(np.std(sharpes, ddof=1)))), abs=1e-15)


# -- properties ----------------------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n_trials=st.integers(2, 8), scale=st.floats(1e-6, 1e6))
def test_pbo_is_scale_free_and_a_probability(seed: int, n_trials: int, scale: float) -> None:
    rng = np.random.default_rng(seed)
    matrix = rng.normal(0.01, 1.0, (32, n_trials))
    base = pbo_cscv(matrix, 4)
    scaled = pbo_cscv(matrix * scale, 4)
    assert 0.0 <= base.pbo <= 1.0
    assert scaled.pbo == base.pbo
    assert np.all(np.abs(base.logits) <= math.log(n_trials) + 1e-12)


def test_pbo_flat_trials_score_zero_not_nan() -> None:
    rng = np.random.default_rng(3)
    matrix = np.column_stack([np.zeros(32), rng.normal(0.1, 1.0, 32), rng.normal(0, 1, 32)])
    result = pbo_cscv(matrix, 4)  # a trial that never traded does not poison the statistic
    assert math.isfinite(result.pbo) and np.all(np.isfinite(result.logits))


def test_pbo_rejects_unusable_input() -> None:
    with pytest.raises(ValueError, match="too small"):
        pbo_cscv(np.zeros((3, 5)), 4)
    with pytest.raises(ValueError, match="even"):
        pbo_cscv(np.zeros((30, 5)), 5)
    with pytest.raises(ValueError, match="NaN"):
        pbo_cscv(np.full((30, 5), np.nan), 4)


# -- slices and stated ratios --------------------------------------------------------------------

def _shard(security: str, start_s: float, pnl_per_minute: list[float]) -> object:
    times = [start_s + 60.0 * i for i in range(len(pnl_per_minute) + 1)]
    equity = np.concatenate([[0.0], np.cumsum(pnl_per_minute)])
    curve = make_equity(times, equity.tolist())
    fills = make_fills([])
    instrument = dataclasses.replace(LINEAR, security=security)
    return compute_shard_metrics(fills, curve, OrderCounts(0), instrument, 1.0, label="d")


def test_trial_slices_pool_shards_in_time_order_and_sum_groups() -> None:
    late = _shard("B", 3600.0, [1.0, 2.0, 3.0])
    early = _shard("A", 0.0, [10.0, 20.0])
    small = trial_slices([late, early])
    assert small.pnl == (10.0, 20.0, 1.0, 2.0, 3.0)  # start time first, whatever the order
    assert small.n_intervals == 5 and small.interval_s == 60.0
    assert small.span_s == pytest.approx(120.0 + 180.0)
    grouped = trial_slices([late, early], max_slices=2)
    assert grouped.pnl == (10.0 + 20.0 + 1.0, 2.0 + 3.0)  # array_split: 3 + 2 intervals
    assert grouped.mean == pytest.approx(36.0 / 5)
    assert TrialSlices.from_dict(grouped.as_dict()) == grouped


def test_a_six_minute_sharpe_is_stated_with_its_error_and_marked() -> None:
    shard = _shard("A", 0.0, [-1.0, -1.2, -0.9, -1.1, -0.95, -1.05])
    sharpe, sortino = stated_ratios(trial_slices([shard]))
    assert sharpe.n_intervals == 6 < MIN_INTERVALS and sharpe.too_short
    assert sharpe.annualisation_factor == pytest.approx(math.sqrt(365 * 1440))
    assert sharpe.annualised == pytest.approx(sharpe.per_interval * math.sqrt(525_600))
    assert abs(sharpe.annualised) > 1000  # the kind of number the issue quotes
    moments = trial_slices([shard])
    assert sharpe.standard_error == pytest.approx(sharpe_standard_error(
        sharpe.per_interval, 6, moments.skew, moments.kurtosis) * math.sqrt(525_600))
    text = sharpe.text()
    assert "too short" in text and "6 x 60 s intervals over 6.0 min" in text and "+-" in text
    assert sortino.too_short and math.isnan(sortino.standard_error)


def test_overfit_report_verdicts() -> None:
    rng = np.random.default_rng(9)
    edge = [_slices(rng.normal(1.0 + 0.2 * k, 1.0, 256)) for k in range(6)]
    report = overfit_report(edge[-1], edge, n_tried=6)
    assert report.verdict == "holds_up" and report.pbo_value < 0.5 and report.dsr_p < 0.05
    assert report.text.startswith("the best trial holds up: PBO")
    noise = [_slices(rng.normal(0.0, 1.0, 256)) for _ in range(30)]
    best = max(noise, key=lambda s: s.sharpe)
    report = overfit_report(best, noise, n_tried=30)
    assert report.verdict in ("likely_overfit", "not_significant")
    assert report.dsr_p > 0.05
    assert overfit_report(None, [], 0).verdict == "unknown"


def _slices(pnl: np.ndarray) -> TrialSlices:
    mean, std, skew, kurt = sample_moments(pnl)
    down = math.sqrt(float(np.mean(np.minimum(pnl, 0.0) ** 2)))
    groups = np.add.reduceat(pnl, np.arange(0, pnl.shape[0], 2))
    return TrialSlices(tuple(groups.tolist()), int(pnl.shape[0]), 60.0, 60.0 * pnl.shape[0],
                       mean, std, skew, kurt, down)



@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=4, max_size=300))
def test_sample_moments_match_scipy_bias_corrected_estimators(values: list[float]) -> None:
    # sample_moments writes scipy.stats.skew/kurtosis(bias=False) out in numpy (the driver does
    # not import scipy.stats); scipy is the oracle here
    stats = pytest.importorskip("scipy.stats")
    x = np.asarray(values)
    mean, std, skew, kurt = sample_moments(x)
    assert mean == float(x.mean())
    if math.isnan(skew):
        assert float(np.ptp(x)) == 0.0 or std == 0.0
        return
    spread = float(np.std(x)) / max(1.0, float(np.max(np.abs(x))))
    if spread < 1e-6:  # almost constant: both lose every digit to cancellation
        return
    assert skew == pytest.approx(float(stats.skew(x, bias=False)), rel=1e-9, abs=1e-9)
    assert kurt == pytest.approx(float(stats.kurtosis(x, bias=False)) + 3.0, rel=1e-9, abs=1e-9)

"""How likely a sweep's best trial is luck: PBO by CSCV, the deflated and probabilistic Sharpe.

Pure numpy over small arrays (trials x time slices), run once at the end of a sweep.

* ``pbo_cscv``: probability of backtest overfitting by combinatorially symmetric
  cross-validation (Bailey, Borwein, Lopez de Prado and Zhu, "The Probability of Backtest
  Overfitting", 2014/2017). The rows of the trials x slices matrix (slices in time order) are
  cut into ``S`` equal contiguous blocks; for every choice of ``S/2`` blocks as in-sample
  (the rest out-of-sample) the in-sample best trial (first one on ties) is ranked out of sample
  (average rank among all trials, ``omega = rank / (N + 1)``) and ``logit = ln(omega / (1 -
  omega))``. PBO is the share of combinations with ``logit <= 0``: the in-sample winner did no
  better than the out-of-sample median. Performance is the per-slice Sharpe ``mean / std``
  (ddof=1); a constant column scores 0 (no PnL) or +-inf.
* ``expected_max_sharpe``: the Sharpe the best of N skill-less trials reaches by chance,
  ``sqrt(V) ((1 - g) Z(1 - 1/N) + g Z(1 - 1/(N e)))`` (g = Euler-Mascheroni, Z = normal
  quantile, V = variance of the trials' Sharpe ratios).
* ``probabilistic_sharpe``: ``PSR(SR*) = Phi((SR - SR*) sqrt(n - 1) / sqrt(1 - skew SR +
  (kurt - 1) / 4 SR^2))`` (Bailey and Lopez de Prado, "The Sharpe Ratio Efficient Frontier",
  2012): the probability that the true Sharpe exceeds ``SR*`` given n observations with that
  skewness and (non-excess) kurtosis. ``deflated_sharpe`` is PSR against the expected maximum
  of the trials (Bailey and Lopez de Prado, "The Deflated Sharpe Ratio", 2014); its p-value is
  ``1 - DSR``.

Every Sharpe here is per observation (not annualised); skewness and kurtosis are the
bias-corrected sample estimators (``scipy.stats.skew/kurtosis(bias=False)``, as pandas).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

__all__ = [
    "DEFAULT_BLOCKS",
    "MIN_SLICES_PER_BLOCK",
    "DeflatedSharpe",
    "PboResult",
    "blocks_for",
    "deflated_sharpe",
    "expected_max_sharpe",
    "pbo_cscv",
    "probabilistic_sharpe",
    "sample_moments",
    "sharpe_standard_error",
]

DEFAULT_BLOCKS = 16  # S = 16: C(16, 8) = 12 870 combinations, as in the paper
MIN_SLICES_PER_BLOCK = 4  # fewer slices per block and the per-block Sharpe is mostly noise
_CHUNK = 2048  # combinations evaluated at once (bounds memory: chunk x trials floats)
_STANDARD_NORMAL = NormalDist()


@dataclass(frozen=True, slots=True, eq=False)
class PboResult:
    """CSCV over ``n_slices`` time slices (rows) of ``n_trials`` trials (columns)."""

    pbo: float  # share of combinations whose in-sample winner ranks <= median out of sample
    logits: np.ndarray  # one per combination (the logit distribution), combination order
    n_blocks: int
    n_combinations: int
    n_slices: int  # slices used (a multiple of n_blocks; the last remainder is dropped)
    n_trials: int
    mean_oos_rank: float  # mean relative out-of-sample rank (omega) of the in-sample winner
    prob_oos_loss: float  # share of combinations whose winner's out-of-sample Sharpe is < 0


@dataclass(frozen=True, slots=True)
class DeflatedSharpe:
    """The best trial's Sharpe against the best of ``n_trials`` skill-less trials."""

    dsr: float  # P(true Sharpe > the expected maximum of n_trials noise trials)
    p_value: float  # 1 - dsr
    sharpe: float  # the best trial's per-observation Sharpe
    expected_max: float  # SR0, per observation
    n_trials: int
    sharpe_std: float  # std (ddof=1) of the trials' per-observation Sharpe ratios
    n_obs: int


def blocks_for(n_slices: int, wanted: int = DEFAULT_BLOCKS) -> int:
    """The even number of CSCV blocks for ``n_slices`` slices: ``wanted`` if each block gets
    ``MIN_SLICES_PER_BLOCK`` slices, else fewer (at least 4); 0 when even 4 do not fit."""
    most = n_slices // MIN_SLICES_PER_BLOCK
    blocks = min(wanted, most - most % 2)
    return blocks if blocks >= 4 else 0


def _combination_matrix(n_blocks: int) -> np.ndarray:
    """One 0/1 row per in-sample choice of n_blocks/2 blocks, in lexicographic order."""
    combos = list(itertools.combinations(range(n_blocks), n_blocks // 2))
    out = np.zeros((len(combos), n_blocks))
    for row, chosen in enumerate(combos):
        out[row, list(chosen)] = 1.0
    return out


def _sharpe_from_sums(total: np.ndarray, squares: np.ndarray, n: np.ndarray,
                      shift: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """mean / std(ddof=1) from sums of shifted values (shift per column keeps the variance
    exact); a zero variance scores 0 for a zero mean and +-inf otherwise."""
    mean_shifted = total / n
    var = (squares - total * mean_shifted) / (n - 1.0)
    mean = mean_shifted + shift
    flat = var <= (8.0 * np.finfo(float).eps * scale) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        sharpe = mean / np.sqrt(np.where(flat, 1.0, var))
    mean_zero = np.abs(mean) <= 8.0 * np.finfo(float).eps * scale
    signed_inf = np.where(mean > 0, np.inf, -np.inf)
    return np.where(flat, np.where(mean_zero, 0.0, signed_inf), sharpe)


def _winner_omega(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the relative out-of-sample rank of the in-sample winner and its test score."""
    winner = np.argmax(train, axis=1)
    rows = np.arange(train.shape[0])
    score = test[rows, winner][:, None]
    below = np.sum(test < score, axis=1)
    ties = np.sum(test == score, axis=1)
    rank = below + (ties + 1) / 2.0  # average rank, 1-based
    return rank / (train.shape[1] + 1.0), score[:, 0]


def pbo_cscv(matrix: np.ndarray, n_blocks: int = DEFAULT_BLOCKS) -> PboResult:
    """PBO of selecting the best column of ``matrix`` (slices x trials, slices in time order)
    by its Sharpe; see the module docstring. Raises ``ValueError`` on an unusable shape."""
    data = np.asarray(matrix, dtype=float)
    if data.ndim != 2:
        raise ValueError(f"pbo_cscv: expected a slices x trials matrix, got shape {data.shape}")
    if n_blocks < 2 or n_blocks % 2:
        raise ValueError(f"pbo_cscv: n_blocks must be even and >= 2, got {n_blocks}")
    n_obs, n_trials = data.shape
    per_block = n_obs // n_blocks
    if per_block < 1 or n_trials < 2:
        raise ValueError(f"pbo_cscv: {n_obs} slices x {n_trials} trials is too small for "
                         f"{n_blocks} blocks (need >= {n_blocks} slices and >= 2 trials)")
    if not np.all(np.isfinite(data)):
        raise ValueError("pbo_cscv: the matrix holds NaN or infinite PnL")
    rows = per_block * n_blocks
    data = data[:rows]
    shift = data.mean(axis=0)
    scale = np.max(np.abs(data), axis=0) + np.abs(shift)
    centred = (data - shift).reshape(n_blocks, per_block, n_trials)
    block_sum = centred.sum(axis=1)
    block_sq = (centred * centred).sum(axis=1)
    combos = _combination_matrix(n_blocks)
    n_comb = combos.shape[0]
    half = n_comb // 2  # combination n_comb-1-i is the complement of combination i
    n = np.full((1, n_trials), float(per_block * n_blocks // 2))
    all_sum, all_sq = block_sum.sum(axis=0), block_sq.sum(axis=0)
    omega_all = np.empty(n_comb)
    loss = np.empty(n_comb, dtype=bool)
    for start in range(0, half, _CHUNK):
        stop = min(start + _CHUNK, half)
        chosen = combos[start:stop]
        in_sum, in_sq = chosen @ block_sum, chosen @ block_sq
        first = _sharpe_from_sums(in_sum, in_sq, n, shift, scale)
        second = _sharpe_from_sums(all_sum - in_sum, all_sq - in_sq, n, shift, scale)
        mirror = n_comb - 1 - np.arange(start, stop)
        omega_all[start:stop], score = _winner_omega(first, second)
        loss[start:stop] = score < 0.0
        omega_all[mirror], score = _winner_omega(second, first)
        loss[mirror] = score < 0.0
    logits = np.log(omega_all / (1.0 - omega_all))
    return PboResult(
        pbo=float(np.mean(logits <= 0.0)),
        logits=logits,
        n_blocks=n_blocks,
        n_combinations=int(n_comb),
        n_slices=rows,
        n_trials=n_trials,
        mean_oos_rank=float(np.mean(omega_all)),
        prob_oos_loss=float(np.mean(loss)),
    )


def sample_moments(values: np.ndarray) -> tuple[float, float, float, float]:
    """``(mean, std ddof=1, skewness, kurtosis)`` with bias-corrected skewness and
    non-excess kurtosis (3 for a normal sample); NaN where undefined (n < 4 or zero std)."""
    x = np.asarray(values, dtype=float)
    n = x.shape[0]
    if n < 2:
        return (float(x.mean()) if n else math.nan, math.nan, math.nan, math.nan)
    std = float(np.std(x, ddof=1))
    if n < 4 or std == 0.0 or float(np.ptp(x)) == 0.0:
        return float(x.mean()), std, math.nan, math.nan
    # scipy.stats.skew/kurtosis(bias=False) written out: importing scipy.stats would cost the
    # sweep's driver about 45 MB for these two lines
    d = (x - x.mean()) / std  # scale-free moments: no underflow for tiny values
    m2, m3, m4 = float(np.mean(d**2)), float(np.mean(d**3)), float(np.mean(d**4))
    g1, g2 = m3 / m2**1.5, m4 / (m2 * m2) - 3.0
    skew = g1 * math.sqrt(n * (n - 1.0)) / (n - 2.0)
    kurt = ((n + 1.0) * g2 + 6.0) * (n - 1.0) / ((n - 2.0) * (n - 3.0)) + 3.0
    return float(x.mean()), std, skew, kurt


def _variance_term(sharpe: float, skew: float, kurtosis: float) -> float:
    return 1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe * sharpe


def sharpe_standard_error(sharpe: float, n_obs: int, skew: float = 0.0,
                          kurtosis: float = 3.0) -> float:
    """Standard error of a per-observation Sharpe estimate from ``n_obs`` observations with
    that skewness and kurtosis (Mertens 2002): ``sqrt((1 - skew SR + (kurt - 1)/4 SR^2) /
    (n - 1))``; normal moments when skew/kurtosis are NaN. NaN for n < 2."""
    if n_obs < 2 or not math.isfinite(sharpe):
        return math.nan
    skew = 0.0 if not math.isfinite(skew) else skew
    kurtosis = 3.0 if not math.isfinite(kurtosis) else kurtosis
    term = _variance_term(sharpe, skew, kurtosis)
    return math.sqrt(term / (n_obs - 1)) if term > 0 else math.nan


def probabilistic_sharpe(sharpe: float, n_obs: int, skew: float, kurtosis: float,
                         benchmark: float = 0.0) -> float:
    """P(true Sharpe > ``benchmark``) given the estimate (all per observation); NaN when
    undefined (n < 3, non-finite inputs, a non-positive variance term)."""
    values = (sharpe, skew, kurtosis, benchmark)
    if n_obs < 3 or not all(math.isfinite(v) for v in values):
        return math.nan
    term = _variance_term(sharpe, skew, kurtosis)
    if not term > 0:
        return math.nan
    z = (sharpe - benchmark) * math.sqrt(n_obs - 1) / math.sqrt(term)
    return 0.5 * math.erfc(-z / math.sqrt(2.0))  # the standard normal CDF


def expected_max_sharpe(n_trials: int, sharpe_std: float) -> float:
    """Expected maximum Sharpe of ``n_trials`` skill-less trials whose Sharpe ratios have
    standard deviation ``sharpe_std`` (same units in and out); 0 for one trial."""
    if n_trials < 1:
        raise ValueError(f"expected_max_sharpe: n_trials must be >= 1, got {n_trials}")
    if n_trials == 1 or not sharpe_std > 0:
        return 0.0
    gamma = float(np.euler_gamma)
    first = _STANDARD_NORMAL.inv_cdf(1.0 - 1.0 / n_trials)
    second = _STANDARD_NORMAL.inv_cdf(1.0 - 1.0 / (n_trials * math.e))
    return sharpe_std * ((1.0 - gamma) * first + gamma * second)


def deflated_sharpe(sharpe: float, n_obs: int, skew: float, kurtosis: float,
                    trial_sharpes: np.ndarray, n_trials: int | None = None) -> DeflatedSharpe:
    """The deflated Sharpe ratio of a best trial (per-observation ``sharpe`` from ``n_obs``
    observations) among trials whose per-observation Sharpe ratios are ``trial_sharpes``
    (finite values; their spread sets the hurdle). ``n_trials`` (default: how many are given)
    is the number of trials tried, which may exceed those with a Sharpe (pruned trials)."""
    sharpes = np.asarray(trial_sharpes, dtype=float)
    sharpes = sharpes[np.isfinite(sharpes)]
    count = int(sharpes.shape[0]) if n_trials is None else int(n_trials)
    spread = float(np.std(sharpes, ddof=1)) if sharpes.shape[0] > 1 else math.nan
    if count <= 1:
        hurdle = 0.0
    else:
        hurdle = expected_max_sharpe(count, spread) if math.isfinite(spread) else math.nan
    dsr = probabilistic_sharpe(sharpe, n_obs, skew, kurtosis, hurdle)
    return DeflatedSharpe(dsr=dsr, p_value=1.0 - dsr, sharpe=sharpe, expected_max=hurdle,
                          n_trials=count, sharpe_std=spread, n_obs=n_obs)

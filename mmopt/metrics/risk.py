"""Risk statistics of interval PnLs: Sharpe, Sortino, CVaR95, max drawdown.

All of them read PnL per interval of one fixed grid (``interval_pnl``), never returns: PnL is
what a market maker's book earns, and the capital it ties up is not defined here.

Annualisation: crypto trades all year round, so a year has ``365 * 86400 / interval_s``
intervals and Sharpe and Sortino are multiplied by ``sqrt(365 * 86400 / interval_s)``
(``sqrt(525600)`` = 724.98 for the default 1-minute grid).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "CVAR_LEVEL",
    "SECONDS_PER_YEAR",
    "annualisation_factor",
    "cvar",
    "cvar_tail_count",
    "max_drawdown",
    "portfolio_curve",
    "sharpe",
    "sortino",
]

SECONDS_PER_YEAR = 365 * 86_400
CVAR_LEVEL = 0.95


def annualisation_factor(interval_s: float) -> float:
    """``sqrt(intervals per year)`` with a 365-day, 24-hour year."""
    return math.sqrt(SECONDS_PER_YEAR / interval_s)


def sharpe(pnl: np.ndarray, interval_s: float) -> float:
    """Annualised Sharpe ratio of interval PnLs: ``mean / std(ddof=1) * annualisation``.

    No risk-free rate (PnL, not returns). NaN with fewer than 2 intervals or zero std.
    """
    if pnl.shape[0] < 2:
        return math.nan
    std = float(np.std(pnl, ddof=1))
    if std == 0.0:
        return math.nan
    return float(np.mean(pnl)) / std * annualisation_factor(interval_s)


def sortino(pnl: np.ndarray, interval_s: float) -> float:
    """Annualised Sortino ratio: ``mean / downside deviation * annualisation``.

    Downside deviation = ``sqrt(sum(min(pnl, 0)^2) / n)`` over all n intervals (target 0).
    NaN with fewer than 2 intervals or no losing interval.
    """
    n = pnl.shape[0]
    if n < 2:
        return math.nan
    downside = math.sqrt(float(np.sum(np.minimum(pnl, 0.0) ** 2)) / n)
    if downside == 0.0:
        return math.nan
    return float(np.mean(pnl)) / downside * annualisation_factor(interval_s)


def cvar_tail_count(n: int, level: float = CVAR_LEVEL) -> int:
    """Number of worst intervals in the tail: ``ceil((1 - level) * n)``, at least 1 if n > 0.

    The product is rounded to 9 decimals first so that 0.05 * 100 counts 5, not 6.
    """
    if n <= 0:
        return 0
    return max(1, math.ceil(round((1.0 - level) * n, 9)))


def cvar(pnl: np.ndarray, level: float = CVAR_LEVEL) -> float:
    """CVaR (expected shortfall) as a positive loss: ``-mean`` of the k worst interval PnLs.

    Distribution: the empirical distribution of the interval PnLs given, each interval one
    equally weighted observation (edge intervals that are partial included). k is
    ``cvar_tail_count(n)`` = ``ceil(0.05 n)`` for CVaR95. NaN when there are no intervals.
    Always ``>= -mean(pnl)``, since the mean of the worst k is at most the overall mean.
    """
    k = cvar_tail_count(pnl.shape[0], level)
    if k == 0:
        return math.nan
    return -float(np.mean(np.sort(pnl)[:k]))


def portfolio_curve(end_ns: np.ndarray, pnl: np.ndarray) -> np.ndarray:
    """Cumulative PnL in time order, summing intervals that end at the same time; starts at 0.

    Used to pool shards: shards of different securities on one day share interval ends (the
    grid is aligned to the epoch), so their PnLs add up; days follow each other in time.
    """
    if pnl.shape[0] == 0:
        return np.zeros(1)
    ends, inverse = np.unique(end_ns, return_inverse=True)
    summed = np.zeros(ends.shape[0])
    np.add.at(summed, inverse, pnl)
    return np.concatenate((np.zeros(1), np.cumsum(summed)))


def max_drawdown(curve: np.ndarray) -> float:
    """Largest fall of a cumulative PnL curve from a previous peak (>= 0, account currency)."""
    if curve.shape[0] == 0:
        return 0.0
    return float(np.max(np.maximum.accumulate(curve) - curve))

"""One trial's PnL per time slice and the moments of its interval PnLs, kept for every trial.

``trial_slices(shards)`` pools a trial's shards in the canonical order of ``aggregate``
(start time, security, label): its interval PnLs (each interval of each shard one observation,
as Sharpe and CVaR95 use them) are then cut into at most ``MAX_SLICES`` contiguous groups of
(almost) equal count, and each group's PnL is summed. Those slice PnLs are the trial's column
of the trials x time-slices matrix for PBO (``overfitting.pbo_cscv``); the moments of the
interval PnLs (mean, std, skewness, kurtosis) give its Sharpe, standard error and PSR. All
trials that evaluated the same shards get the same slice boundaries (the interval grid depends
on the shards, not on the parameters).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mmopt.metrics.overfitting import sample_moments
from mmopt.metrics.result import ShardMetrics

__all__ = ["MAX_SLICES", "TrialSlices", "trial_slices"]

MAX_SLICES = 128  # 16 CSCV blocks x 8 slices; bounds what every trial stores


@dataclass(frozen=True, slots=True)
class TrialSlices:
    """A trial's slice PnLs and interval-PnL moments (see the module docstring)."""

    pnl: tuple[float, ...]  # summed PnL per slice, in time order
    n_intervals: int  # interval PnLs pooled (observations of the Sharpe)
    interval_s: float  # the metrics' PnL grid
    span_s: float  # summed span of the shards (seconds of data behind the numbers)
    mean: float  # of the interval PnLs
    std: float  # ddof=1
    skew: float  # bias-corrected; NaN if n < 4 or constant
    kurtosis: float  # non-excess (3 = normal), bias-corrected; NaN if n < 4 or constant
    downside: float  # sqrt(mean(min(pnl, 0)^2)) over all intervals (Sortino's denominator)

    @property
    def sharpe(self) -> float:
        """Per-interval Sharpe ``mean / std`` (not annualised); NaN if undefined."""
        if not (self.std > 0) or not math.isfinite(self.mean):
            return math.nan
        return self.mean / self.std

    @property
    def sortino(self) -> float:
        """Per-interval Sortino ``mean / downside`` (not annualised); NaN if undefined."""
        if not (self.downside > 0) or self.n_intervals < 2:
            return math.nan
        return self.mean / self.downside

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly (NaN becomes None), the inverse of ``from_dict``."""
        return {
            "pnl": list(self.pnl),
            "n_intervals": self.n_intervals,
            "interval_s": self.interval_s,
            "span_s": self.span_s,
            **{k: _none_if_nan(getattr(self, k))
               for k in ("mean", "std", "skew", "kurtosis", "downside")},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrialSlices:
        def num(key: str) -> float:
            value = data.get(key)
            return math.nan if value is None else float(value)

        return cls(
            pnl=tuple(float(v) for v in data.get("pnl") or ()),
            n_intervals=int(data.get("n_intervals") or 0),
            interval_s=num("interval_s"),
            span_s=num("span_s"),
            mean=num("mean"),
            std=num("std"),
            skew=num("skew"),
            kurtosis=num("kurtosis"),
            downside=num("downside"),
        )


def _none_if_nan(value: float) -> float | None:
    return None if not math.isfinite(value) else float(value)


def trial_slices(shards: Sequence[ShardMetrics], max_slices: int = MAX_SLICES) -> TrialSlices:
    """The slices and moments of a trial evaluated on ``shards`` (at least one)."""
    ordered = sorted(shards, key=lambda s: (s.start_ns, s.security, s.label, s.end_ns))
    pnl = (np.concatenate([s.interval_pnl for s in ordered]) if ordered
           else np.zeros(0))
    n = int(pnl.shape[0])
    if n > max_slices:
        starts = np.array([len(part) for part in np.array_split(np.arange(n), max_slices)])
        bounds = np.concatenate(([0], np.cumsum(starts)[:-1]))
        slices = np.add.reduceat(pnl, bounds)
    else:
        slices = pnl
    mean, std, skew, kurt = sample_moments(pnl)
    downside = math.sqrt(float(np.mean(np.minimum(pnl, 0.0) ** 2))) if n else math.nan
    interval_s = ordered[0].interval_ns / 1e9 if ordered else math.nan
    span = math.fsum((s.end_ns - s.start_ns) / 1e9 for s in ordered)
    return TrialSlices(
        pnl=tuple(float(v) for v in slices),
        n_intervals=n,
        interval_s=interval_s,
        span_s=span,
        mean=mean,
        std=std,
        skew=skew,
        kurtosis=kurt,
        downside=downside,
    )

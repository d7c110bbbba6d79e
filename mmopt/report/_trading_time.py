"""Trading time: an equity curve's clock with the hours nobody trades taken out.

A curve is sampled on a fixed grid while the market is open; between two sessions (overnight,
a weekend, a lunch break, an auction the engine skips) there is no sample. Plotted against
wall-clock time those hours are long flat lines that hide the trading. ``trading_hours`` puts
the samples on a clock that advances by at most one sampling step between two consecutive
samples, and joins consecutive curves (days) one step apart, so the x axis is hours of
trading; ``day_starts`` says where each curve begins, for separators and labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["TradingAxis", "sampling_step_ns", "trading_axis"]

_NS_PER_HOUR = 3.6e12


@dataclass(frozen=True, slots=True, eq=False)
class TradingAxis:
    """Hours of trading per curve (same lengths as the curves' timestamps) and where each
    curve starts on that axis."""

    hours: tuple[np.ndarray, ...]
    starts: tuple[float, ...]
    step_hours: float


def sampling_step_ns(timestamps: Sequence[np.ndarray]) -> float:
    """The curves' sampling interval: the median gap between consecutive samples (1 ns when
    no curve has two samples)."""
    gaps = [np.diff(ts.astype(np.int64)) for ts in timestamps if ts.size > 1]
    joined = np.concatenate(gaps) if gaps else np.array([], np.int64)
    joined = joined[joined > 0]
    return float(np.median(joined)) if joined.size else 1.0


def trading_axis(timestamps: Sequence[np.ndarray]) -> TradingAxis:
    """Trading hours for curves given in the order they are drawn (each ``ts_ns`` sorted):
    within a curve a gap longer than the sampling step counts as one step, and each curve
    starts one step after the previous one ends."""
    step = sampling_step_ns(timestamps)
    hours: list[np.ndarray] = []
    starts: list[float] = []
    offset = 0.0
    for ts in timestamps:
        starts.append(offset / _NS_PER_HOUR)
        if ts.size == 0:
            hours.append(np.array([], np.float64))
            continue
        gaps = np.minimum(np.diff(ts.astype(np.int64)).astype(np.float64), step)
        clock = offset + np.concatenate(([0.0], np.cumsum(gaps)))
        hours.append(clock / _NS_PER_HOUR)
        offset = float(clock[-1]) + step
    return TradingAxis(tuple(hours), tuple(starts), step / _NS_PER_HOUR)

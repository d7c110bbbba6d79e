"""Sharpe and Sortino stated with their real sampling: interval, span, annualisation, error.

An annualised ratio from a few minutes of data is mostly noise blown up by the annualisation
factor (six 1-minute intervals x sqrt(525 600) turn a per-interval Sharpe of -1.6 into -1 171).
``stated_ratios`` keeps the per-interval value, the annualised one, the factor and how it is
made (24/7 year, no risk-free rate: see ``risk``), the number of intervals and the span, the
standard error of the Sharpe (Mertens 2002, from the skewness and kurtosis of the interval
PnLs), and marks the ratio ``too_short`` below ``MIN_INTERVALS`` intervals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from mmopt.metrics.overfitting import sharpe_standard_error
from mmopt.metrics.risk import SECONDS_PER_YEAR, annualisation_factor
from mmopt.metrics.slices import TrialSlices

__all__ = ["MIN_INTERVALS", "StatedRatio", "stated_ratios"]

MIN_INTERVALS = 30  # fewer interval PnLs and a Sharpe / Sortino does not mean much


@dataclass(frozen=True, slots=True)
class StatedRatio:
    """One risk-adjusted ratio with what it was computed on."""

    name: Literal["sharpe", "sortino"]
    per_interval: float  # not annualised
    annualised: float  # per_interval x annualisation_factor
    standard_error: float  # of ``annualised`` (NaN for Sortino: no closed form used)
    annualisation_factor: float
    annualisation: str  # how the factor is made, in words
    n_intervals: int
    interval_s: float
    span_s: float
    too_short: bool  # fewer than MIN_INTERVALS intervals

    def text(self) -> str:
        """E.g. ``Sharpe 3.1 +- 1.2 (annualised x724.98 ...; 240 x 60 s intervals over 4 h)``."""
        label = "Sharpe" if self.name == "sharpe" else "Sortino"
        value = _num(self.annualised)
        if math.isfinite(self.standard_error):
            value += f" +- {_num(self.standard_error)}"
        where = (f"annualised x{self.annualisation_factor:.2f} = {self.annualisation}; "
                 f"{self.n_intervals} x {self.interval_s:g} s intervals over "
                 f"{_duration(self.span_s)}")
        note = (f": too short to mean much (< {MIN_INTERVALS} intervals)" if self.too_short
                else "")
        return f"{label} {value} ({where}){note}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "per_interval": _none_if_nan(self.per_interval),
            "annualised": _none_if_nan(self.annualised),
            "standard_error": _none_if_nan(self.standard_error),
            "annualisation_factor": _none_if_nan(self.annualisation_factor),
            "annualisation": self.annualisation,
            "n_intervals": self.n_intervals,
            "interval_s": _none_if_nan(self.interval_s),
            "span_s": _none_if_nan(self.span_s),
            "too_short": self.too_short,
        }


def _none_if_nan(value: float) -> float | None:
    return None if not math.isfinite(value) else float(value)


def _num(value: float) -> str:
    return "nan" if not math.isfinite(value) else f"{value:.4g}"


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    if seconds < 3 * 86_400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86_400:.1f} days"


def stated_ratios(slices: TrialSlices) -> tuple[StatedRatio, StatedRatio]:
    """The Sharpe and the Sortino of one trial's interval PnLs, stated as above."""
    interval = slices.interval_s
    factor = annualisation_factor(interval) if interval > 0 else math.nan
    how = f"sqrt({SECONDS_PER_YEAR} s per 365-day year / {interval:g} s), no risk-free rate"
    short = slices.n_intervals < MIN_INTERVALS
    sharpe = slices.sharpe
    error = sharpe_standard_error(sharpe, slices.n_intervals, slices.skew, slices.kurtosis)
    sortino = slices.sortino
    common = dict(annualisation_factor=factor, annualisation=how,
                  n_intervals=slices.n_intervals, interval_s=interval, span_s=slices.span_s,
                  too_short=short)
    return (
        StatedRatio("sharpe", sharpe, sharpe * factor, error * factor, **common),  # type: ignore[arg-type]
        StatedRatio("sortino", sortino, sortino * factor, math.nan, **common),  # type: ignore[arg-type]
    )

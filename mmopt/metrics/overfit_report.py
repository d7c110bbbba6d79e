"""A sweep's overfitting statistics and a plain verdict on its best trial.

``overfit_report(best, trials, n_tried)`` reads the ``TrialSlices`` of the best trial and of
every complete trial and returns PBO (CSCV over the trials x slices matrix, with the logit
distribution), the deflated Sharpe ratio of the best trial given ``n_tried`` trials and the
spread of the trials' Sharpe ratios, its probabilistic Sharpe ratio (against 0), its Sharpe
and Sortino stated with their sampling, and a verdict:

* ``likely_overfit``: PBO >= 0.5 (the in-sample winner does no better than the median out of
  sample at least half the time), whatever the deflated Sharpe says;
* ``not_significant``: PBO < 0.5 (or unknown) but the deflated Sharpe's p-value is >= 0.05:
  after this many trials, the best Sharpe is what luck alone would give;
* ``holds_up``: PBO < 0.5 and deflated Sharpe p < 0.05;
* ``unknown``: neither statistic could be computed (the notes say why).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from mmopt.metrics.overfitting import (
    DeflatedSharpe,
    blocks_for,
    deflated_sharpe,
    pbo_cscv,
    probabilistic_sharpe,
)
from mmopt.metrics.sampling import StatedRatio, stated_ratios
from mmopt.metrics.slices import TrialSlices

__all__ = ["DSR_ALPHA", "PBO_OVERFIT", "OverfitReport", "PboSummary", "Verdict",
           "format_p", "overfit_report"]

PBO_OVERFIT = 0.5
DSR_ALPHA = 0.05
LOGIT_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
LOGIT_BINS = 20

Verdict = Literal["likely_overfit", "not_significant", "holds_up", "unknown"]


@dataclass(frozen=True, slots=True)
class PboSummary:
    """PBO by CSCV and a compact view of the logit distribution (quantiles, histogram)."""

    pbo: float
    n_blocks: int
    n_combinations: int
    n_slices: int
    n_trials: int
    mean_oos_rank: float  # mean relative out-of-sample rank of the in-sample winner (0..1)
    prob_oos_loss: float  # share of combinations where the winner's out-of-sample Sharpe < 0
    logit_quantiles: tuple[tuple[float, float], ...]  # (q, logit)
    logit_edges: tuple[float, ...]  # histogram bin edges (LOGIT_BINS bins)
    logit_counts: tuple[int, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "pbo": self.pbo,
            "n_blocks": self.n_blocks,
            "n_combinations": self.n_combinations,
            "n_slices": self.n_slices,
            "n_trials": self.n_trials,
            "mean_oos_rank": self.mean_oos_rank,
            "prob_oos_loss": self.prob_oos_loss,
            "logit_quantiles": {f"{q:g}": v for q, v in self.logit_quantiles},
            "logit_histogram": {"edges": list(self.logit_edges),
                                "counts": list(self.logit_counts)},
        }


@dataclass(frozen=True, slots=True)
class OverfitReport:
    """See the module docstring. Probabilities are NaN where undefined."""

    pbo: PboSummary | None
    deflated: DeflatedSharpe | None
    psr: float  # P(true Sharpe of the best trial > 0)
    sharpe: StatedRatio | None
    sortino: StatedRatio | None
    n_tried: int  # trials counted for the deflation (complete + pruned)
    verdict: Verdict
    text: str  # one line, e.g. "the best trial is likely overfit: PBO 0.62, ..."
    notes: tuple[str, ...]  # why a statistic is missing, or caveats

    @property
    def pbo_value(self) -> float:
        return self.pbo.pbo if self.pbo is not None else math.nan

    @property
    def dsr(self) -> float:
        return self.deflated.dsr if self.deflated is not None else math.nan

    @property
    def dsr_p(self) -> float:
        return self.deflated.p_value if self.deflated is not None else math.nan

    def as_dict(self) -> dict[str, Any]:
        deflated = None
        if self.deflated is not None:
            d = self.deflated
            deflated = {"dsr": d.dsr, "p_value": d.p_value, "sharpe_per_interval": d.sharpe,
                        "expected_max_sharpe_per_interval": d.expected_max,
                        "n_trials": d.n_trials, "sharpe_std": d.sharpe_std, "n_obs": d.n_obs}
        return {
            "verdict": self.verdict,
            "text": self.text,
            "pbo": self.pbo.as_dict() if self.pbo is not None else None,
            "deflated_sharpe": deflated,
            "psr": self.psr,
            "sharpe": self.sharpe.as_dict() if self.sharpe is not None else None,
            "sortino": self.sortino.as_dict() if self.sortino is not None else None,
            "n_tried": self.n_tried,
            "notes": list(self.notes),
        }


def _pbo(best: TrialSlices, trials: Sequence[TrialSlices], notes: list[str]
         ) -> PboSummary | None:
    same = [t for t in trials if len(t.pnl) == len(best.pnl)
            and t.n_intervals == best.n_intervals]
    if len(same) < len(trials):
        notes.append(f"PBO: {len(trials) - len(same)} complete trial(s) ran on other shards "
                     "than the best one and are left out")
    if len(same) < 2:
        notes.append("PBO: needs at least 2 complete trials on the same shards")
        return None
    n_slices = len(best.pnl)
    blocks = blocks_for(n_slices)
    if blocks == 0:
        notes.append(f"PBO: needs at least 16 time slices; the data gives {n_slices} "
                     "(more days or securities, or a shorter metrics interval)")
        return None
    matrix = np.array([t.pnl for t in same], dtype=float).T
    result = pbo_cscv(matrix, blocks)
    logits = result.logits
    bound = max(math.log(result.n_trials), 1.0)
    counts, edges = np.histogram(np.clip(logits, -bound, bound), bins=LOGIT_BINS,
                                 range=(-bound, bound))
    return PboSummary(
        pbo=result.pbo,
        n_blocks=result.n_blocks,
        n_combinations=result.n_combinations,
        n_slices=result.n_slices,
        n_trials=result.n_trials,
        mean_oos_rank=result.mean_oos_rank,
        prob_oos_loss=result.prob_oos_loss,
        logit_quantiles=tuple((q, float(np.quantile(logits, q))) for q in LOGIT_QUANTILES),
        logit_edges=tuple(float(e) for e in edges),
        logit_counts=tuple(int(c) for c in counts),
    )


def _deflated(best: TrialSlices, trials: Sequence[TrialSlices], n_tried: int,
              notes: list[str]) -> DeflatedSharpe | None:
    sharpes = np.array([t.sharpe for t in trials], dtype=float)
    finite = int(np.isfinite(sharpes).sum())
    if not math.isfinite(best.sharpe):
        notes.append("deflated Sharpe: the best trial's Sharpe is undefined (flat PnL)")
        return None
    if finite < 2 and n_tried > 1:
        notes.append("deflated Sharpe: needs the Sharpe ratios of at least 2 complete trials")
        return None
    result = deflated_sharpe(best.sharpe, best.n_intervals, best.skew, best.kurtosis,
                             sharpes, n_trials=max(n_tried, finite))
    if not math.isfinite(result.dsr):
        notes.append("deflated Sharpe: undefined on this sample (fewer than 4 intervals, or a "
                     "flat PnL series)")
        return None
    return result


def _equals(text: str) -> str:
    return text if text[0] in "<>" else f"= {text}"


def format_p(p: float) -> str:
    """A p-value for people: ``< 0.001``, ``0.047``, ``0.41``, ``> 0.99``."""
    if not math.isfinite(p):
        return "n/a"
    if p < 0.001:
        return "< 0.001"
    if p > 0.99:
        return "> 0.99"
    return f"{p:.2g}" if p < 0.1 else f"{p:.2f}"


def _verdict(pbo: PboSummary | None, deflated: DeflatedSharpe | None
             ) -> tuple[Verdict, str]:
    parts = []
    if pbo is not None:
        parts.append(f"PBO {pbo.pbo:.2f}")
    if deflated is not None:
        parts.append(f"deflated Sharpe p {_equals(format_p(deflated.p_value))}")
    figures = ", ".join(parts)
    if pbo is None and deflated is None:
        return "unknown", "no overfitting statistics for this sweep (see the notes)"
    if pbo is not None and pbo.pbo >= PBO_OVERFIT:
        return "likely_overfit", f"the best trial is likely overfit: {figures}"
    if deflated is None:
        return "unknown", (f"the selection carries over out of sample ({figures}), but the "
                           "best trial's Sharpe could not be deflated")
    if deflated.p_value >= DSR_ALPHA:
        n = deflated.n_trials
        return "not_significant", (f"the best trial is not significant after {n} trials "
                                   f"(could be luck): {figures}")
    if pbo is None:
        return "holds_up", (f"the best trial's Sharpe is significant after "
                            f"{deflated.n_trials} trials ({figures}); PBO unknown")
    return "holds_up", f"the best trial holds up: {figures}"


def overfit_report(best: TrialSlices | None, trials: Sequence[TrialSlices],
                   n_tried: int) -> OverfitReport:
    """See the module docstring. ``trials`` are the complete trials (``best`` among them)."""
    notes: list[str] = []
    if best is None:
        notes.append("no complete best trial with time slices (a study from an older mmopt, "
                     "or nothing complete yet)")
        return OverfitReport(None, None, math.nan, None, None, n_tried, "unknown",
                             "no overfitting statistics for this sweep (see the notes)",
                             tuple(notes))
    pbo = _pbo(best, trials, notes)
    deflated = _deflated(best, trials, n_tried, notes)
    psr = probabilistic_sharpe(best.sharpe, best.n_intervals, best.skew, best.kurtosis)
    sharpe, sortino = stated_ratios(best)
    if sharpe.too_short:
        notes.append(f"the best trial's Sharpe rests on {sharpe.n_intervals} intervals: too "
                     "short to mean much")
    verdict, text = _verdict(pbo, deflated)
    return OverfitReport(pbo, deflated, psr, sharpe, sortino, n_tried, verdict, text,
                         tuple(notes))

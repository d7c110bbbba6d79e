"""``IndexedRandomSampler``: random search whose k-th sampled trial depends only on (seed, k).

Optuna's ``RandomSampler`` draws from one random stream that lives in the driver's memory: a
restarted driver with the same seed replays the first suggestions. Here the parameters of a
trial come from a generator keyed by the seed, the trial's *draw index* and the parameter name,
where the draw index counts the study's earlier trials that were sampled (retries of lost
trials, which re-run enqueued parameters, are not). A study resumed or extended any number of
times therefore holds exactly the parameter sets of one uninterrupted run with the same seed.
"""

from __future__ import annotations

import math
import secrets
import zlib
from typing import Any

import numpy as np
import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import FrozenTrial

__all__ = ["IndexedRandomSampler", "uniform_value"]


class IndexedRandomSampler(optuna.samplers.BaseSampler):
    """Independent uniform sampling (log-uniform on log scales), keyed by the draw index.

    Trials carrying the user attr ``retry_attr`` do not consume a draw (None: every trial does).
    """

    def __init__(self, seed: int | None = None, retry_attr: str | None = None) -> None:
        self._seed = secrets.randbits(63) if seed is None else seed
        self._retry_attr = retry_attr
        self._index: dict[int, int] = {}  # trial number -> draw index

    def infer_relative_search_space(self, study: optuna.Study, trial: FrozenTrial
                                    ) -> dict[str, BaseDistribution]:
        return {}

    def sample_relative(self, study: optuna.Study, trial: FrozenTrial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        return {}

    def sample_independent(self, study: optuna.Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        index = self._draw_index(study, trial.number)
        key = [self._seed, index, zlib.crc32(param_name.encode())]
        u = float(np.random.default_rng(key).random())
        return uniform_value(param_distribution, u)

    def _draw_index(self, study: optuna.Study, number: int) -> int:
        if number not in self._index:
            earlier = study.get_trials(deepcopy=False)[:number]
            retries = 0 if self._retry_attr is None else sum(
                self._retry_attr in t.user_attrs for t in earlier)
            self._index[number] = number - retries
        return self._index[number]


def uniform_value(distribution: BaseDistribution, u: float) -> Any:
    """The value at quantile ``u`` in [0, 1) of the uniform distribution over ``distribution``
    (over its log scale if it has one; each step or choice equally likely)."""
    if isinstance(distribution, CategoricalDistribution):
        choices = distribution.choices
        return choices[min(int(u * len(choices)), len(choices) - 1)]
    if isinstance(distribution, IntDistribution):
        if distribution.log:
            lo, hi = math.log(distribution.low - 0.5), math.log(distribution.high + 0.5)
            value = round(math.exp(lo + u * (hi - lo)))
            return int(min(max(value, distribution.low), distribution.high))
        n = (distribution.high - distribution.low) // distribution.step + 1
        return int(distribution.low + distribution.step * min(int(u * n), n - 1))
    if isinstance(distribution, FloatDistribution):
        low, high = distribution.low, distribution.high
        if distribution.log:  # (exp(log(x)) may land a hair outside [low, high])
            x = math.exp(math.log(low) + u * (math.log(high) - math.log(low)))
            return float(min(max(x, low), high))
        if distribution.step is not None:
            n = round((high - low) / distribution.step) + 1
            return float(min(low + distribution.step * min(int(u * n), n - 1), high))
        return float(low + u * (high - low))
    raise TypeError(f"unsupported distribution {distribution!r}")

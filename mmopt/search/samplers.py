"""SamplerConfig / PrunerConfig -> Optuna sampler and pruner objects (seeded).

A sampler's random state lives in the driver's memory only. So that a resumed or extended
study continues instead of replaying its first suggestions, the seed of a driver that starts on
a study already holding trials is derived from the configured seed and that number of trials
(``continuation_seed``): every restart draws a fresh stream, and the same restart of the same
study draws the same one (reproducible). A fresh study uses the configured seed unchanged.
``random`` needs none of this: ``IndexedRandomSampler`` keys each trial's draw by its index, so
a resumed study holds the trials of an uninterrupted run. See docs/resume.md.
"""

from __future__ import annotations

import numpy as np
import optuna

from mmopt.config import PrunerConfig, SamplerConfig, SearchSpace
from mmopt.errors import ConfigError
from mmopt.search.indexed_random import IndexedRandomSampler
from mmopt.search.mirror import ATTR_RETRY_OF
from mmopt.search.space import grid_values

__all__ = ["continuation_seed", "make_pruner", "make_sampler"]


def continuation_seed(seed: int | None, n_existing: int) -> int | None:
    """The sampler seed of a driver starting on a study with ``n_existing`` trials."""
    if seed is None or n_existing == 0:
        return seed
    return int(np.random.SeedSequence([seed, n_existing]).generate_state(1)[0])


def make_sampler(config: SamplerConfig, space: SearchSpace, n_existing: int = 0
                 ) -> optuna.samplers.BaseSampler:
    """TPE (multivariate, constant liar), random, grid, CMA-ES, NSGA-II or QMC, seeded with
    ``continuation_seed(config.seed, n_existing)`` (``n_existing``: trials already in the study).

    Constraints need no ``constraints_func``: the driver sets each trial's constraint values
    itself (Optuna 5 samplers read ``FrozenTrial.constraints``).
    """
    seed = continuation_seed(config.seed, n_existing)
    name = config.name
    if name == "tpe":
        return optuna.samplers.TPESampler(
            seed=seed,
            n_startup_trials=config.n_startup_trials,
            multivariate=config.multivariate,
            constant_liar=config.constant_liar,
        )
    if name == "random":  # continues by itself: the configured seed, whatever n_existing
        return IndexedRandomSampler(seed=config.seed, retry_attr=ATTR_RETRY_OF)
    if name == "grid":
        return optuna.samplers.GridSampler(grid_values(space), seed=seed)
    if name == "qmc":
        return optuna.samplers.QMCSampler(seed=seed, scramble=True)
    if name == "nsga2":
        if config.population_size is None:
            return optuna.samplers.NSGAIISampler(seed=seed)
        return optuna.samplers.NSGAIISampler(seed=seed, population_size=config.population_size)
    if name == "cmaes":
        try:
            import cmaes  # noqa: F401
        except ImportError:
            raise ConfigError(
                "study.sampler.name: cmaes needs the `cmaes` package, which is not installed "
                "(fix: pip install cmaes, or use study.sampler.name=tpe)"
            ) from None
        return optuna.samplers.CmaEsSampler(seed=seed, n_startup_trials=config.n_startup_trials)
    raise ConfigError(f"study.sampler.name: unknown sampler {name!r}")


def make_pruner(config: PrunerConfig) -> optuna.pruners.BasePruner:
    """none / median / successive_halving / wilcoxon; steps are shards (see the driver)."""
    if config.name == "none":
        return optuna.pruners.NopPruner()
    if config.name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=config.n_startup_trials,
                                           n_warmup_steps=0, interval_steps=1)
    if config.name == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(
            min_resource=config.min_resource, reduction_factor=config.reduction_factor
        )
    if config.name == "wilcoxon":
        return optuna.pruners.WilcoxonPruner(p_threshold=config.p_threshold)
    raise ConfigError(f"study.pruner.name: unknown pruner {config.name!r}")

"""SamplerConfig / PrunerConfig -> Optuna sampler and pruner objects (seeded)."""

from __future__ import annotations

import optuna

from mmopt.config import PrunerConfig, SamplerConfig, SearchSpace
from mmopt.errors import ConfigError
from mmopt.search.space import grid_values

__all__ = ["make_pruner", "make_sampler"]


def make_sampler(config: SamplerConfig, space: SearchSpace) -> optuna.samplers.BaseSampler:
    """TPE (multivariate, constant liar), random, grid, CMA-ES, NSGA-II or QMC, seeded.

    Constraints need no ``constraints_func``: the driver sets each trial's constraint values
    itself (Optuna 5 samplers read ``FrozenTrial.constraints``).
    """
    seed = config.seed
    name = config.name
    if name == "tpe":
        return optuna.samplers.TPESampler(
            seed=seed,
            n_startup_trials=config.n_startup_trials,
            multivariate=config.multivariate,
            constant_liar=config.constant_liar,
        )
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
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

"""The YAML search space -> Optuna: ``trial.suggest_*`` per parameter, grids, distributions."""

from __future__ import annotations

import math
from typing import Any

import optuna

from mmopt.config import ParamSpec, SearchSpace

__all__ = ["distribution", "grid_values", "n_grid_points", "suggest_params"]

Scalar = str | int | float | bool | None


def suggest_params(trial: optuna.Trial, space: SearchSpace) -> tuple[tuple[str, Scalar], ...]:
    """Sample every parameter of ``space`` with the matching ``trial.suggest_*``, in order."""
    values: list[tuple[str, Scalar]] = []
    for p in space.params:
        values.append((p.name, _suggest(trial, p)))
    return tuple(values)


def _suggest(trial: optuna.Trial, p: ParamSpec) -> Scalar:
    if p.type == "categorical":
        assert p.choices is not None
        return trial.suggest_categorical(p.name, list(p.choices))
    assert p.low is not None and p.high is not None
    if p.type == "int":
        step = int(p.step) if p.step is not None else 1
        return trial.suggest_int(p.name, int(p.low), int(p.high), step=step, log=p.log)
    step_f = float(p.step) if p.step is not None else None
    return trial.suggest_float(p.name, float(p.low), float(p.high), step=step_f, log=p.log)


def distribution(p: ParamSpec) -> optuna.distributions.BaseDistribution:
    """The Optuna distribution ``_suggest`` samples from (for ``Study.enqueue_trial`` checks)."""
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    if p.type == "categorical":
        assert p.choices is not None
        return CategoricalDistribution(list(p.choices))
    assert p.low is not None and p.high is not None
    if p.type == "int":
        step = int(p.step) if p.step is not None else 1
        return IntDistribution(int(p.low), int(p.high), log=p.log, step=step)
    step_f = float(p.step) if p.step is not None else None
    return FloatDistribution(float(p.low), float(p.high), log=p.log, step=step_f)


def grid_values(space: SearchSpace) -> dict[str, list[Any]]:
    """Every value of each parameter (grid search); needs a finite space (config checks it)."""
    grid: dict[str, list[Any]] = {}
    for p in space.params:
        if p.type == "categorical":
            assert p.choices is not None
            grid[p.name] = list(p.choices)
            continue
        assert p.low is not None and p.high is not None
        step = p.step if p.step is not None else 1
        n = math.floor((p.high - p.low) / step + 1e-9) + 1
        if p.type == "int":
            grid[p.name] = [int(p.low) + i * int(step) for i in range(n)]
        else:
            grid[p.name] = [float(p.low) + i * float(step) for i in range(n)]
    return grid


def n_grid_points(space: SearchSpace) -> int:
    """How many parameter sets the full grid has."""
    return math.prod(len(v) for v in grid_values(space).values()) if space.params else 1

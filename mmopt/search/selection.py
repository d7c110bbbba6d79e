"""Which complete trial a sweep chooses: the best one, or the robust one (``selection``).

``robust`` scores each complete trial by the mean objective of its ``neighbours`` nearest
complete trials in parameter space (itself included) and chooses the best score, feasible
trials first. Distances: every numeric parameter is scaled to [0, 1] over its search range (in
log space for a log range); a categorical parameter adds 1 when two trials differ. A trial
on a narrow spike is pulled down by its poor neighbours; one on a broad plateau keeps its
value. With one objective only (the config refuses robust for several).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from mmopt.config import ParamSpec, RunConfig, SearchSpace, SelectionConfig
from mmopt.search._trials import record_from_frozen
from mmopt.search.inspect import best_trials
from mmopt.tracking import TrialRecord

__all__ = [
    "Choice",
    "choose",
    "chosen_records",
    "param_coordinates",
    "scaled_coordinate",
    "smoothed_values",
]


@dataclass(frozen=True, slots=True)
class Choice:
    """The chosen trial(s) (the Pareto front for several objectives), feasible or not, and for
    ``robust`` the smoothed objective of ``trials[0]`` (None for ``best``)."""

    trials: tuple[FrozenTrial, ...]
    feasible: bool
    smoothed: float | None = None


def _complete(study: optuna.Study) -> list[FrozenTrial]:
    return [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if t.values and not any(math.isnan(v) for v in t.values)]


def _feasible(trial: FrozenTrial) -> bool:
    return all(c <= 0.0 for c in trial.constraints.values())


def scaled_coordinate(spec: ParamSpec, value: object) -> list[float]:
    if spec.type == "categorical":
        choices = list(spec.choices or ())
        return [1.0 / math.sqrt(2.0) if value == c else 0.0 for c in choices]
    if not isinstance(value, int | float) or spec.low is None or spec.high is None:
        return [0.5]
    low, high, x = float(spec.low), float(spec.high), float(value)
    if spec.log and low > 0 and x > 0:
        low, high, x = math.log(low), math.log(high), math.log(x)
    return [0.0 if high == low else (x - low) / (high - low)]


def param_coordinates(trials: Sequence[FrozenTrial], space: SearchSpace) -> np.ndarray:
    """One row per trial: its parameters scaled as described in the module docstring."""
    rows = []
    for t in trials:
        row: list[float] = []
        for spec in space.params:
            row += scaled_coordinate(spec, t.params.get(spec.name))
        rows.append(row)
    return np.asarray(rows, dtype=np.float64).reshape(len(trials), -1)


def smoothed_values(trials: Sequence[FrozenTrial], space: SearchSpace, neighbours: int,
                    maximize: bool) -> np.ndarray:
    """Each trial's mean objective over its ``neighbours`` nearest trials (itself included);
    ties in distance are broken by trial number, so the result is deterministic."""
    values = np.asarray([t.values[0] for t in trials], dtype=np.float64)
    if not trials:
        return values
    coords = param_coordinates(trials, space)
    diff = coords[:, None, :] - coords[None, :, :]
    dist = np.sqrt((diff * diff).sum(axis=2))
    k = min(neighbours, len(trials))
    numbers = np.asarray([t.number for t in trials])
    out = np.empty(len(trials))
    for i in range(len(trials)):
        order = np.lexsort((numbers, dist[i]))[:k]
        out[i] = values[order].mean()
    del maximize  # the mean is the same either way; kept for a median/quantile variant
    return out


def choose(study: optuna.Study, selection: SelectionConfig, space: SearchSpace) -> Choice:
    """The chosen trial(s) of ``study`` under ``selection``."""
    if selection.name == "best" or len(study.directions) > 1:
        trials, feasible = best_trials(study)
        return Choice(tuple(trials), feasible)
    complete = _complete(study)
    if not complete:
        return Choice((), True)
    maximize = study.direction == optuna.study.StudyDirection.MAXIMIZE
    smooth = smoothed_values(complete, space, selection.neighbours, maximize)
    sign = 1.0 if maximize else -1.0
    ok = [i for i, t in enumerate(complete) if _feasible(t)]
    pool = ok or list(range(len(complete)))
    pick = max(pool, key=lambda i: (sign * smooth[i], sign * complete[i].values[0],
                                    -complete[i].number))
    return Choice((complete[pick],), bool(ok), float(smooth[pick]))


def chosen_records(run: RunConfig, study: optuna.Study) -> tuple[tuple[TrialRecord, ...], bool]:
    """``choose`` as trial records (what the sweep's summary and tracker get)."""
    choice = choose(study, run.selection, run.search)
    return tuple(record_from_frozen(t) for t in choice.trials), choice.feasible

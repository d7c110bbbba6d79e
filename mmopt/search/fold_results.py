"""From finished fold studies and their out-of-sample re-runs to the walk-forward's results:
the in-sample ranking, each fold's row, the stitched result, parameter stability, folds.json."""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from mmopt.config import ObjectiveConfig, RunConfig, SearchSpace
from mmopt.metrics import ShardMetrics
from mmopt.search.objective import ParamSet
from mmopt.search.scoring import score
from mmopt.search.selection import scaled_coordinate
from mmopt.tracking import FoldResult, FoldTrial, ParamStability, WalkForwardSummary

__all__ = [
    "FOLDS_FILE",
    "fold_row",
    "fold_trials",
    "in_sample_ranking",
    "oos_value",
    "param_set",
    "param_stability",
    "stitch",
    "write_folds_json",
]

FOLDS_FILE = "folds.json"


def in_sample_ranking(study: optuna.Study) -> list[FrozenTrial]:
    """Complete trials with a finite objective, feasible first, then best objective first
    (ties: lower trial number)."""
    maximize = study.directions[0] == optuna.study.StudyDirection.MAXIMIZE
    sign = -1.0 if maximize else 1.0
    done = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if t.values and math.isfinite(t.values[0])]

    def key(t: FrozenTrial) -> tuple[bool, float, int]:
        feasible = all(c <= 0.0 for c in t.constraints.values())
        return (not feasible, sign * t.values[0], t.number)

    return sorted(done, key=key)


def param_set(trial: FrozenTrial, space: SearchSpace) -> ParamSet:
    """The sampled parameters of ``trial`` in search-space order (what ``evaluate`` takes)."""
    return tuple((p.name, trial.params[p.name]) for p in space.params if p.name in trial.params)


def oos_value(shards: Sequence[ShardMetrics], objective: ObjectiveConfig) -> float:
    return score(shards, objective).values[0] if shards else math.nan


def stitch(
    folds: Sequence[FoldResult],
    chosen_shards: Mapping[int, Sequence[ShardMetrics]],
    run: RunConfig,
    curves: tuple[Any, ...] = (),
) -> WalkForwardSummary:
    """The walk-forward summary: each fold's chosen trial's test shards pooled into one
    out-of-sample result (``chosen_shards``: fold index -> shard metrics)."""
    pooled = [m for f in folds for m in chosen_shards.get(f.index, ())]
    if pooled:
        sc = score(pooled, run.objective)
        value, metrics = sc.values[0], tuple(sc.metrics.as_dict().items())
    else:
        value, metrics = math.nan, ()
    objective = run.objective.objectives[0]
    return WalkForwardSummary(
        folds=tuple(folds),
        objective_name=objective.name,
        maximize=objective.direction == "maximize",
        stitched_value=value,
        stitched_metrics=metrics,
        stability=param_stability(folds, run.search),
        curves=curves,
        selection=run.selection.name,
    )


def param_stability(folds: Sequence[FoldResult], space: SearchSpace) -> tuple[ParamStability, ...]:
    """Each searched parameter's chosen value across the folds (see ``ParamStability``)."""
    chosen = [f.chosen_trial for f in folds]
    params = [dict(t.params) for t in chosen if t is not None]
    out = []
    for spec in space.params:
        values = tuple(p.get(spec.name) for p in params)
        numbers = [float(v) for v in values if isinstance(v, int | float)
                   and not isinstance(v, bool)]
        if spec.type != "categorical" and numbers:
            scaled = [scaled_coordinate(spec, x)[0] for x in numbers]  # log ranges in log space
            spread = max(scaled) - min(scaled)
            std = statistics.pstdev(numbers) if len(numbers) > 1 else 0.0
            out.append(ParamStability(spec.name, values, spread, statistics.fmean(numbers), std))
        else:
            common = Counter(repr(v) for v in values).most_common(1)
            off = 1.0 - common[0][1] / len(values) if values else 0.0
            out.append(ParamStability(spec.name, values, off))
    return tuple(out)


def fold_row(fold: FoldResult, maximize: bool) -> dict[str, Any]:
    """One fold as plain JSON data (also the ``folds`` rows of summary.json)."""
    chosen, winner = fold.chosen_trial, fold.oos_winner(maximize)
    return {
        "fold": fold.index,
        "study": fold.study_name,
        "train_dates": list(fold.train_dates),
        "test_dates": list(fold.test_dates),
        "n_complete": fold.n_complete,
        "n_pruned": fold.n_pruned,
        "n_failed": fold.n_failed,
        "top_k": fold.top_k,
        "chosen_trial": fold.chosen,
        "chosen_feasible": fold.chosen_feasible,
        "in_sample": _num(chosen.in_sample_value) if chosen else None,
        "out_of_sample": _num(chosen.oos_value) if chosen else None,
        "chosen_params": dict(chosen.params) if chosen else None,
        "oos_winner_trial": winner.number if winner else None,
        "oos_winner_in_sample_rank": winner.in_sample_rank if winner else None,
        "rerun": [{"trial": t.number, "in_sample_rank": t.in_sample_rank,
                   "in_sample": _num(t.in_sample_value), "out_of_sample": _num(t.oos_value),
                   "error": t.oos_error} for t in fold.rerun],
    }


def _num(value: float) -> float | None:
    return value if math.isfinite(value) else None


def write_folds_json(path: Path, summary: WalkForwardSummary, study: str) -> Path:
    """``RUN_DIR/STUDY/folds.json``: every fold's row, the stitched result, the stability."""
    data = {
        "study": study,
        "objective": summary.objective_name,
        "direction": "maximize" if summary.maximize else "minimize",
        "selection": summary.selection,
        "stitched_out_of_sample": {
            "value": _num(summary.stitched_value),
            "metrics": {k: _num(v) for k, v in summary.stitched_metrics},
        },
        "folds": [fold_row(f, summary.maximize) for f in summary.folds],
        "stability": [{"param": s.name, "values": list(s.values), "spread": s.spread,
                       "mean": s.mean, "std": s.std} for s in summary.stability],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    tmp.replace(path)
    return path


def fold_trials(ranked: Sequence[FrozenTrial], chosen: FrozenTrial | None, top_k: int,
                oos: Mapping[int, tuple[float, str | None]],
                space: SearchSpace) -> tuple[FoldTrial, ...]:
    """The re-run trials of a fold (top-K plus the chosen one), in in-sample rank order."""
    rank = {t.number: i + 1 for i, t in enumerate(ranked)}
    picked = list(ranked[:top_k])
    if chosen is not None and chosen.number not in {t.number for t in picked}:
        picked.append(chosen)
    out = []
    for t in sorted(picked, key=lambda t: rank.get(t.number, len(ranked) + 1)):
        value, error = oos.get(t.number, (math.nan, "not re-run"))
        out.append(FoldTrial(t.number, rank.get(t.number, len(ranked) + 1), float(t.values[0]),
                             value, param_set(t, space), error))
    return tuple(out)

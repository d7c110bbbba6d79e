"""The end-of-sweep honesty report: overfitting statistics of the study, ``summary.json``.

``conclude(run, study, summary)`` is the driver's one call after the best trial's re-runs: it
builds the ``StudySummary`` from the study's trials (each complete trial keeps its PnL per
time slice in its ``mmopt`` user attr, see ``_trials``), writes ``RUN_DIR/STUDY/summary.json``
and returns the ``SweepSummary`` with it attached (the tracker logs it on the parent run).
``stored_summary`` gives the same for ``mmopt show``: the file if the sweep wrote one,
otherwise rebuilt from the storage (no hold-out re-run then). A walk-forward's name is not a
study in the storage (its folds are, ``<name>-fold<k>``): ``walk_forward_summary`` finds its
``summary.json``.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from mmopt.config import RunConfig
from mmopt.errors import ConfigError
from mmopt.metrics.overfit_report import overfit_report
from mmopt.metrics.slices import TrialSlices
from mmopt.search._trials import ATTR_SLICES, ATTR_SUMMARY
from mmopt.search.inspect import best_trials
from mmopt.search.storage import ATTR_CONFIG
from mmopt.tracking import SweepSummary, TrialRecord
from mmopt.tracking.study_summary import (
    FoldRow,
    StudySummary,
    summary_path,
    write_summary_json,
)

__all__ = ["build_study_summary", "conclude", "stored_summary", "walk_forward_summary"]


def _slices(trial: FrozenTrial) -> TrialSlices | None:
    data = (trial.user_attrs.get(ATTR_SUMMARY) or {}).get(ATTR_SLICES)
    return TrialSlices.from_dict(data) if data else None


def _objective_names(study: optuna.Study, run: RunConfig | None) -> tuple[str, ...]:
    if run is not None:
        return tuple(o.name for o in run.objective.objectives)
    try:
        config = json.loads(study.user_attrs.get(ATTR_CONFIG) or "{}")
        names = tuple(str(o["name"]) for o in config["objective"]["objectives"])
    except (TypeError, ValueError, KeyError):
        names = ()
    if len(names) == len(study.directions):
        return names
    return tuple(f"objective_{i}" for i in range(len(study.directions)))


def build_study_summary(
    study: optuna.Study,
    *,
    status: str,
    objective_names: Sequence[str],
    best: Sequence[FrozenTrial] | None = None,
    best_feasible: bool | None = None,
    holdout: TrialRecord | None = None,
    holdout_dates: Sequence[str] = (),
    folds: Sequence[FoldRow] = (),
) -> StudySummary:
    """The study's summary; ``best`` defaults to ``inspect.best_trials(study)``."""
    trials = study.get_trials(deepcopy=False)
    if best is None or best_feasible is None:
        best, best_feasible = best_trials(study)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    slices = {t.number: s for t in complete if (s := _slices(t)) is not None}
    top = best[0] if best else None
    tried = sum(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials)
    report = overfit_report(slices.get(top.number) if top is not None else None,
                            list(slices.values()), tried)
    params: tuple[tuple[str, Any], ...] = ()
    if top is not None:
        stored = (top.user_attrs.get(ATTR_SUMMARY) or {}).get("strategy_params") or top.params
        params = tuple(stored.items())
    held = None
    if holdout is not None and holdout.values is not None:
        held = tuple(float(v) for v in holdout.values)
    return StudySummary(
        study=study.study_name,
        status=status,
        n_complete=len(complete),
        n_pruned=sum(t.state == TrialState.PRUNED for t in trials),
        n_failed=sum(t.state == TrialState.FAIL for t in trials),
        best_trial=top.number if top is not None else None,
        best_feasible=bool(best_feasible),
        params=params,
        objective_names=tuple(objective_names),
        values_in_sample=tuple(float(v) for v in top.values) if top is not None else (),
        values_out_of_sample=held,
        holdout_dates=tuple(holdout_dates),
        overfitting=report,
        folds=tuple(folds),
    )


def conclude(run: RunConfig, study: optuna.Study, summary: SweepSummary,
             folds: Sequence[FoldRow] = ()) -> SweepSummary:
    """Build the study summary, write ``summary.json`` beside the study, attach it."""
    from mmopt.search.selection import choose

    chosen = choose(study, run.selection, run.search)  # the sweep's best (selection=robust)
    result = build_study_summary(
        study, status=summary.status, objective_names=_objective_names(study, run),
        best=chosen.trials, best_feasible=chosen.feasible, holdout=summary.holdout,
        holdout_dates=run.data.holdout_dates, folds=folds)
    path = summary_path(run.run_dir, run.study.name)
    try:
        write_summary_json(path, result.to_json())
    except OSError as exc:
        warnings.warn(f"{path}: summary not written ({exc}); the study and MLflow keep the "
                      "results", stacklevel=2)
        return dataclasses.replace(summary, report=result)
    return dataclasses.replace(summary, report=result, report_path=str(path))


def stored_summary(study: optuna.Study, run_dirs: Sequence[str | Path] = ()
                   ) -> tuple[str, Path | None]:
    """The JSON text ``mmopt show --json`` prints and the file it came from: the sweep's
    ``summary.json`` in the first of ``run_dirs`` that has this study's, else the summary
    rebuilt from the storage (status ``stored``, no hold-out re-run; path None)."""
    for run_dir in run_dirs:
        path = summary_path(run_dir, study.study_name)
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        try:
            if json.loads(text).get("study") == study.study_name:
                return text, path
        except (ValueError, AttributeError):
            continue
    rebuilt = build_study_summary(study, status="stored",
                                  objective_names=_objective_names(study, None))
    return rebuilt.to_json(), None


def walk_forward_summary(name: str, fold_studies: Sequence[str],
                         run_dirs: Sequence[str | Path]) -> tuple[str, Path]:
    """The ``summary.json`` text and path of the walk-forward ``name`` whose fold studies
    (``<name>-fold<k>``) are ``fold_studies``: the first of ``run_dirs`` that has it.
    ConfigError naming the folders looked in when none has (the fold studies keep the
    trials; ``mmopt show <name>-fold<k>`` shows one)."""
    looked = []
    for run_dir in run_dirs:
        path = summary_path(run_dir, name)
        looked.append(str(path))
        try:
            text = path.read_text(encoding="utf-8")
            if json.loads(text).get("study") == name:
                return text, path
        except (OSError, ValueError, AttributeError):
            continue
    raise ConfigError(
        f"study: {name!r} is a walk-forward (fold studies {', '.join(fold_studies)}) and its "
        f"summary.json is not in {', '.join(looked) or 'any folder'} (fix: pass --run-dir, the "
        f"sweep's run_dir; or show one fold: mmopt show {fold_studies[0]})")

"""Read a finished (or running) study from its storage: best parameters, top-trials table."""

from __future__ import annotations

import math
from typing import Any

import optuna
import yaml
from optuna.trial import FrozenTrial, TrialState
from rich.table import Table

from mmopt.errors import ConfigError
from mmopt.search._trials import ATTR_SUMMARY
from mmopt.search.mirror import ATTR_ERROR
from mmopt.search.storage import open_storage, storage_path

__all__ = ["KEY_METRICS", "best_params_yaml", "load_study", "study_table"]

KEY_METRICS = ("net_pnl", "cvar95", "sharpe", "max_drawdown", "fills", "fill_ratio",
               "spread_captured", "rms_inventory_ratio")


def load_study(name: str, url: str) -> optuna.Study:
    """The study ``name`` in ``url`` (read only); ConfigError listing the studies there."""
    path = storage_path(url)
    if path is not None and not path.exists():
        raise ConfigError(f"--storage: {path} does not exist (fix: pass the sweep's storage URL, "
                          "e.g. --storage sqlite:///runs/optuna.db)")
    storage = open_storage(url)
    try:
        return optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        names = [s.study_name for s in optuna.get_all_study_summaries(storage)]
        raise ConfigError(f"study: no study {name!r} in {url}; studies there: "
                          f"{', '.join(names) or 'none'}") from None


def _best_trials(study: optuna.Study) -> list[FrozenTrial]:
    if len(study.directions) > 1:
        return sorted(study.best_trials, key=lambda t: t.number)
    try:
        return [study.best_trial]
    except ValueError:
        return []


def best_params_yaml(name: str, url: str, *, rank: int = 0) -> str:
    """The best feasible trial's strategy parameters as YAML (``strategy: {name, params}``)."""
    study = load_study(name, url)
    best = _best_trials(study)
    if not best:
        raise ConfigError(f"study {name!r} has no complete feasible trial yet "
                          "(see `mmopt show` for what it has)")
    if not 0 <= rank < len(best):
        raise ConfigError(f"--rank: the Pareto front has {len(best)} trials; use 0..{len(best)-1}")
    trial = best[rank]
    summary = trial.user_attrs.get(ATTR_SUMMARY) or {}
    params = summary.get("strategy_params") or dict(trial.params)
    head = (f"# study {name}, trial {trial.number}, values "
            f"{', '.join(f'{v:.6g}' for v in trial.values)}\n")
    return head + yaml.safe_dump({"params": _plain(params)}, sort_keys=False)


def _plain(params: dict[str, Any]) -> dict[str, Any]:
    return {k: (float(v) if isinstance(v, float) else v) for k, v in params.items()}


def _sort_key(study: optuna.Study, trial: FrozenTrial) -> tuple[int, float]:
    feasible = all(c <= 0 for c in trial.constraints.values())
    if trial.state != TrialState.COMPLETE:
        return (3, float(trial.number))
    value = trial.values[0]
    sign = -1.0 if study.directions[0] == optuna.study.StudyDirection.MAXIMIZE else 1.0
    return (0 if feasible else 1, sign * value if not math.isnan(value) else math.inf)


def study_table(name: str, url: str, *, top: int = 10, all_states: bool = False) -> Table:
    """The top ``top`` trials (feasible complete first, best first), like hyperopt-list."""
    study = load_study(name, url)
    trials = study.get_trials(deepcopy=False)
    if not all_states:
        trials = [t for t in trials if t.state == TrialState.COMPLETE]
    trials = sorted(trials, key=lambda t: _sort_key(study, t))[:top]
    counts = {s: sum(t.state == s for t in study.get_trials(deepcopy=False)) for s in TrialState}
    title = (f"{name}: {counts[TrialState.COMPLETE]} complete, {counts[TrialState.PRUNED]} "
             f"pruned, {counts[TrialState.FAIL]} failed, {counts[TrialState.RUNNING]} running")
    table = Table(title=title)
    for column in ("#", "state", "feasible", *(d.name.lower()[:3] + " value" for d in
                                               study.directions), *KEY_METRICS, "params"):
        table.add_column(column, overflow="fold")
    for t in trials:
        table.add_row(*_row(study, t))
    return table


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def _row(study: optuna.Study, t: FrozenTrial) -> list[str]:
    metrics = (t.user_attrs.get(ATTR_SUMMARY) or {}).get("metrics") or {}
    values = list(t.values) if t.values else [math.nan] * len(study.directions)
    feasible = "-" if not t.constraints else (
        "yes" if all(c <= 0 for c in t.constraints.values()) else "no")
    params = ", ".join(f"{k}={_fmt(v)}" for k, v in t.params.items())
    if t.state == TrialState.FAIL:
        params = f"{params}  error: {t.user_attrs.get(ATTR_ERROR, '?')}"
    return [str(t.number), t.state.name, feasible, *(_fmt(v) for v in values),
            *(_fmt(metrics.get(m, math.nan)) for m in KEY_METRICS), params]

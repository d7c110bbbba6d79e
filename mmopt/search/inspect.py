"""Read a finished (or running) study from its storage: best parameters, top-trials table."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import optuna
import yaml
from optuna.trial import FrozenTrial, TrialState
from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from mmopt.errors import ConfigError
from mmopt.redact import mask_secrets
from mmopt.search._trials import ATTR_SUMMARY
from mmopt.search.mirror import ATTR_ERROR, TrialCounts, count_trials
from mmopt.search.storage import ATTR_CONFIG, open_storage, storage_path

__all__ = [
    "DEFAULT_COLUMNS",
    "KEY_METRICS",
    "best_params_yaml",
    "best_trials",
    "counts_line",
    "load_study",
    "params_override",
    "pareto_front",
    "study_table",
]

KEY_METRICS = ("net_pnl", "cvar95", "sharpe", "max_drawdown", "fills", "fill_ratio",
               "spread_captured", "rms_inventory_ratio")
# `mmopt show` without --wide / --columns: what fits an 80-column console.
DEFAULT_COLUMNS = ("net_pnl", "cvar95", "fill_ratio", "spread_captured")
_SHORT = {"spread_captured": "spread_cap", "rms_inventory_ratio": "rms_inv", "max_drawdown":
          "max_dd", "cancel_ratio": "cancel_r"}


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
        raise ConfigError(f"study: no study {name!r} in {mask_secrets(url)}; studies there: "
                          f"{', '.join(names) or 'none'}") from None


def fold_studies(name: str, url: str) -> list[str]:
    """The fold studies ``<name>-fold<k>`` (k = 0, 1, ...) of the walk-forward ``name`` in
    ``url``; empty when ``name`` is itself a study there or has no fold 0."""
    path = storage_path(url)
    if path is not None and not path.exists():
        return []
    names = {s.study_name for s in optuna.get_all_study_summaries(open_storage(url))}
    folds: list[str] = []
    while name not in names and f"{name}-fold{len(folds)}" in names:
        folds.append(f"{name}-fold{len(folds)}")
    return folds


def best_trials(study: optuna.Study) -> tuple[list[FrozenTrial], bool]:
    """The best feasible trial (the feasible Pareto front if multi-objective) and True; when
    no complete trial is feasible, the best complete trial(s) by objective alone and False;
    ``([], True)`` when nothing is complete."""
    complete = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
                if t.values and not any(math.isnan(v) for v in t.values)]
    if len(study.directions) > 1:
        front = study.best_trials
        if front or not complete:
            return sorted(front, key=lambda t: t.number), True
        front = pareto_front(complete, study.directions)
        return sorted(front, key=lambda t: t.number), False
    try:
        return [study.best_trial], True
    except ValueError:  # nothing complete, or nothing feasible
        pass
    if not complete:
        return [], True
    sign = 1.0 if study.direction == optuna.study.StudyDirection.MAXIMIZE else -1.0
    return [max(complete, key=lambda t: (sign * t.values[0], -t.number))], False


def pareto_front(trials: Sequence[FrozenTrial],
                 directions: Sequence[optuna.study.StudyDirection]) -> list[FrozenTrial]:
    """The trials no other trial dominates (constraints ignored; values must not be NaN)."""
    signs = [1.0 if d == optuna.study.StudyDirection.MAXIMIZE else -1.0 for d in directions]
    keyed = [(tuple(s * v for s, v in zip(signs, t.values, strict=True)), t) for t in trials]

    def dominated(a: tuple[float, ...]) -> bool:
        return any(all(x >= y for x, y in zip(b, a, strict=True)) and b != a for b, _ in keyed)

    return [t for a, t in keyed if not dominated(a)]


def _strategy_name(study: optuna.Study) -> str | None:
    try:
        config = json.loads(study.user_attrs.get(ATTR_CONFIG) or "{}")
    except (TypeError, ValueError):
        return None
    name = (config.get("strategy") or {}).get("name")
    return str(name) if name else None


def _trial_params(trial: FrozenTrial) -> dict[str, Any]:
    summary = trial.user_attrs.get(ATTR_SUMMARY) or {}
    params = summary.get("strategy_params") or dict(trial.params)
    return {k: (float(v) if isinstance(v, float) else v) for k, v in params.items()}


def params_override(params: dict[str, Any]) -> str:
    """The Hydra override that sets these strategy parameters (others keep their defaults)."""
    body = ", ".join(f"{k}: {_override_value(v)}" for k, v in params.items())
    return f"strategy.params={{{body}}}"


def _override_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value))


def best_params_yaml(name: str, url: str, *, rank: int = 0, allow_infeasible: bool = False
                     ) -> str:
    """The best feasible trial's strategy as YAML, ``name:`` + ``params:`` (the shape of
    ``conf/strategy/*.yaml``), headed by comments with the command line that re-runs it."""
    study = load_study(name, url)
    best, feasible = best_trials(study)
    if not best:
        raise ConfigError(f"study {name!r} has no complete trial yet "
                          "(see `mmopt show` for what it has)")
    if not feasible and not allow_infeasible:
        raise ConfigError(f"study {name!r} has no complete feasible trial yet (the best by "
                          f"objective, #{best[0].number}, misses KPI targets; see `mmopt show`, "
                          "or pass --infeasible to print it anyway)")
    if not 0 <= rank < len(best):
        raise ConfigError(f"--rank: the Pareto front has {len(best)} trials; use 0..{len(best)-1}")
    trial = best[rank]
    params = _trial_params(trial)
    strategy = _strategy_name(study)
    values = ", ".join(f"{v:.6g}" for v in trial.values)
    head = [f"# study {name}, trial {trial.number}, values {values}"
            + ("" if feasible else " (INFEASIBLE: misses KPI targets)"),
            "# re-run it: mmopt backtest "
            + (f"strategy={strategy} " if strategy else "") + f"'{params_override(params)}'"]
    body = {"name": strategy, "params": params} if strategy else {"params": params}
    return "\n".join(head) + "\n" + yaml.safe_dump(body, sort_keys=False)


def _sort_key(study: optuna.Study, trial: FrozenTrial) -> tuple[int, float]:
    feasible = all(c <= 0 for c in trial.constraints.values())
    if trial.state != TrialState.COMPLETE:
        return (3, float(trial.number))
    value = trial.values[0]
    sign = -1.0 if study.directions[0] == optuna.study.StudyDirection.MAXIMIZE else 1.0
    return (0 if feasible else 1, sign * value if not math.isnan(value) else math.inf)


def study_table(
    name: str,
    url: str,
    *,
    top: int = 10,
    all_states: bool = False,
    columns: Sequence[str] = DEFAULT_COLUMNS,
    wide: bool = False,
) -> Group:
    """The top ``top`` trials (feasible complete first, best first), like hyperopt-list: a
    narrow table (trial, state, feasible, value(s), ``columns`` metrics), then each trial's
    parameters on a line of their own; ``wide``: the parameters as the table's last column."""
    study = load_study(name, url)
    every = study.get_trials(deepcopy=False)
    trials = every if all_states else [t for t in every if t.state == TrialState.COMPLETE]
    trials = sorted(trials, key=lambda t: _sort_key(study, t))[:top]
    title = f"{name}: {counts_line(count_trials(every))}"
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1, 0, 0))
    values = ["value"] if len(study.directions) == 1 else [
        f"{d.name.lower()[:3]} {i}" for i, d in enumerate(study.directions)]
    for column in ("#", "state", "feasible", *values, *(_SHORT.get(c, c) for c in columns)):
        table.add_column(column, justify="left" if column in ("state", "feasible") else "right",
                         no_wrap=True)
    if wide:
        table.add_column("params", overflow="fold")
    for t in trials:
        row = _row(study, t, columns)
        table.add_row(*row, *([_params_text(t)] if wide else []))
    heading = Text(title, style="bold")
    if wide or not trials:
        return Group(heading, table)
    params = Table(box=None, show_header=False, pad_edge=False)
    params.add_column("#", justify="right", no_wrap=True)
    params.add_column("params", overflow="fold")
    for t in trials:
        params.add_row(f"#{t.number}", _params_text(t))
    return Group(heading, table, params)


def counts_line(counts: TrialCounts) -> str:
    """``"9 complete, 2 pruned, 0 failed, 8 retried, 0 running"`` (retried: trials lost with a
    stopped driver whose parameters were re-run; they are not failures)."""
    return (f"{counts.complete} complete, {counts.pruned} pruned, {counts.failed} failed, "
            f"{counts.retried} retried, {counts.running} running")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def _params_text(t: FrozenTrial) -> str:
    text = " ".join(f"{k}={_fmt(v)}" for k, v in t.params.items())
    if t.state == TrialState.FAIL:
        text = f"{text}  error: {t.user_attrs.get(ATTR_ERROR, '?')}"
    return text


def _row(study: optuna.Study, t: FrozenTrial, columns: Sequence[str]) -> list[str]:
    metrics = (t.user_attrs.get(ATTR_SUMMARY) or {}).get("metrics") or {}
    values = list(t.values) if t.values else [math.nan] * len(study.directions)
    feasible = "-" if not t.constraints else (
        "yes" if all(c <= 0 for c in t.constraints.values()) else "no")
    state = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "fail"}.get(
        t.state.name, t.state.name.lower())
    return [str(t.number), state, feasible, *(_fmt(v) for v in values),
            *(_fmt(metrics.get(m, math.nan)) for m in columns)]

"""``mmopt sweep [OVERRIDES]``, ``mmopt best STUDY``, ``mmopt show STUDY``.

    mmopt sweep                                   # the embedded default (synthetic data, AS)
    mmopt sweep strategy=layered_grid study.n_trials=300 executor.address=auto
    mmopt best avellaneda_stoikov-synthetic       # best parameters as YAML
    mmopt show avellaneda_stoikov-synthetic -n 20 # the top trials
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from mmopt.cli._apps import HYDRA_CONTEXT, app
from mmopt.cli._hydra import compose
from mmopt.config import from_hydra

__all__ = ["best_command", "show_command", "sweep_command"]

WIDE_WIDTH = 160  # `mmopt show --wide` when stdout is not a terminal

SWEEP_HELP = (
    "Run (or resume) an Optuna study of the configured strategy over the selected shards. "
    "Arguments are Hydra overrides, e.g. strategy=layered_grid study.n_trials=300 "
    "executor=ray executor.address=auto data=binance. The same study.name and study.storage "
    "resume the study; n_trials counts the total."
)
_STORAGE_HELP = "Optuna storage URL (default: the study.storage of the default config)."


@app.command("sweep", help=SWEEP_HELP, context_settings=HYDRA_CONTEXT)
def sweep_command(
    overrides: Annotated[list[str] | None, typer.Argument(help="Hydra overrides")] = None,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="No progress bar.")] = False,
    allow_config_change: Annotated[
        bool,
        typer.Option("--allow-config-change",
                     help="Add trials to an existing study made with another config."),
    ] = False,
) -> None:
    from mmopt.search import run_sweep
    from mmopt.search.console import print_result

    run = from_hydra(compose(overrides or []))
    result = run_sweep(run, progress=not no_progress, allow_config_change=allow_config_change)
    print_result(result, run, Console())
    if result.status == "interrupted":
        raise typer.Exit(130)


def _storage_url(storage: str | None, study: str) -> str:
    if storage is not None:
        return storage
    run = from_hydra(compose([]))
    if run.study.storage is None:
        raise typer.BadParameter("no default storage; pass --storage URL", param_hint="--storage")
    return run.study.storage


@app.command("best", help="Print the best feasible strategy parameters of a study as YAML "
             "(the shape of conf/strategy/*.yaml), headed by the `mmopt backtest` command line "
             "that re-runs them (strategy.params={...}).")
def best_command(
    study: Annotated[str, typer.Argument(help="Study name")],
    storage: Annotated[str | None, typer.Option("--storage", help=_STORAGE_HELP)] = None,
    rank: Annotated[int, typer.Option("--rank", help="Pareto front: which member (0 = first)")]
    = 0,
    infeasible: Annotated[
        bool, typer.Option("--infeasible", help="No trial meets the KPI targets: print the "
                           "best by objective anyway (marked INFEASIBLE).")
    ] = False,
) -> None:
    from mmopt.search.inspect import best_params_yaml

    typer.echo(best_params_yaml(study, _storage_url(storage, study), rank=rank,
                                allow_infeasible=infeasible), nl=False)


@app.command("show", help="A table of a study's top trials (feasible first, best first) with "
             "their state and key metrics, then each trial's parameters.")
def show_command(
    study: Annotated[str, typer.Argument(help="Study name")],
    storage: Annotated[str | None, typer.Option("--storage", help=_STORAGE_HELP)] = None,
    top: Annotated[int, typer.Option("-n", "--top", help="How many trials")] = 10,
    all_states: Annotated[
        bool, typer.Option("--all", help="Also pruned and failed trials (by number).")
    ] = False,
    columns: Annotated[
        str | None, typer.Option("--columns", help="Metric columns, comma-separated (default "
                                 "net_pnl,cvar95,fill_ratio,spread_captured; any metric name)")
    ] = None,
    wide: Annotated[
        bool, typer.Option("--wide", help="More metric columns and the parameters in the table "
                           "(for a wide console; at least 160 columns when not a terminal).")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the study's summary JSON (best trial, its "
                           "params, objective in and out of sample, pbo, deflated_sharpe, psr, "
                           "folds): the sweep's RUN_DIR/STUDY/summary.json, else rebuilt from "
                           "the storage.")
    ] = False,
    run_dir: Annotated[
        str | None, typer.Option("--run-dir", help="Where the sweep wrote STUDY/summary.json "
                                 "(default: the config's run_dir, then the storage's folder).")
    ] = None,
) -> None:
    from mmopt.search.inspect import DEFAULT_COLUMNS, KEY_METRICS, load_study, study_table

    if top <= 0:
        raise typer.BadParameter("must be >= 1", param_hint="--top")
    url = _storage_url(storage, study)
    if as_json:
        text, _ = _summary_text(load_study(study, url), url, run_dir)
        typer.echo(text, nl=False)
        return
    chosen = _metric_columns(columns) if columns else (KEY_METRICS if wide else DEFAULT_COLUMNS)
    console = Console()
    if wide and not console.is_terminal:
        console = Console(width=max(console.width, WIDE_WIDTH))
    console.print(study_table(study, url, top=top, all_states=all_states, columns=chosen,
                              wide=wide))
    _print_honesty(console, study, url, run_dir)


def _summary_text(loaded: Any, url: str, run_dir: str | None) -> tuple[str, Path | None]:
    from mmopt.search.honesty import stored_summary
    from mmopt.search.storage import storage_path

    if run_dir is not None:
        candidates = [Path(run_dir)]
    else:
        candidates = [Path(from_hydra(compose([])).run_dir)]
        db = storage_path(url)
        if db is not None:
            candidates.append(db.parent)
    return stored_summary(loaded, candidates)


def _print_honesty(console: Console, study: str, url: str, run_dir: str | None) -> None:
    from mmopt.search.honesty_view import honesty_lines
    from mmopt.search.inspect import load_study

    text, path = _summary_text(load_study(study, url), url, run_dir)
    data = json.loads(text)
    if data.get("best_trial") is None:
        return
    console.print(f"best trial #{data['best_trial']}:")
    for line in honesty_lines(data):
        console.print(line)
    where = f"from {path}" if path is not None else "rebuilt from the study (no summary.json)"
    console.print(f"summary: {where}", markup=False, style="dim", overflow="fold")


def _metric_columns(text: str) -> tuple[str, ...]:
    from mmopt.metrics import METRIC_NAMES

    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in METRIC_NAMES]
    if unknown or not names:
        raise typer.BadParameter(f"unknown metric(s) {', '.join(unknown) or '(none given)'}; "
                                 f"known: {', '.join(METRIC_NAMES)}", param_hint="--columns")
    return names

"""``mmopt sweep [OVERRIDES]``, ``mmopt best STUDY``, ``mmopt show STUDY``.

    mmopt sweep                                   # the embedded default (synthetic data, AS)
    mmopt sweep strategy=layered_grid study.n_trials=300 executor.address=auto
    mmopt sweep --cfg job strategy=layered_grid    # print the composed config and exit
    mmopt sweep -m strategy=avellaneda_stoikov,layered_grid data=binance,synthetic  # 4 studies
    mmopt best avellaneda_stoikov-synthetic       # best parameters as YAML
    mmopt show avellaneda_stoikov-synthetic -n 20 # the top trials
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from mmopt.cli._apps import HYDRA_CONTEXT, app
from mmopt.cli._hydra import CFG_CHOICES, compose, config_text
from mmopt.cli._multirun import Combination, expand, has_sweep
from mmopt.config import RunConfig, from_hydra
from mmopt.errors import ConfigError

__all__ = ["best_command", "show_command", "sweep_command"]

WIDE_WIDTH = 160  # `mmopt show --wide` when stdout is not a terminal

SWEEP_HELP = (
    "Run (or resume) an Optuna study of the configured strategy over the selected shards. "
    "Arguments are Hydra overrides, e.g. strategy=layered_grid study.n_trials=300 "
    "executor=ray executor.address=auto data=binance. The same study.name and study.storage "
    "resume the study; n_trials counts the total. --cfg job prints the composed config and "
    "exits; -m runs one study per combination of swept values (key=a,b)."
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
    cfg: Annotated[
        str | None,
        typer.Option("--cfg", "-c", help="Print the composed config and exit, as Hydra does: "
                     "job (the run's config), hydra (Hydra's own node) or all."),
    ] = None,
    resolve: Annotated[
        bool, typer.Option("--resolve", help="With --cfg: resolve interpolations.")
    ] = False,
    package: Annotated[
        str | None, typer.Option("--package", "-p", help="With --cfg: print only this part "
                                 "of the config, e.g. strategy or study.sampler.")
    ] = None,
    multirun: Annotated[
        bool, typer.Option("--multirun", "-m", help="One study per combination of the swept "
                           "overrides (key=a,b choice(a,b) range(1,4)), one after another.")
    ] = False,
    progress_every: Annotated[
        float | None, typer.Option("--progress-every", help="When stderr is not a terminal: "
                                   "seconds between two progress summary lines (default "
                                   "10, or MMOPT_PROGRESS_EVERY_S).", min=0.0)
    ] = None,
) -> None:
    from mmopt.search.progress import EVERY_ENV, summary_every_s

    args = list(overrides or [])
    if progress_every is not None:
        os.environ[EVERY_ENV] = repr(float(progress_every))
    summary_every_s()  # a bad MMOPT_PROGRESS_EVERY_S stops here, before any work
    if not multirun and has_sweep(args):
        raise ConfigError("a swept override (key=a,b) needs -m / --multirun: mmopt sweep -m "
                          + " ".join(args))
    combos = expand(args) if multirun else [Combination(tuple(args), ())]
    if cfg is not None:
        if cfg not in CFG_CHOICES:
            raise typer.BadParameter(f"{cfg!r}: expected one of {', '.join(CFG_CHOICES)}",
                                     param_hint="--cfg")
        for combo in combos:
            if multirun:
                typer.echo(f"# {combo.label or '(no swept override)'}")
            typer.echo(config_text(combo.overrides, cfg, resolve=resolve, package=package),
                       nl=False)
        return
    if resolve or package:
        raise typer.BadParameter("--resolve and --package go with --cfg",
                                 param_hint="--resolve / --package")
    runs = _plan(combos) if multirun else [from_hydra(compose(args))]
    if not multirun:
        _run_one(runs[0], not no_progress, allow_config_change)
        return
    _run_many(combos, runs, not no_progress, allow_config_change)


def _plan(combos: Sequence[Combination]) -> list[RunConfig]:
    """Every combination's config, checked before the first runs; study names made unique."""
    import dataclasses

    runs = []
    for combo in combos:
        try:
            runs.append(from_hydra(compose(combo.overrides)))
        except ConfigError as exc:
            raise ConfigError(f"-m combination {combo.label}: {exc}") from None
    names = [r.study.name for r in runs]
    if len(set(names)) == len(names):
        return runs
    renamed = [dataclasses.replace(r, study=dataclasses.replace(
        r.study, name=f"{r.study.name}-{c.name_suffix()}")) for r, c in zip(runs, combos,
                                                                            strict=True)]
    if len({r.study.name for r in renamed}) != len(renamed):
        raise ConfigError("-m: two combinations give the same study name; set study.name so "
                          "that it names every swept key, e.g. study.name=mine-${strategy.name}")
    return renamed


def _run_many(combos: Sequence[Combination], runs: Sequence[RunConfig], progress: bool,
              allow_config_change: bool) -> None:
    """The combinations one after another; a table of what each did at the end. A failing
    combination stops the multirun (as Hydra's basic launcher does); Ctrl-C stops it too."""
    from rich.table import Table

    console = Console()
    done: list[tuple[Combination, RunConfig, str]] = []
    try:
        for i, (combo, run) in enumerate(zip(combos, runs, strict=True), start=1):
            console.print(f"[bold]multirun {i}/{len(runs)}[/bold]: {combo.label} -> study "
                          f"{run.study.name}", soft_wrap=True)
            try:
                _run_one(run, progress, allow_config_change)
            except typer.Exit as exc:
                done.append((combo, run, "interrupted"))
                raise exc
            except BaseException:
                done.append((combo, run, "failed"))
                raise
            done.append((combo, run, "finished"))
    finally:
        table = Table(title=f"multirun: {len(done)} of {len(runs)} combination(s) run")
        for column in ("combination", "study", "status"):
            table.add_column(column)
        for combo, run, status in done:
            table.add_row(combo.label, run.study.name, status)
        console.print(table)


def _run_one(run: RunConfig, progress: bool, allow_config_change: bool) -> None:
    from mmopt.search import run_sweep
    from mmopt.search.console import print_result

    if run.validation.name == "walk_forward":
        _walk_forward(run, progress, allow_config_change)
        return
    result = run_sweep(run, progress=progress, allow_config_change=allow_config_change)
    print_result(result, run, Console())
    if result.status == "interrupted":
        raise typer.Exit(130)


def _walk_forward(run: RunConfig, progress: bool, allow_config_change: bool) -> None:
    from mmopt.search.walk_forward import run_walk_forward
    from mmopt.search.walk_forward_console import print_walk_forward

    result = run_walk_forward(run, progress=progress, allow_config_change=allow_config_change)
    console = Console()
    if not console.is_terminal:  # a log file: the fold table in full, not cut to 80 columns
        console = Console(width=max(console.width, WIDE_WIDTH))
    print_walk_forward(result, console)
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
    from mmopt.search.inspect import (
        DEFAULT_COLUMNS,
        KEY_METRICS,
        fold_studies,
        load_study,
        study_table,
    )

    if top <= 0:
        raise typer.BadParameter("must be >= 1", param_hint="--top")
    url = _storage_url(storage, study)
    folds = fold_studies(study, url)
    if folds:  # a walk-forward: its folds are the studies, its summary.json the result
        _show_walk_forward(study, folds, url, run_dir, as_json)
        return
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


def _summary_dirs(url: str, run_dir: str | None) -> list[Path]:
    """Where a sweep's summary.json may be: --run-dir, else the config's run_dir and the
    storage file's folder."""
    from mmopt.search.storage import storage_path

    if run_dir is not None:
        return [Path(run_dir)]
    candidates = [Path(from_hydra(compose([])).run_dir)]
    db = storage_path(url)
    if db is not None:
        candidates.append(db.parent)
    return candidates


def _summary_text(loaded: Any, url: str, run_dir: str | None) -> tuple[str, Path | None]:
    from mmopt.search.honesty import stored_summary

    return stored_summary(loaded, _summary_dirs(url, run_dir))


def _show_walk_forward(study: str, folds: list[str], url: str, run_dir: str | None,
                       as_json: bool) -> None:
    """``mmopt show`` of a walk-forward: its summary.json (--json), or one row per fold, the
    stitched out-of-sample objective and the last fold's overfitting statistics."""
    from rich.table import Table

    from mmopt.search.honesty import walk_forward_summary
    from mmopt.search.honesty_view import honesty_lines

    text, path = walk_forward_summary(study, folds, _summary_dirs(url, run_dir))
    if as_json:
        typer.echo(text, nl=False)
        return
    data = json.loads(text)
    console = Console()
    if not console.is_terminal:  # a log file: the table in full, not cut to 80 columns
        console = Console(width=max(console.width, WIDE_WIDTH))
    table = Table(title=f"walk-forward {study}: {len(folds)} folds")
    for name in ("fold", "train", "test", "chosen", "in-sample", "out-of-sample",
                 "OOS winner's IS rank"):
        table.add_column(name, justify="left" if name in ("train", "test") else "right",
                         no_wrap=True)
    for row in data.get("folds") or []:
        train, test = row["train_dates"], row["test_dates"]
        table.add_row(str(row["fold"]), _dates(train), _dates(test),
                      f"#{row['is_best_trial']}", _fmt(row["is_objective"]),
                      _fmt(row["oos_objective"]), str(row["oos_winner_rank"]))
    console.print(table)
    stitched = data.get("stitched_out_of_sample")
    if stitched is not None:
        names = data.get("objective_names") or ["objective"]
        console.print(f"stitched out-of-sample {names[0]} = {_fmt(stitched)}")
    if data.get("best_trial") is not None:
        console.print(f"last fold's chosen trial #{data['best_trial']} ({folds[-1]}):")
        for line in honesty_lines(data):
            console.print(line)
    console.print(f"summary: from {path}; each fold's trials: mmopt show {folds[0]} ...",
                  markup=False, style="dim", overflow="fold")


def _dates(dates: list[str]) -> str:
    return dates[0] if len(dates) == 1 else f"{dates[0]}..{dates[-1]} ({len(dates)})"


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{float(value):.6g}"


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

"""What a walk-forward prints: the fold table, the stitched out-of-sample summary, the
stability of each parameter across folds, and where to look."""

from __future__ import annotations

import math

from rich.console import Console
from rich.table import Table

from mmopt.search.honesty_view import honesty_lines
from mmopt.search.walk_forward import WalkForwardResult
from mmopt.tracking import FoldResult, WalkForwardSummary

__all__ = ["fold_table", "print_walk_forward", "stability_table"]

STITCHED_METRICS = ("net_pnl", "cvar95", "fills", "sharpe")


def _fmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.6g}"


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _dates(days: tuple[str, ...]) -> str:
    return days[0] if len(days) == 1 else f"{days[0]}..{days[-1]} ({len(days)})"


def fold_table(summary: WalkForwardSummary) -> Table:
    """One row per fold: dates, trials, the chosen trial in and out of sample, and the in-sample
    rank of the trial that did best out of sample among the re-run top-K (1 = the chosen)."""
    table = Table(title=f"walk-forward folds ({summary.objective_name}, "
                        f"selection={summary.selection})")
    for name in ("fold", "train", "test", "trials (c/p/f)", "chosen", "in-sample",
                 "out-of-sample", "OOS winner", "its IS rank / K"):
        table.add_column(name, justify="right" if name not in ("train", "test") else "left")
    for fold in summary.folds:
        table.add_row(*_row(fold, summary.maximize))
    return table


def _row(fold: FoldResult, maximize: bool) -> list[str]:
    chosen, winner = fold.chosen_trial, fold.oos_winner(maximize)
    k = sum(t.in_sample_rank <= fold.top_k for t in fold.rerun)
    mark = "" if fold.chosen_feasible else " (infeasible)"
    return [
        str(fold.index),
        _dates(fold.train_dates),
        _dates(fold.test_dates),
        f"{fold.n_complete}/{fold.n_pruned}/{fold.n_failed}",
        "-" if chosen is None else f"#{chosen.number}{mark}",
        _fmt(chosen.in_sample_value if chosen else None),
        _fmt(chosen.oos_value if chosen else None) if not (chosen and chosen.oos_error)
        else f"failed: {chosen.oos_error}"[:40],
        "-" if winner is None else f"#{winner.number} ({_fmt(winner.oos_value)})",
        "-" if winner is None else f"{winner.in_sample_rank} / {k}"
        + ("" if k >= fold.top_k else f" (only {k} complete)"),
    ]


def stability_table(summary: WalkForwardSummary) -> Table:
    table = Table(title="chosen parameters across folds (spread: share of the search range)")
    table.add_column("parameter")
    for fold in summary.folds:
        table.add_column(f"fold {fold.index}", justify="right")
    table.add_column("spread", justify="right")
    for s in summary.stability:
        cells = [_fmt(v) if isinstance(v, float) else str(v) for v in s.values]
        cells += ["-"] * (len(summary.folds) - len(cells))
        table.add_row(s.name, *cells, f"{s.spread:.0%}")
    return table


def print_walk_forward(result: WalkForwardResult, console: Console) -> None:
    s, t = result.summary, result.timings
    console.print(f"walk-forward [bold]{result.study_name}[/bold] ({result.status}): "
                  f"{_n(len(s.folds), 'fold')}, {result.n_run} trials run in "
                  f"{result.elapsed_s:.1f} s "
                  f"({t.n_tasks} tasks; trials {t.loop_s:.1f} s of driver time, re-runs and "
                  f"report {t.finish_s:.1f} s)")
    console.print(fold_table(s))
    metrics = dict(s.stitched_metrics)
    extra = ", ".join(f"{m} {_fmt(metrics[m])}" for m in STITCHED_METRICS if m in metrics)
    days = sum(len(f.test_dates) for f in s.folds)
    console.print(f"stitched out-of-sample ({_n(days, 'test date')}, each fold's chosen "
                  "trial): "
                  f"{s.objective_name} = [bold]{_fmt(s.stitched_value)}[/bold]"
                  + (f"; {extra}" if extra else ""))
    ins = [f.chosen_trial.in_sample_value for f in s.folds if f.chosen_trial is not None]
    outs = [f.chosen_trial.oos_value for f in s.folds if f.chosen_trial is not None]
    if ins and outs:
        console.print(f"mean per fold: in-sample {_fmt(sum(ins) / len(ins))}, out-of-sample "
                      f"{_fmt(sum(outs) / len(outs))}")
    if s.stability:
        console.print(stability_table(s))
    if result.chosen is not None:
        console.print(f"parameters to use next (fold {s.folds[-1].index}, trial "
                      f"#{result.chosen.number}): "
                      + ", ".join(f"{k}={_fmt(v) if isinstance(v, float) else v}"
                                  for k, v in result.chosen.params), soft_wrap=True)
    if result.holdout is not None:
        values = ", ".join(_fmt(v) for v in result.holdout.values or ()) or result.holdout.error
        console.print(f"hold-out re-run of trial #{result.holdout.number}: {values}")
    if result.report is not None:
        console.print(f"overfitting statistics of the last fold's study ({s.folds[-1].study_name}"
                      "):" if s.folds else "overfitting statistics:")
        for line in honesty_lines(result.report.as_dict_finite()):
            console.print(line)
    if result.report_path:
        console.print(f"summary: {result.report_path}", soft_wrap=True, markup=False)
    if result.folds_json is not None:
        console.print(f"folds: {result.folds_json}", soft_wrap=True, markup=False)
    if result.storage_url and s.folds:
        console.print(f"storage: {result.storage_url}; per-fold trials: mmopt show "
                      f"{s.folds[0].study_name} --storage {result.storage_url}",
                      soft_wrap=True, markup=False)
    if result.ui_command:
        console.print(f"MLflow: {result.ui_command}", soft_wrap=True, markup=False)

"""The summary a sweep prints at the end: counts, best trial(s), holdout, where to look."""

from __future__ import annotations

import math

from rich.console import Console
from rich.table import Table

from mmopt.config import RunConfig
from mmopt.search.driver import SweepResult
from mmopt.search.honesty_view import honesty_lines
from mmopt.search.inspect import KEY_METRICS
from mmopt.tracking import TrialRecord

__all__ = ["print_result"]


def _fmt(value: float) -> str:
    return "nan" if math.isnan(value) else f"{value:.6g}"


def _param(value: object) -> str:
    return _fmt(value) if isinstance(value, float) else str(value)


def _best_table(best: tuple[TrialRecord, ...], holdout: TrialRecord | None,
                feasible: bool) -> Table:
    plural = "s (Pareto front)" if len(best) > 1 else ""
    title = (f"best feasible trial{plural}" if feasible else
             f"best trial{plural} by objective: INFEASIBLE (no complete trial meets the KPI "
             "targets)")
    table = Table(title=title)
    table.add_column("")
    for record in best:
        table.add_column(f"#{record.number}")
    if holdout is not None:
        table.add_column(f"#{holdout.number} holdout")
    rows = [*best, *([holdout] if holdout is not None else [])]
    table.add_row("values", *(", ".join(_fmt(v) for v in (r.values or ())) or r.error or "-"
                              for r in rows))
    for metric in KEY_METRICS:
        table.add_row(metric, *(_fmt(r.metrics_dict().get(metric, math.nan)) for r in rows))
    for name, _ in best[0].params:
        table.add_row(name, *(_param(r.params_dict().get(name, "")) for r in rows))
    return table


def print_result(result: SweepResult, run: RunConfig, console: Console) -> None:
    t = result.timings
    console.print(
        f"study [bold]{result.study_name}[/bold] ({result.status}): {result.n_complete} complete, "
        f"{result.n_pruned} pruned, {result.n_failed} failed"
        + (f", {result.n_retried} retried" if result.n_retried else "")
        + f"; {result.n_run} trials run in "
        f"{result.elapsed_s:.1f} s ({t.n_tasks} tasks)"
    )
    console.print(f"time: data {t.data_s:.1f} s, executor start {t.executor_s:.1f} s, "
                  f"kernel warm-up {t.warm_s:.1f} s, trials {t.loop_s:.1f} s, best re-run and "
                  f"report {t.finish_s:.1f} s")
    if result.best:
        console.print(_best_table(result.best, result.holdout, result.best_feasible))
    if result.best and not result.best_feasible:
        fails = "; ".join(result.best_kpi_failures) or "see its constraints"
        console.print(f"[bold red]trial #{result.best[0].number} is infeasible[/bold red]: it "
                      f"misses {fails}. Run more trials, widen the search space, or choose "
                      "other targets (objective/kpi=none, objective.kpi.<target>=...; see "
                      "conf/objective/kpi/).")
    elif not result.best:
        console.print("no complete trial yet: every trial was pruned or failed (see "
                      f"`mmopt show {result.study_name} --all`); run more trials")
    if result.report is not None:
        for line in honesty_lines(result.report.as_dict_finite()):
            console.print(line)
    if result.report_path:
        console.print(f"summary: {result.report_path}", soft_wrap=True, markup=False)
    # commands are printed unwrapped (soft_wrap), so that they can be copied as they are
    if result.storage_url:
        console.print(f"storage: {result.storage_url}", soft_wrap=True)
        console.print(f"best parameters: mmopt best {result.study_name} --storage "
                      f"{result.storage_url}", soft_wrap=True, markup=False)
    if result.ui_command:
        console.print(f"MLflow: {result.ui_command}", soft_wrap=True, markup=False)

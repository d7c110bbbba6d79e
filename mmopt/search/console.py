"""The summary a sweep prints at the end: counts, best trial(s), holdout, where to look."""

from __future__ import annotations

import math

from rich.console import Console
from rich.table import Table

from mmopt.config import RunConfig
from mmopt.search.driver import SweepResult
from mmopt.search.inspect import KEY_METRICS
from mmopt.tracking import TrialRecord

__all__ = ["print_result"]


def _fmt(value: float) -> str:
    return "nan" if math.isnan(value) else f"{value:.6g}"


def _best_table(best: tuple[TrialRecord, ...], holdout: TrialRecord | None) -> Table:
    table = Table(title="best feasible trial" + ("s (Pareto front)" if len(best) > 1 else ""))
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
        table.add_row(name, *(str(r.params_dict().get(name, "")) for r in rows))
    return table


def print_result(result: SweepResult, run: RunConfig, console: Console) -> None:
    t = result.timings
    console.print(
        f"study [bold]{result.study_name}[/bold] ({result.status}): {result.n_complete} complete, "
        f"{result.n_pruned} pruned, {result.n_failed} failed; {result.n_run} trials run in "
        f"{result.elapsed_s:.1f} s ({t.n_tasks} tasks)"
    )
    if result.best:
        console.print(_best_table(result.best, result.holdout))
    else:
        console.print("no feasible complete trial yet: relax objective.kpi (or set "
                      "objective.use_constraints=false) or run more trials")
    if result.storage_url:
        console.print(f"storage: {result.storage_url}   (mmopt best {result.study_name} "
                      f"--storage {result.storage_url})")
    if result.ui_command:
        console.print(f"MLflow: {result.ui_command}")

"""A walk-forward's report files: the fold table, the stitched out-of-sample equity curve (in
trading time) and the stability of each chosen parameter across folds."""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from mmopt.report._curves import MAX_PANELS, thin
from mmopt.report._trading_time import trading_axis
from mmopt.tracking._folds import WalkForwardSummary
from mmopt.tracking._shard_curve import ShardCurve

__all__ = ["write_fold_table", "write_stability", "write_stitched_equity"]


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.6g}"
    return "" if value is None else str(value)


def write_fold_table(wf: WalkForwardSummary, out: Path) -> list[Path]:
    """``walk_forward_folds.csv`` (one row per re-run trial per fold) and ``.md`` (per fold)."""
    rows = [["fold", "train_dates", "test_dates", "trial", "in_sample_rank", "chosen",
             f"in_sample_{wf.objective_name}", f"out_of_sample_{wf.objective_name}", "error"]]
    md = [f"# Walk-forward ({wf.objective_name}, selection={wf.selection})", "",
          f"stitched out-of-sample {wf.objective_name}: {_cell(wf.stitched_value)}", "",
          "| fold | train | test | complete/pruned/failed | chosen | in-sample | out-of-sample "
          "| OOS winner | its in-sample rank |", "|---|---|---|---|---|---|---|---|---|"]
    for f in wf.folds:
        for t in f.rerun:
            rows.append([str(f.index), " ".join(f.train_dates), " ".join(f.test_dates),
                         str(t.number), str(t.in_sample_rank), str(t.number == f.chosen),
                         _cell(t.in_sample_value), _cell(t.oos_value), t.oos_error or ""])
        chosen, winner = f.chosen_trial, f.oos_winner(wf.maximize)
        md.append(
            f"| {f.index} | {' '.join(f.train_dates)} | {' '.join(f.test_dates)} | "
            f"{f.n_complete}/{f.n_pruned}/{f.n_failed} | "
            f"{'-' if chosen is None else chosen.number} | "
            f"{_cell(chosen.in_sample_value) if chosen else ''} | "
            f"{_cell(chosen.oos_value) if chosen else ''} | "
            f"{'-' if winner is None else winner.number} | "
            f"{'-' if winner is None else winner.in_sample_rank} |")
    csv_path, md_path = out / "walk_forward_folds.csv", out / "walk_forward_folds.md"
    with csv_path.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    md_path.write_text("\n".join(md) + "\n")
    return [csv_path, md_path]


def write_stability(wf: WalkForwardSummary, out: Path) -> list[Path]:
    """``param_stability.csv``: each parameter's chosen value per fold and its spread."""
    path = out / "param_stability.csv"
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["param", *(f"fold{f.index}" for f in wf.folds), "spread", "mean",
                         "std"])
        for s in wf.stability:
            cells = [_cell(v) for v in s.values] + [""] * (len(wf.folds) - len(s.values))
            writer.writerow([s.name, *cells, _cell(s.spread), _cell(s.mean), _cell(s.std)])
    return [path]


def _trading_series(curves: list[tuple[int, ShardCurve]]) -> tuple[
        np.ndarray, np.ndarray, list[tuple[float, int]]]:
    """Hours of trading (``_trading_time``: no time between sessions), cumulative PnL, and
    where folds start."""
    ordered = [(f, c) for f, c in sorted(curves, key=lambda fc: (fc[1].date, fc[0]))
               if c.equity.size]
    axis = trading_axis([c.equity["ts_ns"] for _, c in ordered])
    hours: list[np.ndarray] = []
    pnl: list[np.ndarray] = []
    starts: list[tuple[float, int]] = []
    carried, last_fold = 0.0, -1
    for (fold, curve), clock, begin in zip(ordered, axis.hours, axis.starts, strict=True):
        equity = curve.equity
        if fold != last_fold:
            starts.append((begin, fold))
            last_fold = fold
        rows = thin(np.arange(equity.size))
        change = equity["equity"][rows] - equity["equity"][0]
        hours.append(clock[rows])
        pnl.append(carried + change)
        last = float(equity["equity"][-1] - equity["equity"][0])
        carried += last if math.isfinite(last) else 0.0
    if not hours:
        return np.array([]), np.array([]), starts
    return np.concatenate(hours), np.concatenate(pnl), starts


def write_stitched_equity(wf: WalkForwardSummary, out: Path) -> list[Path]:
    """``walk_forward_equity.png``: each security's PnL over the folds' test dates, each fold
    trading its own chosen trial, on a trading-time axis (no overnight gaps), folds marked."""
    by_security: dict[str, list[tuple[int, ShardCurve]]] = defaultdict(list)
    for fold, curve in wf.curves:
        by_security[curve.security].append((fold, curve))
    securities = sorted(by_security)[:MAX_PANELS]
    if not securities:
        return []
    fig = Figure(figsize=(10, 1.0 + 2.0 * len(securities)), layout="constrained")
    axes = fig.subplots(len(securities), 1, squeeze=False)[:, 0]
    for ax, sec in zip(axes, securities, strict=True):
        hours, pnl, starts = _trading_series(by_security[sec])
        ax.plot(hours, pnl, linewidth=0.8)
        for x, fold in starts:
            ax.axvline(x, color="grey", linewidth=0.6, linestyle="--")
            ax.annotate(f"fold {fold}", (x, 1.0), xycoords=("data", "axes fraction"),
                        fontsize=7, va="top")
        ax.set_title(sec, fontsize=9, loc="left")
        ax.set_ylabel("cumulative PnL")
        ax.grid(True, alpha=0.3)
    axes[-1].set_xlabel("trading hours (test dates joined)")
    fig.suptitle(f"walk-forward: stitched out-of-sample PnL ({wf.objective_name} "
                 f"{_cell(wf.stitched_value)})")
    path = out / "walk_forward_equity.png"
    fig.savefig(path, dpi=100)
    return [path]

"""Equity and inventory curves of the best trial, one panel per security (PNG).

A security's shards (days) are drawn in date order on a trading-time axis
(``_trading_time``): hours of trading, with the hours between sessions taken out, days joined
and separated by a dashed line labelled with the date. The equity panel shows the PnL
accumulated over the days (each day's equity change added to the previous days' total), the
inventory panel the position. Days are not joined by a line. Long curves are thinned to
``MAX_POINTS`` per day for drawing (the metrics, not the plot, are the exact numbers).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from mmopt.report._trading_time import trading_axis
from mmopt.tracking._shard_curve import ShardCurve

__all__ = ["MAX_PANELS", "MAX_POINTS", "SecuritySeries", "security_series", "write_curves"]

MAX_POINTS = 5000
MAX_PANELS = 12


def thin(index: np.ndarray) -> np.ndarray:
    """At most ``MAX_POINTS`` evenly spread entries of ``index`` (first and last kept)."""
    if index.size <= MAX_POINTS:
        return index
    keep = np.linspace(0, index.size - 1, MAX_POINTS).astype(np.int64)
    return index[keep]


@dataclass(frozen=True, slots=True, eq=False)
class SecuritySeries:
    """What one security's panel draws: trading hours, cumulative PnL and position (NaN
    between days, so that days are not joined), and where each day starts."""

    hours: np.ndarray
    pnl: np.ndarray
    position: np.ndarray
    day_starts: tuple[tuple[float, str], ...]  # (trading hour, date)


def security_series(curves: Sequence[ShardCurve]) -> SecuritySeries:
    """One security's shards in date order on a trading-time axis."""
    days = [c for c in sorted(curves, key=lambda c: c.date) if c.equity.size]
    axis = trading_axis([c.equity["ts_ns"] for c in days])
    hours: list[np.ndarray] = []
    pnl: list[np.ndarray] = []
    position: list[np.ndarray] = []
    carried = 0.0
    gap = np.array([np.nan])
    for curve, clock in zip(days, axis.hours, strict=True):
        equity = curve.equity
        rows = thin(np.arange(equity.size))
        change = equity["equity"][rows] - equity["equity"][0]
        hours += [clock[rows], gap]
        pnl += [carried + change, gap]
        position += [equity["position"][rows].astype(np.float64), gap]
        last = float(equity["equity"][-1] - equity["equity"][0])
        carried += last if np.isfinite(last) else 0.0
    starts = tuple(zip(axis.starts, (c.date for c in days), strict=True))
    if not hours:
        empty = np.array([], np.float64)
        return SecuritySeries(empty, empty, empty, ())
    return SecuritySeries(np.concatenate(hours), np.concatenate(pnl),
                          np.concatenate(position), starts)


def write_curves(curves: Sequence[ShardCurve], out_dir: Path, title: str) -> list[Path]:
    """``best_equity.png`` and ``best_inventory.png``; nothing when there are no curves."""
    by_security: dict[str, list[ShardCurve]] = defaultdict(list)
    for curve in curves:
        by_security[curve.security].append(curve)
    securities = sorted(by_security)[:MAX_PANELS]
    if not securities:
        return []
    series = {sec: security_series(by_security[sec]) for sec in securities}
    written = []
    for name, ylabel in (("best_equity.png", "cumulative PnL"), ("best_inventory.png",
                                                                 "position")):
        fig = Figure(figsize=(10, 1.0 + 2.0 * len(securities)), layout="constrained")
        axes = fig.subplots(len(securities), 1, squeeze=False, sharex=False)[:, 0]
        for ax, sec in zip(axes, securities, strict=True):
            data = series[sec]
            ax.plot(data.hours, data.pnl if name == "best_equity.png" else data.position,
                    linewidth=0.8)
            for i, (x, date) in enumerate(data.day_starts):
                if i:
                    ax.axvline(x, color="grey", linewidth=0.6, linestyle="--")
                ax.annotate(date, (x, 1.0), xycoords=("data", "axes fraction"), fontsize=7,
                            va="top")
            ax.set_ylabel(ylabel)
            ax.set_title(sec, fontsize=9, loc="left")
            ax.grid(True, alpha=0.3)
            if name == "best_inventory.png":
                ax.axhline(0.0, color="grey", linewidth=0.6)
        axes[-1].set_xlabel("trading hours (time between sessions left out; dashed: next day)")
        hidden = len(by_security) - len(securities)
        suffix = f" (first {len(securities)} of {len(by_security)} securities)" if hidden else ""
        fig.suptitle(f"{title}: {ylabel}{suffix}")
        path = out_dir / name
        fig.savefig(path, dpi=100)
        written.append(path)
    return written

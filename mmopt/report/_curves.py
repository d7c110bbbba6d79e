"""Equity and inventory curves of the best trial, one panel per security (PNG).

A security's shards are drawn in date order on a time axis; the equity panel shows the PnL
accumulated over its days (each day's equity change added to the previous days' total), the
inventory panel the position. Days are not joined by a line. Long curves are thinned to
``MAX_POINTS`` per day for drawing (the metrics, not the plot, are the exact numbers).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from mmopt.tracking._shard_curve import ShardCurve

__all__ = ["MAX_PANELS", "MAX_POINTS", "write_curves"]

MAX_POINTS = 5000
MAX_PANELS = 12


def _thin(index: np.ndarray) -> np.ndarray:
    if index.size <= MAX_POINTS:
        return index
    keep = np.linspace(0, index.size - 1, MAX_POINTS).astype(np.int64)
    return index[keep]


def _series(curves: Sequence[ShardCurve]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Time, cumulative PnL and position over a security's shards, NaN-separated per day."""
    times: list[np.ndarray] = []
    pnl: list[np.ndarray] = []
    position: list[np.ndarray] = []
    carried = 0.0
    for curve in sorted(curves, key=lambda c: c.date):
        equity = curve.equity
        if equity.size == 0:
            continue
        rows = _thin(np.arange(equity.size))
        change = equity["equity"][rows] - equity["equity"][0]
        times += [equity["ts_ns"][rows].astype("datetime64[ns]"), np.array(["NaT"], "M8[ns]")]
        pnl += [carried + change, np.array([np.nan])]
        position += [equity["position"][rows].astype(np.float64), np.array([np.nan])]
        last = float(equity["equity"][-1] - equity["equity"][0])
        carried += last if np.isfinite(last) else 0.0
    if not times:
        return np.array([], "M8[ns]"), np.array([]), np.array([])
    return np.concatenate(times), np.concatenate(pnl), np.concatenate(position)


def write_curves(curves: Sequence[ShardCurve], out_dir: Path, title: str) -> list[Path]:
    """``best_equity.png`` and ``best_inventory.png``; nothing when there are no curves."""
    by_security: dict[str, list[ShardCurve]] = defaultdict(list)
    for curve in curves:
        by_security[curve.security].append(curve)
    securities = sorted(by_security)[:MAX_PANELS]
    if not securities:
        return []
    series = {sec: _series(by_security[sec]) for sec in securities}
    written = []
    for name, column, ylabel in (
        ("best_equity.png", 1, "cumulative PnL"),
        ("best_inventory.png", 2, "position"),
    ):
        fig = Figure(figsize=(10, 1.0 + 2.0 * len(securities)), layout="constrained")
        axes = fig.subplots(len(securities), 1, squeeze=False, sharex=False)[:, 0]
        for ax, sec in zip(axes, securities, strict=True):
            data = series[sec]
            ax.plot(data[0], data[column], linewidth=0.8)
            ax.set_ylabel(ylabel)
            ax.set_title(sec, fontsize=9, loc="left")
            ax.grid(True, alpha=0.3)
            if column == 2:
                ax.axhline(0.0, color="grey", linewidth=0.6)
        hidden = len(by_security) - len(securities)
        suffix = f" (first {len(securities)} of {len(by_security)} securities)" if hidden else ""
        fig.suptitle(f"{title}: {ylabel}{suffix}")
        path = out_dir / name
        fig.savefig(path, dpi=100)
        written.append(path)
    return written

"""``sensitivity.png``: the objective around the chosen trial, one slice per parameter.

Each panel plots every complete trial's objective against one parameter; trials close to the
chosen one in the *other* parameters (scaled to [0, 1] over their ranges, log ranges in log
space) are drawn dark, far ones pale, so the dark points are the slice through the chosen
trial. A flat dark band means the objective does not care about that parameter near the
choice; a peak only at the chosen value means a fragile choice.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import FrozenTrial, TrialState

__all__ = ["write_sensitivity"]

MAX_COLUMNS = 3


def _scaled(dist: Any, value: Any) -> float:
    if isinstance(dist, CategoricalDistribution):
        return float(list(dist.choices).index(value)) / max(1, len(dist.choices) - 1) \
            if value in dist.choices else 0.5
    if isinstance(dist, FloatDistribution | IntDistribution):
        low, high, x = float(dist.low), float(dist.high), float(value)
        if dist.log and low > 0 and x > 0:
            low, high, x = math.log(low), math.log(high), math.log(x)
        return 0.0 if high == low else (x - low) / (high - low)
    return 0.5


def write_sensitivity(study: Any, chosen: int, out: Path) -> list[Path]:
    """Nothing when the study has fewer than 2 complete trials or several objectives."""
    if len(study.directions) > 1:
        return []
    trials: list[FrozenTrial] = [
        t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if t.values and math.isfinite(t.values[0])]
    pick = next((t for t in trials if t.number == chosen), None)
    if pick is None or len(trials) < 2:
        return []
    names = [n for n in pick.distributions if all(n in t.params for t in trials)]
    if not names:
        return []
    coords = np.array([[_scaled(pick.distributions[n], t.params[n]) for n in names]
                       for t in trials])
    centre = np.array([_scaled(pick.distributions[n], pick.params[n]) for n in names])
    values = np.array([t.values[0] for t in trials])
    n_cols = min(MAX_COLUMNS, len(names))
    n_rows = math.ceil(len(names) / n_cols)
    fig = Figure(figsize=(4.0 * n_cols, 3.0 * n_rows), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False).ravel()
    for j, name in enumerate(names):
        others = np.delete(coords - centre, j, axis=1)
        dist = np.sqrt((others * others).sum(axis=1)) if others.size else np.zeros(len(trials))
        near = 1.0 - dist / max(float(dist.max()), 1e-12)
        ax = axes[j]
        x = [_plain(t.params[name]) for t in trials]
        ax.scatter(x, values, c=near, cmap="Blues", vmin=-0.2, vmax=1.0, s=14)
        ax.scatter([_plain(pick.params[name])], [pick.values[0]], marker="*", s=140,
                   color="crimson", label=f"chosen #{chosen}")
        dist_j = pick.distributions[name]
        if isinstance(dist_j, FloatDistribution | IntDistribution) and dist_j.log:
            ax.set_xscale("log")
        ax.set_xlabel(name)
        ax.set_ylabel("objective")
        ax.grid(True, alpha=0.3)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7)
    fig.suptitle(f"objective around trial #{chosen} (dark: near it in the other parameters)")
    path = out / "sensitivity.png"
    fig.savefig(path, dpi=90)
    return [path]


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, bool) or value is None else value

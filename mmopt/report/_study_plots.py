"""Optuna's own plots of a study, saved as PNG (``optuna.visualization.matplotlib``).

Optimisation history, parameter importances, parallel coordinates (one of each per objective
when the study has several) and the Pareto front (2 or 3 objectives). A plot that cannot be
drawn (too few trials, one distinct value per parameter, more than 3 objectives) is skipped
with the reason, never raised: a report must not fail a sweep.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

__all__ = ["MIN_TRIALS_FOR_IMPORTANCE", "write_study_plots"]

MIN_TRIALS_FOR_IMPORTANCE = 2

Skip = tuple[str, str]


def _pyplot() -> Any:
    """pyplot on the Agg backend unless the caller already chose one (e.g. a notebook)."""
    if "matplotlib.pyplot" not in sys.modules:
        import matplotlib

        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(draw: Callable[[], Any], path: Path) -> None:
    plt = _pyplot()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ExperimentalWarning, "too few trials", empty legends
        result = draw()
    axes = result.flat[0] if hasattr(result, "flat") else result
    fig = axes.figure
    try:
        fig.savefig(path, dpi=100, bbox_inches="tight")
    finally:
        plt.close(fig)


def _plot(
    name: str, draw: Callable[[], Any], out_dir: Path, files: list[Path], skipped: list[Skip]
) -> None:
    path = out_dir / name
    try:
        _save(draw, path)
    except Exception as exc:  # any Optuna/matplotlib failure becomes a skip reason
        skipped.append((name, f"{type(exc).__name__}: {exc}"))
        return
    files.append(path)


def _complete_trials(study: Any) -> list[Any]:
    import optuna

    return study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))


def write_study_plots(
    study: Any, out_dir: Path, objective_names: Sequence[str] = ()
) -> tuple[list[Path], list[Skip]]:
    """Write the study's plots into ``out_dir``; returns (files, [(file, why skipped)])."""
    from optuna.visualization import matplotlib as vis

    files: list[Path] = []
    skipped: list[Skip] = []
    n_obj = len(study.directions)
    names = list(objective_names)[:n_obj]
    names += [f"objective_{i}" for i in range(len(names), n_obj)]
    complete = _complete_trials(study)
    if not complete:
        return files, [("optuna_*.png", "no complete trial in the study")]
    searched = {name for trial in complete for name in trial.distributions}

    for i, label in enumerate(names):
        suffix = "" if n_obj == 1 else f"_{_slug(label)}"
        kwargs: dict[str, Any] = {}
        if n_obj > 1:
            kwargs = {"target": partial(_objective_value, index=i), "target_name": label}
        _plot(
            f"optuna_history{suffix}.png",
            partial(vis.plot_optimization_history, study, **kwargs),
            out_dir,
            files,
            skipped,
        )
        if not searched:
            skipped.append((f"optuna_*{suffix}.png", "no searched parameter"))
            continue
        if len(complete) < MIN_TRIALS_FOR_IMPORTANCE:
            skipped.append(
                (
                    f"optuna_importances{suffix}.png",
                    f"needs at least {MIN_TRIALS_FOR_IMPORTANCE} complete trials, "
                    f"the study has {len(complete)}",
                )
            )
        else:
            _plot(
                f"optuna_importances{suffix}.png",
                partial(vis.plot_param_importances, study, **kwargs),
                out_dir,
                files,
                skipped,
            )
        _plot(
            f"optuna_parallel_coordinates{suffix}.png",
            partial(vis.plot_parallel_coordinate, study, **kwargs),
            out_dir,
            files,
            skipped,
        )
    if n_obj in (2, 3):
        _plot(
            "optuna_pareto_front.png",
            lambda: vis.plot_pareto_front(study, target_names=names),
            out_dir,
            files,
            skipped,
        )
    elif n_obj > 3:
        skipped.append(("optuna_pareto_front.png", f"{n_obj} objectives (plots 2 or 3 only)"))
    return files, skipped


def _objective_value(trial: Any, index: int) -> float:
    return float(trial.values[index])


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text) or "objective"

"""Tiny synthetic sweeps: 2 securities x 2 days of a few thousand events, made once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

TINY_EVENTS = 6000


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tiny_data")


@pytest.fixture
def sweep_args(tiny_root: Path, tmp_path: Path) -> list[str]:
    """Overrides for a seconds-long sweep: price_follow, local executor, SQLite in tmp_path."""
    return [
        "experiment=smoke",
        f"run_dir={tmp_path}",
        f"data.root={tiny_root}",
        "data.generate.n_days=2",
        f"data.generate.events_per_day={TINY_EVENTS}",
        "study=default",
        "study.name=tiny",
        "study.n_trials=6",
        "study.sampler.n_startup_trials=2",
        "study.pruner.n_startup_trials=2",
        f"study.storage=sqlite:///{tmp_path}/optuna.db",
        "executor.trials_per_task=2",
    ]

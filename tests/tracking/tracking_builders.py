"""Hand-made tracking inputs: trial records, curves, tiny Optuna studies, a SweepInfo.

Shared by tests/tracking and tests/report (the latter puts this folder on sys.path).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import optuna

from mmopt.config import RunConfig, from_hydra
from mmopt.engine._records import EQUITY_DTYPE, FILL_DTYPE
from mmopt.tracking import SecurityMetrics, ShardCurve, SweepInfo, TrialRecord

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
SECURITIES = ("SYN0", "SYN1")
PARAM_NAMES = ("gamma", "k")


@lru_cache(maxsize=1)
def run_config() -> RunConfig:
    """The default sweep config (Hydra composition costs ~1 s, so it is made once)."""
    from mmopt.cli._hydra import compose

    return from_hydra(compose(["study.name=toy", "tracking=mlflow"]))


def sweep_info(
    run_dir: Path,
    *,
    study_name: str = "toy",
    storage_url: str | None = "sqlite:///runs/optuna.db",
    resumed: bool = False,
    n_existing: int = 0,
    objective_names: Sequence[str] = ("score",),
) -> SweepInfo:
    run = run_config()
    return SweepInfo(
        run=run,
        config_id=run.config_id,
        config_yaml="study:\n  name: toy\n  storage: " + str(storage_url) + "\n",
        study_name=study_name,
        storage_url=storage_url,
        data_root="/data/synthetic",
        data_fingerprint="fp-0123456789ab",
        securities=SECURITIES,
        dates=("2026-01-01", "2026-01-02"),
        n_shards=4,
        holdout_dates=(),
        directions=tuple("maximize" for _ in objective_names),
        objective_names=tuple(objective_names),
        code_version="0.1.0+gdeadbee",
        run_dir=str(run_dir),
        resumed=resumed,
        n_existing_trials=n_existing,
        started_at=T0,
    )


def trial(
    number: int,
    state: str = "COMPLETE",
    *,
    net_pnl: float | None = None,
    values: tuple[float, ...] | None = None,
    extra_metrics: Sequence[tuple[str, float]] = (),
    securities: Sequence[str] = SECURITIES,
    error: str | None = None,
) -> TrialRecord:
    """Trial ``number`` with gamma = 0.1 * (number + 1), k = number + 1 and simple metrics."""
    pnl = float(number * 10) if net_pnl is None else net_pnl
    metrics = (("net_pnl", pnl), ("fills", float(number + 1)), *extra_metrics)
    per_security = tuple(
        SecurityMetrics(sec, (("net_pnl", pnl / len(securities) + i), ("fills", float(i + 1))))
        for i, sec in enumerate(securities)
    )
    if values is None and state == "COMPLETE":
        values = (pnl,)
    return TrialRecord(
        number=number,
        state=state,  # type: ignore[arg-type]
        params=(("gamma", 0.1 * (number + 1)), ("k", number + 1)),
        strategy_params=(("gamma", 0.5), ("k", 1), ("horizon_s", 60.0)),
        values=values if state == "COMPLETE" else None,
        metrics=metrics if state != "FAIL" else (),
        per_security=per_security if state != "FAIL" else (),
        constraints=(-1.0,),
        intermediate=((2, pnl / 2.0),) if state != "FAIL" else (),
        n_shards=4 if state == "COMPLETE" else 2,
        duration_s=1.5,
        started_at=T0 + number,
        error=error,
    )


def curves(securities: Sequence[str] = SECURITIES, days: int = 2, n: int = 50) -> tuple:
    """Equity rows on a 1 s grid: equity rises by 1 per row, position swings +-3."""
    out = []
    for sec in securities:
        for d in range(days):
            eq = np.zeros(n, EQUITY_DTYPE)
            eq["ts_ns"] = int((T0 + 86_400 * d) * 1e9) + np.arange(n, dtype=np.int64) * 10**9
            eq["equity"] = np.arange(n, dtype=np.float64)
            eq["position"] = np.round(3 * np.sin(np.arange(n) / 5.0))
            eq["mid"] = 100.0
            out.append(ShardCurve(sec, f"2026-01-0{d + 1}", eq, np.zeros(0, FILL_DTYPE)))
    return tuple(out)


def toy_study(n_trials: int = 8, directions: Sequence[str] = ("maximize",)) -> optuna.Study:
    """An in-memory study over gamma (float, log) and k (int), seeded, no pruning."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler: optuna.samplers.BaseSampler = (
        optuna.samplers.NSGAIISampler(seed=1)
        if len(directions) > 1
        else optuna.samplers.RandomSampler(seed=1)
    )
    study = optuna.create_study(directions=list(directions), sampler=sampler)

    def objective(t: optuna.Trial) -> float | tuple[float, float]:
        gamma = t.suggest_float("gamma", 0.01, 1.0, log=True)
        k = t.suggest_int("k", 1, 10)
        if len(directions) > 1:
            return gamma * k, (gamma - 0.3) ** 2 + k / 10
        return -((gamma - 0.3) ** 2) + k / 100

    study.optimize(objective, n_trials=n_trials)
    return study


def copy_store(template: Path, run_dir: Path) -> Path:
    """Put an already-migrated empty MLflow SQLite store into ``run_dir`` (saves the migration)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    target = run_dir / "mlflow.db"
    shutil.copyfile(template, target)
    return target

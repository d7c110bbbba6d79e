"""The worker side of a sweep: pure functions of (shard, parameter sets) -> shard metrics.

``evaluate(spec, shard, param_sets)`` runs one backtest per parameter set on one prepared
shard and returns its ``ShardMetrics`` (or the error, per parameter set, so that one bad set
fails only its own trial). The same function runs in-process (``executor=local``) and in Ray
tasks; it never touches Optuna or MLflow. Same inputs, same outputs, bit for bit.
"""

from __future__ import annotations

import functools
import os
import time
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mmopt.data._schema import Instrument
from mmopt.errors import ConfigError
from mmopt.metrics import DEFAULT_INTERVAL_S, OrderCounts, ShardMetrics, compute_shard_metrics

if TYPE_CHECKING:
    from mmopt.engine import BacktestResult

__all__ = [
    "POSITION_LIMIT_KEYS",
    "ParamSet",
    "PreparedShard",
    "ShardOutcome",
    "TaskOutcome",
    "WorkSpec",
    "evaluate",
    "position_limit",
    "replay",
    "warm_worker",
]

Scalar = str | int | float | bool | None
ParamSet = tuple[tuple[str, Scalar], ...]

# Strategy parameters that bound the position (in lots); RMS inventory is reported against it.
POSITION_LIMIT_KEYS = ("max_position", "max_inventory")


@dataclass(frozen=True, slots=True)
class WorkSpec:
    """What every task of a sweep shares: the strategy, its fixed parameters, engine settings."""

    strategy: str
    base_params: ParamSet  # strategy.params of the config (the search overrides some)
    engine: tuple[tuple[str, Scalar], ...]  # EngineConfig fields
    interval_s: float = DEFAULT_INTERVAL_S  # PnL grid of the metrics

    def params_for(self, sampled: ParamSet) -> dict[str, Scalar]:
        return {**dict(self.base_params), **dict(sampled)}


@dataclass(frozen=True, slots=True, eq=False)
class PreparedShard:
    """One shard ready for every trial: ``market`` is the engine's MarketData (read-only)."""

    index: int  # position in the sweep's shard order (the rungs follow it)
    security: str
    date: str
    market: Any  # mmopt.engine.MarketData
    instrument: Instrument
    n_events: int


@dataclass(frozen=True, slots=True, eq=False)
class ShardOutcome:
    """One parameter set on one shard: its metrics, or the error that stopped it."""

    shard: int
    metrics: ShardMetrics | None
    error: str | None
    kernel_s: float  # time inside run_backtest


@dataclass(frozen=True, slots=True, eq=False)
class TaskOutcome:
    """What one task returns: one ShardOutcome per parameter set, in the order given."""

    outcomes: tuple[ShardOutcome, ...]
    wall_s: float  # the task's own time in its worker
    pid: int


@functools.lru_cache(maxsize=8)
def _engine_config(engine: tuple[tuple[str, Scalar], ...]) -> Any:
    from mmopt.engine import EngineConfig

    return EngineConfig(**dict(engine))  # type: ignore[arg-type]


@functools.lru_cache(maxsize=8)
def _strategy(name: str) -> Any:
    from mmopt.strategies import get_strategy

    return get_strategy(name)


def position_limit(params: dict[str, Scalar], instrument: Instrument) -> float:
    """The strategy's position limit in instrument units (lots x lot size); 1 lot if unknown."""
    for key in POSITION_LIMIT_KEYS:
        value = params.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return float(value) * instrument.lot_size
    return instrument.lot_size


def _run(spec: WorkSpec, shard: PreparedShard, sampled: ParamSet) -> BacktestResult:
    from mmopt.engine import run_backtest

    strategy = _strategy(spec.strategy)
    values = spec.params_for(sampled)
    try:
        params = strategy.params_type(**values)
    except TypeError as exc:
        raise ConfigError(f"strategy.params: {exc}") from None
    result: BacktestResult = run_backtest(shard.market, None, strategy, params,
                                          _engine_config(spec.engine))
    return result


def _ack_latencies(result: BacktestResult) -> np.ndarray | None:
    return None if result.acks is None else result.acks["latency_ns"]


def _metrics(spec: WorkSpec, shard: PreparedShard, sampled: ParamSet,
             result: BacktestResult) -> ShardMetrics:
    counts = OrderCounts(
        submitted=int(result.n_submitted),
        cancelled=int(result.n_cancelled),
        rejected=int(result.n_rejected),
        filled=int(result.n_filled),
    )
    limit = position_limit(spec.params_for(sampled), shard.instrument)
    return compute_shard_metrics(result.fills, result.equity, counts, shard.instrument, limit,
                                 interval_s=spec.interval_s, label=shard.date,
                                 ack_latency_ns=_ack_latencies(result))


def _describe(exc: BaseException, shard: PreparedShard) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno})" if frames else ""
    return f"{shard.security} {shard.date}: {type(exc).__name__}: {exc}{where}"


def evaluate(spec: WorkSpec, shard: PreparedShard, param_sets: tuple[ParamSet, ...]) -> TaskOutcome:
    """Backtest each parameter set on ``shard``; an error fails only its own parameter set."""
    start = time.perf_counter()
    outcomes = []
    for sampled in param_sets:
        t0 = time.perf_counter()
        try:
            result = _run(spec, shard, sampled)
            kernel_s = time.perf_counter() - t0
            metrics = _metrics(spec, shard, sampled, result)
            outcomes.append(ShardOutcome(shard.index, metrics, None, kernel_s))
        except Exception as exc:  # one trial fails, not the task
            outcomes.append(ShardOutcome(shard.index, None, _describe(exc, shard),
                                         time.perf_counter() - t0))
    return TaskOutcome(tuple(outcomes), time.perf_counter() - start, os.getpid())


def replay(
    spec: WorkSpec, shard: PreparedShard, sampled: ParamSet
) -> tuple[np.ndarray, np.ndarray]:
    """One backtest's equity and fills arrays (the best trial's curves)."""
    result = _run(spec, shard, sampled)
    return np.asarray(result.equity), np.asarray(result.fills)


def warm_worker(spec: WorkSpec, sample: PreparedShard | None, sampled: ParamSet) -> float:
    """Load or compile the kernels in this process, then run the sweep's own strategy once on a
    small read-only sample (the exact specialisation the trials use). Returns seconds."""
    from mmopt.strategies import warm_up

    start = time.perf_counter()
    warm_up(spec.strategy)  # only the strategy the trials run: each one compiles the kernel
    if sample is not None:
        evaluate(spec, sample, (sampled,))
    return time.perf_counter() - start

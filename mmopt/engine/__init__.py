"""The backtest engine: numba event loop, arrays in and arrays out (see docs/engine.md)."""

from __future__ import annotations

from mmopt.engine._cache_guard import ensure_fresh_cache

ensure_fresh_cache()

# ruff: noqa: E402
from mmopt.engine._records import ACK_DTYPE, EQUITY_DTYPE, FILL_DTYPE, ORDER_EVENT_DTYPE
from mmopt.engine.config import FILL_MODELS, LATENCY_MODELS, QUEUE_MODELS, EngineConfig
from mmopt.engine.fees import FeeSchedule, resolve_fees
from mmopt.engine.latency import LatencyTable, read_latency_file
from mmopt.engine.market import MarketData, prepare_market
from mmopt.engine.result import BacktestResult
from mmopt.engine.run import run_backtest, warm_up
from mmopt.engine.sessions import SessionTimes, resolve_session
from mmopt.engine.strategy import RunnableStrategy

__all__ = [
    "ACK_DTYPE",
    "EQUITY_DTYPE",
    "FILL_DTYPE",
    "FILL_MODELS",
    "LATENCY_MODELS",
    "ORDER_EVENT_DTYPE",
    "QUEUE_MODELS",
    "BacktestResult",
    "EngineConfig",
    "FeeSchedule",
    "LatencyTable",
    "MarketData",
    "RunnableStrategy",
    "SessionTimes",
    "prepare_market",
    "read_latency_file",
    "resolve_fees",
    "resolve_session",
    "run_backtest",
    "warm_up",
]

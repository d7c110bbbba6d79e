"""The backtest engine: numba event loop, arrays in and arrays out (see docs/engine.md)."""

from __future__ import annotations

from mmopt.engine._cache_guard import ensure_fresh_cache

ensure_fresh_cache()

# ruff: noqa: E402
from mmopt.engine._records import EQUITY_DTYPE, FILL_DTYPE, ORDER_EVENT_DTYPE
from mmopt.engine.config import FILL_MODELS, QUEUE_MODELS, EngineConfig
from mmopt.engine.market import MarketData, prepare_market
from mmopt.engine.result import BacktestResult
from mmopt.engine.run import run_backtest, warm_up
from mmopt.engine.strategy import RunnableStrategy

__all__ = [
    "EQUITY_DTYPE",
    "FILL_DTYPE",
    "FILL_MODELS",
    "ORDER_EVENT_DTYPE",
    "QUEUE_MODELS",
    "BacktestResult",
    "EngineConfig",
    "MarketData",
    "RunnableStrategy",
    "prepare_market",
    "run_backtest",
    "warm_up",
]

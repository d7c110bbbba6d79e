"""mmopt: distributed parameter optimisation for market-making strategies.

The public API, imported lazily so that ``import mmopt`` stays cheap (no Ray, MLflow or numba
until a name that needs them is used)::

    from mmopt import load_events, run_backtest, get_strategy, run_sweep, compose_config
"""

from __future__ import annotations

import importlib
from typing import Any

from mmopt.errors import ConfigError, DataError, MmoptError

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "load_events": "mmopt.data",
    "load_shard": "mmopt.data",
    "open_catalog": "mmopt.data",
    "generate_dataset": "mmopt.data",
    "EngineConfig": "mmopt.engine",
    "BacktestResult": "mmopt.engine",
    "prepare_market": "mmopt.engine",
    "run_backtest": "mmopt.engine",
    "STRATEGIES": "mmopt.strategies",
    "get_strategy": "mmopt.strategies",
    "list_strategies": "mmopt.strategies",
    "compute_shard_metrics": "mmopt.metrics",
    "aggregate": "mmopt.metrics",
    "RunConfig": "mmopt.config",
    "from_hydra": "mmopt.config",
    "compose_config": "mmopt.cli._hydra",
    "run_sweep": "mmopt.search",
}

__all__ = ["ConfigError", "DataError", "MmoptError", "__version__", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mmopt' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

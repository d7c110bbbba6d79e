"""Strategies: each is a frozen params dataclass plus an @njit decide function (no engine change
needed to add one). See docs/strategies.md.

Strategy modules are imported on first use (``get_strategy(name)``, a params type or strategy
constant below, or iterating ``STRATEGIES``), so a process that runs one strategy loads only
that strategy's compiled code.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mmopt.strategies._params import param_index, params_vector
from mmopt.strategies._registry import (
    STRATEGIES,
    Strategy,
    discover_strategies,
    get_strategy,
    list_strategies,
    register_strategy,
)
from mmopt.strategies._warm_up import warm_up

if TYPE_CHECKING:
    from mmopt.strategies.avellaneda_stoikov import AVELLANEDA_STOIKOV, AvellanedaStoikovParams
    from mmopt.strategies.fixed_interval import FIXED_INTERVAL, FixedIntervalParams
    from mmopt.strategies.layered_grid import LAYERED_GRID, LayeredGridParams
    from mmopt.strategies.price_follow import PRICE_FOLLOW, PriceFollowParams
    from mmopt.strategies.skewed_with_stops import SKEWED_WITH_STOPS, SkewedWithStopsParams

_LAZY: dict[str, str] = {
    "AVELLANEDA_STOIKOV": "avellaneda_stoikov",
    "AvellanedaStoikovParams": "avellaneda_stoikov",
    "FIXED_INTERVAL": "fixed_interval",
    "FixedIntervalParams": "fixed_interval",
    "LAYERED_GRID": "layered_grid",
    "LayeredGridParams": "layered_grid",
    "PRICE_FOLLOW": "price_follow",
    "PriceFollowParams": "price_follow",
    "SKEWED_WITH_STOPS": "skewed_with_stops",
    "SkewedWithStopsParams": "skewed_with_stops",
}

__all__ = [
    "AVELLANEDA_STOIKOV",
    "FIXED_INTERVAL",
    "LAYERED_GRID",
    "PRICE_FOLLOW",
    "SKEWED_WITH_STOPS",
    "STRATEGIES",
    "AvellanedaStoikovParams",
    "FixedIntervalParams",
    "LayeredGridParams",
    "PriceFollowParams",
    "SkewedWithStopsParams",
    "Strategy",
    "discover_strategies",
    "get_strategy",
    "list_strategies",
    "param_index",
    "params_vector",
    "register_strategy",
    "warm_up",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mmopt.strategies' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"mmopt.strategies.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

"""Strategies: each is a frozen params dataclass plus an @njit decide function (no engine change
needed to add one). See /tmp/team/engine_api.md."""

from __future__ import annotations

from mmopt.strategies._registry import (
    STRATEGIES,
    Strategy,
    discover_strategies,
    get_strategy,
    list_strategies,
    register_strategy,
)
from mmopt.strategies.avellaneda_stoikov import AVELLANEDA_STOIKOV, AvellanedaStoikovParams
from mmopt.strategies.fixed_interval import FIXED_INTERVAL, FixedIntervalParams
from mmopt.strategies.layered_grid import LAYERED_GRID, LayeredGridParams
from mmopt.strategies.price_follow import PRICE_FOLLOW, PriceFollowParams
from mmopt.strategies.skewed_with_stops import SKEWED_WITH_STOPS, SkewedWithStopsParams

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
    "register_strategy",
]

"""Strategies: each is a frozen params dataclass plus an @njit decide function (no engine change
needed to add one). See /tmp/team/engine_api.md."""

from __future__ import annotations

from mmopt.strategies._registry import (
    STRATEGIES,
    Strategy,
    get_strategy,
    list_strategies,
    register_strategy,
)
from mmopt.strategies.fixed_interval import FIXED_INTERVAL, FixedIntervalParams
from mmopt.strategies.price_follow import PRICE_FOLLOW, PriceFollowParams

__all__ = [
    "FIXED_INTERVAL",
    "PRICE_FOLLOW",
    "STRATEGIES",
    "FixedIntervalParams",
    "PriceFollowParams",
    "Strategy",
    "get_strategy",
    "list_strategies",
    "register_strategy",
]

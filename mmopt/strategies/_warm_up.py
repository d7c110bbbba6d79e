"""``warm_up(*names)``: compile or load the engine's kernel with the named strategies."""

from __future__ import annotations

from mmopt.strategies._registry import get_strategy

__all__ = ["warm_up"]


def warm_up(*names: str) -> float:
    """Load (or compile) the kernel with each named strategy (default: price_follow) once per
    process; returns the seconds spent, imports included."""
    from mmopt.engine import warm_up as warm_up_engine  # numba only when asked for

    return warm_up_engine(*(get_strategy(name) for name in names or ("price_follow",)))

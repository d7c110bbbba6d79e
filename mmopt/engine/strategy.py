"""What the engine needs from a strategy: the ``RunnableStrategy`` protocol.

The engine runs any object with these attributes; ``mmopt.strategies.Strategy`` (the registry's
entry type) is one. Defining the protocol here keeps the dependency one way: strategies import
the engine's layout and helpers, the engine never imports mmopt.strategies.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

__all__ = ["RunnableStrategy"]


class RunnableStrategy(Protocol):
    """A strategy the engine can run (see docs/strategies.md).

    ``decide`` is an ``@njit`` function compiled with ``mmopt.engine.layout.DECIDE_SIG``;
    ``to_vector(params)`` is the float64 vector ``decide`` reads; ``feature_params(params)`` the
    market-feature settings, or None when the strategy reads no volatility / OFI features.
    """

    @property
    def name(self) -> str: ...

    @property
    def decide(self) -> Any: ...

    @property
    def n_levels(self) -> int: ...

    @property
    def n_state(self) -> int: ...

    def make_params(self, params: Any = None) -> Any:
        """``params`` as the strategy's params object (None -> defaults, a mapping validated)."""
        ...

    def to_vector(self, params: Any) -> np.ndarray:
        """The float64 vector ``decide`` reads."""
        ...

    def feature_params(self, params: Any) -> np.ndarray | None:
        """Market-feature settings, or None."""
        ...

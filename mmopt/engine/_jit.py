"""The numba decorator of the engine's helpers: cached, and without reference counting.

``_nrt=False`` (numba's switch for its runtime) removes the atomic reference-count updates on
every array passed between functions, which otherwise dominate the cost of the small helpers
called per order and per decision. Helpers compiled with it must not allocate arrays.
"""

from __future__ import annotations

from typing import Any

from numba import njit

hot: Any = njit(cache=True, _nrt=False, forceinline=True)  # type: ignore[call-overload]

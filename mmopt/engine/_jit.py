"""The numba decorators of the engine's helpers: cached, and without reference counting.

``_nrt=False`` (numba's switch for its runtime) removes the atomic reference-count updates on
every array passed between functions, which otherwise dominate the cost of the small helpers
called per order and per decision. Helpers compiled with it must not allocate arrays.

``hot`` helpers are force-inlined into the kernel (per row, order and decision). ``cold`` ones
(paths a typical run takes rarely or never: non-constant latency models, the latency guard's
window, taker orders, session expiry, clearing a side, the overflow store) are compiled as
functions of their own and called: inlining them at every call site made the kernel's loops
bigger and slower and its compilation longer, for code that does not run per row. ``step``
marks the kernel's event loop: compiled apart from ``run_kernel`` (which allocates, so it needs
numba's runtime) and without reference counting, so passing the state's arrays to the helpers
inside the loop costs no atomic reference-count updates (they took about 10 % of a run).
"""

from __future__ import annotations

from typing import Any

from numba import njit

hot: Any = njit(cache=True, _nrt=False, forceinline=True)  # type: ignore[call-overload]
cold: Any = njit(cache=True, _nrt=False)  # type: ignore[call-overload]
step: Any = cold  # the same compile options; the name says what the function is


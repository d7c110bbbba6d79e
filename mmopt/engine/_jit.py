"""The numba decorators of the engine's helpers: cached, without reference counting, and
compiled once per argument types, not once per constant argument.

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
``with_runtime`` keeps numba's runtime and numba's own inlining choices (the feature state's
helpers, ``_features.py``), compiled once per argument types like the others.

**One compile per argument types.** A plain numba dispatcher called from compiled code with a
constant argument (``push_response(..., RPK_FILL, 0, False, ...)``) compiles a specialisation
for that constant's literal type (``Literal[int](3)``), one more for every other constant: 73
of the 261 compiles of ``warm_up("avellaneda_stoikov")`` were such duplicates (``push_response``
8 times, ``record_event`` 6), 12 s of its 64. The helpers here type their arguments without the
literal value (``numba.types.unliteral``), so each compiles once per argument types; the
caller's constant is cast at the call and LLVM still folds it into the inlined code. No helper
may need a literal argument (a tuple index, ``numba.literally``): typing it then fails at
warm-up, naming the helper. numba has no public switch for this; the subclass below is the one
place that relies on its dispatcher's ``get_call_template`` (tested in
``tests/engine/test_jit.py``; ``pyproject.toml`` pins numba's minor version).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from numba import njit, types
from numba.core.registry import CPUDispatcher

__all__ = ["cold", "hot", "one_compile_per_types", "step", "with_runtime"]


class _OneCompilePerTypes(CPUDispatcher):
    """A CPU dispatcher that types calls from compiled code without literal argument values."""

    def get_call_template(self, args: Any, kws: Any) -> Any:
        args = tuple(types.unliteral(a) for a in args)
        kws = {k: types.unliteral(v) for k, v in kws.items()}
        return super().get_call_template(args, kws)


def one_compile_per_types(
    cache: bool = True, **options: Any
) -> Callable[[Callable[..., Any]], Any]:
    """``numba.njit(cache=cache, **options)``, compiled once per argument types (see above)."""

    def decorate(func: Callable[..., Any]) -> Any:
        plain = njit(**options)(func)  # numba checks and normalises the options
        disp = _OneCompilePerTypes(py_func=func, locals={}, targetoptions=plain.targetoptions)
        if cache:
            disp.enable_caching()
        return disp

    return decorate


hot: Any = one_compile_per_types(_nrt=False, forceinline=True)
cold: Any = one_compile_per_types(_nrt=False)
step: Any = cold  # the same compile options; the name says what the function is
with_runtime: Any = one_compile_per_types()  # numba's runtime kept (the feature state's helpers)

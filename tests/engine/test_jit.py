"""The engine's numba decorators (``mmopt.engine._jit``): a helper called from compiled code
with different constants compiles once, and the numba hook this relies on is still there."""

from __future__ import annotations

import inspect

from numba import njit, types
from numba.core.registry import CPUDispatcher

from mmopt.engine._jit import cold, hot, one_compile_per_types, with_runtime


def _scaled(x: float, k: int, flag: bool) -> float:
    return x * k if flag else x


def _has_literal(sig: tuple[types.Type, ...]) -> bool:
    return any(isinstance(a, types.Literal) for a in sig)


def test_constant_arguments_compile_once() -> None:
    helper = one_compile_per_types(cache=False, _nrt=False)(_scaled)

    @njit
    def caller(x: float) -> float:
        return helper(x, 2, True) + helper(x, 3, False) + helper(x, 4, True)

    assert caller(1.0) == 7.0  # the constants still reach the helper
    assert len(helper.signatures) == 1 and not _has_literal(helper.signatures[0])


def test_plain_numba_still_compiles_once_per_constant() -> None:
    """The control: without the hook numba compiles one specialisation per constant. If this
    fails, numba stopped doing it, and ``_OneCompilePerTypes`` can go."""
    helper = njit(_scaled)

    @njit
    def caller(x: float) -> float:
        return helper(x, 2, True) + helper(x, 3, False)

    assert caller(1.0) == 3.0
    assert len(helper.signatures) == 2 and all(_has_literal(s) for s in helper.signatures)


def test_the_numba_hook_is_there() -> None:
    params = list(inspect.signature(CPUDispatcher.get_call_template).parameters)
    assert params == ["self", "args", "kws"]
    for decorated in (hot, cold):
        helper = decorated(_scaled)
        assert isinstance(helper, CPUDispatcher)
        assert helper.targetoptions["_nrt"] is False
    assert hot(_scaled).targetoptions["forceinline"] is True
    assert isinstance(with_runtime(_scaled), CPUDispatcher)
    assert "_nrt" not in with_runtime(_scaled).targetoptions  # numba's runtime kept

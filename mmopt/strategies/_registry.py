"""The strategy registry: name -> Strategy (frozen params type + @njit decide)."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mmopt.errors import ConfigError
from mmopt.strategies._params import params_vector

__all__ = [
    "STRATEGIES",
    "Strategy",
    "discover_strategies",
    "get_strategy",
    "list_strategies",
    "register_strategy",
]


def _no_features(params: Any) -> np.ndarray | None:
    return None


@dataclass(frozen=True, slots=True)
class Strategy:
    """A strategy the engine can run: adding one needs no engine change.

    ``decide`` is compiled with ``mmopt.strategies.context.DECIDE_SIG``; ``to_vector`` turns a
    params object into the float64 vector ``decide`` reads (default: generated from the params
    dataclass, ``mmopt.strategies._params``; ``decide`` indexes it with ``param_index``);
    ``feature_params`` returns the
    market-feature settings (or None when the strategy reads no volatility / OFI features).
    """

    name: str
    params_type: type
    decide: Any
    to_vector: Callable[[Any], np.ndarray] = params_vector
    n_levels: int = 1
    n_state: int = 0
    feature_params: Callable[[Any], np.ndarray | None] = field(default=_no_features)
    description: str = ""

    def make_params(self, params: Any = None) -> Any:
        """``params`` as an instance of ``params_type`` (a mapping or None is validated)."""
        if params is None:
            return self.params_type()
        if isinstance(params, self.params_type):
            return params
        if isinstance(params, Mapping):
            known = {f.name for f in dataclasses.fields(self.params_type)}
            unknown = sorted(set(params) - known)
            if unknown:
                raise ConfigError(
                    f"strategy.params: unknown key(s) {unknown} for {self.name!r}; "
                    f"known: {sorted(known)}"
                )
            return self.params_type(**params)
        raise ConfigError(
            f"strategy.params: expected {self.params_type.__name__} or a mapping, "
            f"got {type(params).__name__}"
        )


_REGISTRY: dict[str, Strategy] = {}


class _Registered(Mapping[str, Strategy]):
    """Read-only view name -> Strategy of every strategy module (imported on first look-up)."""

    def __getitem__(self, name: str) -> Strategy:
        if name not in _REGISTRY:
            discover_strategies()
        return _REGISTRY[name]

    def __iter__(self) -> Iterator[str]:
        discover_strategies()
        return iter(sorted(_REGISTRY))

    def __len__(self) -> int:
        discover_strategies()
        return len(_REGISTRY)

    def __repr__(self) -> str:
        return f"STRATEGIES({sorted(self)})"


STRATEGIES: Mapping[str, Strategy] = _Registered()


def register_strategy(strategy: Strategy) -> Strategy:
    """Add ``strategy`` to the registry (a second one with the same name is an error)."""
    existing = _REGISTRY.get(strategy.name)
    if existing is not None and existing is not strategy:
        raise ConfigError(f"strategy {strategy.name!r} is already registered")
    _REGISTRY[strategy.name] = strategy
    return strategy


_NOT_STRATEGIES = frozenset({"context"})
_DISCOVERED: list[bool] = []  # non-empty once every module was imported


def discover_strategies() -> None:
    """Import every public module of mmopt/strategies (each registers its strategy on import);
    done once per process."""
    if _DISCOVERED:
        return
    package = importlib.import_module("mmopt.strategies")
    for info in pkgutil.iter_modules(package.__path__):
        if not info.name.startswith("_") and info.name not in _NOT_STRATEGIES:
            importlib.import_module(f"mmopt.strategies.{info.name}")
    _DISCOVERED.append(True)


def list_strategies() -> tuple[str, ...]:
    """Names of every strategy module in mmopt/strategies (imported on first call)."""
    discover_strategies()
    return tuple(sorted(_REGISTRY))


def get_strategy(name: str) -> Strategy:
    """The registered strategy ``name`` (its module is imported if needed)."""
    if name not in _REGISTRY and isinstance(name, str) and name.isidentifier():
        try:
            importlib.import_module(f"mmopt.strategies.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"mmopt.strategies.{name}":
                raise
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"strategy={name!r} is unknown; choose one of {list(list_strategies())}"
        ) from None

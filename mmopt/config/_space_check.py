"""Check a search space against the registered strategy's params type, before any trial runs.

A sampled value the strategy would reject fails every trial that draws it, so the space's own
bounds (and each categorical choice) are tried through the params type once, here: a bound the
strategy rejects, or a float range for a whole-number parameter, is a ConfigError naming
``search.params.NAME``. Errors that do not name the parameter (cross-parameter rules) are left to
the trials, since another sampled value may satisfy them.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

from mmopt.config._known import strategy_entry
from mmopt.config._reader import fail
from mmopt.config._types import ParamSpec, SearchSpace, StrategyConfig
from mmopt.errors import ConfigError

__all__ = ["check_space"]


def check_space(space: SearchSpace, strategy: StrategyConfig) -> None:
    """Raise ConfigError if a bound or choice of ``space`` is illegal for the strategy."""
    entry = strategy_entry(strategy.name)
    if entry is None:
        return
    types = {f.name: str(f.type) for f in dataclasses.fields(entry.params_type)}
    base = strategy.params_dict()
    for spec in space.params:
        key = f"search.params.{spec.name}"
        declared = types.get(spec.name, "")
        if spec.type == "float" and declared.replace(" ", "") in ("int", "int|None"):
            raise fail(key, f"strategy {strategy.name!r} takes a whole number ({declared}) "
                            "but the space samples floats", "use type: int")
        for label, value in _probes(spec):
            problem = _rejection(entry.params_type, {**base, spec.name: value}, spec.name)
            if problem is not None:
                raise fail(key, f"{label} ({value!r}) is not a legal value: {problem}",
                           "narrow the range to what the strategy accepts")


def _probes(spec: ParamSpec) -> list[tuple[str, Any]]:
    if spec.type == "categorical":
        return [(f"choice {i}", c) for i, c in enumerate(spec.choices or ())]
    return [("low", spec.low), ("high", spec.high)]


def _rejection(params_type: type, values: dict[str, Any], name: str) -> str | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # risky-but-legal warnings are for the trials
            params_type(**values)
    except (ConfigError, ValueError, TypeError) as exc:
        message = str(exc)
        return message if name in message.split(":", 1)[0] else None
    return None

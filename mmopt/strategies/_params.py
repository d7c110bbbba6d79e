"""Strategy parameters typed end to end: the float vector ``decide`` reads is generated from
the params dataclass, and ``decide`` finds each value by the field's name.

The vector holds every field in declaration order (``None`` -> NaN, ``bool`` -> 1.0 / 0.0,
numbers as float64), so no strategy keeps a vector order by hand: ``param_index(Params,
"quote_size")`` is the position of that field, looked up once at import (an unknown name is an
error then, not a wrong value at run time).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from mmopt.errors import ConfigError

__all__ = ["param_index", "params_vector"]


def _field_names(params_type: type) -> tuple[str, ...]:
    if not (isinstance(params_type, type) and dataclasses.is_dataclass(params_type)):
        raise ConfigError(f"{params_type!r}: strategy params must be a dataclass type")
    return tuple(f.name for f in dataclasses.fields(params_type))


def param_index(params_type: type, name: str) -> int:
    """Position of field ``name`` of ``params_type`` in ``params_vector``."""
    names = _field_names(params_type)
    if name not in names:
        raise ConfigError(
            f"{params_type.__name__} has no field {name!r}; its fields are {list(names)}"
        )
    return names.index(name)


def _as_float(params: Any, name: str) -> float:
    value = getattr(params, name)
    if value is None:
        return math.nan
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    raise ConfigError(
        f"{type(params).__name__}.{name} = {value!r}: a strategy parameter must be a number, "
        "a bool or None to reach decide(); keep other settings out of the params dataclass"
    )


def params_vector(params: Any) -> np.ndarray:
    """The float64 vector ``decide`` reads: every field of ``params`` in declaration order."""
    names = _field_names(type(params))
    return np.array([_as_float(params, n) for n in names], dtype=np.float64)

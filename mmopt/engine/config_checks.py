"""Field checks of EngineConfig (each error names the key ``engine.<name>`` and the fix)."""

from __future__ import annotations

import math

from mmopt.data.time_of_day import check_time_zone, parse_time_of_day
from mmopt.errors import ConfigError

__all__ = [
    "check_bool",
    "check_choice",
    "check_finite_or_none",
    "check_int",
    "check_non_negative",
    "check_positive",
    "check_time_zone",
    "is_finite",
    "parse_time_of_day",
]


def is_finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def check_positive(value: object, name: str) -> None:
    if not is_finite(value) or float(value) <= 0:  # type: ignore[arg-type]
        raise ConfigError(f"engine.{name}: expected a number > 0, got {value!r}")


def check_non_negative(value: object, name: str) -> None:
    if not is_finite(value) or float(value) < 0:  # type: ignore[arg-type]
        raise ConfigError(f"engine.{name}: expected a number >= 0, got {value!r}")


def check_finite_or_none(value: object, name: str) -> None:
    if value is not None and not is_finite(value):
        raise ConfigError(f"engine.{name}: expected a finite number or null, got {value!r}")


def check_bool(value: object, name: str) -> None:
    if not isinstance(value, bool):
        raise ConfigError(f"engine.{name}: expected true or false, got {value!r}")


def check_int(value: object, name: str, low: int, high: int, unit: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(
            f"engine.{name}: expected an integer in [{low}, {high}]{unit}, got {value!r}"
        )


def check_choice(value: object, name: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"engine.{name}: {value!r} is unknown; use one of {choices}")

"""Validation helpers shared by the strategies' params dataclasses."""

from __future__ import annotations

import math

from mmopt.errors import ConfigError


def check_number(strategy: str, name: str, value: object, *, minimum: float = 0.0,
                 strict: bool = False) -> float:
    """``value`` as a finite float >= minimum (> if strict); ConfigError naming the key."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    number = float(value) if ok else math.nan  # type: ignore[arg-type]
    if not ok or not math.isfinite(number) or number < minimum or (strict and number <= minimum):
        relation = ">" if strict else ">="
        raise ConfigError(
            f"strategy.params.{name} ({strategy}): expected a number {relation} {minimum:g}, "
            f"got {value!r}"
        )
    return number


def check_lots(strategy: str, name: str, value: object) -> int:
    """A positive whole number of lots."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value) \
            or value < 1:
        raise ConfigError(
            f"strategy.params.{name} ({strategy}): expected a whole number of lots >= 1, "
            f"got {value!r}"
        )
    return int(value)

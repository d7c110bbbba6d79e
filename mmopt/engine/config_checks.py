"""Field checks of EngineConfig (each error names the key ``engine.<name>`` and the fix)."""

from __future__ import annotations

import math
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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

_TOD = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?$")


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


def check_time_zone(value: object, name: str) -> ZoneInfo | None:
    """An IANA time zone name (``America/New_York``) -> ZoneInfo; None stays None."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            f"engine.{name}: expected an IANA time zone name such as 'America/New_York', "
            f"got {value!r}"
        )
    try:
        return ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"engine.{name}: unknown time zone {value!r}; use an IANA name such as "
            "'America/New_York', 'Europe/London' or 'UTC'"
        ) from None


def parse_time_of_day(value: str | float | None, field: str, zone: str = "UTC") -> float | None:
    """'HH:MM[:SS]' or seconds after midnight -> seconds after midnight; None stays None."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ConfigError(f"engine.{field}: expected 'HH:MM[:SS]', got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _TOD.match(str(value).strip())
        if match is None:
            raise ConfigError(
                f"engine.{field}: expected a time of day 'HH:MM[:SS]' ({zone}), got {value!r}"
            )
        hours, minutes, secs = match.group(1), match.group(2), match.group(3)
        seconds = int(hours) * 3600 + int(minutes) * 60 + (float(secs) if secs else 0.0)
        if int(minutes) > 59 or (secs and float(secs) >= 60):
            raise ConfigError(f"engine.{field}: {value!r} is not a valid time of day")
    if not 0.0 <= seconds <= 86400.0:
        raise ConfigError(f"engine.{field}: {value!r} must lie within one day (00:00-24:00)")
    return seconds

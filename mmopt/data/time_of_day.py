"""Times of day and IANA time zones of session rules (engine config and instruments.csv)."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mmopt.errors import ConfigError

__all__ = ["check_time_zone", "parse_time_of_day"]

_TOD = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?$")


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

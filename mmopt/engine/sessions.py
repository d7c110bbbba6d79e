"""Session times in the venue's time zone, converted to UTC ns for one shard's date.

Times of day come from EngineConfig (when set) over the security's instruments.csv columns
and are read in ``session_tz`` (else the instrument's ``time_zone``, else UTC). They are
converted for the shard's own date with zoneinfo, so 09:30 New York is 13:30 UTC in summer and
14:30 UTC in winter. The date: the local date whose session overlaps the shard's events most.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from mmopt.data._schema import Instrument
from mmopt.engine.config import SESSION_FIELDS, EngineConfig
from mmopt.engine.config_checks import check_time_zone, parse_time_of_day
from mmopt.errors import ConfigError

__all__ = ["NEVER", "SessionTimes", "resolve_session"]

NEVER = 2**62  # "no limit" as a time in ns (the kernel's INF_NS)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_NS_PER_US = 1000


@dataclass(frozen=True, slots=True)
class SessionTimes:
    """One shard's session rules as UTC ns (``-NEVER`` / ``NEVER`` where a rule is off).

    Quoting is allowed in [quote_start, quote_end) and before ``flatten``; our orders live at
    the exchange only in [open, close) (outside it they are rejected; resting ones are
    cancelled at ``close``)."""

    zone: str
    date: dt.date | None  # the session's local date (None without a time zone)
    open: int
    quote_start: int
    quote_end: int
    close: int
    flatten: int

    def describe(self) -> str:
        if self.date is None:
            return "UTC times of day"
        return f"{self.zone} {self.date.isoformat()}"


def _seconds(config: EngineConfig, instrument: Instrument, zone: str) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for name in SESSION_FIELDS:
        value = getattr(config, name)
        source = name
        if value is None:
            value = getattr(instrument, name, "") or None
            source = f"{name} (instruments.csv, {instrument.security})"
        out[name] = parse_time_of_day(value, source, zone)
    return out


def _zone(config: EngineConfig, instrument: Instrument) -> ZoneInfo | None:
    if config.session_tz is not None:
        return check_time_zone(config.session_tz, "session_tz")
    if getattr(instrument, "time_zone", ""):
        try:
            return check_time_zone(instrument.time_zone, "session_tz")
        except ConfigError:
            raise ConfigError(
                f"instruments.csv: security {instrument.security!r}: unknown time_zone "
                f"{instrument.time_zone!r}; use an IANA name such as 'America/New_York'"
            ) from None
    return None


def _at(day: dt.date, seconds: float, zone: dt.tzinfo) -> int:
    """UTC ns of ``seconds`` after local midnight of ``day`` (wall-clock time in ``zone``)."""
    local = dt.datetime.combine(day, dt.time(0), tzinfo=zone) + dt.timedelta(seconds=seconds)
    return ((local - _EPOCH) // dt.timedelta(microseconds=1)) * _NS_PER_US


def _pick_date(secs: dict[str, float | None], zone: ZoneInfo, t_first: int, t_last: int) -> dt.date:
    first = dt.datetime.fromtimestamp(t_first / 1e9, zone).date()
    last = dt.datetime.fromtimestamp(t_last / 1e9, zone).date()
    start_s = secs["session_open"] if secs["session_open"] is not None else 0.0
    end_s = secs["session_close"] if secs["session_close"] is not None else 86400.0
    best, best_overlap = first, -1
    day = first - dt.timedelta(days=1)
    while day <= last:
        overlap = min(t_last, _at(day, end_s, zone)) - max(t_first, _at(day, start_s, zone))
        if overlap > best_overlap:
            best, best_overlap = day, overlap
        day += dt.timedelta(days=1)
    return best


def resolve_session(
    config: EngineConfig, instrument: Instrument, t_first: int, t_last: int, day_start_ns: int
) -> SessionTimes:
    """The session rules of one shard whose events span [t_first, t_last] (UTC ns)."""
    zone = _zone(config, instrument)
    secs = _seconds(config, instrument, zone.key if zone is not None else "UTC")
    if zone is None:  # UTC times of day on the UTC date of the first event
        day = None

        def at(seconds: float) -> int:
            return day_start_ns + round(seconds * 1e9)
    else:
        day = _pick_date(secs, zone, t_first, t_last)

        def at(seconds: float) -> int:
            return _at(day, seconds, zone)

    def get(name: str, default: int) -> int:
        value = secs[name]
        return default if value is None else at(value)

    opens = get("session_open", -NEVER)
    closes = get("session_close", NEVER)
    return SessionTimes(
        zone=zone.key if zone is not None else "UTC",
        date=day,
        open=opens,
        quote_start=max(opens, get("open_auction_end", -NEVER)),
        quote_end=min(closes, get("close_auction_start", NEVER)),
        close=closes,
        flatten=get("flatten_at", NEVER),
    )

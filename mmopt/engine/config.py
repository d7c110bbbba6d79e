"""EngineConfig: every knob of one backtest, validated on construction."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

from mmopt.errors import ConfigError

__all__ = ["FILL_MODELS", "QUEUE_MODELS", "EngineConfig", "parse_time_of_day"]

QUEUE_MODELS = ("risk_averse", "prob_power")
FILL_MODELS = ("queue", "intensity")
QueueModel = Literal["risk_averse", "prob_power"]
CLOCKS = ("auto", "local")
Clocks = Literal["auto", "local"]
FillModel = Literal["queue", "intensity"]

_TOD = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?$")


def parse_time_of_day(value: str | float | None, field: str) -> float | None:
    """'HH:MM[:SS]' (UTC) or seconds after midnight -> seconds after midnight; None stays None."""
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
                f"engine.{field}: expected a UTC time of day 'HH:MM[:SS]', got {value!r}"
            )
        hours, minutes, secs = match.group(1), match.group(2), match.group(3)
        seconds = int(hours) * 3600 + int(minutes) * 60 + (float(secs) if secs else 0.0)
        if int(minutes) > 59 or (secs and float(secs) >= 60):
            raise ConfigError(f"engine.{field}: {value!r} is not a valid time of day")
    if not 0.0 <= seconds <= 86400.0:
        raise ConfigError(f"engine.{field}: {value!r} must lie within one day (00:00-24:00)")
    return seconds


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Settings of the backtest engine (see /tmp/team/engine_api.md and DESIGN.md)."""

    step_ms: float = 100.0
    entry_latency_ns: int = 0
    response_latency_ns: int = 0
    queue_model: QueueModel = "risk_averse"
    queue_power: float = 2.0
    partial_fills: bool = False
    fill_model: FillModel = "queue"
    intensity_lambda0: float = 1.0
    intensity_alpha: float = 1.0
    seed: int = 0
    maker_fee_bps: float | None = None
    taker_fee_bps: float | None = None
    open_auction_end: str | float | None = None
    close_auction_start: str | float | None = None
    flatten_at: str | float | None = None
    start_flat: bool = True
    end_flat: bool = False
    equity_interval_ms: float = 1000.0
    decide_on_fill: bool = True
    record_orders: bool = False
    max_orders: int = 64
    clocks: Clocks = "auto"  # auto: two clocks where the data has exchange times; local: one
    feed_latency_base_ns: int | None = 1_000_000  # smallest feed latency after the clock fix

    def __post_init__(self) -> None:
        _positive(self.step_ms, "step_ms")
        _positive(self.equity_interval_ms, "equity_interval_ms")
        for name in ("entry_latency_ns", "response_latency_ns"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"engine.{name}: expected an integer >= 0 (ns), got {value!r}")
        if self.queue_model not in QUEUE_MODELS:
            raise ConfigError(
                f"engine.queue_model: {self.queue_model!r} is unknown; use one of {QUEUE_MODELS}"
            )
        if self.fill_model not in FILL_MODELS:
            raise ConfigError(
                f"engine.fill_model: {self.fill_model!r} is unknown; use one of {FILL_MODELS}"
            )
        _positive(self.queue_power, "queue_power")
        _non_negative(self.intensity_lambda0, "intensity_lambda0")
        _non_negative(self.intensity_alpha, "intensity_alpha")
        for name in ("maker_fee_bps", "taker_fee_bps"):
            value = getattr(self, name)
            if value is not None and not _finite(value):
                raise ConfigError(f"engine.{name}: expected a finite number or null, got {value!r}")
        for name in ("partial_fills", "start_flat", "end_flat", "decide_on_fill", "record_orders"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"engine.{name}: expected true or false")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError(f"engine.seed: expected an integer >= 0, got {self.seed!r}")
        if isinstance(self.max_orders, bool) or not isinstance(self.max_orders, int) or not (
            2 <= self.max_orders <= 100_000
        ):
            raise ConfigError("engine.max_orders: expected an integer in [2, 100000]")
        if self.clocks not in CLOCKS:
            raise ConfigError(f"engine.clocks: {self.clocks!r} is unknown; use one of {CLOCKS}")
        base = self.feed_latency_base_ns
        if base is not None and (isinstance(base, bool) or not isinstance(base, int) or base < 0):
            raise ConfigError(
                f"engine.feed_latency_base_ns: expected an integer >= 0 (ns) or null, got {base!r}"
            )
        opens = parse_time_of_day(self.open_auction_end, "open_auction_end")
        closes = parse_time_of_day(self.close_auction_start, "close_auction_start")
        parse_time_of_day(self.flatten_at, "flatten_at")
        if opens is not None and closes is not None and closes <= opens:
            raise ConfigError(
                "engine.close_auction_start must be later than engine.open_auction_end "
                f"(got {self.close_auction_start!r} <= {self.open_auction_end!r})"
            )

    @property
    def step_ns(self) -> int:
        return max(1, round(self.step_ms * 1e6))

    @property
    def equity_interval_ns(self) -> int:
        return max(1, round(self.equity_interval_ms * 1e6))

    def session_seconds(self) -> tuple[float | None, float | None, float | None]:
        """(open auction end, close auction start, flatten at) in seconds after UTC midnight."""
        return (
            parse_time_of_day(self.open_auction_end, "open_auction_end"),
            parse_time_of_day(self.close_auction_start, "close_auction_start"),
            parse_time_of_day(self.flatten_at, "flatten_at"),
        )

    def describe(self) -> str:
        """The queue model and fill options, as named in every result."""
        queue: str = self.queue_model
        if queue == "prob_power":
            queue = f"prob_power(n={self.queue_power:g})"
        fills = "partial" if self.partial_fills else "no-partial"
        model: str = self.fill_model
        if model == "intensity":
            model = (
                f"intensity(lambda0={self.intensity_lambda0:g},alpha={self.intensity_alpha:g},"
                f"seed={self.seed})"
            )
        return f"{queue}/{fills}/{model}"


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _positive(value: object, name: str) -> None:
    if not _finite(value) or float(value) <= 0:  # type: ignore[arg-type]
        raise ConfigError(f"engine.{name}: expected a number > 0, got {value!r}")


def _non_negative(value: object, name: str) -> None:
    if not _finite(value) or float(value) < 0:  # type: ignore[arg-type]
        raise ConfigError(f"engine.{name}: expected a number >= 0, got {value!r}")

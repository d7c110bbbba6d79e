"""EngineConfig: every knob of one backtest, validated on construction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from mmopt.engine.config_checks import (
    check_bool,
    check_choice,
    check_finite_or_none,
    check_int,
    check_non_negative,
    check_positive,
    check_time_zone,
    parse_time_of_day,
)
from mmopt.errors import ConfigError

__all__ = [
    "FEE_FIELDS",
    "FILL_MODELS",
    "LATENCY_MODELS",
    "QUEUE_MODELS",
    "SESSION_FIELDS",
    "EngineConfig",
    "parse_time_of_day",
]

QUEUE_MODELS = ("risk_averse", "prob_power")
FILL_MODELS = ("queue", "intensity")
LATENCY_MODELS = ("constant", "data", "feed", "random")
QueueModel = Literal["risk_averse", "prob_power"]
CLOCKS = ("auto", "local")
Clocks = Literal["auto", "local"]
FillModel = Literal["queue", "intensity"]
LatencyModel = Literal["constant", "data", "feed", "random"]

# fee settings: null = the security's instruments.csv column (0 where the column is empty)
FEE_FIELDS = (
    "maker_fee_bps", "taker_fee_bps", "maker_fee_per_unit", "taker_fee_per_unit",
    "fee_per_trade", "buy_fee_bps", "sell_fee_bps", "buy_fee_per_unit", "sell_fee_per_unit",
)  # fmt: skip
# session settings: null = the security's instruments.csv column (off where it is empty)
SESSION_FIELDS = (
    "session_open", "open_auction_end", "close_auction_start", "session_close", "flatten_at",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Settings of the backtest engine (see docs/engine.md)."""

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
    # order latency model (docs/engine.md "Latency")
    latency_model: LatencyModel = "constant"
    latency_file: str | None = None
    feed_latency_mult: float = 1.0
    latency_sigma: float = 0.5
    latency_spike_prob: float = 0.0
    latency_spike_mult: float = 10.0
    latency_guard_p99_ms: float | None = None
    latency_guard_window_s: float = 60.0
    # fees (docs/engine.md "Fees"); the bps pair is above
    maker_fee_per_unit: float | None = None
    taker_fee_per_unit: float | None = None
    fee_per_trade: float | None = None
    buy_fee_bps: float | None = None
    sell_fee_bps: float | None = None
    buy_fee_per_unit: float | None = None
    sell_fee_per_unit: float | None = None
    # sessions in the venue's time zone (docs/engine.md "Sessions"); auction keys are above
    session_tz: str | None = None
    session_open: str | float | None = None
    session_close: str | float | None = None

    def __post_init__(self) -> None:
        check_positive(self.step_ms, "step_ms")
        check_positive(self.equity_interval_ms, "equity_interval_ms")
        for name in ("entry_latency_ns", "response_latency_ns"):
            check_int(getattr(self, name), name, 0, 10**12, " (ns)")
        check_choice(self.queue_model, "queue_model", QUEUE_MODELS)
        check_choice(self.fill_model, "fill_model", FILL_MODELS)
        check_positive(self.queue_power, "queue_power")
        check_non_negative(self.intensity_lambda0, "intensity_lambda0")
        check_non_negative(self.intensity_alpha, "intensity_alpha")
        for name in FEE_FIELDS:
            check_finite_or_none(getattr(self, name), name)
        for name in ("partial_fills", "start_flat", "end_flat", "decide_on_fill", "record_orders"):
            check_bool(getattr(self, name), name)
        check_int(self.seed, "seed", 0, 2**62)
        check_int(self.max_orders, "max_orders", 2, 100_000)
        if self.clocks not in CLOCKS:
            raise ConfigError(f"engine.clocks: {self.clocks!r} is unknown; use one of {CLOCKS}")
        base = self.feed_latency_base_ns
        if base is not None and (isinstance(base, bool) or not isinstance(base, int) or base < 0):
            raise ConfigError(
                f"engine.feed_latency_base_ns: expected an integer >= 0 (ns) or null, got {base!r}"
            )
        self._check_latency()
        self._check_sessions()

    def _check_latency(self) -> None:
        check_choice(self.latency_model, "latency_model", LATENCY_MODELS)
        check_non_negative(self.feed_latency_mult, "feed_latency_mult")
        check_non_negative(self.latency_sigma, "latency_sigma")
        check_non_negative(self.latency_spike_prob, "latency_spike_prob")
        if self.latency_spike_prob > 1:
            raise ConfigError(
                f"engine.latency_spike_prob: a probability in [0, 1], got {self.latency_spike_prob}"
            )
        check_positive(self.latency_spike_mult, "latency_spike_mult")
        if self.latency_guard_p99_ms is not None:
            check_positive(self.latency_guard_p99_ms, "latency_guard_p99_ms")
        check_positive(self.latency_guard_window_s, "latency_guard_window_s")
        if self.latency_model == "data":
            if not isinstance(self.latency_file, str) or not self.latency_file.strip():
                raise ConfigError(
                    "engine.latency_file: latency_model=data needs the recorded latency file "
                    "(CSV or Parquet with req_ts_ns, exch_ts_ns, resp_ts_ns); set "
                    "engine.latency_file=PATH"
                )
            from mmopt.engine.latency import read_latency_file

            read_latency_file(self.latency_file)  # errors before any work
        elif self.latency_file is not None:
            raise ConfigError(
                f"engine.latency_file: set, but engine.latency_model is {self.latency_model!r}; "
                "use latency_model=data or drop latency_file"
            )

    def _check_sessions(self) -> None:
        check_time_zone(self.session_tz, "session_tz")
        zone = self.session_tz or "UTC"
        for name in SESSION_FIELDS:
            parse_time_of_day(getattr(self, name), name, zone)
        opens = parse_time_of_day(self.open_auction_end, "open_auction_end", zone)
        closes = parse_time_of_day(self.close_auction_start, "close_auction_start", zone)
        if opens is not None and closes is not None and closes <= opens:
            raise ConfigError(
                "engine.close_auction_start must be later than engine.open_auction_end "
                f"(got {self.close_auction_start!r} <= {self.open_auction_end!r})"
            )
        start = parse_time_of_day(self.session_open, "session_open", zone)
        end = parse_time_of_day(self.session_close, "session_close", zone)
        if start is not None and end is not None and end <= start:
            raise ConfigError(
                "engine.session_close must be later than engine.session_open "
                f"(got {self.session_close!r} <= {self.session_open!r})"
            )

    @property
    def step_ns(self) -> int:
        return max(1, round(self.step_ms * 1e6))

    @property
    def equity_interval_ns(self) -> int:
        return max(1, round(self.equity_interval_ms * 1e6))

    def fees_in_config(self) -> bool:
        """True when this config alone gives a maker and a taker fee (bps or per unit)."""
        maker = self.maker_fee_bps is not None or self.maker_fee_per_unit is not None
        taker = self.taker_fee_bps is not None or self.taker_fee_per_unit is not None
        return maker and taker

    def session_seconds(self) -> tuple[float | None, float | None, float | None]:
        """(open auction end, close auction start, flatten at) in seconds after midnight of
        ``session_tz`` (UTC when unset)."""
        zone = self.session_tz or "UTC"
        return (
            parse_time_of_day(self.open_auction_end, "open_auction_end", zone),
            parse_time_of_day(self.close_auction_start, "close_auction_start", zone),
            parse_time_of_day(self.flatten_at, "flatten_at", zone),
        )

    def describe_latency(self) -> str:
        """The order latency model, as named in every result."""
        e, r = self.entry_latency_ns / 1e6, self.response_latency_ns / 1e6
        if self.latency_model == "constant":
            text = f"constant(entry={e:g}ms,response={r:g}ms)"
        elif self.latency_model == "data":
            text = f"data({self.latency_file})"
        elif self.latency_model == "feed":
            text = f"feed(x{self.feed_latency_mult:g}+entry={e:g}ms,response={r:g}ms)"
        else:
            text = (
                f"random(lognormal median entry={e:g}ms,response={r:g}ms,"
                f"sigma={self.latency_sigma:g},spikes={self.latency_spike_prob:g}"
                f"x{self.latency_spike_mult:g},seed={self.seed})"
            )
        if self.latency_guard_p99_ms is not None:
            text += (
                f"+guard(p99<={self.latency_guard_p99_ms:g}ms,"
                f"window={self.latency_guard_window_s:g}s)"
            )
        return text

    def describe(self) -> str:
        """The queue model, fill options and latency model, as named in every result."""
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
        return f"{queue}/{fills}/{model}/latency={self.describe_latency()}"

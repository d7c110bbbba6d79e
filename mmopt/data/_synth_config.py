"""Configuration of the synthetic market: the frozen ``SynthConfig`` and the stress scenarios."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields

from mmopt.errors import ConfigError

__all__ = ["SCENARIOS", "ScenarioParams", "SynthConfig", "scenario_params"]

_SECURITY_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9._-]{0,31}$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True, slots=True)
class ScenarioParams:
    """Multipliers and shocks that turn the normal market into a stress scenario.

    Every field is a multiplier of the normal value (1.0 = unchanged) except the trend and crash
    fields, which are sizes of a move in log-price (0.0 = none).
    """

    name: str
    vol_mult: float = 1.0  # volatility of the latent price, both regimes
    volatile_share_mult: float = 1.0  # how often the volatile regime is entered
    activity_mult: float = 1.0  # event rates
    depth_mult: float = 1.0  # resting size per level
    trade_size_mult: float = 1.0  # market order sizes
    improve_mult: float = 1.0  # how fast an empty tick inside the spread is filled
    trend_log_return: float = 0.0  # drift over the continuous session (sign drawn per shard)
    crash_log_depth: float = 0.0  # flash crash: log-price drop (0 = no crash)
    crash_seconds: float = 60.0  # duration of the fall
    crash_recovery_share: float = 0.8  # share of the drop recovered
    crash_recovery_tau_s: float = 150.0  # time constant of the recovery


SCENARIOS: dict[str, ScenarioParams] = {
    "normal": ScenarioParams("normal"),
    "high_vol": ScenarioParams(
        "high_vol", vol_mult=3.0, volatile_share_mult=3.0, activity_mult=1.3, depth_mult=0.7
    ),
    "low_liquidity": ScenarioParams(
        "low_liquidity", activity_mult=0.5, depth_mult=0.15, trade_size_mult=0.6,
        improve_mult=0.12,
    ),
    "trending": ScenarioParams("trending", trend_log_return=0.06),
    "flash_crash": ScenarioParams("flash_crash", crash_log_depth=0.09),
}


def scenario_params(name: str) -> ScenarioParams:
    """The parameters of a named scenario; a ``ConfigError`` lists the known names."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ConfigError(
            f"scenario: unknown scenario {name!r}; use one of {', '.join(sorted(SCENARIOS))}"
        ) from None


@dataclass(frozen=True, slots=True)
class SynthConfig:
    """What to generate: N securities x D trading days of one scenario, from one seed.

    Times are UTC. A day's session starts at ``session_start`` ("HH:MM") and lasts
    ``session_seconds``, of which the first ``opening_auction_seconds`` and the last
    ``closing_auction_seconds`` are auctions. ``events_per_day`` is the expected number of rows of
    one shard for a security of average activity in the ``normal`` scenario; securities differ in
    activity (about 0.5x to 1.2x) and scenarios change it too.
    """

    n_securities: int = 4
    n_days: int = 2
    start_date: str = "2024-01-02"
    seed: int = 0
    scenario: str = "normal"
    events_per_day: int = 180_000
    session_start: str = "09:00"
    session_seconds: float = 7200.0
    opening_auction_seconds: float = 60.0
    closing_auction_seconds: float = 60.0
    depth_levels: int = 20
    security_prefix: str = "SYN"
    skip_weekends: bool = True
    top_of_book: bool = True

    def __post_init__(self) -> None:
        _check_int(self, "n_securities", 1, 10_000)
        _check_int(self, "n_days", 1, 10_000)
        _check_int(self, "seed", 0, 2**63 - 1)
        _check_int(self, "events_per_day", 1_000, 500_000_000)
        _check_int(self, "depth_levels", 10, 200)
        try:
            dt.date.fromisoformat(self.start_date)
        except (TypeError, ValueError):
            raise ConfigError(
                f"start_date: {self.start_date!r} is not a date; write it as YYYY-MM-DD"
            ) from None
        if not isinstance(self.session_start, str) or not _HHMM.match(self.session_start):
            raise ConfigError(
                f"session_start: {self.session_start!r} is not a time of day; write it as HH:MM "
                "(UTC, 24 h)"
            )
        scenario_params(self.scenario)
        self._check_session()
        if not isinstance(self.security_prefix, str) or not _SECURITY_PREFIX.match(
            self.security_prefix
        ):
            raise ConfigError(
                f"security_prefix: {self.security_prefix!r} must start with a letter and hold "
                "only letters, digits, '.', '_' or '-' (at most 32 characters)"
            )

    def _check_session(self) -> None:
        for name in ("session_seconds", "opening_auction_seconds", "closing_auction_seconds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
                raise ConfigError(f"{name}: expected a number of seconds, got {value!r}")
        if not 60.0 <= self.session_seconds <= 86_400.0:
            raise ConfigError(
                f"session_seconds: {self.session_seconds} is outside 60..86400; give the "
                "length of one trading day in seconds"
            )
        for name in ("opening_auction_seconds", "closing_auction_seconds"):
            if not 1.0 <= getattr(self, name) <= 3_600.0:
                raise ConfigError(f"{name}: {getattr(self, name)} is outside 1..3600 seconds")
        start = dt.time.fromisoformat(self.session_start)
        start_s = start.hour * 3600 + start.minute * 60
        if start_s + self.session_seconds > 86_400.0:
            raise ConfigError(
                f"session_seconds: a session starting at {self.session_start} UTC must end by "
                f"midnight; use at most {86_400 - start_s} s or start earlier"
            )
        continuous = (
            self.session_seconds - self.opening_auction_seconds - self.closing_auction_seconds
        )
        if continuous < 0.5 * self.session_seconds:
            raise ConfigError(
                "opening_auction_seconds + closing_auction_seconds: the auctions take more than "
                f"half of the {self.session_seconds} s session; shorten them"
            )

    @property
    def continuous_seconds(self) -> float:
        return self.session_seconds - self.opening_auction_seconds - self.closing_auction_seconds

    @property
    def session_start_seconds(self) -> int:
        start = dt.time.fromisoformat(self.session_start)
        return start.hour * 3600 + start.minute * 60

    @classmethod
    def from_mapping(cls, values: Mapping[str, object], where: str = "data.synth") -> SynthConfig:
        """Build from a plain mapping (e.g. a resolved Hydra node); unknown keys are errors."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(
                f"{where}.{unknown[0]}: unknown key; the synthetic data takes "
                f"{', '.join(sorted(known))}"
            )
        return cls(**values)  # type: ignore[arg-type]

    def describe(self) -> dict[str, object]:
        """A flat, JSON-friendly view (for logging and dataset fingerprints)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _check_int(cfg: SynthConfig, name: str, lo: int, hi: int) -> None:
    value = getattr(cfg, name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name}: expected an integer, got {value!r}")
    if not lo <= value <= hi:
        raise ConfigError(f"{name}: {value} is outside {lo}..{hi}")

"""Per-security character of the synthetic market: price level, tick, lot, liquidity, activity.

Each security index gets a base profile from a fixed cycle (so that any two of the first five
securities differ in tick size relative to price, liquidity and activity) jittered by the seed.
Everything here is a pure function of (config, security index[, day index]).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from mmopt.data._schema import Instrument
from mmopt.data._synth_config import SynthConfig

__all__ = [
    "SecurityProfile",
    "day_open_price",
    "day_seed",
    "day_start_ns",
    "security_name",
    "security_profile",
    "synth_dates",
]

# (price level, tick in bps of price, liquidity, activity) cycled by security index
_BASE_PROFILES: tuple[tuple[float, float, float, float], ...] = (
    (100.0, 1.0, 1.0, 1.0),
    (2500.0, 0.5, 2.0, 1.2),
    (25.0, 4.0, 0.5, 0.7),
    (60000.0, 0.8, 3.0, 1.1),
    (8.0, 12.0, 0.3, 0.5),
)
_FEES_BPS: tuple[tuple[float, float], ...] = ((-0.5, 2.0), (0.0, 3.0), (1.0, 5.0), (-0.2, 2.5))

# Salts keep the random streams of profiles, daily opens and intraday paths independent.
_SALT_PROFILE = 0x5EC
_SALT_OPEN = 0x0DE
_SALT_DAY = 0xDA7


@dataclass(frozen=True, slots=True)
class SecurityProfile:
    """The static character of one synthetic security."""

    index: int
    instrument: Instrument
    price: float  # price level around which day 0 opens
    liquidity: float  # multiplier of resting depth and market order sizes
    activity: float  # multiplier of event rates
    latency_ns: int  # feed latency: local receive time minus exchange time (before jitter)


def security_name(config: SynthConfig, index: int) -> str:
    width = max(2, len(str(config.n_securities - 1)))
    return f"{config.security_prefix}{index:0{width}d}"


def _nice_step(x: float, mantissas: tuple[float, ...] = (1.0, 2.0, 5.0)) -> float:
    """The number of the form m * 10**e (m in mantissas) closest to x in log terms."""
    exp10 = math.floor(math.log10(x))
    best = 0.0
    best_err = math.inf
    for e in (exp10 - 1, exp10, exp10 + 1):
        for m in mantissas:
            cand = m * 10.0**e
            err = abs(math.log(cand / x))
            if err < best_err:
                best, best_err = cand, err
    return float(f"{best:.12g}")


def security_profile(config: SynthConfig, index: int) -> SecurityProfile:
    if not 0 <= index < config.n_securities:
        raise IndexError(f"security index {index} outside 0..{config.n_securities - 1}")
    price0, tick_bps, liquidity, activity = _BASE_PROFILES[index % len(_BASE_PROFILES)]
    rng = np.random.default_rng([config.seed, index, _SALT_PROFILE])
    jitter = rng.uniform(-0.25, 0.25, size=4)
    price = price0 * math.exp(jitter[0]) * (1.6 ** (index // len(_BASE_PROFILES)))
    tick = _nice_step(price * tick_bps * 1e-4)
    price = round(price / tick) * tick
    lot = 10.0 ** math.floor(math.log10(100.0 / price))
    maker, taker = _FEES_BPS[index % len(_FEES_BPS)]
    instrument = Instrument(
        security=security_name(config, index),
        tick_size=tick,
        lot_size=float(f"{lot:.12g}"),
        contract_type="linear",
        contract_size=1.0,
        quote_currency="USD",
        maker_fee_bps=maker,
        taker_fee_bps=taker,
    )
    return SecurityProfile(
        index=index,
        instrument=instrument,
        price=float(price),
        liquidity=liquidity * math.exp(jitter[1]),
        activity=activity * math.exp(0.4 * jitter[2]),
        latency_ns=int(300_000 + 1_700_000 * (jitter[3] + 0.25) * 2.0),
    )


def synth_dates(config: SynthConfig) -> list[str]:
    """The ``n_days`` dates (ISO strings) from ``start_date``, weekends skipped if asked."""
    start = np.datetime64(config.start_date, "D")
    if config.skip_weekends:
        first = np.busday_offset(start, 0, roll="forward")
        days = np.busday_offset(first, np.arange(config.n_days), roll="forward")
    else:
        days = start + np.arange(config.n_days)
    return [str(d) for d in days]


def day_open_price(config: SynthConfig, profile: SecurityProfile, day_index: int) -> float:
    """The latent price at the open of a day: the security's level moved by daily returns."""
    rng = np.random.default_rng([config.seed, profile.index, _SALT_OPEN])
    returns = rng.normal(0.0, 0.012, size=day_index)
    return profile.price * math.exp(float(returns.sum()))


def day_seed(config: SynthConfig, security_index: int, day_index: int) -> int:
    """The 32-bit seed of the intraday simulation of one (security, day)."""
    seq = np.random.SeedSequence([config.seed, security_index, day_index, _SALT_DAY])
    return int(seq.generate_state(1, np.uint32)[0])


def day_start_ns(config: SynthConfig, date: str) -> int:
    midnight = dt.datetime.fromisoformat(date).replace(tzinfo=dt.UTC)
    return int(midnight.timestamp()) * 1_000_000_000 + config.session_start_seconds * 10**9


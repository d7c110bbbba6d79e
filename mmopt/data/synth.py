"""Synthetic market data: seeded, bit-for-bit reproducible L2 books, trades and auctions.

``generate_shard(config, security_index, day_index)`` returns the ``EVENT_DTYPE`` rows of one
(security, day) in memory; ``generate_events(n)`` returns a stream of exactly ``n`` rows (for
benchmarks and engine tests); ``generate_dataset(config, root)`` writes N securities x D days in
the Hive layout plus ``instruments.csv``. Each shard depends only on (config, security, day), so
shards can be made in any order or in parallel with the same result.

What one shard looks like (times UTC, ``ts_ns`` = exchange time + a small feed latency):

* ``session_start``: an initial snapshot, ``bid_level``/``ask_level`` rows with
  ``is_snapshot=True`` for ``depth_levels`` ticks per side, then one ``bid`` and one ``ask`` row.
* Opening auction (``opening_auction_seconds``): depth updates only, no trades. Orders gather
  around the fair price, so the book may lock or cross. It ends with one ``trade`` row at the
  price that maximises matched volume, with ``side`` null (no aggressor in an auction), then the
  depth updates that remove the matched size (0 removes a level), and fresh ``bid``/``ask`` rows.
* Continuous trading: incremental ``*_level`` rows (new total size at a price; 0 removes) and
  ``trade`` rows. Every trade is at the best bid (aggressor ``sell``) or best ask (``buy``) and
  is followed at once by the depth update at that price. The best ``depth_levels`` ticks of each
  side always hold size, the book is never locked or crossed, and trades come in clusters.
* Closing auction (``closing_auction_seconds``): as the opening one, ending with the closing
  uncross print; no rows after it. The next day starts from a new snapshot.
* With ``top_of_book=True`` a ``bid``/``ask`` row follows every event that changed the best
  price or the size there (as Binance's book ticker does); it always equals the depth book.
* ``level`` is null (0 in memory) and ``exch_ts_ns`` is always present.
"""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from mmopt.data import _synth_params as K
from mmopt.data._schema import EVENT_DTYPE, KIND_TRADE, Instrument
from mmopt.data._synth_config import SCENARIOS, ScenarioParams, SynthConfig, scenario_params
from mmopt.data._synth_kernel import simulate
from mmopt.data._synth_profile import (
    SecurityProfile,
    day_open_price,
    day_seed,
    day_start_ns,
    security_profile,
    synth_dates,
)
from mmopt.data.writer import shard_dir, write_instruments_csv, write_shard
from mmopt.errors import ConfigError

__all__ = [
    "SCENARIOS",
    "SynthConfig",
    "SynthDataset",
    "SynthShard",
    "generate_dataset",
    "generate_events",
    "generate_shard",
    "synth_dates",
    "synth_instruments",
]

# Rows per simulated order-flow event (measured on the normal scenario); calibrates the rates
# so that a shard holds about ``events_per_day * activity`` rows.
_ROWS_PER_EVENT = 1.8
_TRADE_SHARE = 0.12  # of order-flow events, before clustering
_CANCEL_SHARE = 0.40
_HAWKES_ALPHA, _HAWKES_BETA = 1.0, 1.6  # branching ratio 0.625, memory ~0.6 s
_SIGMA_CALM_PER_SQRT_H = 0.0035
_VOLATILE_SIGMA_MULT = 3.0


@dataclass(frozen=True, slots=True)
class SynthShard:
    """One written shard."""

    security: str
    date: str
    path: Path
    events: int
    trades: int


@dataclass(frozen=True, slots=True)
class SynthDataset:
    """What ``generate_dataset`` wrote."""

    root: Path
    config: SynthConfig
    shards: tuple[SynthShard, ...]
    instruments: tuple[Instrument, ...]

    @property
    def events(self) -> int:
        return sum(s.events for s in self.shards)


def synth_instruments(config: SynthConfig) -> list[Instrument]:
    """The instruments of the dataset's securities, in index order."""
    return [security_profile(config, i).instrument for i in range(config.n_securities)]


def generate_shard(
    config: SynthConfig, security_index: int, day_index: int
) -> tuple[np.ndarray, Instrument]:
    """The rows of one (security, day) as an ``EVENT_DTYPE`` array, and its instrument."""
    return _shard(config, security_index, day_index, stop_at=0)


def generate_events(
    n_events: int,
    *,
    seed: int = 0,
    scenario: str = "normal",
    security_index: int = 0,
    **config_fields: object,
) -> tuple[np.ndarray, Instrument]:
    """A stream of exactly ``n_events`` rows: the first ``n_events`` rows of one synthetic day.

    The day is made with ``events_per_day`` about 25 % above ``n_events`` and stopped once it
    has ``n_events`` rows, so the stream ends during continuous trading (no closing auction).
    ``config_fields`` are further ``SynthConfig`` fields (e.g. ``session_seconds``).
    """
    if isinstance(n_events, bool) or not isinstance(n_events, int) or n_events < 1:
        raise ConfigError(f"n_events: expected a positive integer, got {n_events!r}")
    base = SynthConfig(
        n_securities=security_index + 1, n_days=1, seed=seed, scenario=scenario,
        **config_fields,  # type: ignore[arg-type]
    )
    profile = security_profile(base, security_index)
    per_day = 1.25 * n_events / (profile.activity * scenario_params(scenario).activity_mult)
    for _ in range(8):
        cfg = replace(base, events_per_day=max(1_000, math.ceil(per_day)))
        events, instrument = _shard(cfg, security_index, 0, stop_at=n_events)
        if len(events) >= n_events:
            events.resize(n_events, refcheck=False)
            return events, instrument
        per_day *= 1.25 * n_events / max(len(events), 1)
    raise RuntimeError(f"could not generate {n_events} events")  # pragma: no cover


def _shard(
    config: SynthConfig, security_index: int, day_index: int, stop_at: int
) -> tuple[np.ndarray, Instrument]:
    if not 0 <= security_index < config.n_securities:
        raise ConfigError(
            f"security_index: {security_index} is outside 0..{config.n_securities - 1}"
        )
    if not 0 <= day_index < config.n_days:
        raise ConfigError(f"day_index: {day_index} is outside 0..{config.n_days - 1}")
    profile = security_profile(config, security_index)
    scen = scenario_params(config.scenario)
    prm, n_grid = _kernel_params(config, profile, scen, day_index)
    date = synth_dates(config)[day_index]
    if stop_at > 0:
        capacity = stop_at + 4 * config.depth_levels + 64  # one event adds at most ~2 D rows
    else:
        capacity = int(config.events_per_day * profile.activity * scen.activity_mult * 1.4)
    seed = day_seed(config, security_index, day_index)
    events = _run_kernel(prm, seed, day_start_ns(config, date), n_grid, capacity + 20_000, stop_at)
    _round_to_grid(events, profile.instrument)
    return events, profile.instrument


def generate_dataset(
    config: SynthConfig,
    root: str | Path,
    *,
    overwrite: bool = False,
    on_shard: Callable[[SynthShard], None] | None = None,
    workers: int | None = None,
) -> SynthDataset:
    """Write every (security, day) shard and ``instruments.csv`` under ``root``.

    Shards that already exist are made and compared first, so a different dataset in ``root``
    raises ``DataError`` (unless ``overwrite``) before anything new is written. Shards are made
    on ``workers`` threads (default: one per CPU; the simulation releases the GIL) and written
    in the same order as with one, so the files are the same bytes either way.
    """
    root = Path(root)
    dates = synth_dates(config)
    jobs = [(i, d) for i in range(config.n_securities) for d in range(config.n_days)]
    instruments = synth_instruments(config)
    jobs.sort(key=lambda j: not shard_dir(root, instruments[j[0]].security, dates[j[1]]).exists())
    written: dict[tuple[int, int], SynthShard] = {}
    for (sec, day), (events, instrument) in _shards_in_order(config, jobs, workers):
        path = write_shard(root, instrument.security, dates[day], events, overwrite=overwrite)
        shard = SynthShard(
            security=instrument.security,
            date=dates[day],
            path=path,
            events=len(events),
            trades=int(np.count_nonzero(events["kind"] == KIND_TRADE)),
        )
        written[(sec, day)] = shard
        if on_shard is not None:
            on_shard(shard)
    write_instruments_csv(root, instruments)
    return SynthDataset(
        root=root,
        config=config,
        shards=tuple(written[k] for k in sorted(written)),
        instruments=tuple(instruments),
    )


def _shards_in_order(
    config: SynthConfig, jobs: list[tuple[int, int]], workers: int | None
) -> Iterator[tuple[tuple[int, int], tuple[np.ndarray, Instrument]]]:
    """``generate_shard`` for each job, in ``jobs`` order, at most ``workers`` made at once."""
    n = min(len(jobs), max(1, workers if workers is not None else os.cpu_count() or 1))
    if n <= 1:
        for job in jobs:
            yield job, generate_shard(config, *job)
        return
    with ThreadPoolExecutor(n, thread_name_prefix="mmopt-synth") as pool:
        pending: deque[tuple[tuple[int, int], Future[tuple[np.ndarray, Instrument]]]] = deque()
        queued = iter(jobs)
        for job in queued:
            pending.append((job, pool.submit(generate_shard, config, *job)))
            if len(pending) >= n:
                break
        while pending:
            job, future = pending.popleft()
            nxt = next(queued, None)  # keep n shards in the making, no more in memory
            if nxt is not None:
                pending.append((nxt, pool.submit(generate_shard, config, *nxt)))
            yield job, future.result()


def _run_kernel(
    prm: np.ndarray, seed: int, t0_ns: int, n_grid: int, capacity: int, stop_at: int
) -> np.ndarray:
    # The fair price moves on a grid of about one step per two rows (at most 1 M steps a day).
    steps = min(max(capacity // 2, 10_000), 1_000_000)
    shocks = np.random.default_rng(seed).standard_normal(steps)
    while True:
        out = np.empty(capacity, EVENT_DTYPE)
        n = int(simulate(out, prm, shocks, seed, t0_ns, n_grid, stop_at))
        if n <= capacity:
            out.resize(n, refcheck=False)  # shrinks in place, no copy
            return out
        capacity = n


def _decimals(step: float) -> int:
    for d in range(13):
        if abs(round(step, d) - step) <= 1e-12 * max(1.0, step):
            return d
    return 12


def _round_to_grid(events: np.ndarray, instrument: Instrument) -> None:
    """Turn ``index * tick`` products into the nearest double of the decimal price / size."""
    events["price"] = np.round(events["price"], _decimals(instrument.tick_size))
    events["qty"] = np.round(events["qty"], _decimals(instrument.lot_size))


def _kernel_params(
    config: SynthConfig, profile: SecurityProfile, scen: ScenarioParams, day_index: int
) -> tuple[np.ndarray, int]:
    """The kernel's parameter vector and book width for one (security, day)."""
    ins = profile.instrument
    rng = np.random.default_rng([config.seed, profile.index, day_index, 0x9A2])
    p0_ticks = day_open_price(config, profile, day_index) / ins.tick_size
    half = int(min(max(0.6 * p0_ticks, 60.0 * config.depth_levels), 2_000_000))
    rate = (
        config.events_per_day * profile.activity * scen.activity_mult
        / (config.session_seconds * _ROWS_PER_EVENT)
    )
    lot_notional = profile.price * ins.lot_size
    depth = 25_000.0 * profile.liquidity * scen.depth_mult / lot_notional
    sigma = _SIGMA_CALM_PER_SQRT_H / 60.0 * scen.vol_mult
    prm = np.zeros(K.N_PARAMS)
    prm[K.P_TICK], prm[K.P_LOT] = ins.tick_size, ins.lot_size
    prm[K.P_BASE] = float(round(p0_ticks) - half)
    prm[K.P_P0T] = p0_ticks
    prm[K.P_OPEN_END] = config.opening_auction_seconds
    prm[K.P_CLOSE_START] = config.session_seconds - config.closing_auction_seconds
    prm[K.P_SESSION] = config.session_seconds
    prm[K.P_SIG_CALM], prm[K.P_SIG_VOL] = sigma, sigma * _VOLATILE_SIGMA_MULT
    prm[K.P_UP_RATE] = scen.volatile_share_mult / 1800.0
    prm[K.P_DOWN_RATE] = 1.0 / 600.0
    prm[K.P_VOL_ACT] = 1.6
    prm[K.P_RATE_ADD] = rate * (1.0 - _TRADE_SHARE - _CANCEL_SHARE)
    prm[K.P_RATE_CXL] = rate * _CANCEL_SHARE
    prm[K.P_RATE_TRADE] = rate * _TRADE_SHARE * (1.0 - _HAWKES_ALPHA / _HAWKES_BETA)
    prm[K.P_AUCTION_ACT] = 0.3
    prm[K.P_H_ALPHA], prm[K.P_H_BETA] = _HAWKES_ALPHA, _HAWKES_BETA
    prm[K.P_KAPPA], prm[K.P_URGENCY], prm[K.P_SWEEP] = 1.5, 1.0, 0.5
    prm[K.P_IMPROVE] = min(1.0, 0.5 * scen.improve_mult)
    prm[K.P_FADE] = 0.4
    prm[K.P_DEPTH] = depth
    prm[K.P_ADD_LOTS] = depth * 0.25 * _CANCEL_SHARE / (1.0 - _TRADE_SHARE - _CANCEL_SHARE)
    prm[K.P_TRADE_LOTS] = 4_000.0 * math.sqrt(profile.liquidity) * scen.trade_size_mult / (
        lot_notional
    )
    prm[K.P_SIZE_SIG], prm[K.P_LEVEL_LOGQ] = 0.8, math.log(1.0 - 0.25)
    prm[K.P_DRIFT] = scen.trend_log_return * rng.choice((-1.0, 1.0)) / config.continuous_seconds
    _crash_params(prm, config, scen, rng)
    prm[K.P_UCURVE] = 0.35
    prm[K.P_LAT_NS], prm[K.P_JIT_NS] = float(profile.latency_ns), 50_000.0
    prm[K.P_OVERLAP] = 3.0
    prm[K.P_LEVELS] = float(config.depth_levels)
    prm[K.P_TOP] = 1.0 if config.top_of_book else 0.0
    return prm, 2 * half + 1


def _crash_params(
    prm: np.ndarray, config: SynthConfig, scen: ScenarioParams, rng: np.random.Generator
) -> None:
    cont = config.continuous_seconds
    prm[K.P_CRASH_START] = config.opening_auction_seconds + cont * rng.uniform(0.3, 0.45)
    prm[K.P_CRASH_DUR] = min(scen.crash_seconds, 0.05 * cont)
    prm[K.P_CRASH_DEPTH] = scen.crash_log_depth
    prm[K.P_CRASH_REC] = scen.crash_recovery_share
    prm[K.P_CRASH_TAU] = min(scen.crash_recovery_tau_s, 0.08 * cont)
    prm[K.P_CRASH_ACT], prm[K.P_CRASH_VOL], prm[K.P_CRASH_LIQ] = 3.0, 2.0, 0.3

"""Two clocks: exchange times from the data, null ones estimated, the capture clock's offset.

A shard whose rows carry ``exch_ts_ns`` is simulated on two timelines, as hftbacktest does: the
exchange side applies every row at its exchange time, the strategy sees it at its local receive
time ``ts_ns``. Rules (docs/engine.md, section "Clocks"):

* A row with a null exchange time inside such a shard gets ``ts_ns`` minus the feed latency of
  the nearest earlier row that has one (of the first row that has one, before it).
* The capture clock may be offset from the exchange's (Binance's runs ~1.27 s behind): local
  times are shifted by one constant so that the smallest observed feed latency equals
  ``EngineConfig.feed_latency_base_ns``; the jitter is kept. The shift is in every result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from mmopt.data._schema import NO_EXCH_TS
from mmopt.errors import ConfigError

__all__ = ["ExchangeTimes", "exchange_times", "local_clock_shift"]


@dataclass(frozen=True, slots=True, eq=False)
class ExchangeTimes:
    """Exchange time of every row (null ones estimated) and what was observed."""

    exch_ts: np.ndarray  # int64, one per row (ts_ns order)
    order: np.ndarray  # int32 permutation: rows in exchange-time order (stable)
    n_estimated: int  # rows whose exchange time was null
    min_latency_ns: int  # smallest ts_ns - exch_ts_ns over rows that have an exchange time


def exchange_times(ts: np.ndarray, exch: np.ndarray) -> ExchangeTimes | None:
    """The exchange timeline of a shard, or None when no row has an exchange time or every
    exchange time equals its row's local time (one clock). ``exch`` may be a strided view (a
    field of the event array): it is read in one pass, not copied."""
    full = np.empty(ts.shape[0], dtype=np.int64)
    n_known, min_latency, equal = _fill_exchange_times(ts, exch, full)
    if n_known == 0 or equal:
        return None  # no exchange times, or equal to the local ones: one clock
    order = np.argsort(full, kind="stable").astype(np.int32)
    return ExchangeTimes(
        exch_ts=full,
        order=order,
        n_estimated=int(ts.shape[0] - n_known),
        min_latency_ns=int(min_latency),
    )


@njit(cache=True)
def _fill_exchange_times(ts, exch, full):
    """``full[i]``: ``exch[i]``, or for a null one ``ts[i]`` minus the feed latency of the
    nearest earlier row that has one (of the first such row, before it). Returns (rows with an
    exchange time, their smallest feed latency, whether every full time equals ``ts``)."""
    n = ts.shape[0]
    first = -1
    for i in range(n):
        if exch[i] != NO_EXCH_TS:
            first = i
            break
    if first < 0:
        return 0, 0, True
    latency = ts[first] - exch[first]
    n_known = 0
    min_latency = latency
    equal = True
    for i in range(n):
        if exch[i] != NO_EXCH_TS:
            latency = ts[i] - exch[i]
            n_known += 1
            min_latency = min(min_latency, latency)
            full[i] = exch[i]
        else:
            full[i] = ts[i] - latency
        if full[i] != ts[i]:
            equal = False
    return n_known, min_latency, equal


def local_clock_shift(min_latency_ns: int, base_ns: int | None, where: str) -> int:
    """ns to add to every local time: the smallest feed latency becomes ``base_ns``.

    ``base_ns`` None keeps the times as recorded; a negative latency is then an error."""
    if base_ns is None:
        if min_latency_ns < 0:
            raise ConfigError(
                f"{where}: local times run {-min_latency_ns} ns behind the exchange times "
                "(negative feed latency) and engine.feed_latency_base_ns is null; set it "
                "(e.g. 1000000) to remove the clock offset, or engine.clocks=local"
            )
        return 0
    return int(base_ns) - int(min_latency_ns)

"""Hand-made markets whose truth is known, for the planted-edge and pure-noise sweeps.

One security, a book two ticks wide (best bid = mid - 1 tick, best ask = mid + 1 tick, five
levels of ``DEPTH`` lots a side) and market orders of ``TRADE_QTY`` lots at the touch, at
exponential times, buy or sell with equal odds. A trade always exhausts the queue at the touch
(displayed ``DEPTH`` plus our largest quote), so a resting quote at the touch is filled by every
trade on its side, at half a spread (one tick) from the mid. What differs:

* ``edge``: trades leave the price where it is; the mid only makes short excursions of one tick
  that revert (a mean-reverting mid). Quoting at the touch earns about one tick per lot filled:
  the more lots a trial quotes and the sooner it re-quotes after a fill, the more it earns. The
  profitable region of ``fixed_interval`` is known: large ``quote_size``, short
  ``refill_interval_s``.
* ``noise``: after each trade, with probability 1/2, the whole book moves two ticks in the
  trade's direction (the mid is a martingale). A fill earns one tick against the mid and then
  loses two ticks half of the time: every parameter set has an expected PnL of zero, and what
  one earns more than another is luck.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np

from mmopt.data._schema import (
    EVENT_DTYPE,
    KIND_ASK,
    KIND_ASK_LEVEL,
    KIND_BID,
    KIND_BID_LEVEL,
    KIND_TRADE,
    SIDE_BUY,
    SIDE_NONE,
    SIDE_SELL,
    Instrument,
)
from mmopt.data.writer import write_instruments_csv, write_shard

__all__ = ["SECURITY", "TICK", "write_market"]

SECURITY = "KT0"
TICK = 0.01
DEPTH = 2.0
TRADE_QTY = 12.0  # > DEPTH + the largest quote_size of the search space (5)
LEVELS = 5
START_S = 9 * 3600  # 09:00 UTC
LATENCY_NS = 500_000  # local receive time = exchange time + 0.5 ms

Scenario = Literal["edge", "noise"]


class _Stream:
    """Rows appended in time order; every row gets the exchange time + the feed latency."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, int, float, float, int, bool]] = []

    def add(self, t_ns: int, kind: int, price: float, qty: float, side: int = SIDE_NONE,
            snapshot: bool = False) -> None:
        self.rows.append((t_ns, kind, round(price, 8), qty, side, snapshot))

    def book(self, t_ns: int, mid_ticks: int, old_mid_ticks: int | None) -> None:
        """Set the book around ``mid_ticks`` (remove the old levels that are gone)."""
        new_bids = {mid_ticks - k for k in range(1, LEVELS + 1)}
        new_asks = {mid_ticks + k for k in range(1, LEVELS + 1)}
        snap = old_mid_ticks is None
        if not snap:
            assert old_mid_ticks is not None
            old_bids = {old_mid_ticks - k for k in range(1, LEVELS + 1)}
            old_asks = {old_mid_ticks + k for k in range(1, LEVELS + 1)}
            down = mid_ticks < old_mid_ticks
            sides = (("bid", old_bids, new_bids), ("ask", old_asks, new_asks))
            for name, old, new in (sides if down else sides[::-1]):
                kind = KIND_BID_LEVEL if name == "bid" else KIND_ASK_LEVEL
                for level in sorted(old - new):
                    self.add(t_ns, kind, level * TICK, 0.0)
                for level in sorted(new - old):
                    self.add(t_ns, kind, level * TICK, DEPTH)
        else:
            for level in sorted(new_bids):
                self.add(t_ns, KIND_BID_LEVEL, level * TICK, DEPTH, snapshot=True)
            for level in sorted(new_asks):
                self.add(t_ns, KIND_ASK_LEVEL, level * TICK, DEPTH, snapshot=True)
        self.add(t_ns, KIND_BID, (mid_ticks - 1) * TICK, DEPTH)
        self.add(t_ns, KIND_ASK, (mid_ticks + 1) * TICK, DEPTH)

    def array(self) -> np.ndarray:
        out = np.zeros(len(self.rows), dtype=EVENT_DTYPE)
        t = np.array([r[0] for r in self.rows], dtype=np.int64)
        out["exch_ts_ns"] = t
        out["ts_ns"] = t + LATENCY_NS
        out["kind"] = [r[1] for r in self.rows]
        out["price"] = [r[2] for r in self.rows]
        out["qty"] = [r[3] for r in self.rows]
        out["side"] = [r[4] for r in self.rows]
        out["is_snapshot"] = [r[5] for r in self.rows]
        return out


def _day(scenario: Scenario, date: str, seconds: float, trade_gap_s: float,
         rng: np.random.Generator) -> np.ndarray:
    day0 = int(np.datetime64(date, "s").astype(np.int64)) + START_S
    stream = _Stream()
    mid = home = 10_000  # 100.00
    stream.book(day0 * 10**9, mid, None)
    t = 0.0
    revert_at = np.inf
    while True:
        t += float(rng.exponential(trade_gap_s))
        if t >= seconds:
            break
        t_ns = day0 * 10**9 + int(t * 1e9)
        if scenario == "edge" and t >= revert_at:  # the excursion reverts first
            stream.book(t_ns - 1000, home, mid)
            mid, revert_at = home, np.inf
        side = SIDE_BUY if rng.random() < 0.5 else SIDE_SELL
        touch = mid + 1 if side == SIDE_BUY else mid - 1
        level_kind = KIND_ASK_LEVEL if side == SIDE_BUY else KIND_BID_LEVEL
        top_kind = KIND_ASK if side == SIDE_BUY else KIND_BID
        stream.add(t_ns, KIND_TRADE, touch * TICK, TRADE_QTY, side)
        stream.add(t_ns, level_kind, touch * TICK, DEPTH)  # the level refills at once
        stream.add(t_ns, top_kind, touch * TICK, DEPTH)
        if scenario == "noise" and rng.random() < 0.5:
            new = mid + 2 * side
            stream.book(t_ns + 1000, new, mid)
            mid = new
        elif scenario == "edge" and mid == home and rng.random() < 0.1:
            new = mid + (1 if rng.random() < 0.5 else -1)
            stream.book(t_ns + 1000, new, mid)
            mid, revert_at = new, t + float(rng.exponential(3.0))
    return stream.array()


def write_market(root: Path, scenario: Scenario, dates: list[str], *, seconds: float = 3600.0,
                 trade_gap_s: float = 1.0, seed: int = 0) -> Path:
    """Write one shard per date under ``root`` (and ``instruments.csv``, no fees)."""
    for index, date in enumerate(dates):
        rng = np.random.default_rng([seed, index, 0 if scenario == "edge" else 1])
        write_shard(root, SECURITY, date, _day(scenario, date, seconds, trade_gap_s, rng))
    write_instruments_csv(root, [Instrument(SECURITY, tick_size=TICK, lot_size=1.0,
                                            quote_currency="USD", maker_fee_bps=0.0,
                                            taker_fee_bps=0.0)])
    return root

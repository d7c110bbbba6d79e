"""Tiny hand-made event streams for the pinned-semantics tests (tick 1, lot 1)."""

from __future__ import annotations

import numpy as np

from mmopt.data._schema import (
    EVENT_DTYPE,
    KIND_ASK,
    KIND_ASK_LEVEL,
    KIND_BID,
    KIND_BID_LEVEL,
    KIND_TRADE,
    Instrument,
)

__all__ = ["UNIT", "UNIT_INVERSE", "book", "rows"]

UNIT = Instrument("unit", tick_size=1.0, lot_size=1.0, maker_fee_bps=2.0, taker_fee_bps=5.0)
UNIT_INVERSE = Instrument(
    "unit_inv", tick_size=1.0, lot_size=1.0, contract_type="inverse", contract_size=10.0,
    maker_fee_bps=2.0, taker_fee_bps=5.0,
)

_KINDS = {
    "bid": KIND_BID,
    "ask": KIND_ASK,
    "bid_level": KIND_BID_LEVEL,
    "ask_level": KIND_ASK_LEVEL,
    "buy": KIND_TRADE,
    "sell": KIND_TRADE,
    "trade": KIND_TRADE,
}
_SIDES = {"buy": 1, "sell": -1}


def rows(*spec: tuple[int, str, float, float]) -> np.ndarray:
    """Rows from ``(ts_ns, what, price, qty)``; what is a kind name, or buy/sell for a trade."""
    out = np.zeros(len(spec), dtype=EVENT_DTYPE)
    for i, (ts, what, price, qty) in enumerate(spec):
        out[i]["ts_ns"] = ts
        out[i]["exch_ts_ns"] = ts
        out[i]["price"] = price
        out[i]["qty"] = qty
        out[i]["kind"] = _KINDS[what]
        out[i]["side"] = _SIDES.get(what, 0)
    return out


def book(ts: int = 0, bid: float = 100.0, ask: float = 101.0, qty: float = 5.0, levels: int = 3
         ) -> list[tuple[int, str, float, float]]:
    """A snapshot-like start: ``levels`` levels of ``qty`` per side around bid/ask."""
    out: list[tuple[int, str, float, float]] = []
    for k in range(levels):
        out.append((ts, "bid_level", bid - k, qty))
        out.append((ts, "ask_level", ask + k, qty))
    return out


# The pinned streams of test_hbt_semantics.py, replayed through mmopt by test_conformance.py.
CASES: dict[str, list[tuple[int, str, float, float]]] = {
    "exact_exhaustion": [*book(), (20, "sell", 100, 5), (40, "bid_level", 98, 1)],
    "half_lot_overtrade": [*book(), (20, "sell", 100, 5), (25, "sell", 100, 0.5),
                           (40, "bid_level", 98, 1)],
    "depth_min": [*book(), (15, "bid_level", 100, 2), (20, "sell", 100, 2.5),
                  (40, "bid_level", 98, 1)],
    "depth_increase": [*book(), (15, "bid_level", 100, 9), (20, "sell", 100, 5.5),
                       (40, "bid_level", 98, 1)],
    "arrival_after_rows": [*book(), (11, "bid_level", 100, 8), (20, "sell", 100, 5.5),
                           (40, "bid_level", 98, 1)],
    "trade_through": [*book(), (20, "sell", 99, 1), (40, "bid_level", 98, 1)],
    "bid_crosses_our_ask": [*book(), (20, "bid", 101, 3), (40, "bid_level", 98, 1)],
    "crossed_level_skipped": [*book(), (20, "bid_level", 101, 3), (45, "ask_level", 103, 1)],
    "post_only_reject": [*book(), (11, "ask", 100, 1), (12, "ask_level", 100, 0),
                         (40, "bid_level", 98, 1)],
    "sideless_trade": [*book(), (20, "trade", 100, 50), (20, "trade", 101, 50),
                       (40, "bid_level", 98, 1)],
    "lower_bid_row": [*book(), (15, "bid", 99, 7), (30, "sell", 100, 5.5),
                      (40, "bid_level", 98, 1)],
    "repeated_trade_through": [*book(), (20, "sell", 99, 1), (30, "sell", 99, 1),
                               (40, "sell", 99, 1), (50, "buy", 103, 1), (60, "sell", 99, 1),
                               (75, "bid_level", 97, 2)],
    # mmopt's best-price rows (docs/engine.md "Book"): hftbacktest gets explicit removals
    "queue_level_removed": [*book(), (15, "bid", 99, 5), (17, "bid", 100, 4),
                            (20, "sell", 100, 0.5), (40, "bid_level", 98, 1)],
    "stale_depth_dropped": [*book(), (15, "bid", 99, 5), (16, "bid_level", 100, 3),
                            (30, "sell", 100, 1), (31, "sell", 99, 5.5), (40, "bid_level", 98, 1)],
    "empty_ask_side": [*book(), (15, "ask", float("nan"), 0), (16, "ask_level", 104, 1),
                       (25, "ask", 102, 3), (30, "buy", 102, 9), (40, "bid_level", 98, 1)],
    "best_row_without_size": [*book(), (15, "bid", 99, 0), (30, "sell", 98, 5.5),
                              (40, "bid_level", 97, 1)],
    "cancel_race": [*book(), (13, "bid", 101, 2), (14, "ask", 102, 4), (21, "buy", 102, 9),
                    (22, "sell", 100, 9), (31, "bid_level", 101, 0), (33, "sell", 99, 6),
                    (55, "ask_level", 104, 3)],
}

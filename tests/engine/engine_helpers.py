"""Hand-made event streams and a scripted strategy for the engine tests."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from mmopt.data._schema import (
    EVENT_DTYPE,
    KIND_ASK,
    KIND_ASK_LEVEL,
    KIND_BID,
    KIND_BID_LEVEL,
    KIND_TRADE,
    Instrument,
)
from mmopt.engine import EngineConfig, run_backtest
from mmopt.engine.result import BacktestResult
from mmopt.strategies import Strategy
from mmopt.strategies.context import (
    A_MAX_LONG,
    A_MAX_SHORT,
    A_TAKER_QTY,
    A_TAKER_SIDE,
    C_QUOTING_ALLOWED,
    C_TIME,
    DECIDE_SIG,
    set_quote,
)

T0 = 1_000_000_000  # first event: 1 s after the epoch (UTC midnight of day 0)
MS = 1_000_000
INST = Instrument(security="test", tick_size=1.0, lot_size=1.0, maker_fee_bps=2.0,
                  taker_fee_bps=5.0)
KINDS = {"bid": KIND_BID, "ask": KIND_ASK, "bid_level": KIND_BID_LEVEL,
         "ask_level": KIND_ASK_LEVEL, "buy": KIND_TRADE, "sell": KIND_TRADE}


def stream(rows: list[tuple[float, str, float, float]]) -> np.ndarray:
    """Rows of (ms after T0, kind, price, qty); kind 'buy'/'sell' = a trade by that aggressor."""
    out = np.zeros(len(rows), dtype=EVENT_DTYPE)
    for k, (ms, kind, price, qty) in enumerate(rows):
        side = 1 if kind == "buy" else -1 if kind == "sell" else 0
        out[k] = (T0 + round(ms * MS), -1, price, qty, 0, KINDS[kind], side, False)
    return out


# params: bid tick, bid qty, ask tick, ask qty (NaN / 0 = none), cancel at (s since T0),
# taker side, taker qty, taker at (s), max position guard
@njit(DECIDE_SIG, cache=True)
def _scripted(ctx, book_bid, book_ask, orders, params, state, quotes, act):
    act[A_MAX_LONG] = params[8]
    act[A_MAX_SHORT] = params[8]
    now = ctx[C_TIME]
    if now >= params[4]:
        set_quote(quotes, 0, 0, math.nan, 0.0)
        set_quote(quotes, 1, 0, math.nan, 0.0)
    elif state[0] == 0.0 and ctx[C_QUOTING_ALLOWED] > 0.0:
        set_quote(quotes, 0, 0, params[0], params[1])
        set_quote(quotes, 1, 0, params[2], params[3])
        state[0] = 1.0
    if params[6] > 0.0 and state[1] == 0.0 and now >= params[7]:
        act[A_TAKER_SIDE] = params[5]
        act[A_TAKER_QTY] = params[6]
        state[1] = 1.0


class Script:
    """Frozen-ish params of the scripted strategy (a plain class: tests only)."""

    def __init__(self, bid: float = math.nan, bid_qty: float = 0.0, ask: float = math.nan,
                 ask_qty: float = 0.0, cancel_at: float = math.inf, taker_side: float = 0.0,
                 taker_qty: float = 0.0, taker_at: float = math.inf,
                 max_pos: float = math.inf) -> None:
        self.vector = np.array([bid, bid_qty, ask, ask_qty, cancel_at, taker_side, taker_qty,
                                taker_at, max_pos], dtype=np.float64)


SCRIPTED = Strategy(name="scripted", params_type=Script, decide=_scripted,
                    to_vector=lambda p: p.vector, n_levels=1, n_state=2)


def run(rows: list[tuple[float, str, float, float]], script: Script, instrument: Instrument = INST,
        **config: object) -> BacktestResult:
    cfg = EngineConfig(**{"step_ms": 1.0, "decide_on_fill": False, "record_orders": True,
                          **config})  # type: ignore[arg-type]
    return run_backtest(stream(rows), instrument, SCRIPTED, script, cfg)


def fill_tuples(result: BacktestResult) -> list[tuple[float, int, float, float, bool]]:
    """(ms after T0, side, price, qty, is_maker) of every fill."""
    f = result.fills
    return [(round((int(t) - T0) / MS, 6), int(s), float(p), float(q), bool(mk))
            for t, s, p, q, mk in zip(f["ts_ns"], f["side"], f["price"], f["qty"],
                                      f["is_maker"], strict=True)]

"""Fixed slot layouts shared by the engine kernel and the strategies' ``decide`` functions.

Every name is a plain ``int`` (numba treats module globals as compile-time constants).
"""

from __future__ import annotations

from numba import types

__all__ = [
    "A_MAX_LONG",
    "A_MAX_SHORT",
    "A_NSLOTS",
    "A_TAKER_QTY",
    "A_TAKER_SIDE",
    "CTX_SIZE",
    "C_ASK_QTY",
    "C_AVG_ENTRY",
    "C_BEST_ASK",
    "C_BEST_ASK_TICK",
    "C_BEST_BID",
    "C_BEST_BID_TICK",
    "C_BID_QTY",
    "C_BOOK_BASE",
    "C_BOOK_LEN",
    "C_CASH",
    "C_CONTRACT_SIZE",
    "C_FEAT_ELAPSED",
    "C_IMBALANCE",
    "C_IS_INVERSE",
    "C_LAST_ASK_FILL_T",
    "C_LAST_ASK_PLACE_T",
    "C_LAST_BID_FILL_T",
    "C_LAST_BID_PLACE_T",
    "C_LOT_SIZE",
    "C_MICROPRICE",
    "C_MID",
    "C_N_ORDERS",
    "C_OFI",
    "C_OFI_Z",
    "C_OPEN_BUY_QTY",
    "C_OPEN_SELL_QTY",
    "C_POSITION",
    "C_QUOTING_ALLOWED",
    "C_SESSION_END_T",
    "C_TAKER_PENDING",
    "C_TICK_SIZE",
    "C_TIME",
    "C_TIME_NS_HI",
    "C_TIME_NS_LO",
    "C_TRIGGER",
    "C_UNREALISED",
    "C_VOL_BASE",
    "C_VOL_EWMA",
    "C_VOL_ROLL",
    "DECIDE_FN",
    "DECIDE_SIG",
    "KEEP",
    "OS_ACKED",
    "OS_CANCEL_SENT",
    "OS_SENT",
    "O_LEAVES",
    "O_LEVEL",
    "O_NCOL",
    "O_QTY",
    "O_SIDE",
    "O_STATE",
    "O_SUBMIT_T",
    "O_TICK",
    "Q_QTY",
    "Q_TICK",
    "TRIGGER_FILL",
    "TRIGGER_STEP",
]

# ---- ctx: float64 vector the strategy reads (times are seconds since the first event) ----
C_TIME = 0  # decision time
C_TRIGGER = 1  # TRIGGER_STEP or TRIGGER_FILL (a fill was received at this time)
C_BEST_BID = 2  # price, NaN if the side is empty
C_BEST_ASK = 3
C_BEST_BID_TICK = 4  # integer tick as float; NaN if empty
C_BEST_ASK_TICK = 5
C_BID_QTY = 6  # displayed size at the best bid (0 if empty)
C_ASK_QTY = 7
C_MID = 8  # NaN unless both sides are present
C_MICROPRICE = 9
C_IMBALANCE = 10  # bid_qty / (bid_qty + ask_qty), 0.5 if both 0
C_VOL_EWMA = 11  # feature slots (issue 4); NaN until the features are wired
C_VOL_BASE = 12
C_OFI_Z = 13
C_VOL_ROLL = 14
C_OFI = 15
C_POSITION = 16  # local view: fills received so far (instrument units, not lots)
C_AVG_ENTRY = 17  # NaN when flat
C_LAST_BID_FILL_T = 18  # local receive time of the last fill of a buy order; -inf if none
C_LAST_ASK_FILL_T = 19
C_LAST_BID_PLACE_T = 20  # time of the last submitted buy limit order; -inf if none
C_LAST_ASK_PLACE_T = 21
C_SESSION_END_T = 22  # close auction / flatten time, else UTC midnight after the first event
C_TICK_SIZE = 23
C_LOT_SIZE = 24
C_CONTRACT_SIZE = 25
C_IS_INVERSE = 26  # 1.0 for inverse contracts
C_QUOTING_ALLOWED = 27  # 0 inside auction windows and after flatten_at (targets are ignored)
C_OPEN_BUY_QTY = 28  # sum of leaves of our locally alive buy orders (any state)
C_OPEN_SELL_QTY = 29
C_TAKER_PENDING = 30  # signed qty of our taker order in flight (0 if none)
C_N_ORDERS = 31  # rows used in `orders`
C_BOOK_BASE = 32  # tick of book_bid[0] / book_ask[0]
C_BOOK_LEN = 33
C_CASH = 34  # net cash, local view
C_UNREALISED = 35  # position marked at mid vs avg entry (account currency)
C_TIME_NS_HI = 36  # decision time in ns = C_TIME_NS_HI * 1e9 + C_TIME_NS_LO (exact)
C_TIME_NS_LO = 37
C_FEAT_ELAPSED = 38  # seconds of data the vol / OFI features have seen (NaN: features off)
CTX_SIZE = 48

TRIGGER_STEP = 1
TRIGGER_FILL = 2

# ---- orders: float64[max_orders, O_NCOL], our locally alive orders ----
O_SIDE = 0  # +1 buy, -1 sell
O_LEVEL = 1
O_TICK = 2
O_QTY = 3  # original qty
O_LEAVES = 4  # qty not yet known filled
O_STATE = 5  # OS_*
O_SUBMIT_T = 6  # seconds
O_NCOL = 8

OS_SENT = 1  # submitted, ack not received (cannot be cancelled yet)
OS_ACKED = 2  # resting as far as we know (cancellable)
OS_CANCEL_SENT = 3  # a cancel is in flight

# ---- quotes: float64[2, n_levels, 2] ----
Q_TICK = 0
Q_QTY = 1
KEEP = -1.0  # quotes[s, l, Q_QTY] = KEEP: leave that level as it is

# ---- act: float64[A_NSLOTS] ----
A_TAKER_SIDE = 0
A_TAKER_QTY = 1
A_MAX_LONG = 2
A_MAX_SHORT = 3
A_NSLOTS = 4

_F1 = types.float64[::1]
_F2 = types.float64[:, ::1]
_F3 = types.float64[:, :, ::1]
#: decide(ctx, book_bid, book_ask, orders, params, state, quotes, act) -> None
DECIDE_SIG = types.void(_F1, _F1, _F1, _F2, _F1, _F1, _F3, _F1)
DECIDE_FN = types.FunctionType(DECIDE_SIG)


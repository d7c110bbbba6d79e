"""Integer slot numbers of the kernel's internal arrays: where each value lives.

The small one-dimensional arrays (settings ``ic`` / ``fc``, accounts ``acc``, counters ``ctr``
and ``cnt``) and the columns of the two-dimensional tables (order table ``oi`` / ``of``, rings
``rq`` / ``rp``, output rows ``fi`` / ``ff``, ``ei`` / ``ef``, ``acks``) are declared here once.
Compiled code reads them by name through the layouts at the end of this module
(``acc.local_pos``, ``ic.step_ns``, ``oi.tick[s]``: ``_named.py``); Python code reading an array
the kernel returns uses the constants (``acc[AL_POS]``, ``fi[:, FI_TS]``).
"""

from __future__ import annotations

import numpy as np

from mmopt.engine._named import SlotLayout, layout_from_constants

INF_NS = 2**62  # "never" as a timestamp

# order table, int64 columns (oi[slot, OI_*])
OI_USED = 0
OI_ID = 1
OI_SIDE = 2  # +1 buy, -1 sell
OI_LEVEL = 3
OI_TICK = 4  # relative tick
OI_EX = 5  # EX_*: state at the exchange
OI_LOC = 6  # LOC_*: state as the strategy knows it
OI_CXL = 7  # 1 while a cancel request or its response is in flight
OI_ARRIVE = 8  # arrival time at the exchange (ns)
OI_SUBMIT = 9  # local submit time (ns)
OI_TAKER = 10  # 1 for a taker order
OI_N = 11
# order table, float64 columns (of[slot, OF_*])
OF_QTY = 0
OF_LEAVES_EX = 1
OF_LEAVES_LOC = 2
OF_FRONT = 3  # quantity ahead of us (queue models)
OF_CUM = 4  # traded at our price since the last depth update (prob_power)
OF_MID = 5  # book mid when the order was submitted (NaN if a side was empty)
OF_N = 6

EX_FLIGHT = 0
EX_REST = 1
EX_DONE = 2
LOC_SENT = 1
LOC_ACKED = 2
LOC_DONE = 3

# request ring (to the exchange): rq[k, RQ_*]
RQ_T = 0
RQ_SLOT = 1
RQ_KIND = 2
RQ_N = 3
RQK_NEW = 1
RQK_CANCEL = 2
# response ring (to the strategy): rp[k, RP_*] + rpq[k] (fill qty)
RP_T = 0
RP_SLOT = 1
RP_KIND = 2
RP_TICK = 3  # exec relative tick of a fill
RP_MAKER = 4
RP_N = 5
RPK_ACK = 1
RPK_REJECT = 2
RPK_FILL = 3
RPK_CANCELLED = 4
RPK_CANCEL_REJECT = 5
RPK_EXPIRED = 6  # the exchange cancelled the order at the session close

# ring pointers and misc counters (ctr[CT_*])
CT_RQ_HEAD = 0
CT_RQ_TAIL = 1
CT_RP_HEAD = 2
CT_RP_TAIL = 3
CT_N_REST_BUY = 4  # resting orders of row 0 (buys); row r: CT_N_REST_BUY + r (keep adjacent)
CT_N_REST_SELL = 5
CT_BUY_MIN = 6  # resting buy ticks bounds (relative); row r: CT_BUY_MIN + 2 r, CT_BUY_MAX + 2 r
CT_BUY_MAX = 7
CT_SELL_MIN = 8
CT_SELL_MAX = 9
CT_RNG = 10
CT_LAST_INTENSITY = 11
CT_NUSED = 12  # slots in use (ul[0:CT_NUSED], submission order)
CT_N = 24

# counters reported to Python (cnt[N_*])
N_FILLS = 0
N_OEV = 1
N_SUBMITTED = 2
N_CANCELLED = 3
N_REJECTED = 4
N_CANCEL_REJECTED = 5
N_FILLED = 6
N_BLOCKED = 7
N_DECISIONS = 8
N_NEXT_ID = 9
N_EQ = 10
N_TAKERS = 11
N_CANCEL_SENT = 12
N_COUNTERS = 24

# accounts (acc[AC_*]); AC_ = exchange truth, AL_ = what the strategy has been told
AC_POS = 0
AC_BAL = 1  # hftbacktest's balance (excludes fees)
AC_FEES = 2
AC_VOL = 3
AC_NOTIONAL = 4
AC_MAXPOS = 5
AC_AVG = 6
AC_REAL = 7  # realised gross PnL (account currency)
AL_POS = 8
AL_AVG = 9
AL_CASH = 10  # net cash
AL_LAST_BID_FILL = 11  # ns (as float); -inf if none
AL_LAST_ASK_FILL = 12
AL_LAST_BID_PLACE = 13
AL_LAST_ASK_PLACE = 14
AL_TAKER_PENDING = 15  # signed qty of the taker order in flight
AL_REAL = 16
AC_LAST_MID = 17  # last valid mid (NaN before)
AL_BAL = 18
AL_FEES = 19
AC_N = 24

# float config (fc[FC_*])
FC_TICK = 0
FC_LOT = 1
FC_CS = 2
FC_MAKER = 3  # fee rates (fractions)
FC_TAKER = 4
FC_QPOW = 5
FC_LAMBDA0 = 6
FC_ALPHA = 7
FC_INIT_POS = 8
FC_N = 24

# int config (ic[IC_*])
IC_STEP = 0
IC_LAT_E = 1
IC_LAT_R = 2
IC_QMODEL = 3  # 0 risk_averse, 1 prob_power
IC_PARTIAL = 4
IC_FMODEL = 5  # 0 queue, 1 intensity
IC_SEED = 6
IC_Q_START = 7  # quoting allowed in [IC_Q_START, IC_Q_END) and before IC_FLATTEN
IC_Q_END = 8
IC_FLATTEN = 9
IC_END_FLAT = 10
IC_EQ_START = 11  # unused (the grid times are passed in eq_ts)
IC_EQ_STEP = 12
IC_DEC_ON_FILL = 13
IC_RECORD = 14
IC_NLEVELS = 15
IC_INVERSE = 16
IC_BASE = 17
IC_W = 18
IC_NOV = 19
IC_USE_FEAT = 20
IC_N_EQ = 21  # grid rows (the final row goes after them)
IC_N = 48

# fills store: fi[k, FI_*] int64 and ff[k, FF_*] float64
FI_TS = 0
FI_ID = 1
FI_QUEUE = 2
FI_SIDE = 3
FI_MAKER = 4
FI_N = 5
FF_PRICE = 0
FF_QTY = 1
FF_FEE = 2
FF_POS = 3
FF_CASH = 4
FF_MID = 5
FF_QHS = 6  # quoted half spread
FF_N = 7
# order events: oi_ev[k, EV_*] int64 and of_ev[k, EVF_*]
EV_TS = 0
EV_ID = 1
EV_ACTION = 2
EV_SIDE = 3
EV_N = 4
EVF_PRICE = 0
EVF_QTY = 1
EVF_N = 2
ACT_SUBMIT = 1
ACT_ARRIVE = 2
ACT_CANCEL_REQ = 3
ACT_CANCELLED = 4
ACT_REJECT = 5
ACT_FILL = 6
IC_MAXORD = 22
IC_SESSION_END = 23
FC_INIT_PRICE = 9
IC_T0 = 24  # first event time; local times in acc are ns since it (exact in float64)
IC_TWO_CLOCKS = 30  # 1: exchange rows at exchange time, local rows at local time (two books)
IC_LOCAL_SHIFT = 31  # ns added to every local time (clock offset correction)

# ---- order latency models, latency guard, fees, sessions (docs/engine.md) ----
LAT_CONSTANT = 0  # ic[IC_LAT_MODEL]
LAT_DATA = 1  # interpolated over the recorded latency table
LAT_FEED = 2  # step function of the feed latency table
LAT_RANDOM = 3  # seeded lognormal with spikes
IC_LAT_MODEL = 32
IC_GUARD_NS = 33  # latency guard: pause quoting while the rolling ack P99 > this (0 = off)
IC_GUARD_WIN = 34  # rolling window of the guard (ns of local time)
IC_FEE_EXTRA = 35  # 1 when any fee beyond maker/taker bps is set
IC_SESS_OPEN = 36  # exchange session [open, close): no order arrives or rests outside it
IC_SESS_CLOSE = 37
FC_LAT_SIGMA = 12  # random model: lognormal sigma, spike probability and multiplier
FC_SPIKE_P = 13
FC_SPIKE_MULT = 14
FC_MAKER_UNIT = 15  # fee per unit (share / contract) of a maker / taker fill
FC_TAKER_UNIT = 16
FC_FLAT = 17  # fee per fill
FC_BUY_BPS = 18  # extra fee rate (fraction) on our buys / sells, maker or taker
FC_SELL_BPS = 19
FC_BUY_UNIT = 20  # extra fee per unit on our buys / sells
FC_SELL_UNIT = 21
CT_LAT_RNG = 16  # state of the random latency draws
CT_GUARD = 17  # 1 while the latency guard pauses quoting
CT_GUARD_HEAD = 18  # first ack row inside the guard's window
CT_GUARD_ABOVE = 19  # acks inside the window above the threshold
CT_SESS_CLOSE = 20  # the pending session-close expiry time (INF_NS once done)
N_ACKS = 16  # rows of the ack store: acks[k, AK_*]
AK_T = 0  # local time the ack (or reject) of a new order reached the strategy
AK_LAT = 1  # that time minus the order's local send time
AK_ID = 2  # the order's id
AK_N = 3

# ---- the same slots by name, for compiled code (``_named.py``) ----
# ``E.ic.step_ns`` is ``ic[IC_STEP]``, ``E.acc.local_pos`` is ``acc[AL_POS]``: the constants above
# stay the one declaration of where a value lives (Python code reading the returned arrays uses
# them), the layouts give each slot its name once.
INT_SETTINGS = layout_from_constants(
    "IntSettings", np.int64, globals(), {"IC_": ""}, "IC_N",
    rename={"IC_STEP": "step_ns", "IC_LAT_E": "entry_latency_ns",
            "IC_LAT_R": "response_latency_ns", "IC_QMODEL": "queue_model",
            "IC_FMODEL": "fill_model", "IC_FLATTEN": "flatten_at", "IC_BASE": "book_base",
            "IC_W": "window", "IC_NOV": "n_overflow", "IC_DEC_ON_FILL": "decide_on_fill",
            "IC_EQ_START": ""})
FLOAT_SETTINGS = layout_from_constants(
    "FloatSettings", np.float64, globals(), {"FC_": ""}, "FC_N",
    rename={"FC_TICK": "tick_size", "FC_LOT": "lot_size", "FC_CS": "contract_size",
            "FC_QPOW": "queue_power", "FC_FLAT": "flat_fee"})
ACCOUNT = layout_from_constants(
    "Account", np.float64, globals(), {"AC_": "", "AL_": "local_"}, "AC_N",
    rename={"AC_REAL": "realised", "AL_REAL": "local_realised"})
ORDER_COUNTERS = layout_from_constants("OrderCounters", np.int64, globals(), {"CT_": ""}, "CT_N")
RUN_COUNTERS = layout_from_constants("RunCounters", np.int64, globals(), {"N_": ""}, "N_COUNTERS")
as_int_settings = INT_SETTINGS.view
as_float_settings = FLOAT_SETTINGS.view
as_account = ACCOUNT.view
as_order_counters = ORDER_COUNTERS.view
as_run_counters = RUN_COUNTERS.view


# the two-dimensional tables by column name: ``E.oi.tick[s]`` is ``oi[s, OI_TICK]``
def _columns(title: str, dtype: type, prefix: str) -> SlotLayout:
    """The table whose columns are the ``prefix`` constants (``<prefix>N`` of them)."""
    return layout_from_constants(title, dtype, globals(), {prefix: ""}, prefix + "N", ndim=2)


ORDER_INTS = _columns("OrderInts", np.int64, "OI_")
ORDER_FLOATS = _columns("OrderFloats", np.float64, "OF_")
REQUESTS = _columns("Requests", np.int64, "RQ_")
RESPONSES = _columns("Responses", np.int64, "RP_")
FILL_INTS = _columns("FillInts", np.int64, "FI_")
FILL_FLOATS = _columns("FillFloats", np.float64, "FF_")
EVENT_INTS = _columns("EventInts", np.int64, "EV_")
EVENT_FLOATS = _columns("EventFloats", np.float64, "EVF_")
ACKS = _columns("Acks", np.int64, "AK_")
as_order_ints = ORDER_INTS.view
as_order_floats = ORDER_FLOATS.view
as_requests = REQUESTS.view
as_responses = RESPONSES.view
as_fill_ints = FILL_INTS.view
as_fill_floats = FILL_FLOATS.view
as_event_ints = EVENT_INTS.view
as_event_floats = EVENT_FLOATS.view
as_acks = ACKS.view

"""Integer slot numbers of the kernel's internal arrays (compile-time constants for numba)."""

from __future__ import annotations

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
CT_N = 16

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
N_COUNTERS = 16

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
FC_N = 12

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
IC_N = 32

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

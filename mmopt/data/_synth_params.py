"""Indices into the synthetic market kernel's parameter vector (float64) and state vector (int64).

Numba reads module-level integers as compile-time constants, so these are plain ints.
"""

from __future__ import annotations

# --- indices into the float64 parameter vector -------------------------------------------------
P_TICK = 0  # tick size (price units)
P_LOT = 1  # lot size (quantity units)
P_BASE = 2  # absolute tick index of book index 0
P_P0T = 3  # latent price at the open, in absolute ticks
P_OPEN_END = 4  # end of the opening auction (s from session start)
P_CLOSE_START = 5  # start of the closing auction
P_SESSION = 6  # session length
P_SIG_CALM = 7  # log-vol per sqrt(s), calm regime
P_SIG_VOL = 8  # log-vol per sqrt(s), volatile regime
P_UP_RATE = 9  # calm -> volatile switch rate (1/s)
P_DOWN_RATE = 10  # volatile -> calm switch rate (1/s)
P_VOL_ACT = 11  # activity multiplier in the volatile regime
P_RATE_ADD = 12  # limit add rate (1/s) at activity 1
P_RATE_CXL = 13  # cancel rate
P_RATE_TRADE = 14  # baseline market order rate
P_AUCTION_ACT = 15  # activity multiplier during auctions
P_H_ALPHA = 16  # Hawkes jump of the trade intensity per trade (1/s)
P_H_BETA = 17  # Hawkes decay rate (1/s)
P_KAPPA = 18  # how strongly the aggressor side leans to the fair price (per tick)
P_URGENCY = 19  # extra trade rate per tick of fair-price gap
P_SWEEP = 20  # probability per tick of gap that an informed order clears the best level
P_IMPROVE = 21  # probability that an add steps into a spread wider than one tick
P_FADE = 22  # probability per tick of gap that a stale best quote is pulled
P_DEPTH = 23  # mean resting lots at the best level (deeper levels hold more)
P_ADD_LOTS = 24  # mean lots of a limit add at the best level
P_TRADE_LOTS = 25  # mean lots of a market order
P_SIZE_SIG = 26  # lognormal dispersion of sizes
P_LEVEL_LOGQ = 27  # log(1 - p), p: geometric parameter of the level an add / cancel goes to
P_DRIFT = 28  # log drift per second (continuous session)
P_CRASH_START = 29  # flash crash: start (s)
P_CRASH_DUR = 30  # duration of the fall (s)
P_CRASH_DEPTH = 31  # log drop (0 = no crash)
P_CRASH_REC = 32  # share recovered
P_CRASH_TAU = 33  # recovery time constant (s)
P_CRASH_ACT = 34  # activity multiplier during the stress window
P_CRASH_VOL = 35  # volatility multiplier during the stress window
P_CRASH_LIQ = 36  # size multiplier of resting liquidity during the stress window
P_UCURVE = 37  # amplitude of the intraday U-shape of activity (0 = flat)
P_LAT_NS = 38  # base feed latency (ns)
P_JIT_NS = 39  # mean extra latency (ns, uniform)
P_OVERLAP = 40  # auction: how many ticks orders reach past the fair price
P_LEVELS = 41  # D: populated levels per side
P_TOP = 42  # 1.0: emit bid/ask top-of-book rows when the best changes
N_PARAMS = 43

# --- indices into the int64 state vector ------------------------------------------------------
S_N = 0  # rows emitted so far (may exceed the buffer: the caller retries with a larger one)
S_TS = 1  # local receive time of the current event (ns)
S_EX = 2  # exchange time of the current event (ns)
S_BEST = 3  # best bid index; S_BEST + 1 = best ask index
S_TOP_IDX = 5  # last emitted top-of-book price index, bid then ask
S_TOP_Q = 7  # last emitted top-of-book lots, bid then ask
N_STATE = 9

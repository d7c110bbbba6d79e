# mypy: allow-untyped-defs
"""Incremental market features for the strategies (numba kernels, O(1) per event).

All state lives in one float64 vector of fixed length ``FEATURE_STATE_SIZE`` (see
``features_state_size()``); the kernels never allocate. The first ``N_FEATURE_OUTPUTS`` slots are
the values strategies read (``F_*``); the rest are accumulators and ring buffers (``I_*``, ``R_*``).

Engine protocol (``ts_ns`` = local receive time, int64 ns, non-decreasing; an earlier time is
treated as the last one)::

    state = np.zeros(features_state_size()); features_init(state, params)   # once per stream
    features_on_top(state, ts_ns, bid, bid_qty, ask, ask_qty)   # after every top-of-book change
    features_refresh(state, ts_ns)                               # before every read of the F_*

``features_on_top`` keeps the accumulators current and sets the book outputs (F_MID, F_MICRO,
F_IMBALANCE, F_LAST_MID, F_TWO_SIDED); the time-dependent outputs (F_VOL_*, F_OFI, F_OFI_Z,
F_ELAPSED_S) are computed only by ``features_refresh`` (cheap per event; the math runs once per
read). Repeating a top, or refreshing more often, changes nothing but rounding.

Definitions (r_i = ln(mid_i / mid_{i-1}) for consecutive *valid* mids, at time t_i; T0 = time
of the first valid mid; T = time of the last call; lambda = ln 2 / half-life):

* mid = (bid + ask) / 2; microprice = (Q_ask * bid + Q_bid * ask) / (Q_bid + Q_ask) (the mid when
  both sizes are 0); imbalance = Q_bid / (Q_bid + Q_ask) (0.5 when both are 0).
  A side with a NaN (or infinite) price is empty: its size counts as 0, mid and microprice are NaN
  while it is empty, and the next valid mid's return is taken against the last valid mid
  (``F_LAST_MID``). A mid <= 0 is never used for returns.
* ``F_VOL_EWMA`` / ``F_VOL_BASE``: sqrt of the time-decayed realised variance *per second*,
  ``sum_i exp(-lambda (T - t_i)) r_i^2 / integral_{T0}^{T} exp(-lambda (T - s)) ds`` with the vol
  (resp. baseline) half-life. Units: log-return per sqrt(second) (multiply by the mid for price
  units). Irregular steps are exact; a quiet market lets it decay.
* Sampled returns (params[P_VOL_SAMPLE_S] = q_s > 0, e.g. 1 s): instead of one r_i per mid
  change, the mid is sampled on the epoch-aligned grid g_j = j * q_s (the last valid mid of the
  updates *before* g_j, carried forward; the first sample is the first valid mid at T0) and
  r_j = ln(m(g_j) / m(g_j-1)) is observed at g_j. Bid-ask bounce between grid points then does
  not add variance, so sigma does not grow with the event rate of the stream. Both EWMAs and the
  rolling window use these returns; a grid point is closed by the first top update or refresh
  at or after it (never earlier: no look-ahead).
* ``F_VOL_ROLL``: sqrt(sum of r_i^2 over the rolling window / covered seconds). Time is cut into
  buckets of q = round(window / N_VOL_BUCKETS) ns aligned to the epoch (bucket b = ts_ns // q); the
  window is the N_VOL_BUCKETS buckets ending with T's bucket, and the covered time is
  T - max(T0, start of the oldest bucket).
* ``F_OFI``: Cont-Kukanov-Stoikov order-flow imbalance at the best level, per top update n:
  e_n = 1{Pb_n >= Pb_n-1} qb_n - 1{Pb_n <= Pb_n-1} qb_n-1 - 1{Pa_n <= Pa_n-1} qa_n
  + 1{Pa_n >= Pa_n-1} qa_n-1, with an empty bid at price -inf and an empty ask at +inf (size 0);
  the first update contributes 0. Summed over the N_OFI_BUCKETS buckets (q = round(ofi window /
  N_OFI_BUCKETS) ns, epoch-aligned) ending with T's bucket.
* ``F_OFI_Z``: (F_OFI - mean) / std, mean and std (ddof=1) over the last M samples of the OFI.
  A sample is the OFI over exactly the N_OFI_BUCKETS buckets before a bucket boundary c*q, taken
  at every boundary with c % k == 0 once the window has been fully observed (c >= first bucket +
  N_OFI_BUCKETS); k = max(1, ceil(z window / (q * Z_CAPACITY))), M = clip(round(z window /
  (k q)), 2, Z_CAPACITY). z is 0 with fewer than min(Z_MIN_SAMPLES, M) samples or when the
  std is zero: std <= 1e-12 * |mean| (all samples equal), std <= 1e-9 * max|e_n| seen (samples
  differing by rounding only), or a centred sum of squares at rounding level.
* ``F_ELAPSED_S``: seconds since T0 (0 before any valid mid); estimates are noisy until it spans a
  few half-lives / windows. All vol and OFI slots are 0 (never NaN) before there is data.
"""

from __future__ import annotations

import math

import numpy as np

from mmopt.engine._jit import with_runtime
from mmopt.engine._named import layout_from_constants

# ---- params vector (float64, length N_FEATURE_PARAMS) -------------------------------------------
P_VOL_HALFLIFE_S = 0  # half-life of the fast volatility EWMA, seconds
P_BASE_HALFLIFE_S = 1  # half-life of the baseline (slow) volatility EWMA, seconds
P_VOL_WINDOW_S = 2  # rolling volatility window, seconds
P_OFI_WINDOW_S = 3  # OFI summation window, seconds
P_OFI_Z_WINDOW_S = 4  # history over which the OFI is z-scored, seconds
P_VOL_SAMPLE_S = 5  # optional: 0 = a return per mid change; > 0 = returns on this time grid
N_FEATURE_PARAMS = 5  # required length of the params vector (P_VOL_SAMPLE_S may follow)
FEATURE_PARAM_NAMES = (
    "vol_halflife_s",
    "baseline_halflife_s",
    "vol_window_s",
    "ofi_window_s",
    "ofi_z_window_s",
    "vol_sample_s",
)
MIN_WINDOW_S = 0.01  # smallest accepted half-life / window (keeps bucket indices exact)

# ---- geometry ------------------------------------------------------------------------------------
N_VOL_BUCKETS = 600
N_OFI_BUCKETS = 100
Z_CAPACITY = 2048
Z_MIN_SAMPLES = 10
Z_STD_REL_EPS = 1e-12  # std <= this * |mean|: the samples are all equal
Z_STD_SCALE_EPS = 1e-9  # std <= this * max|e_n|: the samples differ only by rounding
Z_SS_ROUNDING_EPS = 1e-10  # centred sum of squares below this * I_Z_MAXD2 is rounding noise

# ---- outputs (what strategies read) --------------------------------------------------------------
F_MID = 0  # (bid + ask) / 2, NaN while a side is empty
F_MICRO = 1  # size-weighted microprice, NaN while a side is empty
F_IMBALANCE = 2  # Q_bid / (Q_bid + Q_ask) in [0, 1]; empty side = size 0; 0.5 if both 0
F_VOL_EWMA = 3  # EWMA volatility of log mid returns, per sqrt(second)
F_VOL_BASE = 4  # baseline (slow EWMA) volatility, per sqrt(second)
F_VOL_ROLL = 5  # rolling-window volatility, per sqrt(second)
F_OFI = 6  # windowed order-flow imbalance (size units)
F_OFI_Z = 7  # z-score of F_OFI against its own rolling samples
F_LAST_MID = 8  # last valid mid (NaN before the first one)
F_TWO_SIDED = 9  # 1.0 when both sides have a price, else 0.0
F_ELAPSED_S = 10  # seconds since the first valid mid
N_FEATURE_OUTPUTS = 11

# ---- internal accumulators -----------------------------------------------------------------------
I_INITIALISED = 11  # 1.0 after features_init
I_STARTED = 12  # 1.0 after the first call with a time
I_LAST_TS_S = 13  # last time, whole seconds (exact int in float64)
I_LAST_TS_NS = 14  # last time, ns remainder
I_HAVE_MID = 15
I_FIRST_MID_S = 16  # T0, whole seconds
I_FIRST_MID_NS = 17  # T0, ns remainder
I_HAVE_TOP = 18  # a previous top exists (for OFI)
I_BID = 19  # previous top: prices NaN when empty, sizes 0 when empty
I_BID_QTY = 20
I_ASK = 21
I_ASK_QTY = 22
I_LAMBDA_VOL = 23  # ln2 / vol half-life, 1/s
I_LAMBDA_BASE = 24
I_VOL_NUM = 25  # sum exp(-lambda_vol (t_num - t_i)) r_i^2, t_num = I_NUM_TS
I_BASE_NUM = 26
I_VR_Q_NS = 27  # rolling-vol bucket width, ns
I_VR_LAST_B = 28  # newest rolling-vol bucket index
I_VR_SUM = 29  # sum of r^2 in the ring
I_OR_Q_NS = 30  # OFI bucket width, ns
I_OR_LAST_B = 31
I_OR_SUM = 32
I_OR_FIRST_B = 33  # OFI bucket of the first call
I_Z_K = 34  # sample every k-th OFI bucket boundary
I_Z_M = 35  # number of samples in the z window
I_Z_COUNT = 36  # samples held (<= M)
I_Z_HEAD = 37  # ring index of the next sample
I_Z_SHIFT = 38  # shift K: sums are of (x - K) for accuracy
I_Z_S1 = 39
I_Z_S2 = 40
I_Z_MAXD2 = 41  # max (x - K)^2 entering the sums since the last recompute (rounding scale)
I_OFI_SCALE = 42  # max |e_n| seen (rounding scale of the OFI sums)
I_NUM_TS_S = 43  # time at which I_VOL_NUM / I_BASE_NUM are expressed, whole seconds
I_NUM_TS_NS = 44  # ... ns remainder
I_GRID_Q_NS = 45  # vol sampling grid, ns (0 = a return per mid change)
I_GRID_B = 46  # index of the last grid point closed (grid point b is at b * I_GRID_Q_NS)
I_GRID_MID = 47  # the mid sampled at that grid point
N_FEATURE_HEADER = 48
# the header's slots by name in compiled code (``state.vol_ewma`` is ``state[F_VOL_EWMA]``); the
# ring buffers below follow the header in the same array and are indexed by position
FEATURES = layout_from_constants("FeatureState", np.float64, globals(), {"F_": "", "I_": ""},
                                 "N_FEATURE_HEADER")
as_features = FEATURES.view

# ---- ring buffers --------------------------------------------------------------------------------
R_VOL = N_FEATURE_HEADER  # N_VOL_BUCKETS sums of r^2, slot b % N_VOL_BUCKETS
R_OFI = R_VOL + N_VOL_BUCKETS  # N_OFI_BUCKETS sums of e_n, slot b % N_OFI_BUCKETS
R_Z = R_OFI + N_OFI_BUCKETS  # Z_CAPACITY OFI samples (first M used)
FEATURE_STATE_SIZE = R_Z + Z_CAPACITY

_NS = 1_000_000_000
_LN2 = math.log(2.0)


@with_runtime
def features_state_size():
    """Length of the float64 state vector (a constant)."""
    return FEATURE_STATE_SIZE


@with_runtime
def feature_params_invalid(params):
    """Index of the first invalid parameter, ``N_FEATURE_PARAMS`` if too short, -1 if all valid.

    The optional ``P_VOL_SAMPLE_S`` must be 0 (off) or a grid of at least ``MIN_WINDOW_S``."""
    if params.shape[0] < N_FEATURE_PARAMS:
        return N_FEATURE_PARAMS
    for i in range(N_FEATURE_PARAMS):
        v = params[i]
        if not (math.isfinite(v) and v >= MIN_WINDOW_S):
            return i
    if params.shape[0] > P_VOL_SAMPLE_S:
        v = params[P_VOL_SAMPLE_S]
        if not (math.isfinite(v) and (v == 0.0 or v >= MIN_WINDOW_S)):
            return P_VOL_SAMPLE_S
    return -1


@with_runtime
def features_init(state_array, params):
    """Reset ``state_array`` (length ``FEATURE_STATE_SIZE``) for a new stream with ``params``.

    Invalid params (see ``feature_params_invalid``) raise ValueError; validate them first.
    """
    state = as_features(state_array)
    if state_array.shape[0] < FEATURE_STATE_SIZE:
        raise ValueError("features state vector too short: use features_state_size()")
    if feature_params_invalid(params) >= 0:
        raise ValueError("invalid feature params: check feature_params_invalid() first")
    state[:] = 0.0
    state.mid = np.nan
    state.micro = np.nan
    state.imbalance = 0.5
    state.last_mid = np.nan
    state.bid = np.nan
    state.ask = np.nan
    state.lambda_vol = _LN2 / params[P_VOL_HALFLIFE_S]
    state.lambda_base = _LN2 / params[P_BASE_HALFLIFE_S]
    state.vr_q_ns = max(1.0, round(params[P_VOL_WINDOW_S] * _NS / N_VOL_BUCKETS))
    q_ofi = max(1.0, round(params[P_OFI_WINDOW_S] * _NS / N_OFI_BUCKETS))
    state.or_q_ns = q_ofi
    z_ns = params[P_OFI_Z_WINDOW_S] * _NS
    k = max(1.0, math.ceil(z_ns / (q_ofi * Z_CAPACITY)))
    state.z_k = k
    state.z_m = min(float(Z_CAPACITY), max(2.0, round(z_ns / (k * q_ofi))))
    if params.shape[0] > P_VOL_SAMPLE_S and params[P_VOL_SAMPLE_S] > 0.0:
        state.grid_q_ns = round(params[P_VOL_SAMPLE_S] * _NS)
    state.grid_mid = np.nan
    state.initialised = 1.0


@with_runtime
def _joined_ts(whole_s, rem_ns):
    """A time kept as whole seconds and an ns remainder (both exact in float64), in ns."""
    return np.int64(whole_s) * _NS + np.int64(rem_ns)


@with_runtime
def _whole_s(ts_ns):
    return float(ts_ns // _NS)


@with_runtime
def _rem_ns(ts_ns):
    return float(ts_ns % _NS)


@with_runtime
def _roll_vol_ring(state, b_new):
    """Move the rolling-vol ring so that its newest bucket is ``b_new`` (expired buckets -> 0)."""
    last_b = np.int64(state.vr_last_b)
    steps = b_new - last_b
    if steps <= 0:
        return
    if steps >= N_VOL_BUCKETS:
        for j in range(N_VOL_BUCKETS):
            state[R_VOL + j] = 0.0
        state.vr_sum = 0.0
    else:
        for c in range(last_b + 1, b_new + 1):
            slot = R_VOL + c % N_VOL_BUCKETS
            state.vr_sum -= state[slot]
            state[slot] = 0.0
            if c % N_VOL_BUCKETS == 0:  # once per lap: drop the running sum's rounding drift
                s = 0.0
                for j in range(N_VOL_BUCKETS):
                    s += state[R_VOL + j]
                state.vr_sum = s
    state.vr_last_b = float(b_new)


@with_runtime
def _z_push(state, x):
    """Append one OFI sample to the z ring (drops the oldest when M are held)."""
    m = np.int64(state.z_m)
    count = np.int64(state.z_count)
    head = np.int64(state.z_head)
    if count == 0:
        state.z_shift = x
        state.z_s1 = 0.0
        state.z_s2 = 0.0
        state.z_maxd2 = 0.0
    shift = state.z_shift
    if count == m:
        old = state[R_Z + head] - shift
        state.z_s1 -= old
        state.z_s2 -= old * old
    else:
        state.z_count = float(count + 1)
    state[R_Z + head] = x
    d = x - shift
    state.z_s1 += d
    state.z_s2 += d * d
    state.z_maxd2 = max(state.z_maxd2, d * d)
    head = (head + 1) % m
    state.z_head = float(head)
    if head == 0 and count == m:  # once per lap: re-centre and recompute the sums exactly
        _z_recompute(state, m)


@with_runtime
def _z_recompute(state, m):
    mean = 0.0
    for j in range(m):
        mean += float(state[R_Z + j])
    mean /= m
    s1 = 0.0
    s2 = 0.0
    maxd2 = 0.0
    for j in range(m):
        d = float(state[R_Z + j]) - mean
        s1 += d
        s2 += d * d
        maxd2 = max(maxd2, d * d)
    state.z_shift = mean
    state.z_s1 = s1
    state.z_s2 = s2
    state.z_maxd2 = maxd2


@with_runtime
def _roll_ofi_ring(state, b_new):
    """Move the OFI ring to bucket ``b_new``, taking z samples at the boundaries passed."""
    last_b = np.int64(state.or_last_b)
    steps = b_new - last_b
    if steps <= 0:
        return
    k = np.int64(state.z_k)
    first_sample_b = np.int64(state.or_first_b) + N_OFI_BUCKETS
    # after this many steps the window and every z sample are 0: the rest changes nothing
    limit = N_OFI_BUCKETS + k * (np.int64(state.z_m) + 1)
    end = b_new if steps <= limit else last_b + limit
    for c in range(last_b + 1, end + 1):
        if c % k == 0 and c >= first_sample_b:
            _z_push(state, state.or_sum)  # the window of buckets c - N .. c - 1
        slot = R_OFI + c % N_OFI_BUCKETS
        state.or_sum -= state[slot]
        state[slot] = 0.0
        if c - last_b == N_OFI_BUCKETS:  # every bucket cleared: the sum is exactly 0
            state.or_sum = 0.0
        elif c % N_OFI_BUCKETS == 0:
            s = 0.0
            for j in range(N_OFI_BUCKETS):
                s += state[R_OFI + j]
            state.or_sum = s
    if end < b_new:  # the ring and the M samples held are all exactly 0
        state.z_shift = 0.0
        state.z_s1 = 0.0
        state.z_s2 = 0.0
        state.z_maxd2 = 0.0
    state.or_last_b = float(b_new)


@with_runtime
def _ewma_vol(numerator, lam, elapsed_s):
    if elapsed_s <= 0.0:
        return 0.0
    denom = -math.expm1(-lam * elapsed_s) / lam  # integral of the decay kernel since T0
    var = numerator / denom
    return math.sqrt(var) if var > 0.0 else 0.0


@with_runtime
def _rolling_vol(state, ts_ns):
    q = np.int64(state.vr_q_ns)
    window_start = (np.int64(state.vr_last_b) - N_VOL_BUCKETS + 1) * q
    start = max(window_start, _joined_ts(state.first_mid_s, state.first_mid_ns))
    span_s = (ts_ns - start) / _NS
    total = state.vr_sum
    if span_s <= 0.0 or total <= 0.0:
        return 0.0
    return math.sqrt(total / span_s)


@with_runtime
def _ofi_z(state):
    n = int(state.z_count)
    if n < min(Z_MIN_SAMPLES, int(state.z_m)) or n < 2:
        return 0.0
    s1 = state.z_s1
    mean = state.z_shift + s1 / n
    centred_ss = state.z_s2 - s1 * s1 / n
    if centred_ss <= Z_SS_ROUNDING_EPS * state.z_maxd2:
        return 0.0
    std = math.sqrt(centred_ss / (n - 1))
    if std <= Z_STD_REL_EPS * abs(mean) or std <= Z_STD_SCALE_EPS * state.ofi_scale:
        return 0.0
    return (state.ofi - mean) / std


@with_runtime
def _advance(state, ts_ns):
    """Move the clock and the rings to ``ts_ns``; return the effective time (never earlier)."""
    if state.initialised == 0.0:
        raise ValueError("features state not initialised: call features_init first")
    ts_ns = np.int64(ts_ns)
    if state.started == 0.0:
        state.last_ts_s = _whole_s(ts_ns)
        state.last_ts_ns = _rem_ns(ts_ns)
        state.vr_last_b = float(ts_ns // np.int64(state.vr_q_ns))
        b_ofi = float(ts_ns // np.int64(state.or_q_ns))
        state.or_last_b = b_ofi
        state.or_first_b = b_ofi
        state.started = 1.0
        return ts_ns
    last = _joined_ts(state.last_ts_s, state.last_ts_ns)
    if ts_ns <= last:
        return last
    _roll_vol_ring(state, ts_ns // np.int64(state.vr_q_ns))
    _roll_ofi_ring(state, ts_ns // np.int64(state.or_q_ns))
    state.last_ts_s = _whole_s(ts_ns)
    state.last_ts_ns = _rem_ns(ts_ns)
    return ts_ns


@with_runtime
def _decay_to(state, ts_ns):
    """Express the EWMA numerators at ``ts_ns`` (they are decayed lazily)."""
    dt_ns = ts_ns - _joined_ts(state.num_ts_s, state.num_ts_ns)
    if dt_ns > 0:
        dt_s = dt_ns / _NS
        state.vol_num *= math.exp(-state.lambda_vol * dt_s)
        state.base_num *= math.exp(-state.lambda_base * dt_s)
        state.num_ts_s = _whole_s(ts_ns)
        state.num_ts_ns = _rem_ns(ts_ns)


@with_runtime
def features_refresh(state_array, ts_ns):
    """Bring every output slot to time ``ts_ns`` (decay, window expiry, OFI samples, z-score)."""
    state = as_features(state_array)
    ts_ns = _advance(state, ts_ns)
    if state.have_mid > 0.0:
        if state.grid_q_ns > 0.0:
            _close_grid(state, ts_ns)
        _decay_to(state, ts_ns)
        elapsed = (ts_ns - _joined_ts(state.first_mid_s, state.first_mid_ns)) / _NS
        state.elapsed_s = elapsed
        state.vol_ewma = _ewma_vol(state.vol_num, state.lambda_vol, elapsed)
        state.vol_base = _ewma_vol(state.base_num, state.lambda_base, elapsed)
        state.vol_roll = _rolling_vol(state, ts_ns)
    state.ofi = state.or_sum
    state.ofi_z = _ofi_z(state)


@with_runtime
def _ofi_event(prev_bid, prev_bid_qty, prev_ask, prev_ask_qty, bid, bid_qty, ask, ask_qty):
    """CKS e_n with an empty bid at -inf and an empty ask at +inf (sizes already 0 if empty)."""
    pb0 = prev_bid if math.isfinite(prev_bid) else -math.inf
    pb1 = bid if math.isfinite(bid) else -math.inf
    pa0 = prev_ask if math.isfinite(prev_ask) else math.inf
    pa1 = ask if math.isfinite(ask) else math.inf
    e = 0.0
    if pb1 >= pb0:
        e += bid_qty
    if pb1 <= pb0:
        e -= prev_bid_qty
    if pa1 <= pa0:
        e -= ask_qty
    if pa1 >= pa0:
        e += prev_ask_qty
    return e


@with_runtime
def _clean_qty(price, qty):
    if not math.isfinite(price) or not math.isfinite(qty) or qty < 0.0:
        return 0.0
    return qty


@with_runtime
def _update_book_outputs(state, bid, bid_qty, ask, ask_qty):
    total = bid_qty + ask_qty
    imbalance = bid_qty / total if total > 0.0 else 0.5
    state.imbalance = imbalance
    if math.isfinite(bid) and math.isfinite(ask):
        state.mid = 0.5 * (bid + ask)
        # = (Q_ask bid + Q_bid ask) / (Q_bid + Q_ask), the mid when both are 0; clamped so that
        # rounding never puts it outside the touch
        micro = bid + (ask - bid) * imbalance
        state.micro = min(max(micro, min(bid, ask)), max(bid, ask))
        state.two_sided = 1.0
    else:
        state.mid = np.nan
        state.micro = np.nan
        state.two_sided = 0.0


@with_runtime
def _add_return(state, ts_ns, r):
    """Add the squared log return ``r`` observed at ``ts_ns`` (never before the EWMA's time nor
    the rolling ring's oldest bucket) to the volatility estimators."""
    _decay_to(state, ts_ns)
    r2 = r * r
    state.vol_num += r2
    state.base_num += r2
    b = ts_ns // np.int64(state.vr_q_ns)
    if b > np.int64(state.vr_last_b) - N_VOL_BUCKETS:
        state[R_VOL + b % N_VOL_BUCKETS] += r2
        state.vr_sum += r2


@with_runtime
def _close_grid(state, ts_ns):
    """Sampled volatility: close every grid point before or at ``ts_ns`` not closed yet, with the
    mid in force just before it (F_LAST_MID: called before a mid at ``ts_ns`` is recorded). The
    grid points passed since the last close all carry that same mid, so at most one return is
    non-zero: it is observed at the first of them."""
    q = np.int64(state.grid_q_ns)
    b = ts_ns // q
    last_b = np.int64(state.grid_b)
    if b <= last_b:
        return
    state.grid_b = float(b)
    mid = state.last_mid
    prev = state.grid_mid
    state.grid_mid = mid
    if mid != prev:
        _add_return(state, (last_b + 1) * q, math.log(mid / prev))


@with_runtime
def _record_mid(state, ts_ns, mid):
    """Feed a valid mid into the volatility estimators (per change, or via the sampling grid)."""
    if state.have_mid == 0.0:
        state.have_mid = 1.0
        state.first_mid_s = _whole_s(ts_ns)
        state.first_mid_ns = _rem_ns(ts_ns)
        state.num_ts_s = _whole_s(ts_ns)
        state.num_ts_ns = _rem_ns(ts_ns)
        if state.grid_q_ns > 0.0:  # the first sample: the first mid, at its own time
            state.grid_b = float(ts_ns // np.int64(state.grid_q_ns))
            state.grid_mid = mid
    elif state.grid_q_ns > 0.0:
        _close_grid(state, ts_ns)
    elif mid != state.last_mid:
        _add_return(state, ts_ns, math.log(mid / state.last_mid))
    state.last_mid = mid


@with_runtime
def features_on_top(state_array, ts_ns, bid, bid_qty, ask, ask_qty):
    """Feed the current best bid/ask (price NaN = that side is empty) at ``ts_ns``."""
    state = as_features(state_array)
    ts_ns = _advance(state, ts_ns)
    bid_qty = _clean_qty(bid, bid_qty)
    ask_qty = _clean_qty(ask, ask_qty)
    if not math.isfinite(bid):
        bid = np.nan
    if not math.isfinite(ask):
        ask = np.nan
    if state.have_top > 0.0:
        e = _ofi_event(
            state.bid, state.bid_qty, state.ask, state.ask_qty,
            bid, bid_qty, ask, ask_qty,
        )  # fmt: skip
        state[R_OFI + np.int64(state.or_last_b) % N_OFI_BUCKETS] += e
        state.or_sum += e
        state.ofi_scale = max(state.ofi_scale, abs(e))
    state.have_top = 1.0
    state.bid = bid
    state.bid_qty = bid_qty
    state.ask = ask
    state.ask_qty = ask_qty
    _update_book_outputs(state, bid, bid_qty, ask, ask_qty)
    mid = state.mid
    if math.isfinite(mid) and mid > 0.0:
        _record_mid(state, ts_ns, mid)

"""Order latency models and the latency guard (numba helpers; see engine/latency.py)."""

from __future__ import annotations

import math

import numpy as np

from mmopt.engine._jit import cold, hot
from mmopt.engine._slots import LAT_CONSTANT, LAT_DATA, LAT_RANDOM

LT_REQ = 0  # columns of the latency table (engine/latency.py LT_*)
LT_ENTRY = 1
LT_EXCH = 2
LT_RESP = 3


@hot
def _uniform(ctr):
    """splitmix64 on ctr.lat_rng -> a uniform draw in [0, 1)."""
    z = np.uint64(ctr.lat_rng) + np.uint64(0x9E3779B97F4A7C15)
    ctr.lat_rng = np.int64(z)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return float(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@cold
def random_latency(ctr, fc, median):
    """Lognormal around ``median`` (Box-Muller), times the spike multiplier with the spike
    probability; two or three draws per call, deterministic per seed."""
    u1 = _uniform(ctr)
    u2 = _uniform(ctr)
    z = math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)
    lat = float(median) * math.exp(fc.lat_sigma * z)
    if fc.spike_p > 0.0 and _uniform(ctr) < fc.spike_p:
        lat *= fc.spike_mult
    return np.int64(round(lat))


@cold
def table_latency(lat, tcol, vcol, t, interp):
    """The latency at ``t`` from the table: the first / last row's value outside its span,
    else linear interpolation between the rows around ``t`` (or the latest row's value)."""
    n = lat.shape[0]
    if t <= lat[0, tcol]:
        return lat[0, vcol]
    if t >= lat[n - 1, tcol]:
        return lat[n - 1, vcol]
    lo = 0
    hi = n - 1  # lat[lo, tcol] <= t < lat[hi, tcol]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if lat[mid, tcol] <= t:
            lo = mid
        else:
            hi = mid
    v0 = lat[lo, vcol]
    if not interp:
        return v0
    t0 = lat[lo, tcol]
    t1 = lat[hi, tcol]
    if t1 == t0:
        return v0
    frac = float(t - t0) / float(t1 - t0)
    return v0 + np.int64(round(float(lat[hi, vcol] - v0) * frac))


@hot
def _model_latency(E, t, constant_ns, tcol, vcol):
    """The latency model's value at ``t``: constant, seeded random around the constant, or the
    latency table (interpolated for recorded data) keyed by time column ``tcol``."""
    ctr, fc, ic, lat = E.ctr, E.fc, E.ic, E.lat
    model = ic.lat_model
    if model == LAT_CONSTANT:
        return constant_ns
    if model == LAT_RANDOM:
        return random_latency(ctr, fc, constant_ns)
    return table_latency(lat, tcol, vcol, t, model == LAT_DATA)


@hot
def entry_latency(E, t):
    """Entry latency of a request sent at local time ``t``."""
    return _model_latency(E, t, E.ic.entry_latency_ns, LT_REQ, LT_ENTRY)


@hot
def response_latency(E, t):
    """Response latency of a message the exchange sends at exchange time ``t``."""
    return _model_latency(E, t, E.ic.response_latency_ns, LT_EXCH, LT_RESP)


@hot
def record_ack(E, acks, t, latency, oid):
    """Store one ack latency (the kernel keeps room) and count it for the guard."""
    cnt, ctr, ic = E.cnt, E.ctr, E.ic
    k = cnt.acks
    acks.t[k] = t
    acks.lat[k] = latency
    acks.id[k] = oid
    cnt.acks = k + 1
    if ic.guard_ns > 0 and latency > ic.guard_ns:
        ctr.guard_above += 1


@hot
def guard_update(E, acks, t):
    """Latency guard at local time ``t`` (a no-op without a guard threshold)."""
    cnt, ctr, ic = E.cnt, E.ctr, E.ic
    if ic.guard_ns > 0:
        _guard_window(cnt, ctr, ic, acks, t)


@cold
def _guard_window(cnt, ctr, ic, acks, t):
    """The nearest-rank P99 of the acks received in (t - window, t] is above the threshold iff
    at least n - ceil(0.99 n) + 1 of those n acks are; quoting pauses while it is (an empty
    window resumes it)."""
    thr = ic.guard_ns
    head = ctr.guard_head
    start = t - ic.guard_win
    n_all = cnt.acks
    while head < n_all and acks.t[head] <= start:
        if acks.lat[head] > thr:
            ctr.guard_above -= 1
        head += 1
    ctr.guard_head = head
    n = n_all - head
    if n == 0:
        ctr.guard = 0
        return
    rank = math.ceil(0.99 * n - 1e-9)
    ctr.guard = 1 if ctr.guard_above >= n - rank + 1 else 0

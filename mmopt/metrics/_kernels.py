# mypy: allow-untyped-defs
"""numba kernels of the metrics: the sequential walks that numpy cannot vectorise.

Only the round-trip walk is a true loop over fills (each fill's meaning depends on the
position before it); everything else in ``mmopt.metrics`` is vectorised numpy.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def round_trip_pnls(side, qty, price, fee, position0, contract_size, inverse, eps):
    """Flat-to-flat round trips over fills in time order; returns (pnl per trip, last fill index).

    A trip opens on the first fill that leaves a flat position (|position| <= eps) and closes on
    the fill that brings the position back to flat or through it. A fill that flips the position
    is split by quantity: the part up to flat closes the trip (with that share of the fee), the
    remainder opens the next trip. Trip PnL is the sum of the trip's cash flows, net of fees:
    per unit, linear ``-side * price * contract_size``, inverse ``side * contract_size / price``.
    Fills before the first flat point (a position carried into the shard) belong to no trip;
    a trip still open after the last fill is not returned.
    """
    n = side.shape[0]
    pnls = np.empty(n, dtype=np.float64)
    ends = np.empty(n, dtype=np.int64)
    n_trips = 0
    pos = position0
    if abs(pos) <= eps:
        pos = 0.0
    in_trip = False
    acc = 0.0
    for i in range(n):
        s = float(side[i])
        q = qty[i]
        flow = s * contract_size / price[i] if inverse else -s * price[i] * contract_size
        new_pos = pos + s * q
        if abs(new_pos) <= eps:
            new_pos = 0.0
        if pos == 0.0:
            in_trip = True
            acc = flow * q - fee[i]
        elif new_pos == 0.0 or (new_pos > 0.0) != (pos > 0.0):
            close_q = abs(pos)
            if close_q > q:
                close_q = q
            share = close_q / q
            if in_trip:
                pnls[n_trips] = acc + flow * close_q - fee[i] * share
                ends[n_trips] = i
                n_trips += 1
            rest = q - close_q
            if new_pos != 0.0 and rest > 0.0:
                in_trip = True
                acc = flow * rest - fee[i] * (1.0 - share)
            else:
                in_trip = False
                acc = 0.0
        elif in_trip:
            acc += flow * q - fee[i]
        pos = new_pos
    return pnls[:n_trips].copy(), ends[:n_trips].copy()

"""Record layouts the engine returns and the metrics read (numpy structured dtypes).

Keep these stable: the metrics, the tracking and the ``--record`` writer read them by name.
Fields may be added at the end; never renamed or re-typed.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ACK_DTYPE", "EQUITY_DTYPE", "FILL_DTYPE", "ORDER_EVENT_DTYPE"]

# One row per fill of our orders, in the order they happened at the exchange.
FILL_DTYPE = np.dtype(
    [
        ("ts_ns", np.int64),  # exchange-side time of the fill (the event that filled it)
        ("order_id", np.int64),
        ("price", np.float64),
        ("qty", np.float64),  # always > 0; the direction is `side`
        ("fee", np.float64),  # paid (> 0) or rebate (< 0), in the account currency
        ("position_after", np.float64),
        ("cash_after", np.float64),
        ("mid", np.float64),  # market mid at the fill (NaN if a side of the book was empty)
        ("queue_ns", np.int64),  # time from the order's arrival at the exchange to its fill
        ("side", np.int8),  # +1 we bought, -1 we sold
        ("is_maker", np.bool_),
        # maker fills: how far inside-out our price was from the mid when the order was placed
        # (bid: mid - price, ask: price - mid; price units); NaN for taker fills
        ("quoted_half_spread", np.float64),
    ]
)

# One row per point of the fixed sampling grid (default 1 s), plus the final state.
EQUITY_DTYPE = np.dtype(
    [
        ("ts_ns", np.int64),
        ("mid", np.float64),
        ("position", np.float64),
        ("cash", np.float64),
        ("equity", np.float64),  # cash + position marked at mid, in the account currency
        ("fees", np.float64),  # cumulative fees paid minus rebates
        ("bid_quoted", np.bool_),  # a live bid of ours rests in the book at this point
        ("ask_quoted", np.bool_),
    ]
)

# One row per order action, for `--record` and inspection (not needed by the metrics).
ORDER_EVENT_DTYPE = np.dtype(
    [
        ("ts_ns", np.int64),
        ("order_id", np.int64),
        ("price", np.float64),
        ("qty", np.float64),
        ("action", np.int8),  # 1 submit, 2 arrive, 3 cancel request, 4 cancelled, 5 reject, 6 fill
        ("side", np.int8),
    ]
)

# One row per acknowledgement (or reject) of a new order of ours, in the order the strategy
# received them: the ack latency is the time from sending the order to receiving its answer.
ACK_DTYPE = np.dtype(
    [
        ("ts_ns", np.int64),  # local time the ack reached the strategy
        ("order_id", np.int64),
        ("latency_ns", np.int64),  # ts_ns minus the order's local send time
    ]
)

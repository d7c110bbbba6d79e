"""Public codes of ``ORDER_EVENT_DTYPE["action"]`` (``BacktestResult.order_events``): what
happened to an order. Compare with these names, never with bare numbers; the kernel writes the
same values (``_slots.ACT_*``, checked equal by tests/engine/test_engine_structure.py)."""

from __future__ import annotations

__all__ = [
    "ORDER_ARRIVE",
    "ORDER_CANCELLED",
    "ORDER_CANCEL_REQUEST",
    "ORDER_FILL",
    "ORDER_REJECT",
    "ORDER_SUBMIT",
]

ORDER_SUBMIT = 1  # the strategy sent a new order (local time)
ORDER_ARRIVE = 2  # it reached the exchange (exchange time): rests, fills or is rejected there
ORDER_CANCEL_REQUEST = 3  # the strategy sent a cancel request (local time)
ORDER_CANCELLED = 4  # the exchange cancelled it (on request, or at the session close)
ORDER_REJECT = 5  # the exchange rejected it (post-only crossing, outside the session, ...)
ORDER_FILL = 6  # it was filled (in part or in full) at the exchange

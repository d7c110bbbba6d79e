"""``price_follow`` that never quotes: the cost-split benchmarks' variant for the engine without
orders (replay, empty decisions).

``quote_size`` above ``max_position`` would not do: ``price_follow`` sizes a quote down to the
room left, so it still quoted 1 lot. No side shows the notional asked for here.
"""

from __future__ import annotations

from typing import Any

QUIET: dict[str, Any] = {"refill_interval_s": 0.0, "quote_size": 1, "max_position": 10,
                         "min_notional_before_quote": 1e300}


def check_quiet(bench: str, variant: str, n_submitted: int) -> None:
    """Stop the benchmark when a quiet variant sent orders (its numbers would include them)."""
    if n_submitted:
        raise SystemExit(f"{bench}: the quiet variant {variant!r} sent {n_submitted} orders")

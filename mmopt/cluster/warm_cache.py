"""``warm_support_kernels()``: numba's cache of the kernels a sweep runs besides the engine's.

The engine's kernel is compiled by ``mmopt.strategies.warm_up`` (one per strategy). A sweep on
the default synthetic data also runs smaller ``cache=True`` kernels, each compiled at its first
call: the synthetic market's simulation (data generation), the loader's row checks and packing
(``mmopt.data.validate``, every shard a worker loads) and the metrics' round trips (every shard
result). ``make venv`` used to cache only the first; the others cost a fresh clone's first
``mmopt sweep`` about 2.5 s, compiled where they first ran (each Ray worker at once).

This compiles them (or loads them, when the cache has them) by running each on a small input of
the exact types a sweep passes: a synthetic stream, written as a shard to a temporary folder and
read back as a worker reads it, and the round trips of two fills. ``make venv`` runs it beside
the engine's compile, on the core that compile leaves idle (docs/benchmarks.md, "Cold start").
"""

from __future__ import annotations

import tempfile
import time

import numpy as np

__all__ = ["WARM_DATE", "WARM_EVENTS", "warm_support_kernels"]

WARM_EVENTS = 2_000  # rows of the synthetic stream
WARM_DATE = "2024-01-02"  # the date of the temporary shard (any valid date)


def warm_support_kernels() -> float:
    """Compile or load the synthetic-data, shard-check, shard-packing and round-trip kernels;
    returns the seconds spent (imports included). Writes nothing outside a temporary folder."""
    start = time.perf_counter()
    from mmopt.data import generate_events, load_events, write_instruments_csv, write_shard
    from mmopt.engine import FILL_DTYPE
    from mmopt.metrics.trading import round_trips

    events, instrument = generate_events(WARM_EVENTS)
    with tempfile.TemporaryDirectory(prefix="mmopt-warm-") as root:
        write_shard(root, instrument.security, WARM_DATE, events)
        write_instruments_csv(root, [instrument])
        load_events(root, instrument.security, WARM_DATE)
    fills = np.zeros(2, dtype=FILL_DTYPE)  # one round trip; only the types matter here
    fills["side"], fills["qty"], fills["price"] = (1, -1), 1.0, 100.0
    round_trips(fills, 0.0, instrument)
    return time.perf_counter() - start

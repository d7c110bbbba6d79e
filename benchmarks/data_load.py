"""How fast one shard loads and validates: Parquet -> validated EVENT_DTYPE array.

Writes a synthetic 5 M-event shard (built with vectorised numpy) into a temporary root with an
instruments.csv (so the tick-grid check runs too), then times ``load_shard`` a few times.
CPU time is ``time.process_time`` (all threads of the process); wall time is
``time.perf_counter``. Prints a table and a final JSON line.

    .venv/bin/python benchmarks/data_load.py [--events 5000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from mmopt.data import (
    EVENT_DTYPE,
    KIND_ASK,
    KIND_ASK_LEVEL,
    KIND_BID,
    KIND_BID_LEVEL,
    KIND_TRADE,
    Instrument,
    write_instruments_csv,
    write_shard,
)
from mmopt.data.catalog import open_catalog
from mmopt.data.loader import load_shard
from mmopt.data.validate import validate_events

TICK = 0.01
LOT = 0.001


def make_events(n: int, seed: int = 0) -> np.ndarray:
    """A plausible shard: a mid on the tick grid, quotes, depth updates and trades."""
    rng = np.random.default_rng(seed)
    ev = np.zeros(n, dtype=EVENT_DTYPE)
    ts0 = 1_723_161_600_000_000_000
    ev["ts_ns"] = ts0 + np.cumsum(rng.exponential(4_000.0, n)).astype(np.int64)
    ev["exch_ts_ns"] = ev["ts_ns"] - 1_270_000_000
    kinds = np.array([KIND_BID, KIND_ASK, KIND_TRADE, KIND_BID_LEVEL, KIND_ASK_LEVEL], np.int8)
    kind = kinds[rng.choice(5, n, p=[0.06, 0.06, 0.03, 0.42, 0.43])]
    ev["kind"] = kind
    mid = 6_000_000 + np.cumsum(rng.choice([-1, 0, 1], n, p=[0.01, 0.98, 0.01]))
    depth = rng.geometric(0.3, n) - 1
    bidish = (kind == KIND_BID) | (kind == KIND_BID_LEVEL)
    ticks = np.where(bidish, mid - 1 - depth, mid + depth)
    is_trade = kind == KIND_TRADE
    side = np.where(rng.random(n) < 0.5, 1, -1).astype(np.int8)
    ticks = np.where(is_trade, np.where(side > 0, mid, mid - 1), ticks)
    top = (kind == KIND_BID) | (kind == KIND_ASK)
    ticks = np.where(top, np.where(kind == KIND_BID, mid - 1, mid), ticks)
    ev["price"] = ticks * TICK
    ev["qty"] = np.round(rng.lognormal(0.0, 1.0, n) / LOT) * LOT
    ev["side"] = np.where(is_trade, side, 0)
    ev["is_snapshot"][: min(n, 2_000)] = True
    return ev


def _time(fn: object, repeat: int) -> tuple[list[float], list[float]]:
    cpu, wall = [], []
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        fn()  # type: ignore[operator]
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return cpu, wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=5_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    events = make_events(args.events)
    with tempfile.TemporaryDirectory(prefix="mmopt-bench-") as tmp:
        root = Path(tmp)
        write_shard(root, "BENCH", "2024-08-09", events)
        write_instruments_csv(root, [Instrument("BENCH", tick_size=TICK, lot_size=LOT)])
        ref = open_catalog(root).get("BENCH", "2024-08-09")
        loaded = load_shard(ref)  # warm-up (imports, page cache)
        assert np.array_equal(loaded.events, events), "round trip changed the events"
        load_cpu, load_wall = _time(lambda: load_shard(ref), args.repeat)
        val_cpu, val_wall = _time(lambda: validate_events(events, "bench", TICK), args.repeat)

    n = args.events
    cpu_s = statistics.median(load_cpu)
    rows = [
        ("load_shard (read+convert+validate)", load_cpu, load_wall),
        ("  of which validate_events", val_cpu, val_wall),
    ]
    print(f"shard: {n:,} events, {ref.n_bytes / 1e6:.1f} MB Parquet (zstd); {args.repeat} runs")
    print(f"{'step':<38}{'cpu s med':>10}{'cpu s min':>10}{'wall s med':>11}{'Mev/s cpu':>12}")
    for name, c, w in rows:
        med = statistics.median(c)
        print(
            f"{name:<38}{med:>10.3f}{min(c):>10.3f}{statistics.median(w):>11.3f}"
            f"{n / med / 1e6:>12.1f}"
        )
    print(
        json.dumps(
            {
                "bench": "data_load",
                "events": n,
                "cpu_s": round(cpu_s, 4),
                "cpu_s_min": round(min(load_cpu), 4),
                "wall_s": round(statistics.median(load_wall), 4),
                "meps": round(n / cpu_s / 1e6, 2),
            }
        )
    )


if __name__ == "__main__":
    main()

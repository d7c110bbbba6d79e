"""Throughput of the metrics: one day of 1 s equity and many fills -> ShardMetrics -> trial.

Prints a table and a final JSON line ``{"bench": "metrics", ...}``.
"""

from __future__ import annotations

import json
import time

import numpy as np

from mmopt.data._schema import Instrument
from mmopt.engine._records import EQUITY_DTYPE, FILL_DTYPE
from mmopt.metrics import OrderCounts, aggregate, compute_shard_metrics

NS = 1_000_000_000
T0 = 1_723_161_600 * NS  # 2024-08-09 00:00 UTC


def make_inputs(n_equity: int, n_fills: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    equity = np.zeros(n_equity, dtype=EQUITY_DTYPE)
    equity["ts_ns"] = T0 + np.arange(n_equity, dtype=np.int64) * NS
    equity["mid"] = 60_000 + np.cumsum(rng.normal(0, 5, n_equity))
    equity["equity"] = np.cumsum(rng.normal(0, 1, n_equity))
    equity["position"] = rng.integers(-5, 6, n_equity) * 0.001
    equity["bid_quoted"] = rng.random(n_equity) < 0.9
    equity["ask_quoted"] = rng.random(n_equity) < 0.9
    fills = np.zeros(n_fills, dtype=FILL_DTYPE)
    fills["ts_ns"] = np.sort(rng.integers(T0, equity["ts_ns"][-1], n_fills))
    fills["side"] = rng.choice(np.array([1, -1], dtype=np.int8), n_fills)
    fills["qty"] = rng.integers(1, 4, n_fills) * 0.001
    fills["position_after"] = np.cumsum(fills["side"] * fills["qty"])
    idx = np.searchsorted(equity["ts_ns"], fills["ts_ns"], side="right") - 1
    fills["mid"] = equity["mid"][idx]
    fills["price"] = fills["mid"] - fills["side"] * 0.05
    fills["fee"] = fills["price"] * fills["qty"] * -0.0001
    fills["is_maker"] = True
    return fills, equity


def main() -> None:
    inst = Instrument("BENCH.BTCUSDT", tick_size=0.1, lot_size=0.001, quote_currency="USDT")
    rows = []
    for n_fills in (1_000, 100_000, 1_000_000):
        fills, equity = make_inputs(86_400, n_fills)
        quoted = np.full(n_fills, 0.05)
        orders = OrderCounts(submitted=3 * n_fills, cancelled=2 * n_fills, filled=n_fills)
        compute_shard_metrics(fills[:10], equity, orders, inst, 0.01)  # warm the numba cache
        start = time.perf_counter()
        shard = compute_shard_metrics(fills, equity, orders, inst, 0.01, quoted_half_spread=quoted)
        shard_s = time.perf_counter() - start
        start = time.perf_counter()
        aggregate([shard] * 100)
        agg_s = time.perf_counter() - start
        rows.append(
            {
                "fills": n_fills,
                "equity_points": 86_400,
                "shard_ms": shard_s * 1e3,
                "aggregate_100_shards_ms": agg_s * 1e3,
            }
        )
    print(f"{'fills':>10} {'equity pts':>11} {'shard ms':>10} {'agg(100) ms':>12}")
    for r in rows:
        print(
            f"{r['fills']:>10} {r['equity_points']:>11} {r['shard_ms']:>10.1f} "
            f"{r['aggregate_100_shards_ms']:>12.1f}"
        )
    print(json.dumps({"bench": "metrics", "rows": rows}))


if __name__ == "__main__":
    main()

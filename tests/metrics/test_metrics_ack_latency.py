"""Ack latency P50/P99 per shard (nearest rank), the trial's worst shard, the KPI target."""

from __future__ import annotations

import math

import numpy as np
from metrics_builders import LINEAR, make_equity, make_fills

from mmopt.metrics import KpiTargets, OrderCounts, aggregate, compute_shard_metrics, kpi_table

MS = 1_000_000


def _shard(latencies_ms: list[float] | None, label: str = "d1"):
    lat = None if latencies_ms is None else np.array(latencies_ms, dtype=np.float64) * MS
    return compute_shard_metrics(
        make_fills([]), make_equity([0.0, 60.0], [0.0, 0.0]), OrderCounts(submitted=4), LINEAR,
        10.0, label=label, ack_latency_ns=None if lat is None else lat.astype(np.int64))


def test_nearest_rank_percentiles_per_shard() -> None:
    # 100 acks: 1..100 ms -> P50 = 50 ms, P99 = 99 ms (the 99th smallest)
    s = _shard([float(k) for k in range(100, 0, -1)])
    assert (s.ack_latency_p50_ms, s.ack_latency_p99_ms) == (50.0, 99.0)
    two = _shard([2.0, 400.0])  # P50 = the 1st of 2, P99 = the 2nd
    assert (two.ack_latency_p50_ms, two.ack_latency_p99_ms) == (2.0, 400.0)
    assert math.isnan(_shard(None).ack_latency_p99_ms)
    assert math.isnan(_shard([]).ack_latency_p50_ms)


def test_trial_takes_the_worst_shard_and_the_seed_target_is_300ms() -> None:
    trial = aggregate([_shard([5.0, 10.0], "d1"), _shard([20.0, 350.0], "d2"), _shard(None, "d3")])
    assert (trial.ack_latency_p50_ms, trial.ack_latency_p99_ms) == (20.0, 350.0)
    assert trial.as_dict()["ack_latency_p99_ms"] == 350.0
    row = [r for r in kpi_table(trial, KpiTargets()) if r.name == "ack_latency_p99_ms"]
    assert len(row) == 1 and row[0].target == 300.0 and not row[0].passed
    fast = aggregate([_shard([5.0, 10.0])])
    assert [r.passed for r in kpi_table(fast) if r.name == "ack_latency_p99_ms"] == [True]

"""Metrics of backtests: per-shard sufficient statistics, exact pooling per trial, KPIs.

Typical use (a worker, then the driver)::

    shard = compute_shard_metrics(fills, equity, OrderCounts(...), instrument, max_position)
    trial = aggregate([shard, ...])
    trial.as_dict()                        # {name: float} for MLflow, names = METRIC_NAMES
    kpi_table(trial, KpiTargets())         # pass/fail rows
    kpi_constraints(trial, KpiTargets())   # Optuna constraints_func values (<= 0 = feasible)
"""

from mmopt.metrics.aggregate import aggregate, per_security_stats
from mmopt.metrics.kpi import (
    UNEVALUABLE_VIOLATION,
    KpiRow,
    KpiTargets,
    kpi_constraints,
    kpi_table,
)
from mmopt.metrics.result import (
    METRIC_NAMES,
    OrderCounts,
    SecurityStats,
    ShardMetrics,
    TrialMetrics,
)
from mmopt.metrics.risk import annualisation_factor
from mmopt.metrics.shard import DEFAULT_INTERVAL_S, compute_shard_metrics
from mmopt.metrics.trading import MARKOUT_HORIZONS_S

__all__ = [
    "DEFAULT_INTERVAL_S",
    "MARKOUT_HORIZONS_S",
    "METRIC_NAMES",
    "UNEVALUABLE_VIOLATION",
    "KpiRow",
    "KpiTargets",
    "OrderCounts",
    "SecurityStats",
    "ShardMetrics",
    "TrialMetrics",
    "aggregate",
    "annualisation_factor",
    "compute_shard_metrics",
    "kpi_constraints",
    "kpi_table",
    "per_security_stats",
]

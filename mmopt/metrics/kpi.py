"""KPI targets, the pass/fail table and the constraint vector Optuna's ``constraints_func`` wants.

Seed defaults: spread captured >= 70 %, RMS inventory <= 0.4 x max position, fill ratio
>= 5 %, cancel ratio <= 70 %, ack latency P99 <= 300 ms (the worst shard's). A target set to
``None`` is not checked.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal

from mmopt.errors import ConfigError
from mmopt.metrics.result import TrialMetrics

__all__ = ["UNEVALUABLE_VIOLATION", "KpiRow", "KpiTargets", "kpi_constraints", "kpi_table"]

KpiOp = Literal[">=", "<="]

# Constraint value of a KPI whose metric is NaN (e.g. no orders, so no fill ratio): violated.
UNEVALUABLE_VIOLATION = 1.0

# target field -> (metric name in METRIC_NAMES, comparison)
_TARGETS: dict[str, tuple[str, KpiOp]] = {
    "spread_captured_min": ("spread_captured", ">="),
    "rms_inventory_ratio_max": ("rms_inventory_ratio", "<="),
    "fill_ratio_min": ("fill_ratio", ">="),
    "cancel_ratio_max": ("cancel_ratio", "<="),
    "ack_latency_p99_ms_max": ("ack_latency_p99_ms", "<="),
}


@dataclass(frozen=True, slots=True)
class KpiTargets:
    """Targets as fractions (0.7 = 70 %); ``rms_inventory_ratio_max`` is in units of max
    position, ``ack_latency_p99_ms_max`` in milliseconds. ``None`` disables a target."""

    spread_captured_min: float | None = 0.70
    rms_inventory_ratio_max: float | None = 0.40
    fill_ratio_min: float | None = 0.05
    cancel_ratio_max: float | None = 0.70
    ack_latency_p99_ms_max: float | None = 300.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"kpi.{f.name}: expected a number or null, got {value!r}")
            if not math.isfinite(value) or value < 0:
                raise ConfigError(
                    f"kpi.{f.name}: must be a finite fraction >= 0 (0.7 = 70 %), got {value}"
                )

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> KpiTargets:
        """Build from a config mapping, rejecting unknown keys with the list of known ones."""
        unknown = sorted(set(values) - set(_TARGETS))
        if unknown:
            raise ConfigError(
                f"kpi: unknown key(s) {', '.join(unknown)}; known keys: {', '.join(_TARGETS)}"
            )
        return cls(**dict(values))

    def active(self) -> tuple[tuple[str, KpiOp, float], ...]:
        """(metric name, op, target) of every enabled target, in a fixed order."""
        out = []
        for key, (metric, op) in _TARGETS.items():
            target = getattr(self, key)
            if target is not None:
                out.append((metric, op, float(target)))
        return tuple(out)


@dataclass(frozen=True, slots=True)
class KpiRow:
    """One line of the KPI table; ``passed`` is False when ``value`` is NaN."""

    name: str
    value: float
    target: float
    op: KpiOp
    passed: bool


def _values(metrics: TrialMetrics | Mapping[str, float]) -> Mapping[str, float]:
    return metrics.as_dict() if isinstance(metrics, TrialMetrics) else metrics


def kpi_table(
    metrics: TrialMetrics | Mapping[str, float], targets: KpiTargets | None = None
) -> tuple[KpiRow, ...]:
    """Pass/fail rows for the enabled targets (defaults: the seed's KPIs)."""
    values = _values(metrics)
    rows = []
    for name, op, target in (targets or KpiTargets()).active():
        value = float(values.get(name, math.nan))  # absent: not evaluable
        passed = value >= target if op == ">=" else value <= target
        rows.append(KpiRow(name=name, value=value, target=target, op=op, passed=bool(passed)))
    return tuple(rows)


def kpi_constraints(
    metrics: TrialMetrics | Mapping[str, float], targets: KpiTargets | None = None
) -> tuple[float, ...]:
    """Constraint values, <= 0 when satisfied (Optuna's ``constraints_func`` convention).

    ``>=`` targets give ``target - value``; ``<=`` targets give ``value - target``; a NaN
    value gives ``UNEVALUABLE_VIOLATION`` (Optuna rejects NaN constraints).
    """
    out = []
    for row in kpi_table(metrics, targets):
        if math.isnan(row.value):
            out.append(UNEVALUABLE_VIOLATION)
        elif row.op == ">=":
            out.append(row.target - row.value)
        else:
            out.append(row.value - row.target)
    return tuple(out)

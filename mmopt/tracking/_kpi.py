"""Which KPI targets a trial misses, as short text (console summary, MLflow tags, report)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mmopt.metrics import KpiTargets

__all__ = ["kpi_shortfalls"]


def kpi_shortfalls(metrics: Mapping[str, float], targets: KpiTargets) -> tuple[str, ...]:
    """One ``"fill_ratio 0.0041 (target >= 0.005)"`` per enabled target the metrics miss
    (a NaN value misses its target); empty when every target is met."""
    from mmopt.metrics import kpi_table

    return tuple(
        f"{row.name} {row.value:.4g} (target {row.op} {row.target:g})"
        for row in kpi_table(metrics, targets)
        if not row.passed
    )

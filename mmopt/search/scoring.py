"""Shard metrics of one trial -> its metrics, objective values and constraint values."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from mmopt.config import ObjectiveConfig
from mmopt.metrics import ShardMetrics, TrialMetrics, aggregate
from mmopt.tracking import SecurityMetrics

__all__ = ["Score", "per_security", "score", "shard_value"]


@dataclass(frozen=True, slots=True, eq=False)
class Score:
    metrics: TrialMetrics
    values: tuple[float, ...]
    constraints: tuple[float, ...]

    @property
    def has_nan(self) -> bool:
        return any(math.isnan(v) for v in self.values)


def _aggregate(shards: Sequence[ShardMetrics]) -> TrialMetrics:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mixed currencies: said once at sweep start
        return aggregate(shards)


def score(shards: Sequence[ShardMetrics], objective: ObjectiveConfig) -> Score:
    """Pool the shards exactly (mmopt.metrics.aggregate), then the objectives and constraints."""
    metrics = _aggregate(shards)
    values = metrics.as_dict()
    return Score(metrics, objective.evaluate(values), objective.constraints(values))


def shard_value(shard: ShardMetrics, objective: ObjectiveConfig) -> float:
    """The first objective on one shard alone (Wilcoxon pruning compares shards pairwise)."""
    return objective.objectives[0].evaluate(_aggregate([shard]).as_dict())


def per_security(shards: Sequence[ShardMetrics]) -> tuple[SecurityMetrics, ...]:
    """Every metric per security, each pooled over that security's shards."""
    out = []
    for security in sorted({s.security for s in shards}):
        own = [s for s in shards if s.security == security]
        out.append(SecurityMetrics(security, tuple(_aggregate(own).as_dict().items())))
    return tuple(out)

"""The run configuration: frozen, typed, validated once, hashed.

The CLI composes ``conf/`` with Hydra and calls ``from_hydra`` once; everything below it gets a
``RunConfig`` and never a DictConfig. Every bad key or value fails here, before any work, with a
``ConfigError`` naming the full key (``search.params.gamma: low (2.0) > high (1.0)``).
``config_id`` is a short hash of the canonical JSON (see ``ID_EXCLUDES`` for what it ignores).
"""

from __future__ import annotations

from mmopt.config._convert import from_hydra
from mmopt.config._expr import LinearExpr
from mmopt.config._ids import ID_EXCLUDES, canonical_json, config_id, to_dict
from mmopt.config._known import conf_dir, metric_names, strategy_names
from mmopt.config._shards import ensure_generated, open_shards
from mmopt.config._types import (
    DataConfig,
    EngineSettings,
    ExecutorConfig,
    FoldDates,
    ObjectiveConfig,
    ObjectiveSpec,
    ParamSpec,
    PrunerConfig,
    RunConfig,
    SamplerConfig,
    SearchSpace,
    SelectionConfig,
    StrategyConfig,
    StudyConfig,
    TrackingConfig,
    ValidationConfig,
)

__all__ = [
    "ID_EXCLUDES",
    "DataConfig",
    "EngineSettings",
    "ExecutorConfig",
    "FoldDates",
    "LinearExpr",
    "ObjectiveConfig",
    "ObjectiveSpec",
    "ParamSpec",
    "PrunerConfig",
    "RunConfig",
    "SamplerConfig",
    "SearchSpace",
    "SelectionConfig",
    "StrategyConfig",
    "StudyConfig",
    "TrackingConfig",
    "ValidationConfig",
    "canonical_json",
    "conf_dir",
    "config_id",
    "ensure_generated",
    "from_hydra",
    "metric_names",
    "open_shards",
    "strategy_names",
    "to_dict",
]

"""Experiment tracking: the protocol the sweep driver calls, a null tracker, MLflow.

See ``/tmp/team/tracking_api.md`` (and ``_protocol.py``) for the contract. ``MlflowTracker``,
``TrackingWarning`` and ``TrackingStats`` are loaded on first use, so that ``tracking=none``
never imports MLflow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mmopt.tracking._factory import make_tracker
from mmopt.tracking._kpi import kpi_shortfalls
from mmopt.tracking._protocol import (
    SecurityMetrics,
    ShardCurve,
    SweepInfo,
    SweepSummary,
    Tracker,
    TrialRecord,
    TrialState,
)
from mmopt.tracking._stats import TrackingStats
from mmopt.tracking._uri import TrackingLocation, resolve_location
from mmopt.tracking.null import NullTracker
from mmopt.tracking.study_summary import FoldRow, StudySummary

if TYPE_CHECKING:
    from mmopt.tracking.mlflow import MlflowTracker, TrackingWarning

__all__ = [
    "FoldRow",
    "MlflowTracker",
    "NullTracker",
    "SecurityMetrics",
    "ShardCurve",
    "StudySummary",
    "SweepInfo",
    "SweepSummary",
    "Tracker",
    "TrackingLocation",
    "TrackingStats",
    "TrackingWarning",
    "TrialRecord",
    "TrialState",
    "kpi_shortfalls",
    "make_tracker",
    "resolve_location",
]

_LAZY = {"MlflowTracker", "TrackingWarning"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from mmopt.tracking import mlflow as _mlflow_tracker

        return getattr(_mlflow_tracker, name)
    raise AttributeError(f"module 'mmopt.tracking' has no attribute {name!r}")

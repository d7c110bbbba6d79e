"""Experiment tracking: the protocol the sweep driver calls, a null tracker, MLflow.

See ``/tmp/team/tracking_api.md`` (and ``_protocol.py``) for the contract.
"""

from __future__ import annotations

from mmopt.tracking._factory import make_tracker
from mmopt.tracking._protocol import (
    SecurityMetrics,
    ShardCurve,
    SweepInfo,
    SweepSummary,
    Tracker,
    TrialRecord,
    TrialState,
)
from mmopt.tracking.null import NullTracker

__all__ = [
    "NullTracker",
    "SecurityMetrics",
    "ShardCurve",
    "SweepInfo",
    "SweepSummary",
    "Tracker",
    "TrialRecord",
    "TrialState",
    "make_tracker",
]

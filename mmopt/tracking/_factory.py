"""``make_tracker``: the tracker a TrackingConfig names."""

from __future__ import annotations

import importlib
from pathlib import Path

from mmopt.config import TrackingConfig
from mmopt.errors import ConfigError
from mmopt.tracking._protocol import Tracker
from mmopt.tracking._report_writer import ReportWriter
from mmopt.tracking.null import NullTracker

__all__ = ["make_tracker"]


def make_tracker(
    config: TrackingConfig, run_dir: str | Path, *, report_writer: ReportWriter | None = None
) -> Tracker:
    """``tracking=none`` -> NullTracker; ``tracking=mlflow`` -> ``mmopt.tracking.mlflow``'s
    ``MlflowTracker(config, run_dir, report_writer=report_writer)`` (the sweep driver passes
    ``mmopt.report.write_report``; None writes no report)."""
    if config.name == "none":
        return NullTracker()
    try:
        module = importlib.import_module("mmopt.tracking.mlflow")
    except ModuleNotFoundError as exc:
        if exc.name != "mmopt.tracking.mlflow":
            raise
        raise ConfigError(
            "tracking.name: the MLflow tracker is not available in this install; use tracking=none"
        ) from None
    tracker: Tracker = module.MlflowTracker(config, Path(run_dir), report_writer=report_writer)
    return tracker

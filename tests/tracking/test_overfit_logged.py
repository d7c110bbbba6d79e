"""The study's overfitting statistics land on the MLflow parent run: metrics, verdict tags,
and summary.json with the logit histogram among the report artifacts."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from tracking_builders import copy_store, sweep_info, trial

from mmopt.config import TrackingConfig
from mmopt.metrics.overfit_report import overfit_report
from mmopt.metrics.overfitting import sample_moments
from mmopt.metrics.slices import TrialSlices
from mmopt.report import write_report
from mmopt.tracking import MlflowTracker, StudySummary, SweepSummary


def _columns(n: int) -> list[TrialSlices]:
    rng = np.random.default_rng(8)
    out = []
    for k in range(n):
        pnl = rng.normal(0.3 * k, 1.0, 128)
        mean, std, skew, kurt = sample_moments(pnl)
        down = math.sqrt(float(np.mean(np.minimum(pnl, 0.0) ** 2)))
        out.append(TrialSlices(tuple(pnl.tolist()), 128, 60.0, 7680.0, mean, std, skew, kurt,
                               down))
    return out


def test_parent_run_gets_pbo_deflated_sharpe_and_the_verdict(
    mlflow_template: Path, tmp_path: Path
) -> None:
    copy_store(mlflow_template, tmp_path)
    tracker = MlflowTracker(TrackingConfig(name="mlflow", experiment="honest"), tmp_path,
                            background=False, report_writer=write_report)
    tracker.start(sweep_info(tmp_path))
    tracker.log_trials([trial(0), trial(1)])
    columns = _columns(5)
    report = overfit_report(columns[-1], columns, n_tried=5)
    study = StudySummary("s", "finished", 5, 0, 0, 1, True, (("x", 1.0),), ("score",),
                         (2.0,), (1.5,), ("2024-01-03",), report)
    tracker.finish(SweepSummary("finished", 2, 0, 0, 1.0, (trial(1),), None, (),
                                report=study))
    io = tracker._io
    assert io is not None
    parent = io.client.get_run(str(tracker.parent_run_id))
    metrics, tags = parent.data.metrics, parent.data.tags
    assert metrics["overfit.pbo"] == report.pbo_value
    assert metrics["overfit.deflated_sharpe"] == report.dsr
    assert metrics["overfit.psr"] == report.psr
    assert metrics["objective_out_of_sample"] == 1.5
    assert metrics["best.n_intervals"] == 128.0
    assert tags["overfit.verdict"] == report.verdict == "holds_up"
    assert tags["overfit.verdict_text"] == report.text
    artifacts = {a.path for a in io.client.list_artifacts(str(tracker.parent_run_id), "report")}
    assert {"report/summary.json", "report/overfit_logits.png"} <= artifacts

"""Walk-forward report files and the sensitivity slices, from hand-made folds and curves."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from tracking_builders import curves, toy_study, trial

from mmopt.report import write_report
from mmopt.report._walk_forward import _trading_series
from mmopt.tracking import (
    FoldResult,
    FoldTrial,
    ParamStability,
    SweepSummary,
    WalkForwardSummary,
)

PNG = b"\x89PNG\r\n\x1a\n"


def _fold(index: int, chosen_oos: float, other_oos: float) -> FoldResult:
    day = f"2026-01-0{index + 2}"
    return FoldResult(
        index=index, study_name=f"s-fold{index}", train_dates=("2026-01-01",),
        test_dates=(day,), n_complete=4, n_pruned=1, n_failed=0, top_k=2,
        rerun=(FoldTrial(3, 1, 10.0, chosen_oos, (("gamma", 0.2),)),
               FoldTrial(1, 2, 8.0, other_oos, (("gamma", 0.5),))),
        chosen=3,
    )


def _wf() -> WalkForwardSummary:
    folds = (_fold(0, 2.0, 5.0), _fold(1, 4.0, 1.0))
    shard_curves = curves(("A",), days=2)
    return WalkForwardSummary(
        folds=folds, objective_name="score", maximize=True, stitched_value=6.0,
        stitched_metrics=(("net_pnl", 6.0),),
        stability=(ParamStability("gamma", (0.2, 0.2), 0.0, 0.2, 0.0),),
        curves=tuple((i, c) for i, c in enumerate(shard_curves)),
    )


def test_fold_rows_winners_and_ranks() -> None:
    first, second = _wf().folds
    assert first.oos_winner(maximize=True).number == 1  # rank 2 in-sample won out of sample
    assert first.oos_winner(maximize=False).number == 3
    assert second.oos_winner(maximize=True).in_sample_rank == 1
    assert first.chosen_trial is not None and first.chosen_trial.oos_value == 2.0


def test_walk_forward_report_writes_the_fold_table_stability_and_stitched_curve(
    tmp_path: Path,
) -> None:
    summary = SweepSummary(status="finished", n_complete=8, n_pruned=2, n_failed=0,
                           elapsed_s=1.0, best=(trial(4),), holdout=None, best_curves=(),
                           study=toy_study(10), walk_forward=_wf())
    report = write_report(summary, tmp_path, ("score",))
    names = set(report.names())
    assert {"walk_forward_folds.csv", "walk_forward_folds.md", "param_stability.csv",
            "walk_forward_equity.png", "sensitivity.png"} <= names
    rows = list(csv.DictReader((tmp_path / "walk_forward_folds.csv").open()))
    assert [(r["fold"], r["trial"], r["chosen"]) for r in rows] == [
        ("0", "3", "True"), ("0", "1", "False"), ("1", "3", "True"), ("1", "1", "False")]
    assert rows[1]["out_of_sample_score"] == "5"
    md = (tmp_path / "walk_forward_folds.md").read_text()
    assert "stitched out-of-sample score: 6" in md
    assert "| 0 | 2026-01-01 | 2026-01-02 | 4/1/0 | 3 | 10 | 2 | 1 | 2 |" in md
    assert (tmp_path / "walk_forward_equity.png").read_bytes()[:8] == PNG
    assert "walk-forward: 2 fold(s)" in (tmp_path / "index.md").read_text()


def test_stitched_curve_joins_test_days_in_trading_time() -> None:
    day1, day2 = curves(("A",), days=2, n=50)
    hours, pnl, starts = _trading_series([(0, day1), (1, day2)])
    assert hours[0] == 0.0 and np.all(np.diff(hours) >= 0)
    # two 49 s sessions one 1 s step apart: the night between them removed
    assert hours[-1] == pytest.approx((49 + 1 + 49) / 3600)
    assert np.max(np.diff(hours)) <= 1 / 3600 + 1e-12
    assert pnl[-1] == 2 * 49.0  # day 2 starts where day 1 ended
    assert [fold for _, fold in starts] == [0, 1]

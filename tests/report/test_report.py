"""Report files from hand-made trials and tiny in-memory Optuna studies."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import optuna
import pytest
import yaml
from tracking_builders import curves, toy_study, trial

from mmopt.engine._records import EQUITY_DTYPE, FILL_DTYPE
from mmopt.report import (
    write_curves,
    write_report,
    write_security_tables,
    write_study_plots,
)
from mmopt.report._curves import security_series
from mmopt.tracking import ShardCurve, SweepSummary

PNG = b"\x89PNG\r\n\x1a\n"


def _is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == PNG and path.stat().st_size > 2000


def _summary(
    study: optuna.Study | None, best: tuple = (), with_curves: bool = True
) -> SweepSummary:
    return SweepSummary(
        status="finished",
        n_complete=len(best),
        n_pruned=0,
        n_failed=0,
        elapsed_s=3.0,
        best=best,
        holdout=None,
        best_curves=curves() if with_curves else (),
        study=study,
    )


def test_single_objective_report(tmp_path: Path) -> None:
    report = write_report(_summary(toy_study(10), (trial(4),)), tmp_path, ("score",))
    assert report.names() == (
        "best_trial_securities.csv",
        "best_trial_securities.md",
        "best_trial_securities.html",
        "best_params.yaml",
        "best_equity.png",
        "best_inventory.png",
        "sensitivity.png",
        "optuna_history.png",
        "optuna_importances.png",
        "optuna_parallel_coordinates.png",
        "index.md",
    )
    assert report.skipped == ()
    for path in report.files:
        assert path.parent == tmp_path and path.exists()
        if path.suffix == ".png":
            assert _is_png(path), path
    index = (tmp_path / "index.md").read_text()
    assert "best trial: 4 (40)" in index and "[optuna_history.png]" in index


def test_multi_objective_report_has_the_pareto_front(tmp_path: Path) -> None:
    study = toy_study(12, ("maximize", "minimize"))
    front = tuple(trial(t.number, values=tuple(t.values)) for t in study.best_trials)
    report = write_report(_summary(study, front), tmp_path, ("net pnl", "cvar95"))
    names = set(report.names())
    assert {
        "optuna_pareto_front.png",
        "optuna_history_net_pnl.png",
        "optuna_history_cvar95.png",
        "optuna_importances_net_pnl.png",
        "optuna_parallel_coordinates_cvar95.png",
        "pareto_front.csv",
    } <= names
    assert _is_png(tmp_path / "optuna_pareto_front.png")
    with (tmp_path / "pareto_front.csv").open() as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["trial", "net pnl", "cvar95", "gamma", "k"]
    assert [int(r[0]) for r in rows[1:]] == [t.number for t in study.best_trials]


def test_too_small_study_skips_importances_with_the_reason(tmp_path: Path) -> None:
    files, skipped = write_study_plots(toy_study(1), tmp_path)
    assert [p.name for p in files] == ["optuna_history.png", "optuna_parallel_coordinates.png"]
    assert skipped == [
        (
            "optuna_importances.png",
            "needs at least 2 complete trials, the study has 1",
        )
    ]


def test_study_without_complete_trials_writes_no_plot(tmp_path: Path) -> None:
    study = optuna.create_study()
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL))
    files, skipped = write_study_plots(study, tmp_path)
    assert files == [] and skipped == [("optuna_*.png", "no complete trial in the study")]


def test_report_without_best_or_study_still_writes_an_index(tmp_path: Path) -> None:
    report = write_report(_summary(None, (), with_curves=False), tmp_path)
    assert report.names() == ("index.md",)
    assert dict(report.skipped) == {
        "best_trial_securities.*": "no complete feasible trial",
        "optuna_*.png": "no study given",
    }


def test_security_table_numbers(tmp_path: Path) -> None:
    best = trial(2, net_pnl=50.0, extra_metrics=[("sharpe", float("nan"))])
    csv_path, md_path, html_path = write_security_tables(best, tmp_path)
    with csv_path.open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["security"] for r in rows] == ["SYN0", "SYN1", "ALL"]
    assert [r["net_pnl"] for r in rows] == ["25", "26", "50"]
    assert [r["fills"] for r in rows] == ["1", "2", "3"]
    assert [r["sharpe"] for r in rows] == ["", "", "nan"]
    md = md_path.read_text().splitlines()
    assert md[0] == "# Best trial 2 (objective 50) per security"
    assert md[2] == "| security | net_pnl | fills | sharpe |"
    assert md[4] == "| SYN0 | 25 | 1 |  |"
    assert "<td>SYN1</td><td>26</td>" in html_path.read_text()


def test_best_params_yaml_is_ready_to_pass_back(tmp_path: Path) -> None:
    write_report(_summary(None, (trial(1),), with_curves=False), tmp_path)
    params = yaml.safe_load((tmp_path / "best_params.yaml").read_text())
    assert params == {"gamma": 0.2, "k": 2, "horizon_s": 60.0}


def test_curves_accumulate_pnl_over_days_and_break_between_them() -> None:
    shards = [c for c in curves(("A",), days=2, n=5)]
    series = security_series(list(reversed(shards)))  # order comes from the dates
    pnl, position = series.pnl, series.position
    assert np.array_equal(pnl[:5], [0, 1, 2, 3, 4])
    assert np.isnan(pnl[5]) and np.isnan(series.hours[5])
    assert [date for _, date in series.day_starts] == [c.date for c in shards]
    assert np.array_equal(pnl[6:11], [4, 5, 6, 7, 8])  # day 2 starts where day 1 ended
    assert np.array_equal(position[:5], shards[0].equity["position"])


def test_long_curves_are_thinned_and_empty_ones_skipped(tmp_path: Path) -> None:
    eq = np.zeros(200_000, EQUITY_DTYPE)
    eq["ts_ns"] = np.arange(eq.size, dtype=np.int64) * 10**9
    eq["equity"] = np.arange(eq.size)
    empty = np.zeros(0, EQUITY_DTYPE)
    shards = [
        ShardCurve("A", "2026-01-01", eq, np.zeros(0, FILL_DTYPE)),
        ShardCurve("A", "2026-01-02", empty, np.zeros(0, FILL_DTYPE)),
    ]
    pnl = security_series(shards).pnl
    assert pnl.size == 5001 and pnl[4999] == eq.size - 1
    files = write_curves(shards, tmp_path, "t")
    assert [p.name for p in files] == ["best_equity.png", "best_inventory.png"]
    assert all(_is_png(p) for p in files)
    assert write_curves([], tmp_path, "t") == []


def test_curves_are_drawn_in_trading_time_without_gaps() -> None:
    """Two days, each with a lunch break: on the plotted axis consecutive samples are never
    further apart than the sampling interval (overnight and lunch hours left out)."""
    step = 10**9  # 1 s grid
    days = []
    for d in range(2):
        morning = np.arange(0, 600) * step
        afternoon = np.arange(3600, 4200) * step  # an hour's break after 10 minutes
        eq = np.zeros(1200, EQUITY_DTYPE)
        eq["ts_ns"] = (d * 86_400 + 9 * 3600) * 10**9 + np.concatenate([morning, afternoon])
        eq["equity"] = np.arange(eq.size)
        days.append(ShardCurve("A", f"2026-01-0{d + 1}", eq, np.zeros(0, FILL_DTYPE)))
    series = security_series(days)
    drawn = series.hours[~np.isnan(series.hours)]
    assert np.all(np.diff(drawn) > 0)
    assert np.max(np.diff(drawn)) <= 1 / 3600 + 1e-12  # never more than one 1 s step
    assert drawn[-1] == pytest.approx((2 * 1200 - 1) / 3600)  # 2 x 20 min of trading
    assert series.day_starts == ((0.0, "2026-01-01"), (pytest.approx(1200 / 3600),
                                                       "2026-01-02"))


@pytest.mark.parametrize("n_objectives", [4])
def test_more_than_three_objectives_skip_the_pareto_plot(tmp_path: Path, n_objectives: int) -> None:
    study = optuna.create_study(directions=["maximize"] * n_objectives)
    study.optimize(lambda t: [t.suggest_float("x", 0, 1) * i for i in range(4)], n_trials=3)
    files, skipped = write_study_plots(study, tmp_path)
    assert ("optuna_pareto_front.png", "4 objectives (plots 2 or 3 only)") in skipped
    assert "optuna_history_objective_3.png" in {p.name for p in files}


def test_overfitting_plot_and_summary_json_join_the_report(tmp_path: Path) -> None:
    import json
    import math

    from mmopt.metrics.overfit_report import overfit_report
    from mmopt.metrics.overfitting import sample_moments
    from mmopt.metrics.slices import TrialSlices
    from mmopt.tracking.study_summary import StudySummary

    rng = np.random.default_rng(4)
    columns = []
    for _ in range(6):
        pnl = rng.normal(0.0, 1.0, 128)
        mean, std, skew, kurt = sample_moments(pnl)
        down = math.sqrt(float(np.mean(np.minimum(pnl, 0.0) ** 2)))
        columns.append(TrialSlices(tuple(pnl.tolist()), 128, 60.0, 7680.0, mean, std, skew,
                                   kurt, down))
    best = max(columns, key=lambda c: c.sharpe)
    study_summary = StudySummary("toy", "finished", 6, 0, 0, 4, True, (("x", 1.0),),
                                 ("score",), (1.0,), None, (),
                                 overfit_report(best, columns, 6))
    base = _summary(toy_study(10), (trial(4),))
    summary = SweepSummary(**{**{f: getattr(base, f) for f in base.__dataclass_fields__},
                              "report": study_summary})
    report = write_report(summary, tmp_path, ("score",))
    assert "summary.json" in report.names() and "overfit_logits.png" in report.names()
    assert _is_png(tmp_path / "overfit_logits.png")
    assert json.loads((tmp_path / "summary.json").read_text())["study"] == "toy"
    assert f"overfitting: {study_summary.overfitting.text}" in (
        tmp_path / "index.md").read_text()

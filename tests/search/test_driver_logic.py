"""The driver's own logic with a stand-in for the backtest (exact, engine-independent):
pruning on rungs of shards, constraints deciding "best", failures kept on the trial,
and the same trials whatever the batch timing."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from mmopt.cli._hydra import compose
from mmopt.config import RunConfig, from_hydra
from mmopt.engine import EQUITY_DTYPE, FILL_DTYPE
from mmopt.metrics import OrderCounts, compute_shard_metrics
from mmopt.search import run_sweep
from mmopt.search.objective import ParamSet, PreparedShard, ShardOutcome, TaskOutcome, WorkSpec
from mmopt.tracking import NullTracker

NS = 1_000_000_000


def _equity(t0: int, pnl: float, position: float) -> np.ndarray:
    out = np.zeros(3, dtype=EQUITY_DTYPE)
    out["ts_ns"] = [t0, t0 + 60 * NS, t0 + 120 * NS]
    out["equity"] = [0.0, pnl / 2, pnl]
    out["cash"] = out["equity"]
    out["position"] = position
    out["mid"] = 100.0
    out["bid_quoted"] = out["ask_quoted"] = True
    return out


def fake_evaluate(spec: WorkSpec, shard: PreparedShard, param_sets: tuple[ParamSet, ...]
                  ) -> TaskOutcome:
    """net PnL = 100 quote_size / max_position (shard index + 1) - |refill_interval_s - 2|;
    position =
    quote_size lots; stop_loss_pct > 1.9 raises (a failing shard)."""
    outcomes = []
    t0 = 1_704_067_200 * NS + shard.index * 86_400 * NS
    for sampled in param_sets:
        p = spec.params_for(sampled)
        if float(p["stop_loss_pct"] or 0) > 1.9 and shard.index == 1:  # type: ignore[arg-type]
            outcomes.append(ShardOutcome(shard.index, None, f"{shard.security}: boom", 0.0))
            continue
        ratio = float(p["quote_size"]) / float(p["max_position"])  # type: ignore[arg-type]
        pnl = 100 * ratio * (shard.index + 1) - abs(
            float(p["refill_interval_s"]) - 2.0)  # type: ignore[arg-type]
        lot = shard.instrument.lot_size
        metrics = compute_shard_metrics(
            np.zeros(0, dtype=FILL_DTYPE), _equity(t0, pnl, float(p["quote_size"]) * lot),  # type: ignore[arg-type]
            OrderCounts(submitted=10, filled=5), shard.instrument,
            float(p["max_position"]) * lot, label=shard.date)  # type: ignore[arg-type]
        outcomes.append(ShardOutcome(shard.index, metrics, None, 0.0))
    return TaskOutcome(tuple(outcomes), 0.0, 0)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mmopt.search._loop.evaluate", fake_evaluate)
    monkeypatch.setattr("mmopt.search.driver.warm_worker", lambda *a: 0.0)


def _run(sweep_args: list[str], *extra: str) -> RunConfig:
    return from_hydra(compose([*sweep_args, "study.storage=null", *extra]))


NO_KPI = ["objective.kpi.spread_captured_min=null", "objective.kpi.fill_ratio_min=null",
          "objective.kpi.cancel_ratio_max=null", "objective.kpi.rms_inventory_ratio_max=null",
          "objective.kpi.ack_latency_p99_ms_max=null", "objective.lambda=0"]


def test_pruning_stops_trials_after_a_rung(fake: None, sweep_args: list[str]) -> None:
    run = _run(sweep_args, "study.n_trials=16", "study.sampler.name=random",
               "study.pruner.name=median", "study.pruner.n_startup_trials=3",
               "study.pruner.rungs=[0.25,0.5]", *NO_KPI)
    result = run_sweep(run, progress=False, tracker=NullTracker())
    trials = result.study.get_trials(deepcopy=False)
    pruned = [t for t in trials if t.state == optuna.trial.TrialState.PRUNED]
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert pruned and complete and len(pruned) + len(complete) + result.n_failed == 16
    for t in pruned:  # stopped at 1 or 2 of the 4 shards, with what it reached recorded
        assert t.user_attrs["mmopt"]["n_shards"] in (1, 2)
        assert max(t.intermediate_values) == t.user_attrs["mmopt"]["n_shards"]
    for t in complete:
        assert t.user_attrs["mmopt"]["n_shards"] == 4
        assert sorted(t.intermediate_values) == [1, 2]


def test_best_is_the_best_feasible_trial(fake: None, sweep_args: list[str]) -> None:
    kpi = [k for k in NO_KPI if "rms_inventory" not in k]
    run = _run(sweep_args, "study.n_trials=12", "study.sampler.name=random",
               "study.pruner.name=none", "objective.kpi.rms_inventory_ratio_max=0.4", *kpi)
    tracker = NullTracker()
    result = run_sweep(run, progress=False, tracker=tracker)
    complete = [r for r in tracker.records if r.state == "COMPLETE"]
    infeasible = [r for r in complete if not r.feasible]
    feasible = [r for r in complete if r.feasible]
    assert infeasible and feasible
    for r in complete:  # rms inventory ratio = quote_size / max_position (constant position)
        p = r.params_dict()
        ratio = float(p["quote_size"]) / float(p["max_position"])  # type: ignore[arg-type]
        assert r.feasible == (ratio <= 0.4 + 1e-12)
    best = max(feasible, key=lambda r: r.values[0])  # type: ignore[index]
    assert [r.number for r in result.best] == [best.number]
    assert max(r.values[0] for r in infeasible) > best.values[0]  # type: ignore[index]
    assert tracker.summary is not None and tracker.summary.best[0].number == best.number


def test_a_failing_shard_fails_its_trial_with_the_message(
    fake: None, sweep_args: list[str]
) -> None:
    run = _run(sweep_args, "study.n_trials=10", "study.sampler.name=random",
               "study.pruner.name=none", *NO_KPI)
    tracker = NullTracker()
    run_sweep(run, progress=False, tracker=tracker)
    for r in tracker.records:
        if float(r.params_dict()["stop_loss_pct"] or 0) > 1.9:  # type: ignore[arg-type]
            assert r.state == "FAIL" and r.error is not None and "boom" in r.error
        else:
            assert r.state == "COMPLETE" and r.n_shards == 4
    assert any(r.state == "FAIL" for r in tracker.records)
    assert len(tracker.records) == 10 and tracker.info is not None


def test_same_seed_same_trials_whatever_the_batch_timing(
    fake: None, sweep_args: list[str]
) -> None:
    def values(*extra: str) -> list[tuple[dict[str, object], object]]:
        run = _run(sweep_args, "study.n_trials=14", "study.sampler.n_startup_trials=4",
                   "study.pruner.n_startup_trials=2", *NO_KPI, *extra)
        study = run_sweep(run, progress=False, tracker=NullTracker()).study
        return [(t.params, t.values) for t in study.get_trials(deepcopy=False)]

    assert values() == values()
    assert values() != values("study.sampler.seed=7")


def test_no_feasible_trial_gives_the_best_by_objective_marked_infeasible(
    fake: None, sweep_args: list[str]
) -> None:
    from rich.console import Console

    from mmopt.search.console import print_result

    kpi = [k for k in NO_KPI if "rms_inventory" not in k]
    run = _run(sweep_args, "study.n_trials=8", "study.sampler.name=random",
               "study.pruner.name=none", "objective.kpi.rms_inventory_ratio_max=0.01", *kpi)
    tracker = NullTracker()
    result = run_sweep(run, progress=False, tracker=tracker)
    complete = [r for r in tracker.records if r.state == "COMPLETE"]
    assert complete and not any(r.feasible for r in complete)
    top = max(complete, key=lambda r: (r.values[0], -r.number))  # type: ignore[index]
    assert [r.number for r in result.best] == [top.number] and not result.best_feasible
    ratio = top.metrics_dict()["rms_inventory_ratio"]
    assert result.best_kpi_failures == (f"rms_inventory_ratio {ratio:.4g} (target <= 0.01)",)
    summary = tracker.summary
    assert summary is not None and not summary.best_feasible
    assert summary.best[0].number == top.number
    assert summary.best_kpi_failures == result.best_kpi_failures
    console = Console(width=80, record=True)
    print_result(result, run, console)
    text = console.export_text()
    assert "INFEASIBLE" in text and f"trial #{top.number} is infeasible" in text
    assert "rms_inventory_ratio" in text and "(target <= 0.01)" in text

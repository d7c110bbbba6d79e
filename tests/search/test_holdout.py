"""Walk-forward: hold-out dates stay out of the sweep and the best trial is re-run on them."""

from __future__ import annotations

from pathlib import Path

from mmopt.cli._hydra import compose_config
from mmopt.config import open_shards
from mmopt.search import run_sweep


def test_best_trial_is_rerun_on_the_held_out_dates(
    sweep_args: list[str], tmp_path: Path
) -> None:
    run = compose_config([*sweep_args, "tracking=none", "objective.use_constraints=false"])
    days = list(open_shards(run.data).dates)
    assert len(days) == 2
    held_out = days[-1]
    run = compose_config([
        *sweep_args, "tracking=none", "objective.use_constraints=false",
        f"data.holdout_dates=[{held_out}]",
    ])
    in_sample = list(open_shards(run.data))
    assert in_sample and all(ref.date != held_out for ref in in_sample)

    result = run_sweep(run, progress=False)

    complete = [t for t in result.best if t.state == "COMPLETE"]
    assert complete, "the sweep found no best trial"
    best = complete[0]
    assert best.n_shards == len(in_sample)  # the sweep never saw the held-out day
    holdout = result.holdout
    assert holdout is not None
    assert holdout.number == best.number and holdout.params == best.params
    holdout_shards = list(open_shards(run.data, holdout=True))
    assert holdout.n_shards == len(holdout_shards) > 0
    assert all(ref.date == held_out for ref in holdout_shards)
    assert holdout.values is not None and holdout.metrics_dict()["fills"] >= 0
    assert holdout.metrics != best.metrics  # other days, other results

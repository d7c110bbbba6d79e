"""Workers own their shards: sweeps give the same trials whatever the executor, the shard cache
budget, or an owner killed mid-sweep; a data root a worker cannot read fails before any trial."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import optuna
import pytest

from mmopt.cli import main
from mmopt.cli._hydra import compose_config as load_config
from mmopt.config import ExecutorConfig
from mmopt.executors import LocalExecutor, TaskError
from mmopt.search.inspect import load_study
from mmopt.search.objective import WorkSpec, warm_worker
from mmopt.search.shards import plan_shard_set, prepared_bytes

N_TRIALS = 8


@pytest.fixture(scope="module")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("owned_data")


def _args(root: Path, run_dir: Path, *extra: str) -> list[str]:
    return [
        "sweep", "--no-progress",
        "experiment=smoke",
        f"run_dir={run_dir}",
        f"data.root={root}",
        "data.generate.n_days=2",
        "data.generate.events_per_day=6000",
        "study=default",
        "study.name=owned",
        f"study.n_trials={N_TRIALS}",
        "study.sampler.n_startup_trials=3",
        "study.pruner.name=none",
        f"study.storage=sqlite:///{run_dir}/optuna.db",
        "executor.trials_per_task=2",
        "tracking=none",
        *extra,
    ]


def _trials(run_dir: Path) -> list[tuple[int, str, dict[str, Any], Any]]:
    study = load_study("owned", f"sqlite:///{run_dir}/optuna.db")
    return [(t.number, t.state.name, t.params, t.values)
            for t in study.get_trials(deepcopy=False)]


def _spy(monkeypatch: pytest.MonkeyPatch, after_result: Any = None) -> dict[str, Any]:
    import mmopt.search.driver as driver

    seen: dict[str, Any] = {"n": 0}
    make = driver.make_executor

    def spy(config: ExecutorConfig) -> Any:
        executor = make(config)
        seen["executor"] = executor
        if after_result is not None:
            result = executor.result

            def counting(pending: Any) -> Any:
                value = result(pending)
                seen["n"] += 1
                after_result(executor, seen)
                return value

            executor.result = counting  # type: ignore[method-assign]
        if isinstance(executor, LocalExecutor):
            seen["stats"] = executor.cache.stats
        return executor

    monkeypatch.setattr(driver, "make_executor", spy)
    return seen


@pytest.fixture(scope="module")
def undisturbed(data_root: Path, tmp_path_factory: pytest.TempPathFactory
                ) -> list[tuple[int, str, dict[str, Any], Any]]:
    run_dir = tmp_path_factory.mktemp("undisturbed")
    assert main(_args(data_root, run_dir)) == 0
    trials = _trials(run_dir)
    assert len(trials) == N_TRIALS
    return trials


def _prepared_total_mb(root: Path, run_dir: Path) -> float:
    run = load_config(_args(root, run_dir)[2:])
    plan = plan_shard_set(run.data)
    return sum(prepared_bytes(s.prepare()[0]) for s in plan.shards) / (1 << 20)


def test_a_budget_a_third_of_the_shards_gives_the_same_trials(
    data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    undisturbed: list[tuple[int, str, dict[str, Any], Any]],
) -> None:
    total_mb = _prepared_total_mb(data_root, tmp_path)
    budget_mb = total_mb / 3.0  # the shards total 3x the budget
    seen = _spy(monkeypatch)
    assert main(_args(data_root, tmp_path, f"executor.shard_cache_mb={budget_mb}")) == 0
    assert _trials(tmp_path) == undisturbed
    stats = seen["stats"]()
    assert stats.n_evictions > 0 and stats.n_reads > 4  # shards were dropped and read again
    assert stats.hits < stats.n_reads  # (the budget itself is kept: test_dispatch.py)


def test_unlimited_budget_reads_each_shard_once(
    data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    undisturbed: list[tuple[int, str, dict[str, Any], Any]],
) -> None:
    seen = _spy(monkeypatch)
    assert main(_args(data_root, tmp_path)) == 0
    stats = seen["stats"]()
    assert stats.n_reads == 4 + 1  # 2 securities x 2 days, plus the warm-up sample
    assert stats.n_evictions == 0


@pytest.mark.ray
@pytest.mark.parametrize("n_killed", [1, 2], ids=["one-owner", "every-owner"])
def test_ray_owners_give_the_local_trials_even_when_killed(
    n_killed: int, data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    undisturbed: list[tuple[int, str, dict[str, Any], Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # One owner killed: its calls go to the other. Every owner killed at once: the calls wait
    # (up to NO_OWNER_GRACE_S) while new owners start on the CPUs the dead ones freed.
    import ray

    def kill(executor: Any, seen: dict[str, Any]) -> None:
        if seen["n"] == 3 and "killed" not in seen:
            owners = executor.owner_actors()
            seen["n_owners"] = len(owners)
            seen["killed"] = owners[:n_killed]
            for actor in owners[:n_killed]:
                ray.kill(actor, no_restart=True)

    seen = _spy(monkeypatch, kill)
    assert main(_args(data_root, tmp_path, "executor=ray", "executor.num_cpus=2")) == 0
    assert seen["n_owners"] == 2 and len(seen["killed"]) == n_killed
    trials = _trials(tmp_path)
    assert trials == undisturbed  # no trial lost or failed, none counted twice, same values
    complete = [t for t in trials if t[1] == optuna.trial.TrialState.COMPLETE.name]
    assert len(complete) == len([t for t in undisturbed if t[1] == "COMPLETE"])
    err = capsys.readouterr().err
    assert err.count("was lost") == n_killed, err
    if n_killed == 2:
        assert "new shard owner" in err, err  # started on a freed CPU
    assert not ray.is_initialized()


@pytest.mark.parametrize("name", ["local", pytest.param("ray", marks=pytest.mark.ray)])
def test_a_data_root_a_worker_cannot_read_fails_naming_node_and_path(
    name: str, data_root: Path, tmp_path: Path,
    undisturbed: list[tuple[int, str, dict[str, Any], Any]],
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(data_root, copy)
    run = load_config(_args(copy, tmp_path)[2:])
    plan = plan_shard_set(run.data)  # the driver lists the catalog ...
    shutil.rmtree(copy)  # ... the workers find nothing there
    from mmopt.executors import make_executor

    executor = make_executor(ExecutorConfig(name=name, num_cpus=1, max_retries=0)  # type: ignore[arg-type]
                             if name == "ray" else ExecutorConfig())
    try:
        spec = WorkSpec(run.strategy.name, run.strategy.params, run.engine.values)
        with pytest.raises(TaskError) as err:
            executor.warm(warm_worker, spec, plan.sample, ())
    finally:
        executor.close()
    message = str(err.value)
    assert str(copy) in message and "cannot read" in message
    if name == "ray":
        assert "node 127.0.0.1" in message


def test_shard_cache_mb_must_be_positive(tmp_path: Path) -> None:
    from mmopt.errors import ConfigError

    run = load_config(["executor=ray", "executor.shard_cache_mb=512", f"run_dir={tmp_path}"])
    assert run.executor.shard_cache_mb == 512.0
    assert load_config([f"run_dir={tmp_path}"]).executor.shard_cache_mb is None
    with pytest.raises(ConfigError, match=r"executor\.shard_cache_mb"):
        load_config(["executor.shard_cache_mb=0", f"run_dir={tmp_path}"])


@pytest.mark.ray
def test_a_result_lost_with_its_node_is_retried_not_failed(
    data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    undisturbed: list[tuple[int, str, dict[str, Any], Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A node killed just after a call finished takes the call's result (in that node's object
    # store) with it: ray.get raises ObjectLostError, not RayActorError. The call is retried on
    # another owner like any call of a lost owner; no trial fails for it.
    import ray
    from ray.exceptions import ObjectLostError

    import mmopt.search.driver as driver

    make = driver.make_executor
    lost: list[str] = []

    class LosesOneResult:
        """The ray module, except that the first fetched call result is lost."""

        def __init__(self, executor: Any) -> None:
            self._executor = executor

        def __getattr__(self, name: str) -> Any:
            return getattr(ray, name)

        def get(self, ref: Any, *args: Any, **kwargs: Any) -> Any:
            if not lost and ref in collecting:
                lost.append(ref.hex())
                raise ObjectLostError(ref.hex(), "", "")
            return ray.get(ref, *args, **kwargs)

    collecting: set[Any] = set()  # the call result being collected (not a warm-up's)

    def spy(config: ExecutorConfig) -> Any:
        executor = make(config)
        executor._ray = LosesOneResult(executor)
        collect = executor._collect

        def collect_call(ref: Any) -> None:
            collecting.clear()
            if ref in executor._in_flight:
                collecting.add(ref)
            collect(ref)

        executor._collect = collect_call
        return executor

    monkeypatch.setattr(driver, "make_executor", spy)
    assert main(_args(data_root, tmp_path, "executor=ray", "executor.num_cpus=2")) == 0
    assert lost, "no call result was fetched"
    assert _trials(tmp_path) == undisturbed  # retried: none failed, none counted twice
    assert "was lost (ObjectLostError)" in capsys.readouterr().err

"""Sweeps submitted to a real Ray cluster on 127.0.0.1 (a head and two worker nodes, each its
own raylet) with ``jobs/submit_sweep.py``, their studies in PostgreSQL and their runs on an
MLflow server backed by PostgreSQL; a worker node that joins mid-sweep loads numba's cache.

Then the faults, each mid-sweep (once the first trial is in PostgreSQL): a worker node's
raylet killed (-9), the job's driver killed (-9) and resubmitted, PostgreSQL stopped and the
sweep rerun after it restarts. Every time: exactly ``n_trials`` finished trials, as many
distinct parameter sets, one MLflow child run each. The tests share one cluster, PostgreSQL
and MLflow server; a test that kills a node starts its replacement."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from servers import Postgres, RayCluster
from sweeps import Sweep, job_logs, job_timings, wait_job, wait_until

from mmopt.cluster.first_result import parse_line
from mmopt.search.mirror import count_trials

pytestmark = [pytest.mark.cluster, pytest.mark.slow, pytest.mark.timeout(1500)]

# the fault sweeps: seeded random sampling (no two trials share a parameter set), no pruning
FAULT_STUDY = ("study=random", "validation=none")
FAULT_TRIALS = 16


@pytest.fixture
def sweep_of(pg: Postgres, mlflow_url: str, numba_cache: Path, data_root: Path,
             tmp_path: Path):  # type: ignore[no-untyped-def]
    def make(name: str, n_trials: int, *extra: str) -> Sweep:
        return Sweep(name, n_trials, tmp_path / "run", data_root, numba_cache, pg, mlflow_url,
                     extra)
    return make


def test_a_sweep_on_the_cluster_lands_in_postgresql_and_mlflow(
    ray_cluster: RayCluster, sweep_of  # type: ignore[no-untyped-def]
) -> None:
    sweep: Sweep = sweep_of("cluster_basic", 6)
    assert sweep.submit(ray_cluster, "basic-1") == 0
    # a third worker node joins once the sweep has started
    wait_until(lambda: sweep.trials() != [], 900, "the first trial",
               ray_cluster, "basic-1")
    late = ray_cluster.add_node()
    status = wait_job(ray_cluster, "basic-1")
    logs = job_logs(ray_cluster, "basic-1")
    assert status == "SUCCEEDED", logs[-5000:]
    print(job_timings(ray_cluster, "basic-1"))
    trials = sweep.trials()
    assert sorted(n for n, _ in trials) == list(range(6))
    assert {s for _, s in trials} <= {"COMPLETE", "PRUNED"}
    parent, children = sweep.runs()
    assert parent["info"]["status"] == "FINISHED"  # type: ignore[index]
    assert len(children) == 6
    # every worker process printed its first result; which node compiled what
    firsts = [f for f in map(parse_line, ray_cluster.worker_logs().splitlines()) if f]
    assert firsts, "no worker printed its first-result line"
    print("\n".join(f.line() for f in firsts))
    assert all(f.cache.compiled == 0 for f in firsts), "a node compiled: the cache missed"
    on_late = [f for f in firsts if late.node_id.startswith(f.node_id)]
    if on_late:  # the late node ran work: it loaded every kernel, compiled none
        assert all(f.cache.loaded > 0 for f in on_late), on_late
    ray_cluster.restore(2)


def test_a_worker_node_killed_mid_sweep_loses_no_trial(
    ray_cluster: RayCluster, sweep_of  # type: ignore[no-untyped-def]
) -> None:
    sweep: Sweep = sweep_of("cluster_node_lost", FAULT_TRIALS, *FAULT_STUDY)
    assert sweep.submit(ray_cluster, "node-lost-1") == 0
    wait_until(lambda: sweep.progress()[0] > 0, 900, "the first trials in flight", ray_cluster,
               "node-lost-1")
    victim = ray_cluster.workers[0]
    ray_cluster.kill_raylet(victim)
    in_flight, at_kill = sweep.progress()
    print(f"raylet of node {victim.node_id[:8]} killed with {at_kill}/{FAULT_TRIALS} trials "
          f"finished, {in_flight} in flight")
    status = wait_job(ray_cluster, "node-lost-1")
    logs = job_logs(ray_cluster, "node-lost-1")
    notes = "\n".join(line for line in logs.splitlines() if "note:" in line)
    print(notes)  # the executor's account of owners lost, started and given up
    assert status == "SUCCEEDED", logs[-5000:]
    print(job_timings(ray_cluster, "node-lost-1"))
    assert at_kill < FAULT_TRIALS, "the sweep ended before the node was killed"
    states = sweep.check_nothing_lost_or_doubled()
    assert states == {"COMPLETE": FAULT_TRIALS}, (states, sweep.failures(), notes)
    assert "was lost" in notes, logs[-5000:]  # the executor saw the owner go and retried
    ray_cluster.restore(2)


def test_a_killed_driver_is_resumed_from_postgresql_by_resubmitting(
    ray_cluster: RayCluster, sweep_of  # type: ignore[no-untyped-def]
) -> None:
    from ray.job_submission import JobSubmissionClient

    sweep: Sweep = sweep_of("cluster_driver_lost", FAULT_TRIALS, *FAULT_STUDY,
                            "study.lease_timeout_s=10")
    assert sweep.submit(ray_cluster, "driver-lost-1") == 0
    wait_until(lambda: sweep.n_finished() > 0, 900, "the first trial", ray_cluster,
               "driver-lost-1")
    driver = JobSubmissionClient(ray_cluster.dashboard).get_job_info("driver-lost-1").driver_info
    assert driver is not None and driver.pid
    os.kill(int(driver.pid), signal.SIGKILL)
    at_kill = sweep.n_finished()
    print(f"driver pid {driver.pid} killed with {at_kill}/{FAULT_TRIALS} trials finished")
    assert wait_job(ray_cluster, "driver-lost-1") == "FAILED"
    assert at_kill < FAULT_TRIALS, "the sweep ended before its driver was killed"
    started = time.monotonic()
    assert sweep.submit(ray_cluster, "driver-lost-2", wait=True) == 0
    print(f"resumed in {time.monotonic() - started:.0f} s")
    logs = job_logs(ray_cluster, "driver-lost-2")
    print(job_timings(ray_cluster, "driver-lost-1"))
    print(job_timings(ray_cluster, "driver-lost-2"))
    states = sweep.check_nothing_lost_or_doubled()
    print(f"after the resume: {dict(states)}")
    # FAIL trials are the dead driver's trials in flight (re-run by the new one: "retried") or,
    # with the new driver's own parameters, trials failed by their own evaluation (they count)
    counts = count_trials(sweep.study().get_trials(deepcopy=False))
    print(f"failed by their evaluation: {counts.failed}, retried: {counts.retried}; "
          f"FAIL trials: {sweep.failures()}")
    if counts.retried:
        assert f"{counts.retried} retried" in " ".join(logs.split()), (sweep.failures(),
                                                                        logs[-3000:])


def test_postgresql_stopped_mid_sweep_fails_clearly_and_a_rerun_resumes(
    ray_cluster: RayCluster, sweep_of, pg: Postgres  # type: ignore[no-untyped-def]
) -> None:
    sweep: Sweep = sweep_of("cluster_db_lost", FAULT_TRIALS, *FAULT_STUDY,
                            "study.lease_timeout_s=10")
    assert sweep.submit(ray_cluster, "db-lost-1") == 0
    wait_until(lambda: sweep.n_finished() > 0, 900, "the first trial", ray_cluster,
               "db-lost-1")
    at_stop = sweep.n_finished()
    pg.stop("immediate")  # at once, as a crashed or unplugged server
    try:
        status = wait_job(ray_cluster, "db-lost-1", timeout_s=600)
        logs = job_logs(ray_cluster, "db-lost-1")
    finally:
        pg.start()
    print(f"PostgreSQL stopped with {at_stop}/{FAULT_TRIALS} trials finished; job {status}")
    print("\n".join(line for line in logs.splitlines() if "error" in line.lower()))
    assert status == "FAILED", logs[-5000:]
    # one error line naming the storage (password masked) and the database's own error
    assert pg.password not in logs
    assert logs.count("Traceback") == 0, logs[-5000:]
    errors = [line for line in logs.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, logs[-5000:]
    assert errors[0].startswith("error: study.storage: writing to postgresql+psycopg2://mmopt:***@")
    assert "psycopg2." in errors[0] and "run the same command to resume" in errors[0], errors
    assert sweep.submit(ray_cluster, "db-lost-2", wait=True) == 0
    print(job_timings(ray_cluster, "db-lost-1"))
    print(job_timings(ray_cluster, "db-lost-2"))
    states = sweep.check_nothing_lost_or_doubled()
    print(f"after the rerun: {dict(states)}")

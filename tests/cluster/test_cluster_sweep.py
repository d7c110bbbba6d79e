"""A sweep submitted to a real Ray cluster on 127.0.0.1 (a head and two worker nodes, each its
own raylet) with ``jobs/submit_sweep.py``, its study in PostgreSQL and its runs on an MLflow
server backed by PostgreSQL; a worker node that joins mid-sweep loads numba's cache."""

from __future__ import annotations

from pathlib import Path

import pytest
from servers import Postgres, RayCluster
from sweeps import Sweep, job_logs, wait_job, wait_until

from mmopt.cluster.first_result import parse_line

pytestmark = [pytest.mark.cluster, pytest.mark.slow, pytest.mark.timeout(1500)]


@pytest.fixture
def sweep_of(pg: Postgres, mlflow_url: str, numba_cache: Path, data_root: Path,
             tmp_path: Path):  # type: ignore[no-untyped-def]
    def make(name: str, n_trials: int) -> Sweep:
        return Sweep(name, n_trials, tmp_path / "run", data_root, numba_cache, pg, mlflow_url)
    return make


def test_a_sweep_on_the_cluster_lands_in_postgresql_and_mlflow(
    ray_cluster: RayCluster, sweep_of  # type: ignore[no-untyped-def]
) -> None:
    sweep: Sweep = sweep_of("cluster_basic", 6)
    assert sweep.submit(ray_cluster, "basic-1") == 0
    late = None
    # a third worker node joins once the sweep has started
    wait_until(lambda: sweep.trials() != [], 900, "the first trial",
               ray_cluster, "basic-1")
    late = ray_cluster.add_node()
    status = wait_job(ray_cluster, "basic-1")
    logs = job_logs(ray_cluster, "basic-1")
    assert status == "SUCCEEDED", logs[-5000:]
    trials = sweep.trials()
    assert sorted(n for n, _ in trials) == list(range(6))
    assert {s for _, s in trials} <= {"COMPLETE", "PRUNED"}
    parent, children = sweep.runs()
    assert parent["info"]["status"] == "FINISHED"  # type: ignore[index]
    assert len(children) == 6
    # every worker process printed its first result; which node compiled what
    firsts = [f for f in map(parse_line, ray_cluster.worker_logs().splitlines()) if f]
    assert firsts, "no worker printed its first-result line"
    assert late is not None
    on_late = [f for f in firsts if late.node_id.startswith(f.node_id)]
    print(logs[-4000:])
    print("\n".join(f.line() for f in firsts))
    if on_late:  # the late node ran work: it loaded every kernel, compiled none
        assert all(f.cache.compiled == 0 and f.cache.loaded > 0 for f in on_late), on_late

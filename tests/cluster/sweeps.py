"""Submitting a sweep to the test cluster with ``jobs/submit_sweep.py`` and reading back what
it left in PostgreSQL (Optuna's API) and in the MLflow server (its REST API)."""

from __future__ import annotations

import functools
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from servers import Postgres, RayCluster, cluster_env, mlflow_post

from mmopt.search.storage import open_storage

REPO = Path(__file__).resolve().parents[2]
EVENTS_PER_DAY = 20000
IN_FLIGHT_KEY = "mmopt:in_flight"  # the study attr where the driver lists its trials in flight


def data_overrides(data_root: Path) -> list[str]:
    """The tiny synthetic data of every cluster sweep (2 securities x 2 days)."""
    return ["experiment=smoke", f"data.root={data_root}", "data.generate.n_days=2",
            f"data.generate.events_per_day={EVENTS_PER_DAY}"]


def warm_in_tree(data_root: Path, run_dir: Path) -> None:
    """One local trial of the cluster sweeps' strategy on their data, in a process of its own:
    generates the data in ``data_root`` and compiles the kernels into this checkout's own
    numba cache (``__pycache__``), where the rest of the test run loads them too."""
    command = [sys.executable, "-c", "import sys; from mmopt.cli import main; sys.exit(main())",
               "sweep", *data_overrides(data_root), f"run_dir={run_dir}", "study=random",
               "study.n_trials=1", "study.storage=null", "executor=local", "tracking=none"]
    env = {**cluster_env(), "PYTHONPATH": str(REPO)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900,
                          cwd=REPO)
    assert done.returncode == 0, f"the local warm-up sweep failed:\n{done.stderr[-5000:]}"


@dataclass(frozen=True)
class Sweep:
    """One study: its name, trial count and where everything goes."""

    name: str
    n_trials: int
    run_dir: Path
    data_root: Path
    numba_cache: Path
    pg: Postgres
    mlflow_url: str
    extra: tuple[str, ...] = ()  # more overrides (after the ones here: they win)

    def overrides(self) -> list[str]:
        return [
            *data_overrides(self.data_root), f"run_dir={self.run_dir}",
            "study=default", f"study.name={self.name}", f"study.n_trials={self.n_trials}",
            "study.sampler.n_startup_trials=2", "study.pruner.n_startup_trials=2",
            "executor.trials_per_task=1", f"tracking.experiment={self.name}", *self.extra,
        ]

    def submit(self, cluster: RayCluster, submission_id: str, wait: bool = False) -> int:
        """``python jobs/submit_sweep.py ...``; its exit code (with ``--no-wait``: once
        submitted)."""
        command = [
            sys.executable, str(REPO / "jobs" / "submit_sweep.py"),
            "--address", cluster.dashboard, "--gcs-address", cluster.head.gcs_address,
            "--storage", self.pg.url("optuna"),
            "--tracking-uri", self.mlflow_url, "--numba-cache-dir", str(self.numba_cache),
            "--working-dir", str(REPO), "--submission-id", submission_id,
            *([] if wait else ["--no-wait"]), "--", *self.overrides(),
        ]
        deadline = time.monotonic() + 300
        while True:
            done = subprocess.run(command, env=cluster_env(), capture_output=True, text=True,
                                  timeout=900, cwd=REPO)
            # the head's job agent starts after the dashboard; on a busy machine, later
            if "No available agent" not in done.stderr or time.monotonic() > deadline:
                break
            time.sleep(2)
        if done.returncode != 0:
            print(f"submit_sweep.py exited {done.returncode}:\n{done.stdout[-3000:]}\n"
                  f"{done.stderr[-5000:]}")
        return done.returncode

    @functools.cached_property
    def storage(self) -> Any:
        """Optuna's storage of the study, opened once (polling needs to be quick)."""
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        return open_storage(self.pg.url("optuna"))

    def progress(self) -> tuple[int, int]:
        """(trials in flight, trials finished) as the driver last wrote them; (0, 0) before
        the study exists."""
        import optuna

        try:
            study_id = self.storage.get_study_id_from_name(self.name)
        except KeyError:
            return 0, 0
        in_flight = self.storage.get_study_system_attrs(study_id).get(IN_FLIGHT_KEY) or []
        done = self.storage.get_all_trials(study_id, deepcopy=False, states=(
            optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED))
        return len(in_flight), len(done)

    def trials(self) -> list[tuple[int, str]]:
        """(number, state) of every trial in PostgreSQL ([] before the study exists)."""
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        try:
            study = self.study()
        except KeyError:
            return []
        return [(t.number, t.state.name) for t in study.get_trials(deepcopy=False)]

    def finished(self) -> Counter[str]:
        return Counter(state for _, state in self.trials() if state in ("COMPLETE", "PRUNED"))

    def n_finished(self) -> int:
        return self.progress()[1]

    def study(self) -> Any:
        """The study in PostgreSQL (KeyError before the job has created it)."""
        import optuna

        return optuna.load_study(study_name=self.name, storage=open_storage(self.pg.url("optuna")))

    def failures(self) -> list[tuple[int, str | None]]:
        """``(number, error)`` of every FAIL trial of the study (for assertion messages)."""
        study = self.study()
        return [(t.number, t.user_attrs.get("error")) for t in study.get_trials(deepcopy=False)
                if t.state.name == "FAIL"]

    def check_nothing_lost_or_doubled(self) -> Counter[str]:
        """Exactly ``n_trials`` trials that count (complete, pruned, or failed by their own
        evaluation, e.g. a NaN objective: a resumed driver samples on from another seed, so
        its parameter sets differ from an undisturbed run's) with as many distinct parameter
        sets; every other trial a FAIL written for a dead driver's trial and re-run
        (``mmopt.requeue``); one MLflow child run per trial, its status the trial's. Returns
        the states."""
        from mmopt.search.mirror import counts_toward_total

        study = self.study()
        trials = study.get_trials(deepcopy=False)
        done = [t for t in trials if counts_toward_total(t)]
        states = Counter(t.state.name for t in trials)
        own_fails = [(t.number, t.user_attrs.get("error")) for t in done if t.state.name == "FAIL"]
        assert all(error and "driver stopped" not in error for _, error in own_fails), own_fails
        assert len(done) == self.n_trials, (states, own_fails)
        assert len({tuple(sorted(t.params.items())) for t in done}) == self.n_trials
        others = [t for t in trials if t not in done]
        assert all(t.state.name == "FAIL" and "mmopt.requeue" in t.user_attrs
                   for t in others), [(t.number, t.state.name, t.user_attrs) for t in others]
        retries = {t.user_attrs.get("mmopt.retry_of") for t in done} - {None}
        assert retries == {t.number for t in others}, (retries, [t.number for t in others])
        # one child run per trial of the study (a re-run trial's is FAILED), none twice
        _, children = self.runs()
        status = {str(run_name(c)): run_status(c) for c in children}
        assert len(status) == len(children) == len(trials), sorted(status)
        assert status == {f"trial-{t.number}": MLFLOW_STATUS[t.state.name] for t in trials}
        return states

    def runs(self) -> tuple[dict[str, object], list[dict[str, object]]]:
        """The study's parent run and its child runs, read through MLflow's REST API."""
        found = mlflow_post(self.mlflow_url, "experiments/search", {"max_results": 1000})
        ids = [e["experiment_id"] for e in found.get("experiments", [])
               if e["name"] == self.name]
        assert ids, f"no MLflow experiment {self.name}"
        runs = mlflow_post(self.mlflow_url, "runs/search",
                           {"experiment_ids": ids, "max_results": 1000}).get("runs", [])
        def tags(run: dict[str, object]) -> dict[str, str]:
            data = run.get("data", {})
            assert isinstance(data, dict)
            return {t["key"]: t["value"] for t in data.get("tags", [])}
        parents = [r for r in runs if "mlflow.parentRunId" not in tags(r)]
        assert len(parents) == 1, [tags(r) for r in parents]
        parent_id = parents[0]["info"]["run_id"]  # type: ignore[index]
        children = [r for r in runs if tags(r).get("mlflow.parentRunId") == parent_id]
        return parents[0], children


MLFLOW_STATUS = {"COMPLETE": "FINISHED", "PRUNED": "KILLED", "FAIL": "FAILED"}


def run_name(run: dict[str, object]) -> object:
    info = run.get("info", {})
    assert isinstance(info, dict)
    return info.get("run_name")


def run_status(run: dict[str, object]) -> object:
    info = run.get("info", {})
    assert isinstance(info, dict)
    return info.get("status")


def wait_job(cluster: RayCluster, submission_id: str, timeout_s: float = 900) -> str:
    """Wait for a job to end; its final status (SUCCEEDED, FAILED, STOPPED)."""
    from ray.job_submission import JobStatus, JobSubmissionClient

    client = JobSubmissionClient(cluster.dashboard)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = client.get_job_status(submission_id)
        if status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.STOPPED):
            return str(status.value)
        time.sleep(1)
    raise AssertionError(f"job {submission_id} still running after {timeout_s} s:\n"
                         f"{client.get_job_logs(submission_id)[-5000:]}")


def job_timings(cluster: RayCluster, submission_id: str) -> str:
    """How long the job took, and the driver's own account of its phases (for the log)."""
    from ray.job_submission import JobSubmissionClient

    info = JobSubmissionClient(cluster.dashboard).get_job_info(submission_id)
    wall = ((info.end_time or 0) - (info.start_time or 0)) / 1000
    text = " ".join(job_logs(cluster, submission_id).split())  # the console wraps lines
    phases = re.findall(r"\d+ trials run in [\d.]+ s|time: data .*? report [\d.]+ s", text)
    return f"job {submission_id}: {wall:.1f} s from submission to end; " + "; ".join(phases)


def job_logs(cluster: RayCluster, submission_id: str) -> str:
    from ray.job_submission import JobSubmissionClient

    return str(JobSubmissionClient(cluster.dashboard).get_job_logs(submission_id))


def wait_until(predicate: Callable[[], bool], timeout_s: float, what: str,
               cluster: RayCluster, submission_id: str) -> None:
    """Poll ``predicate`` (every 0.1 s: the faults are injected as soon as it holds); fails
    with the job's log when it times out or the job ended."""
    from ray.job_submission import JobSubmissionClient

    client = JobSubmissionClient(cluster.dashboard)
    deadline = time.monotonic() + timeout_s
    next_status = 0.0
    while not predicate():
        now = time.monotonic()
        if now > next_status:
            next_status = now + 2.0
            status = client.get_job_status(submission_id)
            if now > deadline or status.is_terminal():
                log = job_logs(cluster, submission_id)[-5000:]
                raise AssertionError(f"waiting for {what}: job {submission_id} {status.value} "
                                     f"after {timeout_s} s:\n{log}")
        time.sleep(0.1)

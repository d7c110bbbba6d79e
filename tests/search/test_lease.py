"""The driver lease: drivers released together (exactly one wins, the others are refused with
a clear message, no schema race), and a paused driver whose study was taken over stops
without writing when it wakes up: never two writers."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from study_files import count_stored

from mmopt.cli._hydra import compose
from mmopt.config import RunConfig, from_hydra
from mmopt.search.lease import make_lease
from mmopt.search.mirror import take_over
from mmopt.search.space import distribution
from mmopt.search.storage import open_persistent_study

N_STARTERS = 5


def _run(tmp_path: Path, url: str) -> RunConfig:
    return from_hydra(compose(["experiment=smoke", f"run_dir={tmp_path}", "study.name=race",
                               f"study.storage={url}"]))


def _starter(run: RunConfig, barrier: Any, results: Any, done: Any) -> None:
    """One driver start: open (or create) the study and take its lease."""
    try:
        barrier.wait(timeout=60)
        url = run.study.storage
        assert url is not None
        persistent = open_persistent_study(run, url)
        lease = make_lease(url, run.study.name, 60.0, url)
        dists = {p.name: distribution(p) for p in run.search.params}
        take_over(persistent, dists, lease)
    except Exception as exc:
        results.put((os.getpid(), "refused" if "being run by another driver" in str(exc)
                     else "error", f"{type(exc).__name__}: {exc}"))
        return
    results.put((os.getpid(), "won", ""))
    done.wait(timeout=60)  # hold the lease until every starter has answered
    lease.release()


def _race(run: RunConfig) -> list[tuple[int, str, str]]:
    ctx = mp.get_context("fork")
    barrier, results, done = ctx.Barrier(N_STARTERS), ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=_starter, args=(run, barrier, results, done))
             for _ in range(N_STARTERS)]
    for p in procs:
        p.start()
    try:
        answers = [results.get(timeout=120) for _ in procs]
    finally:
        done.set()
        for p in procs:
            p.join(timeout=60)
    assert all(p.exitcode == 0 for p in procs)
    return answers


@pytest.mark.parametrize("scheme", ["sqlite", "journal"])
def test_drivers_released_together_exactly_one_wins(tmp_path: Path, scheme: str) -> None:
    url = (f"sqlite:///{tmp_path}/new/optuna.db" if scheme == "sqlite"
           else f"journal:///{tmp_path}/new/optuna.log")
    for attempt in range(3):  # a fresh storage, then the same study started again together
        answers = _race(_run(tmp_path, url))
        kinds = sorted(kind for _, kind, _ in answers)
        assert kinds == ["refused"] * (N_STARTERS - 1) + ["won"], (attempt, answers)
        for _, kind, message in answers:
            if kind == "refused":
                assert "study.name: study 'race'" in message and "stop it first" in message


# -- a paused driver ------------------------------------------------------------------------

def _sweep_cmd(args: list[str], n_trials: int) -> list[str]:
    return [sys.executable, "-c", "from mmopt.cli import main; raise SystemExit(main())",
            "sweep", "--no-progress", *args, f"study.n_trials={n_trials}"]


def test_a_paused_driver_taken_over_stops_without_writing(
    sweep_args: list[str], tmp_path: Path
) -> None:
    args = [a for a in sweep_args if not a.startswith("study.n_trials")]
    args += ["study.lease_timeout_s=3", "tracking=none"]
    db = tmp_path / "optuna.db"
    first = subprocess.Popen(_sweep_cmd(args, 500), cwd=tmp_path, stderr=subprocess.PIPE,
                             text=True)
    try:
        deadline = time.time() + 240
        while time.time() < deadline and first.poll() is None and count_stored(db) < 3:
            time.sleep(0.05)
        assert first.poll() is None, "the first driver ended before it could be paused"
        first.send_signal(signal.SIGSTOP)
        time.sleep(4.0)  # longer than study.lease_timeout_s
        paused_at = count_stored(db)
        second = subprocess.run(_sweep_cmd(args, paused_at + 4), cwd=tmp_path,
                                capture_output=True, text=True, timeout=300)
        assert second.returncode == 0, second.stderr
        after_second = count_stored(db)
        assert after_second >= paused_at + 4
        first.send_signal(signal.SIGCONT)
        _, err = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode != 0
    assert "was taken over by another driver" in err
    assert count_stored(db) == after_second  # nothing written by the paused driver once awake

"""Shutdown order, deterministically: when the executor is closed (for Ray: ``ray.shutdown``)
every finished trial is already in the storage and the tracker has finished, even with a
slow storage writer."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from study_files import count_stored
from test_driver_logic import NO_KPI, fake_evaluate

from mmopt.cli._hydra import compose
from mmopt.config import from_hydra
from mmopt.search import run_sweep
from mmopt.search.mirror import StudyWriter
from mmopt.tracking import NullTracker


def test_the_executor_closes_after_storage_and_tracker(
    sweep_args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mmopt.search.driver as driver

    monkeypatch.setattr("mmopt.search._loop.evaluate", fake_evaluate)
    monkeypatch.setattr("mmopt.search.driver.warm_worker", lambda *a: 0.0)
    write = StudyWriter._write

    def slow_write(self: StudyWriter, *args: Any) -> None:
        time.sleep(0.2)  # a slow database: writes lag behind the loop
        write(self, *args)

    monkeypatch.setattr(StudyWriter, "_write", slow_write)
    tracker = NullTracker()
    seen: dict[str, Any] = {}
    make = driver.make_executor

    def spy(config: Any) -> Any:
        executor = make(config)
        close = executor.close

        def recording_close() -> None:
            seen["stored"] = count_stored(tmp_path / "optuna.db")
            seen["tracker_finished"] = tracker.summary is not None
            close()

        executor.close = recording_close  # type: ignore[method-assign]
        return executor

    monkeypatch.setattr(driver, "make_executor", spy)
    run = from_hydra(compose([*sweep_args, "study.n_trials=8", "study.pruner.name=none",
                              *NO_KPI]))
    result = run_sweep(run, progress=False, tracker=tracker)
    assert result.status == "finished"
    assert seen == {"stored": 8, "tracker_finished": True}

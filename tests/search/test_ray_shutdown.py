"""Shutdown order with a real local Ray runtime: stop asking, drain, flush the storage and the
tracker, then shut Ray down. With garbage collected during the storage flush (where a Ray
reference freed after ``ray.shutdown`` aborts the process), the sweep exits 0 with every
finished trial stored."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from study_files import count_stored

pytestmark = pytest.mark.ray

_GC_IN_FLUSH = """
import gc
import mmopt.search.mirror as mirror
gc.set_threshold(50, 2, 2)
write = mirror.StudyWriter._write
def collecting_write(self, *args):
    gc.collect()
    return write(self, *args)
mirror.StudyWriter._write = collecting_write
from mmopt.cli import main
raise SystemExit(main())
"""


def test_gc_during_shutdown_exits_0_with_every_trial_stored(
    sweep_args: list[str], tmp_path: Path
) -> None:
    args = [a for a in sweep_args if not a.startswith("study.n_trials")]
    cmd = [sys.executable, "-c", _GC_IN_FLUSH, "sweep", "--no-progress", *args,
           "study.n_trials=12", "executor=ray", "executor.num_cpus=2", "tracking=none"]
    done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "already been shutdown" not in done.stderr
    assert count_stored(tmp_path / "optuna.db") == 12

"""What the driver tells the tracker: the sweep's start info and batches of trial records."""

from __future__ import annotations

import functools
import subprocess
import time
from pathlib import Path

import yaml

from mmopt.config import RunConfig, to_dict
from mmopt.search.shards import ShardPlan
from mmopt.tracking import SweepInfo, Tracker, TrialRecord

__all__ = ["FLUSH_EVERY_S", "RecordBuffer", "code_version", "sweep_info"]

FLUSH_EVERY_S = 5.0


class RecordBuffer:
    """Collects finished trials and hands them to the tracker in batches."""

    def __init__(self, tracker: Tracker, batch_size: int) -> None:
        self._tracker = tracker
        self._batch_size = batch_size
        self._records: list[TrialRecord] = []
        self._last = time.monotonic()
        self.seconds = 0.0  # time spent in the tracker

    def add(self, record: TrialRecord) -> None:
        self._records.append(record)
        if len(self._records) >= self._batch_size:
            self.flush()

    def flush_if_due(self) -> None:
        if self._records and time.monotonic() - self._last >= FLUSH_EVERY_S:
            self.flush()

    def flush(self) -> None:
        self._last = time.monotonic()
        if not self._records:
            return
        records, self._records = self._records, []
        start = time.perf_counter()
        self._tracker.log_trials(records)
        self.seconds += time.perf_counter() - start


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """``mmopt.__version__`` plus ``+g<commit>`` (and ``.dirty``) when run from a git checkout."""
    from mmopt import __version__

    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, timeout=5, check=True).stdout
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "mmopt"],
                               capture_output=True, text=True, timeout=5, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return __version__
    suffix = ".dirty" if dirty.strip() else ""
    return f"{__version__}+g{commit.strip()}{suffix}" if commit.strip() else __version__


def sweep_info(run: RunConfig, shard_set: ShardPlan, n_existing: int) -> SweepInfo:
    return SweepInfo(
        run=run,
        config_id=run.config_id,
        config_yaml=yaml.safe_dump(to_dict(run), sort_keys=False),
        study_name=run.study.name,
        storage_url=run.study.storage,
        data_root=run.data.root,
        data_fingerprint=shard_set.catalog.fingerprint,
        securities=shard_set.catalog.securities,
        dates=shard_set.catalog.dates,
        n_shards=len(shard_set.shards),
        holdout_dates=run.data.holdout_dates,
        directions=run.objective.directions,
        objective_names=tuple(o.name for o in run.objective.objectives),
        code_version=code_version(),
        run_dir=run.run_dir,
        resumed=n_existing > 0,
        n_existing_trials=n_existing,
        started_at=time.time(),
    )

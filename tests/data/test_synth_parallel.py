"""Synthetic data made on threads: the same bytes as before the change and as one thread.

Known truth: the SHA-256 of the shard files and of the event arrays below were recorded with
the serial generator before ``generate_dataset`` made shards on threads; any change to them is a
change of the embedded dataset that every machine would see.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from mmopt.data.synth import SynthConfig, generate_dataset, generate_shard

CONFIG = SynthConfig(n_securities=3, n_days=2, seed=5, events_per_day=4000,
                     session_seconds=900.0)
FILES_SHA256 = "bc759fb9b71caea21803a5e4f0c93a8426bb4fff8cd94a1a64cdd00e0d178044"
ARRAYS_SHA256 = "f1f7c49e2c87afce6f6ce5313d11f01f6e48af381ab2b0fadd6a29f6095c8895"


def _files_digest(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for path in paths:
        h.update(path.read_bytes())
    return h.hexdigest()


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_dataset_files_are_byte_identical_to_the_serial_generator(tmp_path: Path,
                                                                  workers: int) -> None:
    ds = generate_dataset(CONFIG, tmp_path / "root", workers=workers)
    assert [(s.security, s.date) for s in ds.shards] == sorted(
        (s.security, s.date) for s in ds.shards)
    assert _files_digest([Path(s.path) for s in ds.shards]) == FILES_SHA256


def test_shard_arrays_are_unchanged() -> None:
    h = hashlib.sha256()
    for sec in range(CONFIG.n_securities):
        for day in range(CONFIG.n_days):
            events, _ = generate_shard(CONFIG, sec, day)
            h.update(events.tobytes())
    assert h.hexdigest() == ARRAYS_SHA256


def test_threads_still_compare_existing_shards_before_writing(tmp_path: Path) -> None:
    root = tmp_path / "root"
    generate_dataset(CONFIG, root, workers=2)
    before = {p: p.stat().st_mtime_ns for p in root.rglob("*.parquet")}
    again = generate_dataset(CONFIG, root, workers=2)  # same dataset: nothing rewritten
    assert len(again.shards) == 6
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*.parquet")} == before

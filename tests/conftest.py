"""Shared fixtures: paths to the real data beside the repo."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data" / "binance"


@pytest.fixture(scope="session")
def binance_root() -> Path:
    """The real Binance shards in ../shared/data/binance (skips with the reason if absent)."""
    if not (SHARED_DATA / "instruments.csv").exists():
        pytest.skip(f"real data not found at {SHARED_DATA}: clone ../shared beside the repo")
    return SHARED_DATA

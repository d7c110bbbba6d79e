"""Shared fixtures: paths to the real data beside the repo."""

from __future__ import annotations

import os
import sys
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


# --- Ray's driver and interpreter shutdown -------------------------------------------------
# Ray keeps the driver's C++ core-worker logger alive after ``ray.shutdown()`` (by design, see
# ray-project/ray#20991). After many init/shutdown cycles in one pytest process, that logger's
# file can be gone when the interpreter runs its C++ static destructors, and the process died
# with SIGSEGV *after* printing "N passed" (seen in CI: exit code 2 with every test passed).
# Once the session has finished and every plugin has written its files, a process that loaded
# Ray leaves with the session's own exit status and skips those destructors.
_SESSION_STATUS: list[int] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _SESSION_STATUS.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    if "ray" not in sys.modules or not _SESSION_STATUS:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_SESSION_STATUS[-1])


# --- parallel runs (pytest-xdist) ----------------------------------------------------------
@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under ``-n N --dist loadgroup``, the tests that start servers or a multi-node cluster
    (markers ``cluster``, ``docker``) run one after another in one worker: two clusters at once
    would share the machine's cores and their fault tests' time limits."""
    for item in items:
        if item.get_closest_marker("cluster") or item.get_closest_marker("docker"):
            item.add_marker(pytest.mark.xdist_group("servers"))

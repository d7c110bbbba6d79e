"""The Ray private names mmopt needs, in one place (each has a test in
tests/search/test_ray_loopback.py; a Ray release that changes one fails there).

* ``ray._private.ray_constants.ENABLE_RAY_CLUSTER``: read from ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER``
  when Ray is imported; False makes Ray take 127.0.0.1 as the node IP, so that every server of
  a local runtime binds to loopback. ``loopback_only`` sets the variable (inherited by the
  processes ``ray.init`` starts) and the loaded module's flag for the length of ``ray.init``.
* ``ray._private.utils.read_ray_address``: the address of the cluster ``ray start`` left on
  this machine (what ``address="auto"`` joins); no public lookup exists.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

__all__ = ["LOOPBACK_ENV", "current_cluster_address", "loopback_only"]

LOOPBACK_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


@contextlib.contextmanager
def loopback_only() -> Iterator[None]:
    """Make ``ray.init`` start its node on 127.0.0.1 (see the module docstring)."""
    from ray._private import ray_constants  # private: the switch read at import time

    old_env = os.environ.get(LOOPBACK_ENV)
    old_flag = ray_constants.ENABLE_RAY_CLUSTER
    os.environ[LOOPBACK_ENV] = "0"
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = old_flag
        if old_env is None:
            os.environ.pop(LOOPBACK_ENV, None)
        else:
            os.environ[LOOPBACK_ENV] = old_env


def current_cluster_address() -> str | None:
    """The address of the Ray cluster last started on this machine (``ray start``), or None."""
    try:
        from ray._private.utils import read_ray_address  # private: no public lookup exists
    except ImportError:
        return None
    try:
        address = read_ray_address()
    except OSError:
        return None
    return address or None



"""A local Ray runtime that stays on this machine: loopback only, its files under ``run_dir``,
no process left behind. The Ray private names this needs live in ``_ray_compat`` (tested).

* **Loopback.** On Linux Ray takes the machine's outward IP as the node IP, and its servers
  (GCS, raylet, workers, the driver, the dashboard and runtime-env agents, metrics exporters)
  listen on every interface. Ray binds them to 127.0.0.1 when the node IP is 127.0.0.1, which it
  allows only when ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` (the switch behind its laptop-only
  mode; ``_ray_compat.loopback_only``). The dashboard stays off.
* **Files.** The session (logs, sockets, spilled objects) goes under ``executor.temp_dir``
  (default ``<run_dir>/ray``). Unix socket paths may not exceed 107 bytes: a folder too deep for
  Ray's ``session_.../sockets/plasma_store`` is replaced by a short private folder in the
  system temp dir while Ray runs (``<temp_dir>.txt`` says where); at shutdown its files (logs)
  are copied back under ``temp_dir`` and the short folder removed.
* **Nothing outlives the sweep.** ``shutdown`` stops Ray, then waits for every process the
  runtime started (the children of this process) and kills the ones still there after
  ``grace_s``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from mmopt.executors._ray_compat import current_cluster_address, loopback_only

__all__ = [
    "LOOPBACK",
    "LocalRuntime",
    "current_cluster_address",
    "local_init_kwargs",
    "session_dir",
]

LOOPBACK = "127.0.0.1"
UNIX_PATH_MAX = 107
# "/session_2026-12-02_19-40-33_311234_4194304/sockets/plasma_store" plus a margin
SESSION_SUFFIX_BYTES = 72


@dataclass(frozen=True, slots=True)
class SessionDir:
    """Where the runtime's files go; ``note`` says why, when it is not where asked."""

    path: Path
    requested: Path | None
    note: str | None = None


def session_dir(requested: str | Path | None) -> SessionDir:
    """The session folder for ``executor.temp_dir`` (absolute; short enough for sockets)."""
    if requested is not None:
        wanted = Path(requested).expanduser().resolve()
        if len(os.fsencode(str(wanted))) + SESSION_SUFFIX_BYTES <= UNIX_PATH_MAX:
            wanted.mkdir(parents=True, exist_ok=True)
            return SessionDir(wanted, wanted)
    short = Path(tempfile.mkdtemp(prefix="mmopt-ray-"))
    if requested is None:
        return SessionDir(short, None)
    note = (f"executor.temp_dir {wanted} is too long for Ray's unix sockets ("
            f"{UNIX_PATH_MAX} bytes); Ray's session files are in {short} while it runs, "
            "copied back here when it stops")
    wanted.parent.mkdir(parents=True, exist_ok=True)
    wanted.with_name(wanted.name + ".txt").write_text(f"{note}\n")
    return SessionDir(short, wanted, note)


def local_init_kwargs(num_cpus: int, temp_dir: Path) -> dict[str, Any]:
    """``ray.init`` arguments of a loopback-only local runtime with its files in ``temp_dir``."""
    return {
        "num_cpus": num_cpus,
        "include_dashboard": False,
        "log_to_driver": False,
        "logging_level": logging.WARNING,
        "configure_logging": True,
        "_node_ip_address": LOOPBACK,
        "_temp_dir": str(temp_dir),
    }


@dataclass(slots=True)
class LocalRuntime:
    """A local runtime this process started: its folder and the processes to reap."""

    session: SessionDir
    node_ip: str = ""
    processes: dict[int, psutil.Process] = field(default_factory=dict)

    @classmethod
    def start(cls, ray: Any, num_cpus: int, temp_dir: str | None) -> LocalRuntime:
        """``ray.init`` a loopback-only runtime; prints where its files went if moved."""
        session = session_dir(temp_dir)
        if session.note:
            print(f"note: {session.note}", file=sys.stderr)
        with loopback_only():
            ray.init(**local_init_kwargs(num_cpus, session.path))
        runtime = cls(session, ray.util.get_node_ip_address())
        runtime.remember_processes()
        return runtime

    def remember_processes(self) -> None:
        """Note Ray's processes among this process's descendants (workers start lazily)."""
        with contextlib.suppress(psutil.Error):
            for proc in psutil.Process().children(recursive=True):
                if proc.pid not in self.processes and _is_ray(proc):
                    self.processes[proc.pid] = proc

    def shutdown(self, ray: Any, grace_s: float = 10.0) -> list[int]:
        """``ray.shutdown`` and reap; returns the pids that had to be killed. A session moved
        to a short folder is copied back under the requested one (sockets left out) and the
        short folder removed."""
        self.remember_processes()
        ray.shutdown()
        killed = reap(list(self.processes.values()), grace_s)
        session = self.session
        if session.requested is not None and session.path != session.requested:
            with contextlib.suppress(OSError):
                shutil.copytree(session.path, session.requested, symlinks=True,
                                dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("sockets", "*.sock"))
                shutil.rmtree(session.path, ignore_errors=True)
        return killed


def _is_ray(proc: psutil.Process) -> bool:
    try:
        name, cmdline = proc.name(), proc.cmdline()
    except psutil.Error:
        return False
    head = cmdline[0] if cmdline else ""
    return (name in ("raylet", "gcs_server") or head.startswith("ray::")
            or any(f"{os.sep}ray{os.sep}" in arg for arg in cmdline[:3]))


def reap(processes: list[psutil.Process], grace_s: float) -> list[int]:
    """Wait up to ``grace_s`` for ``processes`` to exit, then kill (SIGKILL) the ones left."""
    _, alive = psutil.wait_procs(processes, timeout=grace_s)
    killed = []
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            proc.kill()  # psutil checks the pid still names the same process
            killed.append(proc.pid)
    if alive:
        psutil.wait_procs(alive, timeout=5.0)
    return killed

"""A local Ray runtime started by a sweep listens on 127.0.0.1 only, keeps its files under
run_dir and leaves no process behind; a folder too deep for Ray's sockets is replaced (said)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from mmopt.cli import main
from mmopt.executors._ray_compat import LOOPBACK_ENV, current_cluster_address, loopback_only
from mmopt.executors.ray_runtime import UNIX_PATH_MAX, session_dir


@pytest.fixture
def short_run_dir() -> Iterator[Path]:
    """A run_dir short enough for Ray's unix sockets (pytest's tmp_path often is not)."""
    path = Path(tempfile.mkdtemp(prefix="mmopt-t-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _listening(pids: set[int]) -> list[tuple[int, str, int]]:
    """(pid, address, port) of every TCP socket in LISTEN state owned by ``pids``."""
    out = []
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.pid in pids:
            out.append((conn.pid, conn.laddr.ip, conn.laddr.port))
    return out


def _tree() -> dict[int, psutil.Process]:
    me = psutil.Process()
    return {p.pid: p for p in [me, *me.children(recursive=True)]}


def _is_loopback(ip: str) -> bool:
    return ip in ("127.0.0.1", "::1", "::ffff:127.0.0.1")


@pytest.mark.ray
def test_local_ray_sweep_listens_on_loopback_only_and_leaves_nothing(
    sweep_args: list[str], short_run_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ray

    import mmopt.search.driver as driver

    seen: dict[str, Any] = {}
    make = driver.make_executor

    def spy(config: Any) -> Any:
        executor = make(config)
        result = executor.result

        def sampling_result(pending: Any) -> Any:
            if "listening" not in seen:  # mid-sweep: workers up, trials in flight
                tree = _tree()
                seen["listening"] = _listening(set(tree))
                seen["processes"] = {pid: p.name() for pid, p in tree.items()
                                     if pid != psutil.Process().pid}
            return result(pending)

        executor.result = sampling_result  # type: ignore[method-assign]
        seen["executor"] = executor
        return executor

    monkeypatch.setattr(driver, "make_executor", spy)
    args = [a for a in sweep_args if not a.startswith(("run_dir", "study.storage"))]
    assert main(["sweep", "--no-progress", *args, f"run_dir={short_run_dir}",
                 f"study.storage=sqlite:///{short_run_dir}/optuna.db",
                 "executor=ray", "executor.num_cpus=2", "executor.trials_per_task=2"]) == 0

    listening = seen["listening"]
    assert listening, "no listening socket seen: the sample was not taken while Ray ran"
    exposed = [entry for entry in listening if not _is_loopback(entry[1])]
    assert exposed == [], f"listening beyond loopback: {exposed}"
    assert any(name == "raylet" for name in seen["processes"].values())
    # the session's files are under run_dir, not Ray's default temp folder
    sessions = list((short_run_dir / "ray").glob("session_*"))
    assert sessions and (sessions[0] / "logs").is_dir()
    # after the sweep: Ray is down and none of its processes is left
    assert not ray.is_initialized()
    runtime = seen["executor"].runtime
    assert runtime is not None and runtime.node_ip == "127.0.0.1"
    assert runtime.processes
    left = [pid for pid, proc in runtime.processes.items() if proc.is_running()
            and proc.status() != psutil.STATUS_ZOMBIE]
    assert left == [], f"Ray processes outlived the sweep: {left}"
    ray_left = [p.pid for p in _tree().values() if p.pid != psutil.Process().pid
                and (p.name() in ("raylet", "gcs_server") or p.name().startswith("ray::"))]
    assert ray_left == []


def test_a_temp_dir_too_deep_for_unix_sockets_is_replaced_and_said(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * (UNIX_PATH_MAX - len(str(tmp_path)))) / "ray"
    chosen = session_dir(deep)
    try:
        assert chosen.path != deep and len(str(chosen.path)) < 40
        assert chosen.note is not None and str(chosen.path) in chosen.note
        assert str(chosen.path) in (deep.parent / "ray.txt").read_text()
    finally:
        shutil.rmtree(chosen.path, ignore_errors=True)
    short = session_dir(tmp_path / "r") if len(str(tmp_path)) < 30 else None
    if short is not None:
        assert short.path == (tmp_path / "r").resolve() and short.note is None


def test_the_ray_private_names_still_exist_and_are_restored() -> None:
    """_ray_compat's private names: the loopback switch and the address-file lookup."""
    from ray._private import ray_constants

    before_flag, before_env = ray_constants.ENABLE_RAY_CLUSTER, os.environ.get(LOOPBACK_ENV)
    with loopback_only():
        assert ray_constants.ENABLE_RAY_CLUSTER is False and os.environ[LOOPBACK_ENV] == "0"
        from ray._private.services import get_node_ip_address

        assert get_node_ip_address() == "127.0.0.1"  # what ray.init takes as the node IP
    assert before_flag == ray_constants.ENABLE_RAY_CLUSTER
    assert os.environ.get(LOOPBACK_ENV) == before_env
    found = current_cluster_address()
    assert found is None or ":" in found


def test_a_moved_session_is_copied_back_under_temp_dir_at_shutdown(tmp_path: Path) -> None:
    from mmopt.executors.ray_runtime import LocalRuntime

    deep = tmp_path / ("d" * (UNIX_PATH_MAX - len(str(tmp_path)))) / "ray"
    runtime = LocalRuntime(session_dir(deep))
    short = runtime.session.path
    (short / "session_x" / "logs").mkdir(parents=True)
    (short / "session_x" / "logs" / "raylet.out").write_text("log line")
    (short / "session_x" / "sockets").mkdir()

    class _FakeRay:
        def shutdown(self) -> None:
            return None

    assert runtime.shutdown(_FakeRay(), grace_s=0.1) == []
    assert (deep / "session_x" / "logs" / "raylet.out").read_text() == "log line"
    assert not (deep / "session_x" / "sockets").exists() and not short.exists()

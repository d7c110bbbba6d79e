"""Servers tests start on 127.0.0.1 and stop themselves (the cluster suite, the PostgreSQL
storage test, the MLflow-server tracker test): PostgreSQL (the distro's
server tools, as ``nobody`` when run as root), ``mlflow server`` backed by it, and a Ray
cluster (a head with the dashboard and worker nodes, each its own raylet) run by
``ray_cluster.py`` in a process of its own. Nothing is skipped silently: with ``CI`` set, a
missing tool fails the test."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import psutil
import pytest

PG_TOOLS = ("initdb", "pg_ctl", "runuser")
HERE = Path(__file__).resolve().parent / "cluster"  # ray_cluster.py
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def missing(why: str) -> None:
    """Skip, or fail in CI (never skipped silently there)."""
    if os.environ.get("CI"):
        pytest.fail(why)
    pytest.skip(why)


def short_dir(prefix: str) -> Path:
    """A folder in the system temp dir: Ray's unix sockets allow 107 bytes, tmp_path is deeper."""
    return Path(tempfile.mkdtemp(prefix=prefix))


def stop_tree(proc: subprocess.Popen[Any] | psutil.Process, grace_s: float = 15.0) -> None:
    """SIGTERM a process and everything under it, SIGKILL what is left after ``grace_s``."""
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(proc.pid)
        tree = [root, *root.children(recursive=True)]
        for p in tree:
            with contextlib.suppress(psutil.Error):
                p.send_signal(signal.SIGTERM)
        _, alive = psutil.wait_procs(tree, timeout=grace_s)
        for p in alive:
            with contextlib.suppress(psutil.Error):
                p.kill()
        psutil.wait_procs(alive, timeout=5)


# --- PostgreSQL ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Postgres:
    port: int
    password: str
    folder: Path
    as_user: tuple[str, ...]

    def url(self, database: str, password: str | None = None) -> str:
        pw = self.password if password is None else password
        return f"postgresql+psycopg2://mmopt:{pw}@127.0.0.1:{self.port}/{database}"

    def pg_ctl(self, *args: str) -> None:
        subprocess.run([*self.as_user, "pg_ctl", "-D", str(self.folder / "data"), *args],
                       check=True, capture_output=True, timeout=300)

    def start(self) -> None:
        self.pg_ctl("-w", "-t", "120", "-l", str(self.folder / "log"), "-o",
                    f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1", "start")

    def stop(self, mode: str = "fast") -> None:
        self.pg_ctl("-m", mode, "-w", "stop")


@contextlib.contextmanager
def postgres(password: str, databases: tuple[str, ...]) -> Iterator[Postgres]:
    """initdb + pg_ctl start on a free port of 127.0.0.1 (as ``nobody`` when root, since
    PostgreSQL refuses root); user mmopt / ``password``; ``databases`` created; stopped and
    removed at the end."""
    search = os.pathsep.join([os.environ.get("PATH", ""), *sorted(
        str(p) for p in Path("/usr/lib/postgresql").glob("*/bin"))])  # Debian's package
    absent = [t for t in PG_TOOLS if shutil.which(t, path=search) is None]
    if absent:
        missing(f"PostgreSQL server tools not installed ({', '.join(absent)}): "
                "`apt-get install postgresql` (.ci/run does it)")
    os.environ["PATH"] = search
    pytest.importorskip("psycopg2", reason="psycopg2-binary (dev extra) is not installed")
    import psycopg2

    folder = short_dir("mmopt-pg-")
    as_user = ("runuser", "-u", "nobody", "--") if os.geteuid() == 0 else ()
    (folder / "pw").write_text(f"{password}\n")
    if as_user:
        shutil.chown(folder, "nobody")
        shutil.chown(folder / "pw", "nobody")
    server = Postgres(free_port(), password, folder, as_user)
    try:
        subprocess.run([*as_user, "initdb", "-D", str(folder / "data"), "-U", "mmopt",
                        "--auth=scram-sha-256", f"--pwfile={folder / 'pw'}"],
                       check=True, capture_output=True, timeout=300)
        server.start()
        connection = psycopg2.connect(host="127.0.0.1", port=server.port, user="mmopt",
                                      password=password, dbname="postgres")
        connection.autocommit = True
        for name in databases:
            connection.cursor().execute(f"CREATE DATABASE {name}")
        connection.close()
        yield server
    finally:
        with contextlib.suppress(subprocess.SubprocessError):
            server.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


# --- MLflow server -------------------------------------------------------------------------
def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextlib.contextmanager
def mlflow_server(backend_uri: str, artifacts: Path, log: Path) -> Iterator[str]:
    """``mlflow server`` on a free port of 127.0.0.1, runs in ``backend_uri``; its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(BIN / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(port),
             "--workers", "1", "--backend-store-uri", backend_uri, "--serve-artifacts",
             "--artifacts-destination", str(artifacts)],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"})
        try:
            deadline = time.monotonic() + 300
            while not _healthy(url):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"mlflow server did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.5)
            yield url
        finally:
            stop_tree(proc, grace_s=5)  # a test server: nothing to save


def mlflow_post(url: str, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(f"{url}/api/2.0/mlflow/{endpoint}",
                                     data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return dict(json.loads(response.read()))


# --- Ray cluster ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Node:
    node_id: str
    raylet_pid: int
    gcs_address: str


# Ray waits a fixed 30 s for a new node's raylet to register with the GCS
# (ray/_private/node.py, not configurable); on a 2-core machine busy with the other test worker
# the head can take longer ("The current node timed out during startup", seen in a CI run), so
# the head is started up to this many times, each on fresh ports after the last one is cleared.
HEAD_START_ATTEMPTS = 3


class RayCluster:
    """``ray_cluster.py`` in its own process: ``add_node`` starts a worker node (1 CPU)."""

    def __init__(self, folder: Path, log: Path) -> None:
        self.folder = folder
        self.workers: list[Node] = []
        self._killed: list[Node] = []
        for attempt in range(1, HEAD_START_ATTEMPTS + 1):
            self._start(log, attempt)
            head = self._read_node()
            if head is not None:
                self.head = head
                return
            if attempt < HEAD_START_ATTEMPTS:
                self.close()  # stops what the failed start left, before the next one
        self._fail("the Ray cluster did not start")

    def _start(self, log: Path, attempt: int) -> None:
        self.dashboard = f"http://127.0.0.1:{free_port()}"
        self._log = log.open("a")
        self._log.write(f"--- head start, attempt {attempt} of {HEAD_START_ATTEMPTS}\n")
        self._log.flush()
        self.proc: subprocess.Popen[str] = subprocess.Popen(
            [sys.executable, str(HERE / "ray_cluster.py"), str(self.folder),
             self.dashboard.rsplit(":", 1)[1], str(free_port())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, text=True,
            start_new_session=True, env={**cluster_env(), "RAY_TMPDIR": str(self.folder)})

    def _read_node(self) -> Node | None:
        """The node ``ray_cluster.py`` reports next, or None when it exited without one."""
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        return Node(**json.loads(line)) if line else None

    def _reply(self) -> Node:
        node = self._read_node()
        if node is None:
            self._fail("the Ray cluster did not start a node")
        return node

    def _fail(self, what: str) -> NoReturn:
        self._log.flush()
        log = Path(self._log.name)
        self.close()
        pytest.fail(f"{what}:\n{log.read_text()}")

    def add_node(self) -> Node:
        """Start a worker node (1 CPU), listed in ``workers``."""
        assert self.proc.stdin is not None
        self.proc.stdin.write("add\n")
        self.proc.stdin.flush()
        node = self._reply()
        self.workers.append(node)
        return node

    def kill_raylet(self, node: Node) -> None:
        """``kill -9`` a worker node's raylet (its workers and agents then exit on their own);
        ``restore`` removes what is left and starts a replacement."""
        os.kill(node.raylet_pid, signal.SIGKILL)
        self.workers.remove(node)
        self._killed.append(node)

    def remove(self, node: Node) -> None:
        """Stop every process of a worker node (SIGKILL)."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"remove {node.node_id}\n")
        self.proc.stdin.flush()
        assert json.loads(self.proc.stdout.readline()) == {"removed": node.node_id}
        if node in self.workers:
            self.workers.remove(node)

    def restore(self, n_workers: int = 2) -> None:
        """Remove what is left of killed nodes; start or stop worker nodes to ``n_workers``."""
        while self._killed:
            self.remove(self._killed.pop())
        while len(self.workers) > n_workers:
            self.remove(self.workers[-1])
        while len(self.workers) < n_workers:
            self.add_node()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            assert self.proc.stdin is not None
            self.proc.stdin.close()  # ray_cluster.py shuts the cluster down on end of input
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=60)
        stop_tree(self.proc, grace_s=5)
        # anything Ray started for this cluster that outlived it (its files name the folder)
        for p in psutil.process_iter(["cmdline"]):
            with contextlib.suppress(psutil.Error):
                if any(str(self.folder) in arg for arg in p.info["cmdline"] or ()):
                    p.kill()
        self._log.close()

    def worker_logs(self) -> str:
        """Every worker process's stderr on every node (Ray's ``logs/worker-*.err``)."""
        return "\n".join(p.read_text(errors="replace")
                         for p in sorted(self.folder.rglob("logs/worker-*.err")))


def cluster_env() -> dict[str, str]:
    """The environment of the cluster's processes (and of the job's driver and workers):
    Ray on loopback only, the venv's commands first on PATH."""
    return {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
            "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "")]),
            "RAY_USAGE_STATS_ENABLED": "0", "RAY_raylet_start_wait_time_s": "300",
            "RAY_agent_register_timeout_ms": "300000",  # agents start slowly on a busy machine
            "MLFLOW_DISABLE_TELEMETRY": "true"}

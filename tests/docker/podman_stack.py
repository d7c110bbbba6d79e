"""Podman helpers for tests/docker: the tools, the images (built from the local Debian base, no
registry needed) and a compose project started with podman-compose and always torn down."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker" / "compose.yaml"
BASE_IMAGE = "localhost/debian:bookworm"
MMOPT_IMAGE = "localhost/mmopt:test"
POSTGRES_IMAGE = "localhost/mmopt-postgres:test"
# the strategy the test's sweep runs: the only kernel its image compiles (users get every one)
WARM_STRATEGIES = "price_follow"
DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
INSTALL_HINT = (
    "as root: apt-get install -y podman runc debootstrap; "
    "printf '[containers]\\ndefault_ulimits = []\\n' > /etc/containers/containers.conf; "
    "pip install -c constraints.txt podman-compose (in the dev extra); .ci/run does all of it"
)


def missing(reason: str) -> None:
    """A tool the test needs is absent: a failure in CI (env CI set), a skip with the reason
    elsewhere."""
    message = f"{reason} ({INSTALL_HINT})"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def require_tools() -> None:
    if shutil.which("podman") is None:
        missing("podman is not installed")
    if os.geteuid() != 0:
        missing("the docker tests run rootful podman and debootstrap: run them as root")
    try:
        import podman_compose  # noqa: F401
    except ImportError:
        missing("podman-compose is not installed in this Python environment")
    probe = run(["podman", "info", "--format", "{{.Host.OCIRuntime.Name}}"], check=False)
    if probe.returncode != 0:
        missing(f"podman cannot run here: {probe.stderr.strip() or probe.stdout.strip()}")


def run(
    command: list[str],
    *,
    check: bool = True,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """``command`` with its output captured; on failure an error that shows the output."""
    done = subprocess.run(
        command, capture_output=True, text=True, env=dict(env) if env else None,
        timeout=timeout, cwd=cwd, check=False,
    )  # fmt: skip
    if check and done.returncode != 0:
        raise AssertionError(
            f"{' '.join(command)} exited with {done.returncode}:\n"
            f"--- stdout\n{done.stdout[-6000:]}\n--- stderr\n{done.stderr[-6000:]}"
        )
    return done


def image_exists(name: str) -> bool:
    return run(["podman", "image", "exists", name], check=False).returncode == 0


def ensure_base_image() -> float:
    """``localhost/debian:bookworm`` from Debian's archive (debootstrap, podman import) when
    podman's store does not have it yet; the seconds it took (0 when it was there)."""
    if image_exists(BASE_IMAGE):
        return 0.0
    if shutil.which("debootstrap") is None:
        missing(f"{BASE_IMAGE} is missing and debootstrap is not installed to make it")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mmopt-rootfs-") as folder:
        rootfs = Path(folder) / "rootfs"
        run(["debootstrap", "--variant=minbase", DEBIAN_SUITE, str(rootfs), DEBIAN_MIRROR],
            timeout=1800)
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        try:
            run_import = subprocess.run(
                ["podman", "import", "-", BASE_IMAGE], stdin=tar.stdout, capture_output=True,
                text=True, timeout=900, check=False,
            )  # fmt: skip
        finally:
            assert tar.stdout is not None
            tar.stdout.close()
            tar.wait(timeout=60)
        if run_import.returncode != 0 or tar.returncode != 0:
            raise AssertionError(f"podman import {BASE_IMAGE} failed: {run_import.stderr}")
    return time.perf_counter() - start


def ca_bundle_secret() -> list[str]:
    """``--secret`` with this machine's CA bundle, so pip inside the build trusts what the host
    trusts (a TLS-intercepting proxy); nothing of it stays in the image."""
    paths = ssl.get_default_verify_paths()
    for candidate in (os.environ.get("PIP_CERT"), os.environ.get("SSL_CERT_FILE"),
                      paths.cafile, paths.openssl_cafile):
        if candidate and Path(candidate).is_file():
            return ["--secret", f"id=ca_bundle,src={Path(candidate).resolve()}"]
    return []


def build_images() -> dict[str, float]:
    """The mmopt image (docker/Dockerfile, kernels of WARM_STRATEGIES) and the PostgreSQL image
    (docker/postgres/), both from the local Debian base; podman's layer cache makes a rebuild of
    unchanged layers quick. Seconds per image."""
    seconds = {}
    start = time.perf_counter()
    run(["podman", "build", "-f", str(REPO / "docker" / "Dockerfile"), "-t", MMOPT_IMAGE,
         "--build-arg", f"BASE_IMAGE={BASE_IMAGE}",
         "--build-arg", f"WARM_STRATEGIES={WARM_STRATEGIES}", *ca_bundle_secret(), str(REPO)],
        timeout=3600)
    seconds["mmopt"] = time.perf_counter() - start
    start = time.perf_counter()
    run(["podman", "build", "-t", POSTGRES_IMAGE, "--build-arg", f"BASE_IMAGE={BASE_IMAGE}",
         str(REPO / "docker" / "postgres")], timeout=1800)
    seconds["postgres"] = time.perf_counter() - start
    return seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_json(url: str, payload: object | None = None, timeout: float = 10.0) -> object:
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read().decode())


def wait_for(what: str, ready: object, timeout_s: float, stack: Stack) -> None:
    """Poll ``ready()`` (a callable returning a truthy value; errors count as not ready)."""
    assert callable(ready)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if ready():
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not ready after {timeout_s:.0f} s\n{stack.logs()}")
        time.sleep(2)


@dataclass(frozen=True)
class Stack:
    """A podman-compose project of docker/compose.yaml, published on 127.0.0.1 only."""

    project: str
    data: Path
    db_password: str
    mlflow_port: int = field(default_factory=free_port)
    dashboard_port: int = field(default_factory=free_port)
    postgres_port: int = field(default_factory=free_port)

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "MMOPT_IMAGE": MMOPT_IMAGE,
            "MMOPT_POSTGRES_IMAGE": POSTGRES_IMAGE,
            "MMOPT_DATA": str(self.data),
            "MMOPT_BIND": "127.0.0.1",
            "MMOPT_MLFLOW_PORT": str(self.mlflow_port),
            "MMOPT_RAY_DASHBOARD_PORT": str(self.dashboard_port),
            "MMOPT_POSTGRES_PORT": str(self.postgres_port),
            "MMOPT_DB_PASSWORD": self.db_password,
            "MMOPT_WORKER_CPUS": "1",
            "MMOPT_MLFLOW_WORKERS": "1",
        }

    def compose(self, *args: str, timeout: float = 600, check: bool = True) -> str:
        command = [sys.executable, "-m", "podman_compose", "-f", str(COMPOSE_FILE),
                   "-p", self.project, *args]
        return run(command, env=self.env(), timeout=timeout, check=check).stdout

    def containers(self) -> list[str]:
        out = run(["podman", "ps", "-a", "--filter",
                   f"label=io.podman.compose.project={self.project}", "--format", "{{.Names}}"])
        return out.stdout.split()

    def logs(self, tail: int = 40) -> str:
        parts = []
        for name in self.containers():
            done = run(["podman", "logs", "--tail", str(tail), name], check=False)
            parts.append(f"--- {name}\n{done.stdout}{done.stderr}")
        return "\n".join(parts)

    @property
    def mlflow_url(self) -> str:
        return f"http://127.0.0.1:{self.mlflow_port}"

    @property
    def dashboard_url(self) -> str:
        return f"http://127.0.0.1:{self.dashboard_port}"

    def postgres_url(self, database: str) -> str:
        return (f"postgresql+psycopg2://mmopt:{self.db_password}@127.0.0.1:"
                f"{self.postgres_port}/{database}")


@contextmanager
def compose_stack(data: Path) -> Iterator[Stack]:
    """``podman-compose up -d`` (images already built), then ``down -v`` whatever happened;
    a container left over is removed by name and reported."""
    stack = Stack(project=f"mmopt-test-{secrets.token_hex(4)}", data=data,
                  db_password=secrets.token_hex(12))
    try:
        stack.compose("up", "-d", "--no-build")
        yield stack
    finally:
        stack.compose("down", "-v", "-t", "10", check=False)
        left = stack.containers()
        if left:
            run(["podman", "rm", "-f", *left], check=False)
            raise AssertionError(f"podman-compose down left containers behind: {left}")
        volumes = run(["podman", "volume", "ls", "-q", "--filter",
                       f"label=io.podman.compose.project={stack.project}"], check=False)
        if volumes.stdout.split():
            run(["podman", "volume", "rm", "-f", *volumes.stdout.split()], check=False)

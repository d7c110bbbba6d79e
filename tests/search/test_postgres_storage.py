"""A real PostgreSQL on 127.0.0.1: a wrong password fails before any work (no study, within
seconds, password masked); the right one runs the sweep, and its password is in no output and
no file of run_dir."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mmopt.cli import main

pytestmark = pytest.mark.cluster

PASSWORD = "S3cretPW"
TOOLS = ("initdb", "pg_ctl", "runuser")


@dataclass(frozen=True)
class Server:
    port: int

    def url(self, password: str, database: str = "optuna") -> str:
        return f"postgresql+psycopg2://mmopt:{password}@127.0.0.1:{self.port}/{database}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def postgres() -> Iterator[Server]:
    """initdb + pg_ctl start on a free port of 127.0.0.1 (as `nobody` when run as root, since
    PostgreSQL refuses root); user mmopt / PASSWORD, database optuna; stopped at the end."""
    search = os.pathsep.join([os.environ.get("PATH", ""), *sorted(
        str(p) for p in Path("/usr/lib/postgresql").glob("*/bin"))])  # Debian's package
    missing = [t for t in TOOLS if shutil.which(t, path=search) is None]
    if missing:
        why = (f"PostgreSQL server tools not installed ({', '.join(missing)}): "
               "`apt-get install postgresql` (.ci/run does it)")
        if os.environ.get("CI"):
            pytest.fail(why)  # never skipped silently in CI
        pytest.skip(why)
    os.environ["PATH"] = search
    pytest.importorskip("psycopg2", reason="psycopg2-binary (dev extra) is not installed")
    folder = Path(tempfile.mkdtemp(prefix="mmopt-pg-"))
    as_user = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
    if as_user:
        shutil.chown(folder, "nobody")
    (folder / "pw").write_text(f"{PASSWORD}\n")
    if as_user:
        shutil.chown(folder / "pw", "nobody")
    port = _free_port()
    data = folder / "data"
    try:
        subprocess.run([*as_user, "initdb", "-D", str(data), "-U", "mmopt",
                        "--auth=scram-sha-256", f"--pwfile={folder / 'pw'}"],
                       check=True, capture_output=True, timeout=300)
        subprocess.run([*as_user, "pg_ctl", "-D", str(data), "-w", "-t", "120", "-l",
                        str(folder / "log"), "-o",
                        f"-p {port} -k {folder} -c listen_addresses=127.0.0.1", "start"],
                       check=True, capture_output=True, timeout=300)
        import psycopg2

        connection = psycopg2.connect(host="127.0.0.1", port=port, user="mmopt",
                                      password=PASSWORD, dbname="postgres")
        connection.autocommit = True
        connection.cursor().execute("CREATE DATABASE optuna")
        connection.close()
        yield Server(port)
    finally:
        subprocess.run([*as_user, "pg_ctl", "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


def _tables(server: Server) -> list[str]:
    import psycopg2

    with psycopg2.connect(host="127.0.0.1", port=server.port, user="mmopt", password=PASSWORD,
                          dbname="optuna") as connection, connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return sorted(row[0] for row in cursor.fetchall())


def test_a_wrong_password_fails_before_any_work(
    postgres: Server, sweep_args: list[str], capfd: pytest.CaptureFixture[str]
) -> None:
    args = [a for a in sweep_args if not a.startswith("study.storage")]
    start = time.perf_counter()
    code = main(["sweep", "--no-progress", *args, f"study.storage={postgres.url('WrongPW')}"])
    elapsed = time.perf_counter() - start
    out, err = capfd.readouterr()
    assert code == 2 and elapsed < 30
    assert f"study.storage: cannot connect to {postgres.url('***')}" in err
    assert "password authentication failed" in err
    assert "WrongPW" not in out + err
    assert _tables(postgres) == []  # Optuna did not even create its schema


def test_a_postgresql_sweep_never_shows_its_password(
    postgres: Server, sweep_args: list[str], tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    args = [a for a in sweep_args if not a.startswith(("study.storage", "study.n_trials"))]
    url = postgres.url(PASSWORD)
    assert main(["sweep", "--no-progress", *args, "study.n_trials=2", "tracking=mlflow",
                 f"study.storage={url}"]) == 0
    out, err = capfd.readouterr()
    assert f"storage: {postgres.url('***')}" in out
    assert "studies" in _tables(postgres)
    assert main(["show", "tiny", "--storage", url]) == 0
    out2, err2 = capfd.readouterr()
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name.startswith("mlflow.db") for p in files)
    assert PASSWORD not in out + err + out2 + err2
    assert [p for p in files if PASSWORD.encode() in p.read_bytes()] == []

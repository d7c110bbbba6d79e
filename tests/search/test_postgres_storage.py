"""A real PostgreSQL on 127.0.0.1: a wrong password fails before any work (no study, within
seconds, password masked); the right one runs the sweep, and its password is in no output and
no file of run_dir."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import Postgres
from servers import postgres as start_postgres

from mmopt.cli import main

pytestmark = pytest.mark.cluster

PASSWORD = "S3cretPW"


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    """PostgreSQL on 127.0.0.1 (tests/servers.py), user mmopt / PASSWORD, database optuna."""
    with start_postgres(PASSWORD, ("optuna",)) as server:
        yield server


def _tables(server: Postgres) -> list[str]:
    import psycopg2

    with psycopg2.connect(host="127.0.0.1", port=server.port, user="mmopt", password=PASSWORD,
                          dbname="optuna") as connection, connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return sorted(row[0] for row in cursor.fetchall())


def test_a_wrong_password_fails_before_any_work(
    postgres: Postgres, sweep_args: list[str], capfd: pytest.CaptureFixture[str]
) -> None:
    args = [a for a in sweep_args if not a.startswith("study.storage")]
    start = time.perf_counter()
    wrong = postgres.url("optuna", "WrongPW")
    code = main(["sweep", "--no-progress", *args, f"study.storage={wrong}"])
    elapsed = time.perf_counter() - start
    out, err = capfd.readouterr()
    assert code == 2 and elapsed < 30
    assert f"study.storage: cannot connect to {postgres.url('optuna', '***')}" in err
    assert "password authentication failed" in err
    assert "WrongPW" not in out + err
    assert _tables(postgres) == []  # Optuna did not even create its schema


def test_a_postgresql_sweep_never_shows_its_password(
    postgres: Postgres, sweep_args: list[str], tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    args = [a for a in sweep_args if not a.startswith(("study.storage", "study.n_trials"))]
    url = postgres.url('optuna')
    assert main(["sweep", "--no-progress", *args, "study.n_trials=2", "tracking=mlflow",
                 f"study.storage={url}"]) == 0
    out, err = capfd.readouterr()
    assert f"storage: {postgres.url('optuna', '***')}" in out
    assert "studies" in _tables(postgres)
    assert main(["show", "tiny", "--storage", url]) == 0
    out2, err2 = capfd.readouterr()
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name.startswith("mlflow.db") for p in files)
    assert PASSWORD not in out + err + out2 + err2
    assert [p for p in files if PASSWORD.encode() in p.read_bytes()] == []

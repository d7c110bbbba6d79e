"""Fail before any work: a dead MLflow server, a bad Ray address, an unusable storage or bad
data stop `mmopt sweep` within seconds, naming the key and the fix, and no study is created."""

from __future__ import annotations

import os
import shutil
import socket
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mmopt.cli import main

LIMIT_S = 30.0


def _free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _sweep(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, float]:
    start = time.perf_counter()
    code = main(["sweep", "--no-progress", *args])
    elapsed = time.perf_counter() - start
    return code, capsys.readouterr().err, elapsed


def _no_study(tmp_path: Path) -> None:
    """The storage of ``sweep_args`` was not created (no study, no empty database)."""
    assert not (tmp_path / "optuna.db").exists()
    assert not list(tmp_path.glob(".mmopt-write-check-*"))


def test_a_dead_mlflow_server_fails_before_any_work(
    sweep_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    uri = f"http://127.0.0.1:{_free_port()}"
    code, err, elapsed = _sweep([*sweep_args, "tracking=mlflow",
                                 f"tracking.tracking_uri={uri}"], capsys)
    assert code == 2 and elapsed < LIMIT_S
    assert "tracking.tracking_uri" in err and uri in err and "does not answer" in err
    assert "tracking=none" in err  # the fix
    _no_study(tmp_path)


def test_an_unreachable_ray_address_fails_within_seconds_naming_it(
    sweep_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    address = f"127.0.0.1:{_free_port()}"
    code, err, elapsed = _sweep([*sweep_args, "executor=ray", f"executor.address={address}"],
                                capsys)
    assert code == 2 and elapsed < LIMIT_S
    assert f"executor.address: no Ray cluster answers at {address}" in err
    _no_study(tmp_path)
    client = f"ray://127.0.0.1:{_free_port()}"
    code, err, elapsed = _sweep([*sweep_args, "executor=ray", f"executor.address={client}"],
                                capsys)
    assert code == 2 and elapsed < LIMIT_S and client in err


def test_storage_under_a_regular_file_is_a_clear_error(
    sweep_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    url = f"sqlite:///{blocker}/optuna.db"
    code, err, elapsed = _sweep([*sweep_args, f"study.storage={url}"], capsys)
    assert code == 2 and elapsed < LIMIT_S
    assert "Traceback" not in err and "NotADirectoryError" not in err
    assert f"study.storage: {blocker}/optuna.db cannot be created: {blocker} is a file" in err
    assert blocker.read_text() == "not a folder"


def test_an_unwritable_storage_folder_is_a_clear_error(
    sweep_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # /sys is read-only for every user, root included (chmod does not stop root)
    folder = Path("/sys")
    if os.access(folder, os.W_OK) and _can_write(folder):
        pytest.skip(f"{folder} is writable on this machine: no unwritable folder to test with")
    url = f"sqlite:///{folder}/optuna.db"
    code, err, elapsed = _sweep([*sweep_args, f"study.storage={url}"], capsys)
    assert code == 2 and elapsed < LIMIT_S
    assert "Traceback" not in err and "PermissionError" not in err
    assert f"study.storage: cannot write in {folder}" in err
    _no_study(tmp_path)


def _can_write(folder: Path) -> bool:
    try:
        (folder / ".mmopt-probe").touch()
    except OSError:
        return False
    (folder / ".mmopt-probe").unlink()
    return True


def test_a_storage_folder_that_does_not_exist_is_an_error_outside_run_dir(
    sweep_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "elsewhere" / "deeper"
    run_dir = tmp_path / "run"
    code, err, _ = _sweep([*sweep_args, f"run_dir={run_dir}",
                           f"study.storage=sqlite:///{missing}/optuna.db"], capsys)
    assert code == 2
    assert f"the folder {missing} of the storage file" in err and "mkdir -p" in err
    assert not (tmp_path / "elsewhere").exists()  # nothing created silently
    # inside run_dir a missing folder is created (the default layout, runs/optuna.db)
    inside = run_dir / "studies" / "a"
    code, _, _ = _sweep([*sweep_args, f"run_dir={run_dir}", "study.n_trials=2",
                         f"study.storage=sqlite:///{inside}/optuna.db"], capsys)
    assert code == 0 and (inside / "optuna.db").is_file()


@pytest.mark.parametrize(("scheme", "package"), [("postgresql", "psycopg[binary]"),
                                               ("postgresql+psycopg2", "psycopg2-binary")])
def test_a_postgresql_url_without_its_driver_names_the_package(
    scheme: str, package: str, sweep_args: list[str], tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import builtins

    real_import = builtins.__import__

    def no_driver(name: str, *args: object, **kwargs: object) -> object:
        if name.split(".")[0] in ("psycopg", "psycopg2"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_driver)
    url = f"{scheme}://alice:S3cretPW@127.0.0.1:5432/optuna"
    code, err, elapsed = _sweep([*sweep_args, f"study.storage={url}"], capsys)
    assert code == 2 and elapsed < LIMIT_S
    assert f"needs the Python package `{package}`" in err and f"pip install '{package}'" in err
    assert "Failed to import DB access module" not in err
    assert "S3cretPW" not in err and "alice:***@127.0.0.1" in err


def test_a_bad_data_root_fails_before_the_study_is_created(
    sweep_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = [a for a in sweep_args if not a.startswith(("data.", "experiment"))]
    base = ["experiment=smoke", "data=parquet", "data.generate=null", *base]
    code, err, elapsed = _sweep([*base, f"data.root={tmp_path / 'no_such_root'}"], capsys)
    assert code == 2 and elapsed < LIMIT_S
    assert "no_such_root" in err
    _no_study(tmp_path)


def test_a_shard_with_a_missing_column_fails_before_the_study_is_created(
    sweep_args: list[str], tiny_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sweep", "--no-progress", *sweep_args, "study.n_trials=1",
                 f"study.storage=sqlite:///{tmp_path}/warm.db"]) == 0  # makes tiny_root
    capsys.readouterr()
    root = tmp_path / "broken"
    shutil.copytree(tiny_root, root, ignore=shutil.ignore_patterns(".mmopt_synth.json"))
    victim = sorted(root.rglob("*.parquet"))[0]
    table = pq.read_table(victim)
    pq.write_table(table.drop_columns(["qty"]), victim)
    base = [a for a in sweep_args if not a.startswith(("data.", "experiment"))]
    code, err, _ = _sweep(["experiment=smoke", "data=parquet", "data.generate=null", *base,
                           f"data.root={root}"], capsys)
    assert code == 2 and str(victim) in err and "'qty'" in err
    _no_study(tmp_path)
    assert isinstance(table, pa.Table)


def test_every_problem_is_reported_at_once(
    sweep_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    address = f"127.0.0.1:{_free_port()}"
    uri = f"http://127.0.0.1:{_free_port()}"
    code, err, elapsed = _sweep([*sweep_args, "executor=ray", f"executor.address={address}",
                                 "tracking=mlflow", f"tracking.tracking_uri={uri}"], capsys)
    assert code == 2 and elapsed < LIMIT_S
    assert "2 problems found before any work" in err
    assert address in err and uri in err
    _no_study(tmp_path)


def test_a_holdout_covering_every_date_says_so(
    sweep_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mmopt.cli._hydra import compose_config
    from mmopt.config import open_shards

    dates = open_shards(compose_config(sweep_args).data).dates
    code, err, _ = _sweep([*sweep_args, f"data.holdout_dates=[{','.join(dates)}]"], capsys)
    assert code == 2
    assert "data.holdout_dates: the hold-out covers every date the sweep would use" in err
    assert "data.dates" not in err.split("(fix")[0] and "[]" not in err
    _no_study(tmp_path)


def test_an_unusable_run_dir_is_a_clear_error(
    sweep_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    code, err, _ = _sweep([*sweep_args, f"run_dir={blocker}/runs"], capsys)
    assert code == 2 and "Traceback" not in err
    assert f"run_dir: {blocker}/runs cannot be created: {blocker} is a file" in err
    if not _can_write(Path("/sys")):
        code, err, _ = _sweep([*sweep_args, "run_dir=/sys/mmopt-runs"], capsys)
        assert code == 2 and "Traceback" not in err
        assert "run_dir: cannot create or write in /sys/mmopt-runs" in err

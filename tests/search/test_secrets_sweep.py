"""A sweep whose storage URL carries a password never shows it: not on stdout or stderr, not in
any file under run_dir (MLflow store and artifacts included), not in the end-of-sweep hints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mmopt.cli import main

PASSWORDS = ("S3cretPW", "Qu3ryPW")
URL = f"postgresql://alice:{PASSWORDS[0]}@127.0.0.1:5432/optuna?password={PASSWORDS[1]}"


def test_a_sweep_with_a_password_in_its_storage_url_never_shows_it(
    sweep_args: list[str], tmp_path: Path, capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """No PostgreSQL server here: the postgresql URL is served by a SQLite file (the storage
    layer is swapped, every message, tag and hint still sees the URL with its password)."""
    import mmopt.search.driver as driver
    import mmopt.search.preflight as preflight
    import mmopt.search.storage as storage

    sqlite_url = f"sqlite:///{tmp_path}/optuna.db"
    real_open = storage.open_storage
    checked: list[str] = []

    def open_as_sqlite(url: str) -> Any:
        assert url == URL
        return real_open(sqlite_url)

    def check(url: str, run_dir: Any, timeout_s: float = 0.0) -> None:
        checked.append(url)

    real_lease = driver.make_lease

    def lease_in_sqlite(url: str, study: str, timeout_s: float, where: str) -> Any:
        assert url == URL
        return real_lease(sqlite_url, study, timeout_s, where)

    monkeypatch.setattr(storage, "open_storage", open_as_sqlite)
    monkeypatch.setattr(driver, "make_lease", lease_in_sqlite)
    monkeypatch.setattr(preflight, "check_storage", check)
    args = [a for a in sweep_args if not a.startswith("study.storage")]
    assert main(["sweep", "--no-progress", *args, "tracking=mlflow",
                 f"study.storage='{URL}'"]) == 0
    assert checked == [URL]
    out, err = capfd.readouterr()
    assert "storage: postgresql://alice:***@127.0.0.1:5432/optuna?password=***" in out
    assert "--storage 'postgresql://alice:***@127.0.0.1" in out and "password masked" in out
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert (tmp_path / "mlflow.db").is_file() and any("mlartifacts" in str(p) for p in files)
    for secret in PASSWORDS:
        assert secret not in out and secret not in err
        leaks = [p for p in files if secret.encode() in p.read_bytes()]
        assert leaks == [], f"{secret} written to {leaks}"
    store = [p.read_bytes() for p in files if p.name.startswith("mlflow.db")]  # + its WAL
    assert any(b"alice:***@127.0.0.1" in data for data in store)  # the parent's tag, masked

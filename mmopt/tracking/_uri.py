"""Where MLflow writes: the tracking URI, the artifact root, the ``mlflow ui`` command.

Pure string/path work (no MLflow import), so that building a tracker and printing its UI command
cost nothing before the first log call.

* No ``tracking_uri`` -> ``sqlite:///<run_dir>/mlflow.db`` with artifacts in
  ``<run_dir>/mlartifacts``. A relative SQLite or file path is made absolute once (relative to
  the current directory), so the printed command works from anywhere.
* Credentials in URLs (``postgresql://user:secret@host/db``) are masked before they are logged.
"""

from __future__ import annotations

import shlex
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from mmopt.errors import ConfigError
from mmopt.redact import mask_secrets

__all__ = [
    "TrackingLocation",
    "enable_sqlite_wal",
    "mask_credentials",
    "resolve_location",
]

_SQLITE_PREFIX = "sqlite:///"
_REMOTE_SCHEMES = ("http", "https", "databricks")
_KNOWN_SCHEMES = (
    "sqlite",
    "file",
    "postgresql",
    "mysql",
    "mssql",
    *_REMOTE_SCHEMES,
)


@dataclass(frozen=True, slots=True)
class TrackingLocation:
    """A resolved tracking store: URI, artifact root (local stores only) and its kind."""

    tracking_uri: str
    artifact_root: Path | None  # None: the server (or the store's default) decides
    sqlite_path: Path | None  # set for a local SQLite store

    @property
    def is_remote(self) -> bool:
        return urlsplit(self.tracking_uri).scheme.split("+")[0] in _REMOTE_SCHEMES

    def artifact_location(self) -> str | None:
        """The ``artifact_location`` to create a new experiment with (None = server default)."""
        return None if self.artifact_root is None else self.artifact_root.as_uri()

    def ui_command(self) -> str | None:
        """``mlflow ui --backend-store-uri ... [--default-artifact-root ...]`` for a store this
        machine can open; None for an MLflow server (open its URL instead)."""
        if self.is_remote:
            return None
        parts = ["mlflow", "ui", "--backend-store-uri", self.tracking_uri]
        if self.artifact_root is not None:
            parts += ["--default-artifact-root", str(self.artifact_root)]
        return shlex.join(parts)


def resolve_location(tracking_uri: str | None, run_dir: Path) -> TrackingLocation:
    """The store ``tracking.tracking_uri`` names, or the local default under ``run_dir``."""
    if tracking_uri is None or not tracking_uri.strip():
        db = (Path(run_dir) / "mlflow.db").resolve()
        return TrackingLocation(_SQLITE_PREFIX + str(db), db.parent / "mlartifacts", db)
    uri = tracking_uri.strip()
    scheme = urlsplit(uri).scheme.split("+")[0]
    if scheme == "sqlite":
        return _sqlite_location(uri)
    if scheme in ("", "file"):
        root = Path(uri[len("file://") :] if scheme == "file" else uri).resolve()
        return TrackingLocation(root.as_uri(), root, None)
    if scheme not in _KNOWN_SCHEMES:
        raise ConfigError(
            f"tracking.tracking_uri: unsupported scheme {scheme!r} in {mask_credentials(uri)!r}; "
            "use sqlite:///path/mlflow.db, a directory, postgresql://..., or http://host:5000"
        )
    return TrackingLocation(uri, None, None)


def _sqlite_location(uri: str) -> TrackingLocation:
    if not uri.startswith(_SQLITE_PREFIX) or uri == _SQLITE_PREFIX:
        raise ConfigError(
            f"tracking.tracking_uri: {uri!r} is not a SQLite file URI; write "
            "sqlite:///relative/path.db or sqlite:////absolute/path.db"
        )
    raw = uri[len(_SQLITE_PREFIX) :]
    if raw == ":memory:":
        raise ConfigError(
            "tracking.tracking_uri: an in-memory SQLite store would lose the sweep; "
            "give a file (sqlite:///runs/mlflow.db) or use tracking=none"
        )
    db = Path(raw.split("?", 1)[0]).resolve()
    return TrackingLocation(_SQLITE_PREFIX + str(db), db.parent / "mlartifacts", db)


def enable_sqlite_wal(db: Path) -> None:
    """Put a (new or existing) SQLite file in WAL mode; it persists in the file.

    MLflow commits 3 times per run; with the default rollback journal each commit creates and
    deletes a journal file. WAL halves the cost per child run here and lets ``mlflow ui`` read
    while a sweep writes. Not for network file systems (WAL needs shared memory).
    """
    db.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(db, timeout=30.0)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
    finally:
        connection.close()


def mask_credentials(url: str | None) -> str:
    """``scheme://user:***@host/...`` and ``password=***`` (``mmopt.redact.mask_secrets``)."""
    return mask_secrets(url)

"""Can this Optuna storage URL be used? Checked before a study is created or touched.

* ``sqlite:///FILE`` and ``journal:///FILE``: the folder must exist and be writable (a missing
  folder is created only inside ``run_dir``; anywhere else it is an error naming the folder, so
  that a typo never scatters databases over the disk), an existing file must be a writable
  regular file.
* Other SQLAlchemy URLs (``postgresql://``, ``mysql://``...): the driver package is installed
  (else the error names the package to ``pip install``), the server answers and accepts the
  credentials within ``timeout_s`` (a wrong password fails here, before any work).
* ``redis://``: the ``redis`` package is installed and the server answers ``PING``.

Every message masks passwords (``mmopt.redact``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from mmopt.errors import ConfigError
from mmopt.redact import mask_secrets

__all__ = [
    "DRIVER_PACKAGES",
    "check_local_path",
    "check_storage",
    "check_storage_path",
    "missing_driver_message",
]

KEY = "study.storage"
# DB-API module SQLAlchemy imports -> the package to pip install (SQLAlchemy 2.1 picks
# psycopg 3 for a bare postgresql:// URL; postgresql+psycopg2:// names psycopg2)
DRIVER_PACKAGES: dict[str, str] = {
    "psycopg": "psycopg[binary]",
    "psycopg2": "psycopg2-binary",
    "pg8000": "pg8000",
    "asyncpg": "asyncpg",
    "MySQLdb": "mysqlclient",
    "pymysql": "PyMySQL",
    "mysql": "mysql-connector-python",
    "mariadb": "mariadb",
    "pyodbc": "pyodbc",
    "pymssql": "pymssql",
    "oracledb": "oracledb",
}


def check_storage(url: str, run_dir: str | Path, timeout_s: float = 10.0) -> None:
    """ConfigError (naming the URL without its password, and the fix) unless ``url`` can be
    opened and written now; creates nothing but a missing folder inside ``run_dir``."""
    path = storage_file(url)
    if path is not None:
        if str(path) not in ("", ":memory:"):
            check_storage_path(path, run_dir)
        return
    if url.startswith(("redis://", "rediss://", "unix://")):
        _check_redis(url, timeout_s)
        return
    _check_sqlalchemy(url, timeout_s)


def storage_file(url: str) -> Path | None:
    """The local file of a ``sqlite:///`` or ``journal:///`` URL (query string dropped)."""
    for scheme in ("sqlite:///", "journal:///"):
        if url.startswith(scheme):
            return Path(url[len(scheme):].split("?", 1)[0])
    return None


def check_storage_path(path: Path, run_dir: str | Path, key: str = KEY) -> None:
    """The storage file ``path``: its folder exists (created only inside ``run_dir``) and is
    writable; an existing file is a regular, writable file."""
    check_local_path(path, run_dir, key, what="storage file")


def check_local_path(path: Path, run_dir: str | Path, key: str, *, what: str) -> None:
    """Shared by the Optuna storage and a local MLflow store: see ``check_storage_path``."""
    path = Path(path).expanduser()
    absolute = path.resolve()
    for parent in (absolute, *absolute.parents):
        if parent.exists() and not parent.is_dir() and parent != absolute:
            raise ConfigError(
                f"{key}: {path} cannot be created: {parent} is a file, not a folder "
                f"(fix: choose a path that is not under a file, e.g. under run_dir)"
            )
    folder = absolute.parent
    if not folder.exists():
        inside = Path(run_dir).expanduser().resolve()
        if inside == folder or inside in folder.parents:
            folder.mkdir(parents=True, exist_ok=True)
        else:
            raise ConfigError(
                f"{key}: the folder {folder} of the {what} {path} does not exist; mmopt creates "
                f"missing folders only inside run_dir ({inside}) (fix: create it, "
                f"`mkdir -p {folder}`, or correct the path)"
            )
    if absolute.exists():
        if not absolute.is_file():
            raise ConfigError(f"{key}: {path} exists and is not a file (fix: choose a file path)")
        if not os.access(absolute, os.R_OK | os.W_OK):
            raise ConfigError(f"{key}: {path} is not writable by this user (fix: change its "
                              "permissions or choose another path)")
    _probe_write(folder, key, path)


def _probe_write(folder: Path, key: str, path: Path) -> None:
    """Create and remove a file in ``folder`` (also catches read-only file systems, root)."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".mmopt-write-check-"):
            pass
    except OSError as exc:
        raise ConfigError(
            f"{key}: cannot write in {folder}, the folder of {path} "
            f"({exc.strerror or type(exc).__name__}) (fix: choose a writable folder, e.g. "
            "under run_dir, or change its permissions)"
        ) from None


def missing_driver_message(url: str, exc: BaseException, key: str = KEY) -> str | None:
    """The message for a database URL whose driver package is missing (None: not that).

    ``exc`` is SQLAlchemy's ``ModuleNotFoundError`` or Optuna's "Failed to import DB access
    module" ``ImportError`` wrapping it."""
    missing = _missing_module(exc)
    if missing is None:
        return None
    module = missing.split(".")[0]
    package = DRIVER_PACKAGES.get(module, module)
    other = (" or name an installed driver in the URL (postgresql+psycopg2://, "
             "postgresql+psycopg://),") if url.lower().startswith("postgresql") else ""
    return (
        f"{key}: {mask_secrets(url)} needs the Python package `{package}` (module "
        f"`{module}`), which is not installed (fix: pip install '{package}',{other} or use a "
        "sqlite:/// or journal:/// URL)"
    )


def _missing_module(exc: BaseException | None) -> str | None:
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, ModuleNotFoundError) and exc.name:
            return exc.name
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


def _check_sqlalchemy(url: str, timeout_s: float) -> None:
    try:
        import sqlalchemy
        from sqlalchemy.engine import make_url
    except ImportError:  # optuna depends on it; here for the type checker's sake
        raise ConfigError("study.storage: SQLAlchemy is not installed (fix: pip install "
                          "sqlalchemy)") from None
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise ConfigError(
            f"{KEY}: {mask_secrets(url)!r} is not a database URL ({mask_secrets(exc)}) "
            "(fix: write dialect://user@host:port/database, e.g. "
            "postgresql://optuna@db:5432/optuna, or sqlite:///runs/optuna.db)"
        ) from None
    try:  # imports the driver module
        engine = sqlalchemy.create_engine(parsed, connect_args=_timeout_args(parsed.drivername,
                                                                              timeout_s))
    except ImportError as exc:
        raise ConfigError(missing_driver_message(url, exc) or mask_secrets(
            f"{KEY}: {url}: {type(exc).__name__}: {exc}")) from None
    try:
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT 1"))
    except Exception as exc:
        raise ConfigError(
            f"{KEY}: cannot connect to {mask_secrets(url)}: "
            f"{mask_secrets(_first_line(exc))} (fix: check the host, port, database name, "
            "user and password (a password can come from PGPASSWORD or ~/.pgpass instead of "
            "the URL), and that the server runs)"
        ) from None
    finally:
        engine.dispose()


def _timeout_args(drivername: str, timeout_s: float) -> dict[str, object]:
    seconds = max(1, int(timeout_s))
    if drivername.startswith("postgresql") and "asyncpg" not in drivername:
        return {"connect_timeout": seconds}
    if drivername.startswith(("mysql", "mariadb")):
        return {"connect_timeout": seconds}
    return {}


def _check_redis(url: str, timeout_s: float) -> None:
    try:
        import redis
    except ImportError:
        raise ConfigError(
            f"{KEY}: {mask_secrets(url)!r} needs the `redis` package, which is not installed "
            "(fix: pip install redis, or use a journal:/// or sqlite:/// URL)"
        ) from None
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout_s,
                                      socket_timeout=timeout_s)
        client.ping()
    except Exception as exc:
        raise ConfigError(
            f"{KEY}: cannot reach Redis at {mask_secrets(url)}: {mask_secrets(_first_line(exc))}"
            " (fix: check the host, port, database and password, and that the server runs)"
        ) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".strip()

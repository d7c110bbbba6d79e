"""Is the MLflow server up, is the Ray cluster there? Checked before any work, in seconds.

* ``tracking.tracking_uri`` ``http(s)://``: ``GET <uri>/health`` answers (any HTTP status
  below 500; MLflow's server answers ``OK``). A local store (``sqlite:///``, a folder): its
  folder exists and is writable, as for the Optuna storage. ``postgresql://`` and the like: the
  same checks as a storage URL (driver package, connection).
* ``executor.address``: ``null`` / ``local`` start a local runtime (nothing to check);
  ``HOST:PORT`` (the GCS) and ``ray://HOST:PORT`` (Ray Client) must accept a TCP connection;
  ``auto`` needs a cluster started on this machine (``ray start``) or ``RAY_ADDRESS``.

Ray itself waits 30 s or more (forever, for some addresses) before it gives up on a dead
address; these checks give up after ``timeout_s`` and name the address.
"""

from __future__ import annotations

import base64
import os
import socket
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from mmopt.config import ExecutorConfig, TrackingConfig
from mmopt.errors import ConfigError
from mmopt.redact import mask_secrets
from mmopt.search.storage_checks import check_local_path, check_storage

__all__ = ["check_ray_address", "check_tracking", "probe_tcp"]


def check_tracking(config: TrackingConfig, run_dir: str | Path, timeout_s: float = 10.0) -> None:
    """ConfigError unless the MLflow store of ``config`` can be reached / written now."""
    if config.name == "none":
        return
    uri = (config.tracking_uri or "").strip()
    key = "tracking.tracking_uri"
    if not uri:
        check_local_path(Path(run_dir) / "mlflow.db", run_dir, key, what="MLflow store")
        return
    scheme = urlsplit(uri).scheme.split("+")[0].lower()
    if scheme in ("http", "https"):
        _check_http(uri, timeout_s)
    elif scheme == "sqlite":
        raw = uri.removeprefix("sqlite:///").split("?", 1)[0]
        if raw and raw != ":memory:":
            check_local_path(Path(raw), run_dir, key, what="MLflow store")
    elif scheme in ("", "file"):
        root = Path(uri.removeprefix("file://"))
        check_local_path(root / "meta.yaml", run_dir, key, what="MLflow store folder")
    elif scheme in ("postgresql", "mysql", "mssql"):
        try:
            check_storage(uri, run_dir, timeout_s)
        except ConfigError as exc:
            raise ConfigError(str(exc).replace("study.storage:", f"{key}:", 1)) from None


def _check_http(uri: str, timeout_s: float) -> None:
    parts = urlsplit(uri)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    health = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/") + "/health", "", ""))
    request = urllib.request.Request(health, method="GET")
    if parts.username is not None:
        token = f"{parts.username}:{parts.password or ''}".encode()
        request.add_header("Authorization", "Basic " + base64.b64encode(token).decode())
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ConfigError(
            f"tracking.tracking_uri: the MLflow server at {mask_secrets(uri)} does not answer "
            f"({mask_secrets(reason)}) (fix: start it, e.g. `mlflow server --host 127.0.0.1 "
            "--port 5000`, correct the URI, or run with tracking=none)"
        ) from None
    if status >= 500:
        raise ConfigError(
            f"tracking.tracking_uri: the MLflow server at {mask_secrets(uri)} answered HTTP "
            f"{status} on /health (fix: check the server's log, or run with tracking=none)"
        )


def check_ray_address(config: ExecutorConfig, timeout_s: float = 10.0) -> None:
    """ConfigError naming ``executor.address`` unless a Ray cluster answers there now."""
    if config.name != "ray" or config.address in (None, "", "local"):
        return
    address = config.address.strip()
    if address == "auto":
        found = os.environ.get("RAY_ADDRESS", "").strip() or _current_cluster()
        if not found:
            raise ConfigError(
                "executor.address: auto, but no Ray cluster runs on this machine and "
                "RAY_ADDRESS is not set (fix: start one with `ray start --head`, set "
                "RAY_ADDRESS=HOST:PORT, give executor.address=HOST:PORT, or use "
                "executor.address=null for a local runtime)"
            )
        if found == "auto":
            return
        address = found
    host, port = _host_port(address)
    if not probe_tcp(host, port, timeout_s):
        raise ConfigError(
            f"executor.address: no Ray cluster answers at {mask_secrets(address)} (nothing "
            f"accepts connections on {host}:{port} within {timeout_s:g} s) (fix: check the "
            "address and that the cluster runs (`ray status --address HOST:PORT`), or use "
            "executor.address=null for a local runtime)"
        )


def _host_port(address: str) -> tuple[str, int]:
    text = address.removeprefix("ray://").removeprefix("http://").removeprefix("https://")
    text = text.rsplit("@", 1)[-1].split("/", 1)[0]
    default = 10001 if address.startswith("ray://") else 6379
    host, _, port = text.rpartition(":")
    if not host:
        return text.strip("[]"), default
    try:
        return host.strip("[]"), int(port)
    except ValueError:
        raise ConfigError(
            f"executor.address: {mask_secrets(address)!r} has no valid port (fix: write "
            "HOST:PORT, ray://HOST:PORT, auto, or null)"
        ) from None


def _current_cluster() -> str | None:
    """The address of the cluster last started on this machine (``ray start``), if any."""
    from mmopt.executors._ray_compat import current_cluster_address

    return current_cluster_address()


def probe_tcp(host: str, port: int, timeout_s: float) -> bool:
    """True if something accepts a TCP connection on ``host:port`` within ``timeout_s``."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False

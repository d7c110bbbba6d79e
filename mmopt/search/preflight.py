"""Fail before any work: every outside thing a sweep needs, checked in seconds, first thing.

``preflight(run)`` runs before the study is created or opened, the data is loaded, Ray is
started or MLflow is written to:

* ``run_dir``: created if missing, a writable folder (else nothing else is checked);
* the Optuna storage (``storage_checks``): the folder of a local file exists and is writable,
  the driver package of a database URL is installed, the server answers and takes the password;
* the MLflow store (``remote_checks``): a server answers ``/health``, a local store's folder is
  writable;
* the Ray address (``remote_checks``): something answers at ``executor.address``;
* the data (``data_checks``): the catalog opens, the selected shards exist, their schema is right.

The storage, MLflow and Ray checks run side by side, each giving up after ``timeout_s``, so a
dead server costs seconds, not the whole sweep. Every problem found is reported at once, in one
``PreflightError`` naming each key and its fix (passwords masked). Synthetic data is generated
here on first use unless another check already failed.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from mmopt.config import RunConfig
from mmopt.errors import ConfigError, MmoptError
from mmopt.redact import mask_secrets
from mmopt.search.data_checks import check_data
from mmopt.search.remote_checks import check_ray_address, check_tracking
from mmopt.search.storage_checks import check_storage

__all__ = [
    "CHECK_TIMEOUT_S",
    "CheckOutcome",
    "PreflightError",
    "PreflightReport",
    "check_run_dir",
    "preflight",
]

CHECK_TIMEOUT_S = 8.0


class PreflightError(ConfigError):
    """One or more checks failed; nothing was created or changed (the message lists them)."""

    def __init__(self, problems: tuple[CheckOutcome, ...]) -> None:
        self.problems = problems
        if len(problems) == 1:
            text = problems[0].error or ""
        else:
            lines = "\n".join(f"  - {p.error}" for p in problems)
            text = (f"{len(problems)} problems found before any work (nothing was created or "
                    f"changed):\n{lines}")
        super().__init__(text)


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """One check: what it looked at, how long it took, its error (None: passed)."""

    name: str
    seconds: float
    error: str | None = None
    skipped: bool = False


@dataclass(frozen=True, slots=True)
class PreflightReport:
    """Every check that ran (all passed) and the number of shards the run selects."""

    checks: tuple[CheckOutcome, ...]
    n_shards: int

    @property
    def seconds(self) -> float:
        return sum(c.seconds for c in self.checks)


def preflight(
    run: RunConfig,
    *,
    tracking: bool = True,
    executor: bool = True,
    timeout_s: float = CHECK_TIMEOUT_S,
) -> PreflightReport:
    """Check what ``run`` needs (see the module docstring); PreflightError if anything fails.

    ``tracking`` / ``executor`` False skip the MLflow / Ray checks (the caller brings its own).
    """
    first = _timed("run_dir", lambda: check_run_dir(run.run_dir))
    if first.error:
        raise PreflightError((first,))
    remote: list[tuple[str, Callable[[], object]]] = []
    storage = run.study.storage
    if storage is not None:
        remote.append(("study.storage", lambda: check_storage(storage, run.run_dir, timeout_s)))
    if tracking:
        remote.append(("tracking", lambda: check_tracking(run.tracking, run.run_dir, timeout_s)))
    if executor:
        remote.append(("executor.address", lambda: check_ray_address(run.executor, timeout_s)))
    with ThreadPoolExecutor(max_workers=max(1, len(remote))) as pool:
        outcomes = list(pool.map(lambda check: _timed(*check), remote))
    failed = any(o.error for o in outcomes)
    n_shards = 0
    if failed and _needs_generation(run):
        outcomes.append(CheckOutcome("data", 0.0, skipped=True))
    else:
        counted: list[int] = []
        outcomes.append(_timed("data", lambda: counted.append(check_data(run.data))))
        n_shards = counted[0] if counted else 0
    problems = tuple(o for o in outcomes if o.error)
    if problems:
        raise PreflightError(problems)
    return PreflightReport(tuple(outcomes), n_shards)


def check_run_dir(run_dir: str | Path) -> Path:
    """``run_dir`` exists (created if missing) as a writable folder; ConfigError otherwise."""
    path = Path(run_dir).expanduser()
    for parent in (path.absolute(), *path.absolute().parents):
        if parent.exists() and not parent.is_dir():
            raise ConfigError(f"run_dir: {path} cannot be created: {parent} is a file, not a "
                              "folder (fix: pick another run_dir)")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".mmopt-write-check-"):
            pass
    except OSError as exc:
        raise ConfigError(f"run_dir: cannot create or write in {path} "
                          f"({exc.strerror or type(exc).__name__}) (fix: pick a writable folder, "
                          "e.g. run_dir=runs)") from None
    return path


def _timed(name: str, check: Callable[[], object]) -> CheckOutcome:
    start = time.perf_counter()
    try:
        check()
    except MmoptError as exc:
        return CheckOutcome(name, time.perf_counter() - start, mask_secrets(exc))
    except Exception as exc:  # a check's own failure must not hide the others
        return CheckOutcome(name, time.perf_counter() - start,
                            mask_secrets(f"{name}: {type(exc).__name__}: {exc}"))
    return CheckOutcome(name, time.perf_counter() - start)


def _needs_generation(run: RunConfig) -> bool:
    from mmopt.config._shards import SYNTH_STAMP

    generate = run.data.generate
    return generate is not None and not (Path(run.data.root).expanduser() / SYNTH_STAMP).is_file()

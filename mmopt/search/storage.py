"""Optuna storage for a sweep: which backend a URL means, and the persistent study it holds.

URLs: ``sqlite:///runs/optuna.db`` (relative to the cwd; ``sqlite:////abs/path``), any other
SQLAlchemy URL (``postgresql://...``), ``journal:///runs/optuna.log`` (a journal file, same
path rule) and ``redis://HOST:PORT/DB`` (a Redis journal). ``None`` = no persistent storage.

A study made by mmopt carries the config it was made with (study user attrs). Opening the same
name with a config that computes something else is an error unless ``allow_config_change``;
changing only n_trials, timeout, executor, tracking or where things are written is a resume.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import BaseStorage

from mmopt.config import RunConfig, canonical_json
from mmopt.config._ids import ID_EXCLUDES
from mmopt.errors import ConfigError
from mmopt.redact import mask_secrets
from mmopt.search.storage_checks import missing_driver_message

__all__ = [
    "ATTR_COMPAT_ID",
    "ATTR_CONFIG",
    "COMPAT_EXCLUDES",
    "PersistentStudy",
    "compat_id",
    "open_persistent_study",
    "open_storage",
    "storage_path",
]

ATTR_COMPAT_ID = "mmopt.compat_id"
ATTR_CONFIG = "mmopt.config"
ATTR_CONFIG_ID = "mmopt.config_id"
# What may change between runs of one study (scheduling and budget, not what is computed).
_INIT_TRIES = 8
COMPAT_EXCLUDES = (*ID_EXCLUDES, "study.n_trials", "study.timeout_s", "study.lease_timeout_s")


def compat_id(run: RunConfig) -> str:
    """Hash of what a trial computes (config without budget, scheduling and locations)."""
    import hashlib

    return hashlib.sha256(canonical_json(run, COMPAT_EXCLUDES).encode()).hexdigest()[:12]


def storage_path(url: str) -> Path | None:
    """The local file of a ``sqlite:///`` or ``journal:///`` URL (relative paths: the cwd)."""
    for scheme in ("sqlite:///", "journal:///"):
        if url.startswith(scheme):
            return Path(url[len(scheme):])
    return None


def open_storage(url: str) -> BaseStorage:
    """The Optuna storage of ``url`` (creates a local file's directory); ConfigError if bad.

    ``mmopt sweep`` checks the URL first (``storage_checks``: missing folders are created only
    inside run_dir, the driver package is named when missing)."""
    path = storage_path(url)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"study.storage: cannot create the folder {path.parent} of {path} "
                              f"({exc.strerror or type(exc).__name__}) (fix: choose a writable "
                              "path, e.g. under run_dir)") from None
    try:
        if url.startswith("journal:///"):
            from optuna.storages import JournalStorage
            from optuna.storages.journal import JournalFileBackend

            return JournalStorage(JournalFileBackend(str(path)))
        if url.startswith(("redis://", "rediss://")):
            return _redis_storage(url)
        return _rdb_storage(url)
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(missing_driver_message(url, exc) or mask_secrets(
            f"study.storage: cannot open {url!r}: {type(exc).__name__}: {exc} "
            "(fix: check the URL, the server and its driver package, or use storage=null)"
        )) from None


def _rdb_storage(url: str) -> BaseStorage:
    """An RDBStorage; drivers started together on a new database may race to create its
    schema (``IntegrityError ... alembic_version``, PostgreSQL's ``CREATE TYPE``): the loser
    retries and finds it made. A server's pooled connections are checked before use
    (``pool_pre_ping``), so a connection the server dropped (a restart) is replaced."""
    import sqlalchemy as sa

    kwargs: dict[str, object] = ({"connect_args": {"timeout": 60}} if url.startswith("sqlite")
                                 else {"pool_pre_ping": True})
    for attempt in range(_INIT_TRIES):
        try:
            return optuna.storages.RDBStorage(url, engine_kwargs=kwargs)
        except (sa.exc.SQLAlchemyError, optuna.exceptions.StorageInternalError):
            if attempt == _INIT_TRIES - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def _redis_storage(url: str) -> BaseStorage:
    try:
        import redis  # noqa: F401
    except ImportError:
        raise ConfigError(
            f"study.storage: {mask_secrets(url)!r} needs the `redis` package, which is not "
            "installed (fix: pip install redis, or use a journal:/// or sqlite:/// URL)"
        ) from None
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalRedisBackend

    return JournalStorage(JournalRedisBackend(url))


@dataclass(frozen=True, slots=True)
class PersistentStudy:
    """A study in persistent storage: where it is and what it already holds."""

    storage: BaseStorage
    study_id: int
    url: str
    name: str
    trials: tuple[optuna.trial.FrozenTrial, ...]  # every trial in it, by number

    @property
    def resumed(self) -> bool:
        return bool(self.trials)


def open_persistent_study(
    run: RunConfig, url: str, *, allow_config_change: bool = False
) -> PersistentStudy:
    """Create the study ``run.study.name`` in ``url``, or open it again (a resume)."""
    storage = open_storage(url)
    name = run.study.name
    directions = [optuna.study.StudyDirection[d.upper()] for d in run.objective.directions]
    try:
        study_id = storage.get_study_id_from_name(name)
    except KeyError:
        try:
            study_id = storage.create_new_study(directions, name)
        except optuna.exceptions.DuplicatedStudyError:  # a driver started together made it
            study_id = storage.get_study_id_from_name(name)
        _stamp(storage, study_id, run)
        return PersistentStudy(storage, study_id, url, name, ())
    trials = tuple(sorted(storage.get_all_trials(study_id, deepcopy=False), key=lambda t: t.number))
    if trials:
        _check_same_study(storage, study_id, run, url, directions, allow_config_change)
    else:  # an empty study (e.g. a first run that stopped on bad data): nothing to compare
        _stamp(storage, study_id, run)
    return PersistentStudy(storage, study_id, url, name, trials)


def _stamp(storage: BaseStorage, study_id: int, run: RunConfig) -> None:
    storage.set_study_user_attr(study_id, ATTR_COMPAT_ID, compat_id(run))
    storage.set_study_user_attr(study_id, ATTR_CONFIG_ID, run.config_id)
    storage.set_study_user_attr(study_id, ATTR_CONFIG, canonical_json(run, COMPAT_EXCLUDES))


def _check_same_study(
    storage: BaseStorage,
    study_id: int,
    run: RunConfig,
    url: str,
    directions: list[optuna.study.StudyDirection],
    allow_config_change: bool,
) -> None:
    name = run.study.name
    stored = storage.get_study_directions(study_id)
    if list(stored) != directions:
        raise ConfigError(
            f"study.name: study {name!r} in {mask_secrets(url)} has directions "
            f"{[d.name.lower() for d in stored]} but this config has "
            f"{[d.name.lower() for d in directions]} (fix: use another study.name)"
        )
    attrs = storage.get_study_user_attrs(study_id)
    old_id = attrs.get(ATTR_COMPAT_ID)
    if old_id == compat_id(run) or allow_config_change:
        return
    if old_id is None:
        raise ConfigError(
            f"study.name: study {name!r} in {mask_secrets(url)} was not made by mmopt "
            "(fix: use another study.name, or pass --allow-config-change to add to it)"
        )
    changed = _changed_keys(attrs.get(ATTR_CONFIG), canonical_json(run, COMPAT_EXCLUDES))
    raise ConfigError(
        f"study.name: study {name!r} in {mask_secrets(url)} was made with another config "
        f"(changed: {', '.join(changed) or 'unknown'}); its trials would not be comparable "
        "(fix: use a new study.name, restore those values, or pass --allow-config-change)"
    )


def _changed_keys(old_json: Any, new_json: str) -> list[str]:
    if not isinstance(old_json, str):
        return []
    old, new = _flatten(json.loads(old_json)), _flatten(json.loads(new_json))
    return sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))[:8]


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): value}

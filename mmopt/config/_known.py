"""What the config may name: strategies and their parameters, engine fields, metrics, conf/.

Each answer comes from the code that owns it when that code exists (the strategy registry,
the engine's ``EngineConfig``, mmopt.metrics' ``METRIC_NAMES``) and otherwise from the packaged
YAML defaults in ``conf/``, so the checks work while those packages are being written.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import os
from pathlib import Path
from typing import Any

from mmopt.errors import ConfigError

__all__ = [
    "CONF_DIR_ENV",
    "conf_dir",
    "engine_config_type",
    "engine_field_names",
    "metric_names",
    "strategy_entry",
    "strategy_names",
    "strategy_param_names",
    "yaml_defaults",
]

CONF_DIR_ENV = "MMOPT_CONF_DIR"


def conf_dir() -> Path:
    """The directory with ``config.yaml`` and the groups (``$MMOPT_CONF_DIR`` if set)."""
    override = os.environ.get(CONF_DIR_ENV)
    if override:
        path, source = Path(override).expanduser().resolve(), f"${CONF_DIR_ENV}"
    else:
        path, source = Path(__file__).resolve().parents[1] / "conf", "the installed package"
    if not (path / "config.yaml").is_file():
        raise ConfigError(
            f"no config.yaml in {path} (from {source}): reinstall mmopt (`pip install -e .`) "
            f"or set {CONF_DIR_ENV} to a directory holding config.yaml and its groups"
        )
    return path


def yaml_defaults(group: str, option: str) -> dict[str, Any] | None:
    """The plain content of ``conf/GROUP/OPTION.yaml`` (None if there is no such file)."""
    path = conf_dir() / group / f"{option}.yaml"
    if not path.is_file():
        return None
    return _load_yaml(path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _load_yaml(path: Path, mtime_ns: int) -> dict[str, Any] | None:
    from omegaconf import OmegaConf

    content = OmegaConf.to_container(OmegaConf.load(path), resolve=False)
    return {str(k): v for k, v in content.items()} if isinstance(content, dict) else None


def _registry() -> dict[str, Any]:
    registry = getattr(importlib.import_module("mmopt.strategies"), "STRATEGIES", None)
    return dict(registry) if registry is not None else {}


def strategy_entry(name: str) -> Any | None:
    """The registered ``Strategy`` called ``name``, or None (unknown or not written yet)."""
    return _registry().get(name)


def strategy_names() -> tuple[str, ...]:
    """Every strategy the config may name: registered ones and those with a conf/ file."""
    from_yaml = {p.stem for p in (conf_dir() / "strategy").glob("*.yaml")}
    return tuple(sorted(from_yaml | set(_registry())))


def strategy_param_names(name: str) -> tuple[str, ...] | None:
    """The parameters of strategy ``name``: its params type's fields when registered, else the
    keys of ``conf/strategy/NAME.yaml``'s ``params``; None for an unknown strategy."""
    entry = strategy_entry(name)
    if entry is not None:
        return tuple(f.name for f in dataclasses.fields(entry.params_type))
    content = yaml_defaults("strategy", name)
    if content is None:
        return None
    params = content.get("params") or {}
    return tuple(str(k) for k in params)


def engine_config_type() -> type | None:
    """``mmopt.engine.EngineConfig`` once the engine exports it, else None."""
    config_type = getattr(importlib.import_module("mmopt.engine"), "EngineConfig", None)
    if isinstance(config_type, type) and dataclasses.is_dataclass(config_type):
        return config_type
    return None


def engine_field_names() -> tuple[str, ...]:
    """EngineConfig's fields, or the keys of ``conf/engine/default.yaml`` before it exists."""
    config_type = engine_config_type()
    if config_type is not None:
        return tuple(f.name for f in dataclasses.fields(config_type))
    content = yaml_defaults("engine", "default") or {}
    return tuple(str(k) for k in content if k != "defaults")


def metric_names() -> frozenset[str]:
    """The metric names objectives may use: ``mmopt.metrics.METRIC_NAMES`` (the one list)."""
    from mmopt.metrics.result import METRIC_NAMES

    return frozenset(METRIC_NAMES)

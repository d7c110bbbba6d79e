"""What the config may name: strategies and their parameters, engine fields, metrics, conf/.

Each answer comes from the registry of the code that owns it: the strategy registry
(``mmopt.strategies.STRATEGIES``), the engine's options (``mmopt.engine.EngineConfig``) and
mmopt.metrics' ``METRIC_NAMES``. Imports are static (inside the functions, so that reading a
config loads numba only when it has to); ``conf/`` supplies only the YAML defaults.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mmopt.errors import ConfigError

if TYPE_CHECKING:
    from mmopt.engine import EngineConfig
    from mmopt.strategies import Strategy

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


def strategy_entry(name: str) -> Strategy | None:
    """The strategy registry's entry called ``name``, or None if no strategy has that name."""
    from mmopt.strategies import STRATEGIES  # the registry (strategy modules load on look-up)

    return STRATEGIES.get(name)


def strategy_names() -> tuple[str, ...]:
    """Every strategy the config may name: the strategy registry's names."""
    from mmopt.strategies import list_strategies

    return list_strategies()


def strategy_param_names(name: str) -> tuple[str, ...] | None:
    """The fields of strategy ``name``'s params type; None for an unknown strategy."""
    entry = strategy_entry(name)
    if entry is None:
        return None
    return tuple(f.name for f in dataclasses.fields(entry.params_type))


def engine_config_type() -> type[EngineConfig]:
    """The engine's options: ``mmopt.engine.EngineConfig`` (its fields are the ``engine`` keys)."""
    from mmopt.engine import EngineConfig  # numba: only when an engine section is read

    return EngineConfig


def engine_field_names() -> tuple[str, ...]:
    """The keys the ``engine`` section may set: EngineConfig's fields."""
    return tuple(f.name for f in dataclasses.fields(engine_config_type()))


def metric_names() -> frozenset[str]:
    """The metric names objectives may use: ``mmopt.metrics.METRIC_NAMES`` (the one list)."""
    from mmopt.metrics.result import METRIC_NAMES

    return frozenset(METRIC_NAMES)

"""Compose the run configuration from the packaged ``conf/`` and the user's Hydra overrides.

Where the YAML lives: the files ship inside the package as ``mmopt/conf/`` (package data, so a
plain ``pip install .`` carries them), and the repository's top-level ``conf`` is a symlink to
that directory, so there is one copy. We locate it from ``mmopt.__file__`` and compose with
``hydra.initialize_config_dir`` on that absolute path: this works for an editable install, a
regular install and a source checkout alike, needs no ``__init__.py`` in ``conf/`` and does not
depend on the current directory. ``MMOPT_CONF_DIR`` points at another directory with the same
layout (for a user's own copy).

Hydra's exceptions never leave this module: they become ``ConfigError`` naming the override.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mmopt.config import RunConfig, from_hydra
from mmopt.config._known import CONF_DIR_ENV, conf_dir
from mmopt.errors import ConfigError

__all__ = [
    "CFG_CHOICES",
    "CONF_DIR_ENV",
    "compose",
    "compose_config",
    "conf_dir",
    "config_text",
    "list_group_options",
]

_CONFIG_NAME = "config"
CFG_CHOICES = ("job", "hydra", "all")  # Hydra's --cfg


def list_group_options(group: str, root: Path | None = None) -> list[str]:
    """The option names of one config group (``strategy`` -> ``['avellaneda_stoikov', ...]``)."""
    base = (root or conf_dir()) / group
    return sorted(p.stem for p in base.glob("*.yaml"))


def compose(overrides: Sequence[str] = (), config_dir: Path | None = None, *,
            with_hydra: bool = False) -> Any:
    """Compose ``config.yaml`` with Hydra's override grammar; returns an OmegaConf DictConfig.

    Raises ``ConfigError`` naming the first override that fails (bad syntax, an unknown group
    option, a key that does not exist without ``+``) and the fix.
    """
    overrides = [str(o) for o in overrides]
    directory = config_dir or conf_dir()
    try:
        return _compose_raw(overrides, directory, with_hydra)
    except ConfigError:
        raise
    except Exception as exc:
        if not _is_hydra_error(exc):
            raise
        culprit = _first_failing_override(overrides, directory)
        raise ConfigError(_describe(exc, culprit, directory)) from None


def _compose_raw(overrides: list[str], directory: Path, with_hydra: bool = False) -> Any:
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(directory), version_base="1.3", job_name="mmopt"):
        return hydra_compose(config_name=_CONFIG_NAME, overrides=overrides,
                             return_hydra_config=with_hydra)


def _is_hydra_error(exc: Exception) -> bool:
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    return isinstance(exc, HydraException | OmegaConfBaseException)


def _first_failing_override(overrides: list[str], directory: Path) -> str | None:
    """Find the override to blame: the first prefix of the list that fails to compose."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    for override in overrides:
        try:
            parser.parse_overrides([override])
        except Exception:
            return override
    for i in range(1, len(overrides) + 1):
        try:
            _compose_raw(overrides[:i], directory)
        except Exception:
            return overrides[i - 1]
    return None


def _describe(exc: Exception, culprit: str | None, directory: Path | None = None) -> str:
    from hydra.errors import MissingConfigException, OverrideParseException

    raw = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    detail = raw.split(" Config search path:")[0].split(" To append to your config")[0]
    where = f"override {culprit!r}" if culprit else "composing the configuration"
    if culprit is not None and culprit.startswith("-"):
        return (f"unknown option {culprit.split('=', 1)[0]!r} (fix: see --help for the options; "
                "Hydra overrides are written key=value without dashes)")
    if isinstance(exc, OverrideParseException):
        fix = "write overrides as key=value, lists as key=[a,b], quote values with spaces"
    elif isinstance(exc, MissingConfigException):
        fix = _option_fix(culprit, directory)
    elif culprit is not None and "={" in culprit:
        key = culprit.split("=", 1)[0].lstrip("+~")
        fix = (
            "a {...} value merges into the existing entry and cannot add keys to it; to replace "
            f"the entry, write ~{key} '+{key}={{...}}'"
        )
    elif "To append to your config use" in raw:
        fix = (
            "no such key here: check its spelling against conf/; to set an optional key that "
            "the file leaves out (e.g. a search step), write +KEY=VALUE"
        )
    else:
        fix = "see conf/config.yaml and its groups for the keys and options"
    return f"{where}: {detail} (fix: {fix})"


def _option_fix(culprit: str | None, directory: Path | None) -> str:
    """``pick one of the options listed, e.g. GROUP=FIRST`` for the group the override names."""
    group = (culprit or "").split("=", 1)[0].lstrip("+~").split("@", 1)[0].strip("/")
    options = list_group_options(group, directory) if group else []
    if not options:
        return "pick one of the options listed"
    return f"pick one of the options listed, e.g. {group}={options[0]}"


def config_text(overrides: Sequence[str], cfg: str, *, resolve: bool = False,
                package: str | None = None, config_dir: Path | None = None) -> str:
    """What Hydra's ``--cfg job|hydra|all [--resolve] [--package P]`` prints: the composed
    config as YAML (``job``: without the ``hydra`` node, ``hydra``: only it, ``all``: both),
    interpolations kept unless ``resolve``; ``package`` (``strategy``, ``study.sampler``) prints
    that part under a ``# @package`` line."""
    from omegaconf import OmegaConf, open_dict

    if cfg not in CFG_CHOICES:
        raise ConfigError(f"--cfg {cfg}: expected one of {', '.join(CFG_CHOICES)}")
    config = compose(overrides, config_dir, with_hydra=cfg != "job")
    if cfg == "hydra":
        config = OmegaConf.create({"hydra": config.hydra})
    elif resolve:  # hydra's own node refers to runtime values: it is printed as it is
        hydra_node = None
        if cfg == "all":
            with open_dict(config):
                hydra_node = config.pop("hydra")
        OmegaConf.resolve(config)
        if hydra_node is not None:
            with open_dict(config):
                config.hydra = hydra_node
    if not package:
        return str(OmegaConf.to_yaml(config))
    node = OmegaConf.select(config, package, default=_MISSING)
    if node is _MISSING:
        raise ConfigError(f"--package {package}: no such key in the composed config (fix: "
                          "a top-level key such as strategy, or a dotted one such as "
                          "study.sampler)")
    if not OmegaConf.is_config(node):
        parent, _, leaf = package.rpartition(".")  # one value: printed as `key: value`
        holder = OmegaConf.select(config, parent) if parent else config
        return f"# @package {parent or '_global_'}\n" + str(
            OmegaConf.to_yaml(OmegaConf.masked_copy(holder, [leaf])))
    return f"# @package {package}\n{OmegaConf.to_yaml(node)}"


_MISSING = object()


def compose_config(overrides: Sequence[str] = (), config_dir: Path | None = None) -> RunConfig:
    """Compose ``config.yaml`` with the overrides and validate it into a frozen ``RunConfig``."""
    return from_hydra(compose(overrides, config_dir))

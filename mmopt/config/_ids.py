"""The plain form of a RunConfig (the YAML's shape), its canonical JSON and its short id."""

from __future__ import annotations

from typing import Any

from mmopt.config._canonical import ID_EXCLUDES, config_hash, plain
from mmopt.config._canonical import canonical_json as _canonical_json
from mmopt.config._types import RunConfig

__all__ = ["ID_EXCLUDES", "canonical_json", "config_id", "to_dict"]


def to_dict(run: RunConfig) -> dict[str, Any]:
    """The config as plain data in the YAML's shape; ``from_hydra(to_dict(run)) == run``."""
    data: dict[str, Any] = plain(run)
    return data


def canonical_json(run: RunConfig, exclude: tuple[str, ...] = ID_EXCLUDES) -> str:
    """Sorted keys, no spaces, integral floats written as integers (5.0 == 5)."""
    return _canonical_json(run, exclude)


def config_id(run: RunConfig) -> str:
    """12 hex digits of the SHA-256 of the canonical JSON (without ``ID_EXCLUDES``)."""
    return config_hash(run)

"""Plain data, canonical JSON and the short hash of a config (no config type imported here).

A config type whose YAML shape is not its fields one to one says so with ``to_plain()``
(a shallow mapping; its values are made plain in turn); every other dataclass becomes
``{field: value}``, tuples become lists. ``mmopt.config._ids`` is the public face of this.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

__all__ = ["ID_EXCLUDES", "canonical_json", "config_hash", "plain"]

# Keys that say where a run goes or how it is scheduled, not what it computes: results are the
# same bit for bit whatever they are (DESIGN: workers are pure functions of events and params).
# ``validation`` and ``selection`` choose what is re-run and reported, not what a trial computes
# (a walk-forward fold's study differs by its data.dates).
ID_EXCLUDES: tuple[str, ...] = ("executor", "tracking", "run_dir", "record", "study.storage",
                                "validation", "selection")


def plain(value: Any) -> Any:
    """``value`` as plain data in the YAML's shape (dicts, lists, scalars)."""
    to_plain = getattr(value, "to_plain", None)
    if callable(to_plain) and not isinstance(value, type):
        return {k: plain(v) for k, v in to_plain().items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    return value


def canonical_json(config: Any, exclude: tuple[str, ...] = ID_EXCLUDES) -> str:
    """``plain(config)`` without the ``exclude`` keys (dotted), as JSON with sorted keys, no
    spaces and integral floats written as integers (5.0 == 5)."""
    data = plain(config)
    for dotted in exclude:
        *parents, last = dotted.split(".")
        node = data
        for part in parents:
            node = node[part]
        node.pop(last, None)
    return json.dumps(_normalise(data), sort_keys=True, separators=(",", ":"), allow_nan=False)


def config_hash(config: Any) -> str:
    """12 hex digits of the SHA-256 of the canonical JSON (without ``ID_EXCLUDES``)."""
    return hashlib.sha256(canonical_json(config).encode()).hexdigest()[:12]


def _normalise(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value

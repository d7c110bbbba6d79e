"""Read one mapping of a composed config, naming the full key in every error.

``Section("study", {...}).get_int("n_trials", lo=1)`` returns the value or raises
``ConfigError("study.n_trials: must be >= 1, got 0 (...)")``; ``finish()`` rejects the keys that
no getter asked for, so a misspelt key never passes silently.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from typing import Any, Final

from mmopt.errors import ConfigError

__all__ = [
    "MISSING_MARK",
    "REQUIRED",
    "Scalar",
    "Section",
    "as_float",
    "as_int",
    "check_date",
    "fail",
]

Scalar = str | int | float | bool | None
MISSING_MARK: Final = "???"  # OmegaConf's mandatory-value marker


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Final[Any] = _Required()


def fail(key: str, problem: str, fix: str = "") -> ConfigError:
    """A ConfigError whose message starts with the full key."""
    return ConfigError(f"{key}: {problem}" + (f" (fix: {fix})" if fix else ""))


def check_date(key: str, value: Any) -> str:
    """A date as ``YYYY-MM-DD`` (returned unchanged), else a ConfigError naming ``key``."""
    text = value.isoformat() if isinstance(value, date) else value
    if isinstance(text, str) and len(text) == 10:
        try:
            date.fromisoformat(text)
            return text
        except ValueError:
            pass
    raise fail(key, f"not a date: {value!r}", "write dates as YYYY-MM-DD, e.g. 2024-08-08")


class Section:
    """One mapping of the config at dotted path ``path``."""

    def __init__(self, path: str, data: Any) -> None:
        if not isinstance(data, Mapping):
            raise fail(path or "<root>", f"expected a mapping of keys, got {data!r}")
        self.path = path
        self._data: dict[str, Any] = {str(k): v for k, v in data.items()}
        self._read: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def names(self) -> list[str]:
        return list(self._data)

    def has(self, name: str) -> bool:
        return name in self._data

    def get_raw(self, name: str, default: Any = REQUIRED) -> Any:
        self._read.add(name)
        if name not in self._data or self._data[name] == MISSING_MARK:
            if default is REQUIRED:
                raise fail(self.key(name), "no value given", f"set {self.key(name)}=...")
            return default
        return self._data[name]

    def get_str(self, name: str, default: Any = REQUIRED, choices: tuple[str, ...] = ()) -> str:
        value = self.get_raw(name, default)
        if not isinstance(value, str) or not value:
            raise fail(self.key(name), f"expected a non-empty string, got {value!r}")
        if choices and value not in choices:
            raise fail(
                self.key(name), f"unknown value {value!r}", f"use one of {', '.join(choices)}"
            )
        return value

    def get_opt_str(self, name: str, default: str | None = None) -> str | None:
        value = self.get_raw(name, default)
        return None if value is None else self.get_str(name)

    def get_bool(self, name: str, default: Any = REQUIRED) -> bool:
        value = self.get_raw(name, default)
        if not isinstance(value, bool):
            raise fail(self.key(name), f"expected true or false, got {value!r}")
        return value

    def get_float(
        self,
        name: str,
        default: Any = REQUIRED,
        lo: float | None = None,
        hi: float | None = None,
        lo_open: bool = False,
    ) -> float:
        value = _as_number(self.key(name), self.get_raw(name, default))
        _check_bounds(self.key(name), value, lo, hi, lo_open)
        return float(value)

    def get_opt_float(
        self, name: str, lo: float | None = None, hi: float | None = None, lo_open: bool = False
    ) -> float | None:
        if self.get_raw(name, None) is None:
            return None
        return self.get_float(name, lo=lo, hi=hi, lo_open=lo_open)

    def get_int(
        self, name: str, default: Any = REQUIRED, lo: int | None = None, hi: int | None = None
    ) -> int:
        value = as_int(self.key(name), self.get_raw(name, default))
        _check_bounds(self.key(name), value, lo, hi, False)
        return value

    def get_opt_int(self, name: str, lo: int | None = None, hi: int | None = None) -> int | None:
        if self.get_raw(name, None) is None:
            return None
        return self.get_int(name, lo=lo, hi=hi)

    def get_str_tuple(self, name: str, default: Any = REQUIRED) -> tuple[str, ...] | None:
        """A list of strings (a single string counts as a list of one); None stays None."""
        value = self.get_raw(name, default)
        if value is None:
            return None
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            raise fail(self.key(name), f"expected a list of strings, got {value!r}")
        out = []
        for i, item in enumerate(items):
            if not isinstance(item, str) or not item:
                raise fail(f"{self.key(name)}[{i}]", f"expected a non-empty string, got {item!r}")
            out.append(item)
        return tuple(out)

    def get_section(self, name: str, default: Any = REQUIRED) -> Section:
        return Section(self.key(name), self.get_raw(name, default))

    def get_opt_section(self, name: str) -> Section | None:
        value = self.get_raw(name, None)
        return None if value is None else Section(self.key(name), value)

    def finish(self) -> None:
        """Reject every key that no getter read: it is misspelt or does not belong here."""
        unknown = [k for k in self._data if k not in self._read]
        if unknown:
            known = ", ".join(sorted(self._read)) or "none"
            raise fail(
                self.key(unknown[0]),
                "unknown key",
                f"remove it or use one of the keys of {self.path or 'the root'}: {known}",
            )


def _as_number(key: str, value: Any) -> float | int:
    if isinstance(value, bool) or value is None:
        raise fail(key, f"expected a number, got {value!r}")
    if isinstance(value, int | float):
        number: float | int = value
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise fail(key, f"expected a number, got {value!r}") from None
    else:
        raise fail(key, f"expected a number, got {value!r}")
    if isinstance(number, float) and not math.isfinite(number):
        raise fail(key, f"expected a finite number, got {value!r}")
    return number


def as_float(
    key: str, value: Any, lo: float | None = None, hi: float | None = None, lo_open: bool = False
) -> float:
    """A finite number within the bounds, else a ConfigError naming ``key``."""
    number = _as_number(key, value)
    _check_bounds(key, number, lo, hi, lo_open)
    return float(number)


def as_int(key: str, value: Any) -> int:
    """An integer (an integral float such as 5.0 counts), else a ConfigError naming ``key``."""
    number = _as_number(key, value)
    if isinstance(number, float):
        if not number.is_integer():
            raise fail(key, f"expected an integer, got {value!r}")
        return int(number)
    return number


def _check_bounds(
    key: str, value: float, lo: float | None, hi: float | None, lo_open: bool
) -> None:
    if lo is not None and (value <= lo if lo_open else value < lo):
        raise fail(key, f"must be {'>' if lo_open else '>='} {lo}, got {value}")
    if hi is not None and value > hi:
        raise fail(key, f"must be <= {hi}, got {value}")

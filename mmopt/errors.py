"""Errors raised on bad input, each naming the file, key or row and the fix."""

from __future__ import annotations

__all__ = ["ConfigError", "DataError", "MmoptError"]


class MmoptError(Exception):
    """Base class of every error mmopt raises on purpose."""


class DataError(MmoptError):
    """Market data that cannot be used: the message names the file, row or column and the fix."""


class ConfigError(MmoptError):
    """A configuration value that cannot be used: the message names the key and the fix."""

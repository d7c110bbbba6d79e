"""The error an executor raises when a submitted call failed as a whole."""

from __future__ import annotations

from mmopt.errors import MmoptError

__all__ = ["TaskError"]


class TaskError(MmoptError):
    """A call failed in its worker (or the worker died past its retries); message kept."""

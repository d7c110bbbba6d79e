"""mmopt: distributed parameter optimisation for market-making strategies."""

from __future__ import annotations

from mmopt.errors import ConfigError, DataError, MmoptError

__all__ = ["ConfigError", "DataError", "MmoptError", "__version__"]

__version__ = "0.1.0"

"""Running on a Ray cluster: numba's cache shared by every node (``numba_cache``), built
before the first sweep (``warm_cache``), and the time a node takes to its first result
(``first_result``)."""

from mmopt.cluster.first_result import FirstResult, timed
from mmopt.cluster.numba_cache import CacheStats, PackageCacheLocator, cache_stats, locator_setting
from mmopt.cluster.warm_cache import warm_support_kernels

__all__ = ["CacheStats", "FirstResult", "PackageCacheLocator", "cache_stats", "locator_setting",
           "timed", "warm_support_kernels"]

"""Importers: vendor files (LOBSTER, CSV/Parquet with a column map) -> mmopt Hive shards.

Each importer converts all its inputs first (every bad input raises a ``DataError`` or
``ConfigError`` naming the file, line, column or key and the fix, before anything is written),
then writes one shard per security and day atomically with ``mmopt.data.writer.write_shard``.
"""

from __future__ import annotations

from mmopt.data.importers._common import (
    ConvertedShard,
    ImportedShard,
    ImportReport,
    InstrumentOptions,
    write_converted,
)
from mmopt.data.importers.column_map import ColumnMap, TabularConfig, load_tabular_config
from mmopt.data.importers.lobster import (
    LobsterOptions,
    LobsterPair,
    convert_lobster,
    find_lobster_pairs,
    import_lobster,
)
from mmopt.data.importers.tabular import convert_tabular, import_tabular

__all__ = [
    "ColumnMap",
    "ConvertedShard",
    "ImportReport",
    "ImportedShard",
    "InstrumentOptions",
    "LobsterOptions",
    "LobsterPair",
    "TabularConfig",
    "convert_lobster",
    "convert_tabular",
    "find_lobster_pairs",
    "import_lobster",
    "import_tabular",
    "load_tabular_config",
    "write_converted",
]

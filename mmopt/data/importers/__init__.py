"""Importers: vendor files (LOBSTER, CSV/Parquet with a column map) -> mmopt Hive shards.

Each importer streams its inputs in chunks (bounded memory), checks every row (a bad input raises
a ``DataError`` or ``ConfigError`` naming the file, line, column or key and the fix), stages one
shard per security and day in a hidden directory inside the output root, and moves the shards
into place only when all of them are complete. ``ImportProgress`` receives the rows done.
"""

from __future__ import annotations

from mmopt.data.importers._common import (
    ConvertedShard,
    ImportedShard,
    ImportReport,
    InstrumentOptions,
)
from mmopt.data.importers._levels import LevelsMode
from mmopt.data.importers._output import write_converted
from mmopt.data.importers._progress import ImportProgress, NullProgress
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
    "ImportProgress",
    "ImportReport",
    "ImportedShard",
    "InstrumentOptions",
    "LevelsMode",
    "LobsterOptions",
    "LobsterPair",
    "NullProgress",
    "TabularConfig",
    "convert_lobster",
    "convert_tabular",
    "find_lobster_pairs",
    "import_lobster",
    "import_tabular",
    "load_tabular_config",
    "write_converted",
]

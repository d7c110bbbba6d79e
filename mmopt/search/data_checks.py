"""Is the sweep's data there and readable? Checked before a study is created or touched.

Opens the catalog the run selects (generating synthetic data on first use, as the sweep would),
reads ``instruments.csv`` if there is one, and reads each shard file's Parquet footer to check
its schema: a missing root, no matching shard, a missing column or a column of the wrong type
fail here, naming the file or key. Rows are validated when the shards are loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mmopt.config import DataConfig
from mmopt.errors import DataError

if TYPE_CHECKING:
    import pyarrow.fs as pafs

__all__ = ["check_data"]


def check_data(data: DataConfig) -> int:
    """DataError / ConfigError unless the shards of ``data`` can be read; returns their count."""
    from mmopt.config import open_shards
    from mmopt.data.catalog import open_filesystem
    from mmopt.data.instruments import read_instruments

    catalog = open_shards(data)
    if data.holdout_dates:
        open_shards(data, holdout=True)
    read_instruments(catalog.root)
    fs, _ = open_filesystem(catalog.root)
    for ref in catalog:
        if not ref.files:
            raise DataError(f"{ref.root}: shard {ref.key} has no Parquet files (fix: write "
                            "them again, or remove the empty folder)")
        for path in ref.files:
            _check_footer(fs, path)
    return len(catalog)


def _check_footer(fs: pafs.FileSystem, path: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mmopt.data.validate import check_schema

    try:
        with fs.open_input_file(path) as fh:
            schema = pq.ParquetFile(fh).schema_arrow
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"{path}: unreadable or truncated Parquet file ({exc}); fix: re-write "
                        "or re-download it, or delete it") from None
    check_schema(schema, path)

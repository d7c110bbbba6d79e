"""Market data: the event format, shard catalog, loader, validation, synthetic data, importers.

The event schema is imported eagerly (it is tiny and the engine needs it); everything else is
imported on first use, so ``import mmopt.engine`` does not pay for pandas and pyarrow.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mmopt.data._schema import (
    EVENT_DTYPE,
    KIND_ASK,
    KIND_ASK_LEVEL,
    KIND_BID,
    KIND_BID_LEVEL,
    KIND_TRADE,
    SIDE_BUY,
    SIDE_NONE,
    SIDE_SELL,
    Instrument,
)

if TYPE_CHECKING:
    from mmopt.data.catalog import ShardCatalog, ShardRef, open_catalog
    from mmopt.data.importers import (
        ColumnMap,
        ImportReport,
        InstrumentOptions,
        LobsterOptions,
        TabularConfig,
        import_lobster,
        import_tabular,
        load_tabular_config,
    )
    from mmopt.data.instruments import (
        InferredInstrumentWarning,
        infer_instrument,
        parse_instruments_csv,
        read_instruments,
    )
    from mmopt.data.inventory import (
        InspectionReport,
        QuoteStats,
        ShardSummary,
        inspect_root,
        quote_stats,
    )
    from mmopt.data.loader import ShardData, load_events, load_shard, load_shards
    from mmopt.data.synth import (
        SCENARIOS,
        SynthConfig,
        SynthDataset,
        SynthShard,
        generate_dataset,
        generate_events,
        generate_shard,
        synth_dates,
        synth_instruments,
    )
    from mmopt.data.validate import validate_events
    from mmopt.data.writer import events_to_table, write_instruments_csv, write_shard

_LAZY: dict[str, str] = {
    "ShardCatalog": "mmopt.data.catalog",
    "ShardRef": "mmopt.data.catalog",
    "open_catalog": "mmopt.data.catalog",
    "ColumnMap": "mmopt.data.importers",
    "ImportReport": "mmopt.data.importers",
    "InstrumentOptions": "mmopt.data.importers",
    "LobsterOptions": "mmopt.data.importers",
    "TabularConfig": "mmopt.data.importers",
    "import_lobster": "mmopt.data.importers",
    "import_tabular": "mmopt.data.importers",
    "load_tabular_config": "mmopt.data.importers",
    "InferredInstrumentWarning": "mmopt.data.instruments",
    "infer_instrument": "mmopt.data.instruments",
    "parse_instruments_csv": "mmopt.data.instruments",
    "read_instruments": "mmopt.data.instruments",
    "InspectionReport": "mmopt.data.inventory",
    "QuoteStats": "mmopt.data.inventory",
    "ShardSummary": "mmopt.data.inventory",
    "inspect_root": "mmopt.data.inventory",
    "quote_stats": "mmopt.data.inventory",
    "ShardData": "mmopt.data.loader",
    "load_events": "mmopt.data.loader",
    "load_shard": "mmopt.data.loader",
    "load_shards": "mmopt.data.loader",
    "SCENARIOS": "mmopt.data.synth",
    "SynthConfig": "mmopt.data.synth",
    "SynthDataset": "mmopt.data.synth",
    "SynthShard": "mmopt.data.synth",
    "generate_dataset": "mmopt.data.synth",
    "generate_events": "mmopt.data.synth",
    "generate_shard": "mmopt.data.synth",
    "synth_dates": "mmopt.data.synth",
    "synth_instruments": "mmopt.data.synth",
    "validate_events": "mmopt.data.validate",
    "events_to_table": "mmopt.data.writer",
    "write_instruments_csv": "mmopt.data.writer",
    "write_shard": "mmopt.data.writer",
}

__all__ = [
    "EVENT_DTYPE",
    "KIND_ASK",
    "KIND_ASK_LEVEL",
    "KIND_BID",
    "KIND_BID_LEVEL",
    "KIND_TRADE",
    "SCENARIOS",
    "SIDE_BUY",
    "SIDE_NONE",
    "SIDE_SELL",
    "ColumnMap",
    "ImportReport",
    "InferredInstrumentWarning",
    "InspectionReport",
    "Instrument",
    "InstrumentOptions",
    "LobsterOptions",
    "QuoteStats",
    "ShardCatalog",
    "ShardData",
    "ShardRef",
    "ShardSummary",
    "SynthConfig",
    "SynthDataset",
    "SynthShard",
    "TabularConfig",
    "events_to_table",
    "generate_dataset",
    "generate_events",
    "generate_shard",
    "import_lobster",
    "import_tabular",
    "infer_instrument",
    "inspect_root",
    "load_events",
    "load_shard",
    "load_shards",
    "load_tabular_config",
    "open_catalog",
    "parse_instruments_csv",
    "quote_stats",
    "read_instruments",
    "synth_dates",
    "synth_instruments",
    "validate_events",
    "write_instruments_csv",
    "write_shard",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mmopt.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

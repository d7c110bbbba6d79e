"""Market data: the event format, shard catalog, loader, validation, synthetic data, importers."""

from __future__ import annotations

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

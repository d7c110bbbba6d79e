"""The column map of the CSV/Parquet importer: which file column holds which mmopt field.

A map comes from a YAML file (``--map FILE``) and/or ``--col KEY=COLUMN`` options (which win)::

    columns:            # mmopt key: column name in the file
      time: timestamp
      type: type        # event rows: the type column says bid / ask / trade / bid_level / ...
      price: price
      size: volume
    time_format: ms     # auto | iso | s | ms | us | ns | a strftime pattern such as %H:%M:%S.%f
    timezone: UTC       # zone of times that carry none (and of the shard date)
    security: XYZ      # or map a `security` column
    type_values: {bid: [B], ask: [A], trade: [T]}   # extra spellings, case-insensitive
    side_values: {buy: [buy, b, "1"], sell: [sell, s, "-1"]}
    levels: price       # depth rows keyed by price (default) or rank (converted on import)

Layouts, chosen per file by the mapped columns it has: quotes (``bid``, ``ask``, ``bid_size``,
``ask_size``: one ``bid`` and one ``ask`` row whenever that side changes), trades (``price``,
``size``, optional ``side`` = aggressor), or event rows (``type`` + ``price`` + ``size``,
optional ``side``, ``level``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mmopt.data._schema import KIND_CODES
from mmopt.data.importers._common import check_timezone
from mmopt.data.importers._levels import LevelsMode
from mmopt.errors import ConfigError

__all__ = [
    "COLUMN_KEYS",
    "ColumnMap",
    "TabularConfig",
    "load_tabular_config",
]

COLUMN_KEYS = (
    "time",
    "bid",
    "ask",
    "bid_size",
    "ask_size",
    "price",
    "size",
    "side",
    "type",
    "level",
    "security",
    "date",
    "exch_time",
)
EPOCH_FORMATS = ("s", "ms", "us", "ns")
TIME_FORMATS = ("auto", "iso", *EPOCH_FORMATS)
TOP_KEYS = (
    "columns",
    "time_format",
    "timezone",
    "security",
    "date",
    "type_values",
    "side_values",
    "delimiter",
    "levels",
)
LEVEL_MODES = ("price", "rank")
DEFAULT_TYPE_VALUES: tuple[tuple[str, str], ...] = tuple((k, k) for k in KIND_CODES)
DEFAULT_SIDE_VALUES: tuple[tuple[str, str], ...] = (
    ("buy", "buy"),
    ("b", "buy"),
    ("1", "buy"),
    ("sell", "sell"),
    ("s", "sell"),
    ("-1", "sell"),
)


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """mmopt key -> column name in the input files (``None``: not in the files)."""

    time: str | None = None
    bid: str | None = None
    ask: str | None = None
    bid_size: str | None = None
    ask_size: str | None = None
    price: str | None = None
    size: str | None = None
    side: str | None = None
    type: str | None = None
    level: str | None = None
    security: str | None = None
    date: str | None = None
    exch_time: str | None = None

    def __post_init__(self) -> None:
        def need(key: str, because: str) -> None:
            if getattr(self, key) is None:
                raise ConfigError(
                    f"column map: {because} but no {key!r} column is mapped; add "
                    f"`{key}: <column>` under columns: in the map file or --col {key}=<column>"
                )

        need("time", "every row needs a time")
        quotes = self.bid is not None or self.ask is not None
        if quotes:
            for key in ("bid", "ask", "bid_size", "ask_size"):
                need(key, "quotes need bid, ask, bid_size and ask_size")
        if self.type is not None:
            need("price", "event rows (type) need a price")
            need("size", "event rows (type) need a size")
        if self.price is not None:
            need("size", "trades (price) need a size")
        if not (quotes or self.price is not None):
            raise ConfigError(
                "column map: nothing to import; map bid/ask/bid_size/ask_size (quotes), "
                "price/size (trades) or type/price/size (event rows)"
            )

    def mapped(self) -> dict[str, str]:
        """The keys that name a column."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if getattr(self, f.name) is not None
        }


@dataclass(frozen=True, slots=True)
class TabularConfig:
    """Everything the CSV/Parquet importer needs besides the file names."""

    columns: ColumnMap
    time_format: str = "auto"
    timezone: str = "UTC"
    security: str | None = None
    date: str | None = None
    type_values: tuple[tuple[str, str], ...] = DEFAULT_TYPE_VALUES
    side_values: tuple[tuple[str, str], ...] = DEFAULT_SIDE_VALUES
    delimiter: str = ","
    levels: LevelsMode = "price"
    source: str = field(default="the command line", compare=False)

    def __post_init__(self) -> None:
        if self.time_format not in TIME_FORMATS and "%" not in self.time_format:
            raise ConfigError(
                f"{self.source}: time_format {self.time_format!r} is not one of "
                f"{', '.join(TIME_FORMATS)} nor a strftime pattern such as '%Y-%m-%d %H:%M:%S.%f'"
            )
        check_timezone(self.timezone, f"{self.source}: timezone")
        if self.security is None and self.columns.security is None:
            raise ConfigError(
                f"{self.source}: no security; pass --security NAME or map a security column "
                "(--col security=<column>)"
            )
        if self.date is not None:
            try:
                dt.date.fromisoformat(self.date)
            except ValueError:
                raise ConfigError(
                    f"{self.source}: date {self.date!r} is not a date; use YYYY-MM-DD"
                ) from None
        if self.levels not in LEVEL_MODES:
            raise ConfigError(
                f"{self.source}: levels {self.levels!r}: use price (a depth row sets the size at "
                "its price) or rank (a depth row says 'level k is now price P size q')"
            )
        if len(self.delimiter) != 1:
            raise ConfigError(f"{self.source}: delimiter {self.delimiter!r} must be one character")
        for _raw, kind in self.type_values:
            if kind not in KIND_CODES:
                raise ConfigError(
                    f"{self.source}: type_values key {kind!r} is not a kind; "
                    f"use {', '.join(KIND_CODES)}"
                )
        for _raw, side in self.side_values:
            if side not in ("buy", "sell"):
                raise ConfigError(f"{self.source}: side_values key {side!r}: use buy or sell")

    @property
    def type_lookup(self) -> dict[str, int]:
        return {raw.lower(): KIND_CODES[kind] for raw, kind in self.type_values}

    @property
    def side_lookup(self) -> dict[str, int]:
        return {raw.lower(): (1 if side == "buy" else -1) for raw, side in self.side_values}


def _parse_col_options(cols: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in cols:
        key, sep, column = item.partition("=")
        key, column = key.strip(), column.strip()
        if not sep or not key or not column:
            raise ConfigError(f"--col {item!r}: write KEY=COLUMN, for example --col time=timestamp")
        out[key] = column
    return out


def _value_pairs(raw: Any, key: str, source: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source}: {key} must be a mapping such as {{bid: [B], ask: [A]}}")
    pairs: list[tuple[str, str]] = []
    for name, spellings in raw.items():
        items = spellings if isinstance(spellings, list) else [spellings]
        pairs += [(str(s), str(name)) for s in items]
    return tuple(pairs)


def _check_column_keys(columns: Mapping[str, Any], source: str) -> dict[str, str]:
    unknown = sorted(set(columns) - set(COLUMN_KEYS))
    if unknown:
        raise ConfigError(
            f"{source}: unknown column key {unknown[0]!r}; the keys are {', '.join(COLUMN_KEYS)}"
        )
    return {str(k): str(v) for k, v in columns.items() if v is not None}


def load_tabular_config(
    map_file: str | Path | None = None,
    cols: Sequence[str] = (),
    **overrides: Any,
) -> TabularConfig:
    """The config from a YAML map file, ``--col`` items and options (``None`` = not given)."""
    data: dict[str, Any] = {}
    source = "the command line"
    if map_file is not None:
        source = str(map_file)
        try:
            loaded = yaml.safe_load(Path(map_file).read_text())
        except OSError as exc:
            raise ConfigError(f"{map_file}: cannot read the column map ({exc.strerror})") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{map_file}: not valid YAML ({exc}); fix the file") from None
        if not isinstance(loaded, Mapping) or "columns" not in loaded:
            raise ConfigError(f"{map_file}: expected a mapping with a `columns:` section")
        unknown = sorted(set(loaded) - set(TOP_KEYS))
        if unknown:
            raise ConfigError(
                f"{map_file}: unknown key {unknown[0]!r}; the keys are {', '.join(TOP_KEYS)}"
            )
        data = dict(loaded)
        if not isinstance(data["columns"], Mapping):
            raise ConfigError(f"{map_file}: `columns:` must map mmopt keys to column names")
    columns = _check_column_keys(data.pop("columns", {}), source)
    columns.update(_check_column_keys(_parse_col_options(cols), "--col"))
    for key in ("type_values", "side_values"):
        if key in data:
            defaults = DEFAULT_TYPE_VALUES if key == "type_values" else DEFAULT_SIDE_VALUES
            data[key] = defaults + _value_pairs(data[key], key, source)
    data.update({k: v for k, v in overrides.items() if v is not None})
    for key in ("time_format", "timezone", "security", "date", "delimiter", "levels"):
        if key in data and data[key] is not None:
            data[key] = str(data[key])
    return TabularConfig(columns=ColumnMap(**columns), source=source, **data)

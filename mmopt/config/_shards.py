"""From a DataConfig to the shards a run uses: generate synthetic data on first use, then filter.

The synthetic generator's settings are stamped in ``ROOT/.mmopt_synth.json`` (the catalog skips
dot files); a root made with other settings is an error rather than silently different data.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from mmopt.errors import ConfigError, DataError

if TYPE_CHECKING:
    from mmopt.config._types import DataConfig
    from mmopt.data.catalog import ShardCatalog

__all__ = ["SYNTH_STAMP", "ensure_generated", "open_shards"]

SYNTH_STAMP = ".mmopt_synth.json"


def open_shards(data: DataConfig, *, holdout: bool = False) -> ShardCatalog:
    """The shards selected by ``data`` (``holdout=True``: only its held-out dates instead)."""
    from mmopt.data.catalog import ShardCatalog, open_catalog

    ensure_generated(data)
    catalog = open_catalog(data.root, securities=data.securities, start=data.date_from,
                           end=data.date_to)
    if holdout:
        chosen = tuple(s for s in catalog if s.date in data.holdout_dates)
    else:
        chosen = tuple(s for s in catalog if data.wants_date(s.date))
    if not chosen:
        if not holdout:
            _raise_if_all_held_out(data, catalog.dates)
        which = "data.holdout_dates" if holdout else "data.dates"
        wanted = data.holdout_dates if holdout else data.dates
        asked = str(list(wanted)) if wanted else "every date"
        raise DataError(
            f"{which}: no shard of {data.root} matches {asked} "
            f"(after data.securities / date_from / date_to / holdout_dates); "
            f"available dates: {', '.join(catalog.dates) or 'none'}"
        )
    return ShardCatalog(catalog.root, chosen, catalog.instruments_stamp)


def _raise_if_all_held_out(data: DataConfig, dates: tuple[str, ...]) -> None:
    """The hold-out takes every date the other filters leave: say so (not "no match")."""
    import dataclasses

    selected = [d for d in dates if dataclasses.replace(data, holdout_dates=()).wants_date(d)]
    if selected and set(selected) <= set(data.holdout_dates):
        raise ConfigError(
            f"data.holdout_dates: the hold-out covers every date the sweep would use "
            f"({', '.join(selected)} of {data.root}), so nothing is left to sweep (fix: hold out "
            "fewer dates, or select more with data.dates / date_from / date_to)"
        )


def ensure_generated(data: DataConfig) -> bool:
    """Write the synthetic dataset of ``data.generate`` under ``data.root`` unless it is there.

    Returns True when it generated or checked the data. No-op for real data (``generate`` None)
    and for a root whose stamp matches.
    """
    if data.generate is None:
        return False
    if "://" in data.root and not data.root.startswith("file://"):
        raise ConfigError(
            f"data.root: synthetic data is generated on a local path, not {data.root!r}; "
            "generate it locally (`mmopt data synth`) and upload it, then use data=parquet"
        )
    root = Path(data.root.removeprefix("file://")).expanduser()
    stamp_path = root / SYNTH_STAMP
    wanted = json.dumps(data.generate.describe(), sort_keys=True)
    if stamp_path.is_file():
        if stamp_path.read_text() != wanted:
            raise ConfigError(
                f"data.root: {root} holds synthetic data made with other data.generate settings "
                f"(see {stamp_path}); delete that directory or set data.root to a new one"
            )
        return False
    from mmopt.data.synth import generate_dataset, synth_instruments

    ours = {i.security for i in synth_instruments(data.generate)}
    others = sorted(p.name.removeprefix("security=") for p in root.glob("security=*")
                    if p.name.removeprefix("security=") not in ours)
    if others:  # never write synthetic shards into somebody else's data
        raise ConfigError(
            f"data.root: {root} holds shards that are not this synthetic dataset (e.g. "
            f"{others[0]}); to backtest them use data=parquet data.root={data.root} "
            "(or data=binance), or point data.root at an empty directory"
        )
    # Shards already there (e.g. from `mmopt data synth`) are regenerated in memory and compared:
    # a different dataset raises DataError naming the shard.
    generate_dataset(data.generate, root)
    stamp_path.write_text(wanted)
    return True

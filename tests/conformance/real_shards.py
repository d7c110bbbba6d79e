"""Real Binance shards for the conformance test: mmopt's loader, or a plain pyarrow read.

The fallback exists only while ``mmopt.data.loader`` is being written; it reads the documented
columns (docs/data.md) and the instrument row of ``instruments.csv``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from mmopt.data._schema import EVENT_DTYPE, KIND_CODES, SIDE_CODES, Instrument

__all__ = ["load_real_shard"]


def load_real_shard(root: Path, security: str, date: str) -> tuple[np.ndarray, Instrument]:
    """(events, instrument) of one shard under ``root``."""
    try:
        from mmopt.data.loader import load_events

        shard = load_events(root, security, date)
        return np.asarray(shard.events), shard.instrument
    except (ImportError, ModuleNotFoundError):
        return _read_with_pyarrow(root, security, date), _instrument(root, security)


def _read_with_pyarrow(root: Path, security: str, date: str) -> np.ndarray:
    files = sorted((root / f"security={security}" / f"date={date}").glob("*.parquet"))
    if not files:
        raise FileNotFoundError(f"no parquet files for {security} {date} under {root}")
    parts = []
    for path in files:
        table = pq.read_table(path)
        n = table.num_rows
        ev = np.zeros(n, dtype=EVENT_DTYPE)
        ev["ts_ns"] = table.column("ts_ns").to_numpy()
        ev["exch_ts_ns"] = table.column("exch_ts_ns").fill_null(-1).to_numpy()
        ev["price"] = table.column("price").to_numpy(zero_copy_only=False)
        ev["qty"] = table.column("qty").to_numpy(zero_copy_only=False)
        ev["level"] = table.column("level").fill_null(0).to_numpy()
        kinds = np.asarray(table.column("kind").to_pylist(), dtype=object)
        ev["kind"] = np.vectorize(KIND_CODES.__getitem__, otypes=[np.int8])(kinds)
        sides = table.column("side").fill_null("none").to_pylist()
        ev["side"] = np.array([SIDE_CODES.get(s, 0) for s in sides], dtype=np.int8)
        ev["is_snapshot"] = table.column("is_snapshot").to_numpy(zero_copy_only=False)
        parts.append(ev)
    events = np.concatenate(parts)
    return events[np.argsort(events["ts_ns"], kind="stable")]


def _instrument(root: Path, security: str) -> Instrument:
    with open(root / "instruments.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["security"] == security:
                return Instrument(
                    security=security,
                    tick_size=float(row["tick_size"]),
                    lot_size=float(row["lot_size"]),
                    contract_type="inverse" if row["contract_type"] == "inverse" else "linear",
                    contract_size=float(row["contract_size"]),
                    quote_currency=row["quote_currency"],
                    maker_fee_bps=float(row["maker_fee_bps"]),
                    taker_fee_bps=float(row["taker_fee_bps"]),
                )
    raise KeyError(f"{security} not in {root / 'instruments.csv'}")

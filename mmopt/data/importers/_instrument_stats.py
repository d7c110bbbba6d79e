"""Instrument facts gathered while rows stream by: the distinct prices and sizes of a security
(for tick and lot size inference) and the tick-grid check of ``--tick-size``, chunk by chunk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from mmopt.data._schema import (
    KIND_ASK,
    KIND_ASK_LEVEL,
    KIND_BID,
    KIND_BID_LEVEL,
    KIND_TRADE,
    Instrument,
)
from mmopt.data.importers._common import InstrumentOptions
from mmopt.data.instruments import infer_grid
from mmopt.errors import DataError

__all__ = ["GridSample", "check_tick_grid", "instrument_for"]

QUOTE_KINDS = (KIND_BID, KIND_ASK, KIND_BID_LEVEL, KIND_ASK_LEVEL)
# distinct values kept per security and column; beyond it every other value is dropped
# (infer_grid itself thins to 200,000 values)
_MAX_DISTINCT = 2_000_000


def _merge_unique(have: np.ndarray, new: np.ndarray) -> np.ndarray:
    new = new[np.isfinite(new) & (new > 0)]
    out = np.union1d(have, new) if have.size else np.unique(new)
    while out.size > _MAX_DISTINCT:
        out = out[::2]
    return out


@dataclass(slots=True)
class GridSample:
    """Distinct positive quoted prices, trade prices and sizes of one security."""

    quoted: np.ndarray = field(default_factory=lambda: np.empty(0))
    traded: np.ndarray = field(default_factory=lambda: np.empty(0))
    sizes: np.ndarray = field(default_factory=lambda: np.empty(0))

    def add(self, events: np.ndarray) -> None:
        kind, qty, price = events["kind"], events["qty"], events["price"]
        quoted = np.isin(kind, QUOTE_KINDS) & (qty > 0)
        self.quoted = _merge_unique(self.quoted, price[quoted])
        self.traded = _merge_unique(self.traded, price[kind == KIND_TRADE])
        self.sizes = _merge_unique(self.sizes, qty)


def check_tick_grid(events: np.ndarray, tick: float, where: str) -> None:
    """The first quoted price (in row order) off the ``--tick-size`` grid is an error."""
    rows = np.flatnonzero(np.isin(events["kind"], QUOTE_KINDS) & (events["qty"] > 0))
    ratio = events["price"][rows] / tick
    off = np.flatnonzero(np.abs(ratio - np.rint(ratio)) > 1e-6 + 1e-9 * np.abs(ratio))
    if off.size:
        price = float(events["price"][rows[off[0]]])
        raise DataError(
            f"{where}: quoted price {price!r} is not a multiple of --tick-size {tick:g}; pass "
            "the instrument's real tick size (or leave --tick-size out to infer it)"
        )


def instrument_for(
    security: str, samples: Sequence[GridSample], opts: InstrumentOptions
) -> tuple[Instrument, str | None]:
    """The instrument of one security; a note when tick or lot size had to be inferred."""
    quoted = np.concatenate([s.quoted for s in samples])
    prices = quoted if quoted.size else np.concatenate([s.traded for s in samples])
    inferred: list[str] = []
    tick = opts.tick_size
    if tick is None:
        tick = infer_grid(np.unique(prices))
        inferred.append(f"tick size {tick:g} (--tick-size)")
    lot = opts.lot_size
    if lot is None:
        lot = infer_grid(np.unique(np.concatenate([s.sizes for s in samples])))
        inferred.append(f"lot size {lot:g} (--lot-size)")
    ins = Instrument(
        security=security,
        tick_size=tick,
        lot_size=lot,
        contract_type=opts.contract_type,
        contract_size=opts.contract_size,
        quote_currency=opts.quote_currency,
        maker_fee_bps=opts.maker_fee_bps,
        taker_fee_bps=opts.taker_fee_bps,
        inferred=bool(inferred),
    )
    note = None
    if inferred:
        note = (
            f"{security}: inferred {' and '.join(inferred)} from the data; "
            "pass the option in brackets to set it"
        )
    return ins, note

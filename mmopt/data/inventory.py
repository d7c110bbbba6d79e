"""Inventory of a data root: per shard, events by kind, time span, tick size, crossed books and
the share of trades printing inside the best quote seen just before them.

The best quote is the last ``bid``/``ask`` row (or depth row with rank 1) in arrival order. A
book is counted as crossed after each such update that leaves bid >= ask (crossed or locked);
real feeds do this when the quote and depth streams interleave, so it is counted, not rejected.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mmopt.data._schema import (
    KIND_ASK,
    KIND_ASK_LEVEL,
    KIND_BID,
    KIND_BID_LEVEL,
    KIND_TRADE,
)
from mmopt.data.catalog import ShardCatalog, open_catalog
from mmopt.data.loader import ShardData, load_shard

__all__ = [
    "InspectionReport",
    "QuoteStats",
    "ShardSummary",
    "inspect_root",
    "quote_stats",
    "stale_depth_rows",
    "summarise_shard",
]


@dataclass(frozen=True, slots=True)
class QuoteStats:
    """Crossed-book updates and trades relative to the prior best bid/ask."""

    top_updates: int  # rows that set the best bid or ask
    crossed: int  # top updates after which best bid >= best ask
    trades_with_quote: int  # trades with both a prior best bid and ask
    trades_inside: int  # ... whose price lies within [bid, ask]
    stale_depth: int = 0  # *_level rows better than their side's last bid/ask row (lagging depth)

    @property
    def inside_share(self) -> float:
        """Share of trades inside the prior quote (NaN when no trade had a quote)."""
        return self.trades_inside / self.trades_with_quote if self.trades_with_quote else np.nan


def _last_value(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
    """At each row, the value of the last row (inclusive) where mask holds; NaN before any."""
    n = mask.shape[0]
    idx = np.where(mask, np.arange(n), -1)
    np.maximum.accumulate(idx, out=idx)
    out = values[np.maximum(idx, 0)].astype(np.float64, copy=True)
    out[idx < 0] = np.nan
    return out


def stale_depth_rows(events: np.ndarray) -> int:
    """``*_level`` rows priced better than the last ``bid`` (``ask``) row before them, in arrival
    order: depth diffs that lag the best-price stream. The engine drops them (docs/engine.md,
    "Book"); after a NaN best price (empty side) every level row of that side counts until the
    next best-price row. Level rows before the first best-price row of their side never count."""
    kind, price = events["kind"], events["price"]
    n = kind.shape[0]
    stale = 0
    for top_kind, level_kind, sign in ((KIND_BID, KIND_BID_LEVEL, 1.0), (KIND_ASK, KIND_ASK_LEVEL,
                                                                         -1.0)):
        is_top = kind == top_kind
        idx = np.where(is_top, np.arange(n), -1)
        np.maximum.accumulate(idx, out=idx)
        last = price[np.maximum(idx, 0)] * sign
        last = np.where(np.isnan(last), -np.inf, last)  # an empty side: every level is stale
        rows = (kind == level_kind) & (idx >= 0)
        stale += int(np.count_nonzero(rows & (price * sign > last)))
    return stale


def quote_stats(events: np.ndarray) -> QuoteStats:
    """Vectorised crossed-book count and trades-inside-quote share of one shard."""
    kind, price, level = events["kind"], events["price"], events["level"]
    is_bid = (kind == KIND_BID) | ((kind == KIND_BID_LEVEL) & (level == 1))
    is_ask = (kind == KIND_ASK) | ((kind == KIND_ASK_LEVEL) & (level == 1))
    bid = _last_value(is_bid, price)
    ask = _last_value(is_ask, price)
    top = is_bid | is_ask
    crossed = int(np.count_nonzero(top & (bid >= ask)))
    trades = np.flatnonzero(kind == KIND_TRADE)
    # the quote just before each trade: a trade row never updates bid/ask, so its own row works
    tb, ta, tp = bid[trades], ask[trades], price[trades]
    quoted = ~np.isnan(tb) & ~np.isnan(ta)
    inside = quoted & (tp >= tb) & (tp <= ta)
    return QuoteStats(
        top_updates=int(np.count_nonzero(top)),
        crossed=crossed,
        stale_depth=stale_depth_rows(events),
        trades_with_quote=int(np.count_nonzero(quoted)),
        trades_inside=int(np.count_nonzero(inside)),
    )


@dataclass(frozen=True, slots=True)
class ShardSummary:
    security: str
    date: str
    events: int
    bid: int
    ask: int
    trade: int
    bid_level: int
    ask_level: int
    snapshot_rows: int
    start_ns: int
    end_ns: int
    tick_size: float
    tick_inferred: bool
    quotes: QuoteStats
    n_bytes: int
    fingerprint: str

    @property
    def span_s(self) -> float:
        return (self.end_ns - self.start_ns) / 1e9

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.start_ns / 1e9, tz=dt.UTC)

    @property
    def end(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.end_ns / 1e9, tz=dt.UTC)


def summarise_shard(data: ShardData) -> ShardSummary:
    ev = data.events
    counts = np.bincount(ev["kind"].astype(np.intp), minlength=KIND_ASK_LEVEL + 1)
    return ShardSummary(
        security=data.ref.security,
        date=data.ref.date,
        events=len(ev),
        bid=int(counts[KIND_BID]),
        ask=int(counts[KIND_ASK]),
        trade=int(counts[KIND_TRADE]),
        bid_level=int(counts[KIND_BID_LEVEL]),
        ask_level=int(counts[KIND_ASK_LEVEL]),
        snapshot_rows=int(np.count_nonzero(ev["is_snapshot"])),
        start_ns=int(ev["ts_ns"][0]),
        end_ns=int(ev["ts_ns"][-1]),
        tick_size=data.instrument.tick_size,
        tick_inferred=data.instrument.inferred,
        quotes=quote_stats(ev),
        n_bytes=data.ref.n_bytes,
        fingerprint=data.ref.fingerprint,
    )


@dataclass(frozen=True, slots=True)
class InspectionReport:
    root: str
    fingerprint: str
    shards: tuple[ShardSummary, ...]

    @property
    def events(self) -> int:
        return sum(s.events for s in self.shards)

    def total(self, field: str) -> int:
        """Sum of an integer field (e.g. 'trade') over the shards."""
        return sum(int(getattr(s, field)) for s in self.shards)

    @property
    def quotes(self) -> QuoteStats:
        return QuoteStats(
            top_updates=sum(s.quotes.top_updates for s in self.shards),
            crossed=sum(s.quotes.crossed for s in self.shards),
            trades_with_quote=sum(s.quotes.trades_with_quote for s in self.shards),
            trades_inside=sum(s.quotes.trades_inside for s in self.shards),
            stale_depth=sum(s.quotes.stale_depth for s in self.shards),
        )


def inspect_root(
    root: str | Path | ShardCatalog,
    securities: Iterable[str] | None = None,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
) -> InspectionReport:
    """Load (and so validate) every selected shard and summarise it."""
    catalog = root if isinstance(root, ShardCatalog) else open_catalog(root)
    if securities is not None or start is not None or end is not None:
        catalog = catalog.select(securities, start, end)
    shards = tuple(summarise_shard(load_shard(ref)) for ref in catalog)
    return InspectionReport(root=catalog.root, fingerprint=catalog.fingerprint, shards=shards)

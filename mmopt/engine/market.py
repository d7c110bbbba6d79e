"""prepare_market: one shard's events -> contiguous integer-tick columns for the kernel."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mmopt.data._schema import (
    EVENT_DTYPE,
    KIND_ASK,
    KIND_ASK_LEVEL,
    KIND_BID,
    KIND_BID_LEVEL,
    KIND_TRADE,
    NO_EXCH_TS,
    Instrument,
)
from mmopt.engine.clock import exchange_times, local_clock_shift
from mmopt.errors import DataError

__all__ = [
    "CODE_ASK_CLEAR",
    "CODE_ASK_DEL",
    "CODE_ASK_SET",
    "CODE_ASK_TOP",
    "CODE_ASK_TOP_DEL",
    "CODE_BID_CLEAR",
    "CODE_BID_DEL",
    "CODE_BID_SET",
    "CODE_BID_TOP",
    "CODE_BID_TOP_DEL",
    "CODE_BUY_TRADE",
    "CODE_IGNORE",
    "CODE_SELL_TRADE",
    "MarketData",
    "prepare_market",
    "round_half_away",
]

# row codes the kernel switches on (int8)
CODE_IGNORE = 0  # a trade without an aggressor side
CODE_BID_SET = 1  # bid level: total size at the price is now qty (qty >= lot/2)
CODE_ASK_SET = 2
CODE_BID_DEL = 3  # bid level removed (qty < lot/2)
CODE_ASK_DEL = 4
CODE_BUY_TRADE = 5  # aggressor buy
CODE_SELL_TRADE = 6
CODE_BID_CLEAR = 7  # `bid` row with a NaN price: the side is empty
CODE_ASK_CLEAR = 8
CODE_BID_TOP = 9  # `bid` row: the best bid is now this price (better bid levels are gone)
CODE_ASK_TOP = 10
CODE_BID_TOP_DEL = 11  # `bid` row with qty < lot/2: better levels and this one are gone
CODE_ASK_TOP_DEL = 12

_DAY_NS = 86_400 * 1_000_000_000
_MIN_MARGIN = 4096  # ticks of dense book beyond the traded range on each side
_MAX_WINDOW = 1 << 23  # dense ticks per side (64 MiB of float64)
_MAX_ROWS = 2**31 - 1  # rows of one shard (the exchange order is an int32 permutation)


@dataclass(frozen=True, slots=True, eq=False)
class MarketData:
    """One shard ready for the kernel; reused by every trial, picklable (numpy arrays only).

    ``ts``/``code``/``rel``/``qty`` are the rows in local (``ts_ns``) order, as recorded. When the
    shard has exchange times (``two_clocks``), ``ex_ts`` is each row's exchange time (null ones
    estimated, see mmopt.engine.clock) and ``ex_order`` the rows' order by exchange time (a
    stable int32 permutation: the exchange side reads the same rows through it, no second
    copy); otherwise ``ex_ts`` is ``ts`` and ``ex_order`` empty. The local clock shift is
    applied per run (EngineConfig).
    """

    instrument: Instrument
    ts: np.ndarray  # int64 ns, non-decreasing
    code: np.ndarray  # int8 CODE_*
    rel: np.ndarray  # int64 tick - base
    qty: np.ndarray  # float64
    base: int  # absolute tick of relative tick 0
    window: int  # dense ticks per side
    n_overflow: int  # distinct ticks outside the window (capacity of the overflow store)
    day_start_ns: int  # UTC midnight of the first event
    ex_ts: np.ndarray  # int64 exchange time of each row, local order (== ts with one clock)
    ex_order: np.ndarray  # int32 rows in exchange-time order (two clocks; else empty)
    two_clocks: bool = False  # the rows carry exchange times
    min_feed_latency_ns: int = 0  # smallest ts_ns - exch_ts_ns as recorded (two clocks)
    n_estimated_exch: int = 0  # rows whose null exchange time was estimated
    exch_known: np.ndarray | None = None  # bool: the row carried an exchange time (None: none)

    @property
    def exch_ts(self) -> np.ndarray | None:
        """The recorded exchange times (-1 where none), or None when no row carries one."""
        if self.exch_known is None:
            return None
        return np.where(self.exch_known, self.ex_ts, NO_EXCH_TS)

    @property
    def n_events(self) -> int:
        return int(self.ts.shape[0])

    @property
    def t_first(self) -> int:
        return int(self.ts[0])

    @property
    def t_last(self) -> int:
        return int(self.ts[-1])

    def local_shift_ns(self, feed_latency_base_ns: int | None) -> int:
        """ns added to every local time so the smallest feed latency is the base (0 with one
        clock); see mmopt.engine.clock."""
        if not self.two_clocks:
            return 0
        return local_clock_shift(self.min_feed_latency_ns, feed_latency_base_ns,
                                 self.instrument.security)

    @property
    def day_end_ns(self) -> int:
        """UTC midnight after the first event: the session end known before the data is read."""
        return self.day_start_ns + _DAY_NS


def round_half_away(x: np.ndarray) -> np.ndarray:
    """Round half away from zero, exactly (Rust's f64::round), as float64."""
    trunc = np.trunc(x)
    frac = x - trunc
    return np.where(np.abs(frac) == 0.5, trunc + np.sign(x), np.rint(x))


def prepare_market(events: np.ndarray, instrument: Instrument) -> MarketData:
    """Validate ``events`` (EVENT_DTYPE, sorted by ts_ns) and convert them once per shard."""
    from mmopt.engine._prepare import encode_rows

    _check_events(events, instrument)
    n = events.shape[0]
    code = np.empty(n, dtype=np.int8)
    rel = np.empty(n, dtype=np.int64)
    qty = np.ascontiguousarray(events["qty"], dtype=np.float64)
    lo, hi = encode_rows(
        np.ascontiguousarray(events["kind"]), np.ascontiguousarray(events["side"]),
        np.ascontiguousarray(events["price"]), qty, float(instrument.tick_size),
        float(instrument.lot_size), code, rel,
    )  # fmt: skip
    base, window = _window(rel, code, int(lo), int(hi))
    rel -= base
    used = code != CODE_IGNORE
    outside = used & ((rel < 0) | (rel >= window))
    outside &= (code != CODE_BID_CLEAR) & (code != CODE_ASK_CLEAR)
    n_overflow = int(np.unique(rel[outside]).shape[0]) if outside.any() else 0
    ts = np.ascontiguousarray(events["ts_ns"], dtype=np.int64)
    day_start = (int(ts[0]) // _DAY_NS) * _DAY_NS
    raw_exch = events["exch_ts_ns"]
    exch = exchange_times(ts, raw_exch)
    if exch is None:
        ex_ts, ex_order = ts, np.zeros(0, dtype=np.int32)
    else:
        ex_ts, ex_order = exch.exch_ts, exch.order
    known = raw_exch >= 0
    for arr in (ts, code, rel, qty, ex_ts, ex_order, known):
        arr.flags.writeable = False
    return MarketData(
        instrument=instrument,
        ts=ts,
        code=code,
        rel=rel,
        qty=qty,
        base=int(base),
        window=int(window),
        n_overflow=n_overflow + 1,
        day_start_ns=day_start,
        ex_ts=ex_ts,
        ex_order=ex_order,
        two_clocks=exch is not None,
        min_feed_latency_ns=0 if exch is None else exch.min_latency_ns,
        n_estimated_exch=0 if exch is None else exch.n_estimated,
        exch_known=known if known.any() else None,
    )


def _window(ticks: np.ndarray, code: np.ndarray, lo: int, hi: int) -> tuple[int, int]:
    """Dense window: the touch / trade price range plus a margin, capped in size."""
    if lo > hi:  # depth rows only: ignore far-away levels when choosing the window
        usable = (code != CODE_IGNORE) & (code != CODE_BID_CLEAR) & (code != CODE_ASK_CLEAR)
        if not usable.any():
            return 0, 1
        lo, hi = (int(v) for v in np.quantile(ticks[usable], [0.01, 0.99]))
    margin = max(_MIN_MARGIN, hi - lo)
    lo, hi = lo - margin, hi + margin
    if hi - lo + 1 > _MAX_WINDOW:
        centre = (lo + hi) // 2
        lo, hi = centre - _MAX_WINDOW // 2, centre + _MAX_WINDOW // 2 - 1
    return lo, hi - lo + 1


def _check_events(events: np.ndarray, instrument: Instrument) -> None:
    if not isinstance(events, np.ndarray) or events.dtype != EVENT_DTYPE:
        got = getattr(events, "dtype", type(events).__name__)
        raise DataError(
            f"events: expected a numpy array of EVENT_DTYPE, got {got}; "
            "load shards with mmopt.data.load_events()"
        )
    if events.shape[0] == 0:
        raise DataError(f"{instrument.security}: the event array is empty; pick a non-empty shard")
    if events.shape[0] > _MAX_ROWS:
        raise DataError(
            f"{instrument.security}: {events.shape[0]} rows in one shard; the engine takes at "
            f"most {_MAX_ROWS}: split the shard (e.g. one shard per hour)"
        )
    ts = events["ts_ns"]
    bad = np.flatnonzero(np.diff(ts) < 0)
    if bad.shape[0]:
        raise DataError(
            f"{instrument.security}: ts_ns decreases at row {int(bad[0]) + 1}; "
            "sort the events stably by ts_ns"
        )
    qty = events["qty"]
    bad = np.flatnonzero(~(qty >= 0))
    if bad.shape[0]:
        raise DataError(
            f"{instrument.security}: row {int(bad[0])} has qty {qty[bad[0]]!r}; "
            "qty must be a number >= 0"
        )
    kind = events["kind"]
    known = np.isin(kind, (KIND_BID, KIND_ASK, KIND_TRADE, KIND_BID_LEVEL, KIND_ASK_LEVEL))
    bad = np.flatnonzero(~known)
    if bad.shape[0]:
        raise DataError(
            f"{instrument.security}: row {int(bad[0])} has unknown kind {int(kind[bad[0]])}; "
            "use 1 bid, 2 ask, 3 trade, 4 bid_level, 5 ask_level"
        )
    price = events["price"]
    needs_price = (kind == KIND_TRADE) | (kind == KIND_BID_LEVEL) | (kind == KIND_ASK_LEVEL)
    bad = np.flatnonzero(needs_price & ~(np.isfinite(price) & (price > 0)))
    if bad.shape[0]:
        raise DataError(
            f"{instrument.security}: row {int(bad[0])} (a trade or level row) has price "
            f"{price[bad[0]]!r}; it needs a finite price > 0"
        )
    top = (kind == KIND_BID) | (kind == KIND_ASK)
    bad = np.flatnonzero(top & np.isfinite(price) & ~(price > 0))
    if bad.shape[0]:
        raise DataError(
            f"{instrument.security}: row {int(bad[0])} has price {price[bad[0]]!r}; "
            "a bid/ask price must be > 0 (or NaN for an empty side)"
        )

"""run_backtest / warm_up: the Python side of one backtest (packing, the kernel call, results)."""

from __future__ import annotations

import dataclasses
import math
import time
from types import ModuleType
from typing import Any

import numpy as np

from mmopt.data._schema import EVENT_DTYPE, Instrument
from mmopt.engine import _slots as S
from mmopt.engine._records import ACK_DTYPE, EQUITY_DTYPE, FILL_DTYPE, ORDER_EVENT_DTYPE
from mmopt.engine.config import EngineConfig
from mmopt.engine.fees import FeeSchedule, resolve_fees
from mmopt.engine.latency import kernel_latency_table
from mmopt.engine.market import CODE_IGNORE, MarketData, prepare_market
from mmopt.engine.result import BacktestResult
from mmopt.engine.sessions import SessionTimes, resolve_session
from mmopt.engine.strategy import RunnableStrategy
from mmopt.errors import ConfigError

__all__ = ["run_backtest", "warm_up"]

_KERNEL: ModuleType | None = None
_LAT_MODELS = {"constant": S.LAT_CONSTANT, "data": S.LAT_DATA, "feed": S.LAT_FEED,
               "random": S.LAT_RANDOM}


def _kernel() -> ModuleType:
    """The compiled kernel module (loaded from numba's cache on first use in a process)."""
    global _KERNEL
    if _KERNEL is None:
        from mmopt.engine import _kernel

        _KERNEL = _kernel
    return _KERNEL


def run_backtest(
    market: MarketData | np.ndarray,
    instrument: Instrument | None,
    strategy: RunnableStrategy,
    params: Any = None,
    config: EngineConfig | None = None,
    *,
    initial_position: float = 0.0,
) -> BacktestResult:
    """Backtest ``strategy`` with ``params`` on one shard; a pure function of its inputs."""
    config = EngineConfig() if config is None else config
    if not isinstance(config, EngineConfig):
        raise ConfigError(f"config: expected an EngineConfig, got {type(config).__name__}")
    if isinstance(market, np.ndarray) and market.dtype == EVENT_DTYPE:
        if instrument is None:
            raise ConfigError("run_backtest: pass the Instrument with a raw event array")
        market = prepare_market(market, instrument)
    if not isinstance(market, MarketData):
        raise ConfigError(
            "run_backtest: expected MarketData (prepare_market) or an EVENT_DTYPE array, "
            f"got {type(market).__name__}"
        )
    instrument = market.instrument
    two_clocks = market.two_clocks and config.clocks == "auto"
    shift = market.local_shift_ns(config.feed_latency_base_ns) if two_clocks else 0
    params_obj = strategy.make_params(params)
    fees = resolve_fees(config, instrument)
    session = resolve_session(config, instrument, market.t_first, market.t_last,
                              market.day_start_ns)
    ic, fc, n_grid = _pack(market, strategy, params_obj, config, initial_position, shift, fees,
                           session)
    ic[S.IC_TWO_CLOCKS] = int(two_clocks)
    ic[S.IC_LOCAL_SHIFT] = shift
    lat = _latency_table(market, config, shift if two_clocks else None)
    feat = strategy.feature_params(params_obj)
    ic[S.IC_USE_FEAT] = 0 if feat is None else 1
    feat_vec = np.zeros(5) if feat is None else np.ascontiguousarray(feat, dtype=np.float64)
    eq_ts = np.zeros(n_grid + 1, dtype=np.int64)
    eq_ts[:n_grid] = equity_times(market, config.equity_interval_ns, shift)
    eq_f = np.zeros((n_grid + 1, 5))
    eq_b = np.zeros((n_grid + 1, 2), dtype=np.bool_)
    state = np.zeros(max(1, strategy.n_state))
    fi, ff, ei, ef, cnt, acc, acks = _kernel().run_kernel(
        _ro(market.ts), _ro(market.code), _ro(market.rel), _ro(market.qty),
        _ro(market.ex_ts if two_clocks else market.ts), _ro(market.ex_order), ic, fc,
        strategy.decide, np.ascontiguousarray(strategy.to_vector(params_obj), dtype=np.float64),
        state, feat_vec, eq_ts, eq_f, eq_b, _ro(lat),
    )  # fmt: skip
    result = _result(strategy, params_obj, instrument, config, market, fi, ff, ei, ef, cnt, acc,
                     eq_ts, eq_f, eq_b)  # fmt: skip
    return dataclasses.replace(result, acks=_acks(acks, int(cnt[S.N_ACKS])), fee_schedule=fees,
                               session=session, two_clocks=two_clocks,
                               local_clock_shift_ns=shift)


def _latency_table(market: MarketData, config: EngineConfig, shift: int | None) -> np.ndarray:
    return np.ascontiguousarray(kernel_latency_table(
        config.latency_model, config.entry_latency_ns, config.response_latency_ns,
        latency_file=config.latency_file, mult=config.feed_latency_mult, ts=market.ts,
        exch_ts=market.exch_ts if config.latency_model == "feed" else None, shift_ns=shift,
        security=market.instrument.security,
    ))  # fmt: skip


def _acks(acks: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=ACK_DTYPE)
    out["ts_ns"] = acks[:n, S.AK_T]
    out["order_id"] = acks[:n, S.AK_ID]
    out["latency_ns"] = acks[:n, S.AK_LAT]
    out.flags.writeable = False
    return out


def equity_times(market: MarketData, interval_ns: int, shift_ns: int = 0) -> np.ndarray:
    """The equity grid on the local clock (recorded times + ``shift_ns``): the first event's
    time, then every multiple of the interval after it up to the last event (the kernel adds
    the final state as one more row)."""
    first = market.t_first + shift_ns
    start = (first // interval_ns + 1) * interval_ns
    grid = np.arange(start, market.t_last + shift_ns + 1, interval_ns, dtype=np.int64)
    return np.concatenate((np.array([first], dtype=np.int64), grid))


def _ro(a: np.ndarray) -> np.ndarray:
    if a.flags.writeable:
        a = a.view()
        a.flags.writeable = False
    return a


def _pack(
    market: MarketData, strategy: RunnableStrategy, params: Any, config: EngineConfig,
    init_pos: float, shift: int, fees: FeeSchedule, session: SessionTimes,
) -> tuple[np.ndarray, np.ndarray, int]:  # fmt: skip
    inst = market.instrument
    inf = S.INF_NS
    ic = np.zeros(S.IC_N, dtype=np.int64)
    ic[S.IC_STEP] = config.step_ns
    ic[S.IC_T0] = market.t_first + shift
    ic[S.IC_LAT_E] = config.entry_latency_ns
    ic[S.IC_LAT_R] = config.response_latency_ns
    ic[S.IC_QMODEL] = 0 if config.queue_model == "risk_averse" else 1
    ic[S.IC_PARTIAL] = int(config.partial_fills)
    ic[S.IC_FMODEL] = 0 if config.fill_model == "queue" else 1
    ic[S.IC_SEED] = config.seed
    ic[S.IC_LAT_MODEL] = _LAT_MODELS[config.latency_model]
    guard = config.latency_guard_p99_ms
    ic[S.IC_GUARD_NS] = 0 if guard is None else max(1, round(guard * 1e6))
    ic[S.IC_GUARD_WIN] = max(1, round(config.latency_guard_window_s * 1e9))
    ic[S.IC_Q_START] = max(-inf, session.quote_start)
    ic[S.IC_Q_END] = min(inf, session.quote_end)
    ic[S.IC_FLATTEN] = min(inf, session.flatten)
    ic[S.IC_SESS_OPEN] = max(-inf, session.open)
    ic[S.IC_SESS_CLOSE] = min(inf, session.close)
    ic[S.IC_FEE_EXTRA] = int(fees.has_extra)
    # what the strategy is told about the end of the session must be known in advance: the
    # close auction / flatten time, else the end of the UTC day (never the last event's time)
    ic[S.IC_SESSION_END] = min(int(ic[S.IC_Q_END]), int(ic[S.IC_FLATTEN]), market.day_end_ns)
    ic[S.IC_END_FLAT] = int(config.end_flat)
    n_grid = equity_times(market, config.equity_interval_ns, shift).shape[0]
    ic[S.IC_N_EQ] = n_grid
    ic[S.IC_DEC_ON_FILL] = int(config.decide_on_fill)
    ic[S.IC_RECORD] = int(config.record_orders)
    ic[S.IC_NLEVELS] = strategy.n_levels
    ic[S.IC_INVERSE] = int(inst.is_inverse)
    ic[S.IC_BASE] = market.base
    ic[S.IC_W] = market.window
    ic[S.IC_NOV] = overflow_capacity(market.n_overflow)
    ic[S.IC_MAXORD] = max(config.max_orders, 2 * strategy.n_levels + 2)
    fc = np.zeros(S.FC_N)
    fc[S.FC_TICK] = inst.tick_size
    fc[S.FC_LOT] = inst.lot_size
    fc[S.FC_CS] = inst.contract_size
    fc[S.FC_MAKER] = fees.maker_fee_bps / 1e4
    fc[S.FC_TAKER] = fees.taker_fee_bps / 1e4
    fc[S.FC_MAKER_UNIT] = fees.maker_fee_per_unit
    fc[S.FC_TAKER_UNIT] = fees.taker_fee_per_unit
    fc[S.FC_FLAT] = fees.fee_per_trade
    fc[S.FC_BUY_BPS] = fees.buy_fee_bps / 1e4
    fc[S.FC_SELL_BPS] = fees.sell_fee_bps / 1e4
    fc[S.FC_BUY_UNIT] = fees.buy_fee_per_unit
    fc[S.FC_SELL_UNIT] = fees.sell_fee_per_unit
    fc[S.FC_LAT_SIGMA] = config.latency_sigma
    fc[S.FC_SPIKE_P] = config.latency_spike_prob
    fc[S.FC_SPIKE_MULT] = config.latency_spike_mult
    fc[S.FC_QPOW] = config.queue_power
    fc[S.FC_LAMBDA0] = config.intensity_lambda0
    fc[S.FC_ALPHA] = config.intensity_alpha
    if not config.start_flat and init_pos != 0.0:
        if not math.isfinite(init_pos):
            raise ConfigError(f"initial_position must be finite, got {init_pos!r}")
        fc[S.FC_INIT_POS] = init_pos
        fc[S.FC_INIT_PRICE] = _first_price(market)
    return ic, fc, int(n_grid)


def overflow_capacity(n_overflow: int) -> int:
    """Slots of the book's overflow hash table per side: a power of two >= 2 x the shard's
    distinct ticks outside the dense window (mmopt.engine._book)."""
    cap = 2
    while cap < 2 * n_overflow:
        cap *= 2
    return cap


def _first_price(market: MarketData) -> float:
    used = np.flatnonzero(market.code != CODE_IGNORE)
    if used.shape[0] == 0:
        raise ConfigError("initial_position needs a price: the shard has no usable rows")
    return float(market.rel[used[0]] + market.base) * market.instrument.tick_size


def _result(
    strategy: RunnableStrategy, params: Any, instrument: Instrument, config: EngineConfig,
    market: MarketData, fi: np.ndarray, ff: np.ndarray, ei: np.ndarray, ef: np.ndarray,
    cnt: np.ndarray, acc: np.ndarray, eq_ts: np.ndarray, eq_f: np.ndarray, eq_b: np.ndarray,
) -> BacktestResult:  # fmt: skip
    fills = _fills(fi, ff, int(cnt[S.N_FILLS]))
    equity = np.zeros(eq_ts.shape[0], dtype=EQUITY_DTYPE)
    equity["ts_ns"] = eq_ts
    for k, name in enumerate(("mid", "position", "cash", "equity", "fees")):
        equity[name] = eq_f[:, k]
    equity["bid_quoted"] = eq_b[:, 0]
    equity["ask_quoted"] = eq_b[:, 1]
    events = _order_events(ei, ef, int(cnt[S.N_OEV])) if config.record_orders else None
    pos = float(acc[S.AC_POS])
    mark = float(equity["mid"][-1]) if equity.shape[0] else math.nan
    avg = float(acc[S.AC_AVG]) if pos != 0.0 else math.nan
    cs = instrument.contract_size
    if pos == 0.0 or math.isnan(mark) or math.isnan(avg):
        unreal = 0.0
    elif instrument.is_inverse:
        unreal = cs * pos * (1.0 / avg - 1.0 / mark)
    else:
        unreal = cs * pos * (mark - avg)
    fees = float(acc[S.AC_FEES])
    balance = float(acc[S.AC_BAL])
    cash = -balance - fees if instrument.is_inverse else balance - fees
    for arr in (fills, equity) + (() if events is None else (events,)):
        arr.flags.writeable = False
    return BacktestResult(
        strategy=strategy.name, params=params, instrument=instrument, config=config,
        fills=fills, equity=equity, order_events=events,
        n_submitted=int(cnt[S.N_SUBMITTED]), n_cancelled=int(cnt[S.N_CANCELLED]),
        n_rejected=int(cnt[S.N_REJECTED]), n_cancel_rejected=int(cnt[S.N_CANCEL_REJECTED]),
        n_cancel_requests=int(cnt[S.N_CANCEL_SENT]), n_filled=int(cnt[S.N_FILLED]),
        n_fills=int(cnt[S.N_FILLS]), n_blocked=int(cnt[S.N_BLOCKED]),
        n_takers=int(cnt[S.N_TAKERS]), n_decisions=int(cnt[S.N_DECISIONS]),
        n_events=market.n_events, position=pos, cash=cash, balance=balance, fees=fees,
        volume=float(acc[S.AC_VOL]), notional=float(acc[S.AC_NOTIONAL]),
        realised_pnl=float(acc[S.AC_REAL]), unrealised_pnl=unreal,
        net_pnl=float(equity["equity"][-1]) if equity.shape[0] else cash,
        max_abs_position=float(acc[S.AC_MAXPOS]), avg_entry=avg,
    )  # fmt: skip


def _fills(fi: np.ndarray, ff: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=FILL_DTYPE)
    out["ts_ns"] = fi[:n, S.FI_TS]
    out["order_id"] = fi[:n, S.FI_ID]
    out["queue_ns"] = fi[:n, S.FI_QUEUE]
    out["side"] = fi[:n, S.FI_SIDE]
    out["is_maker"] = fi[:n, S.FI_MAKER] == 1
    out["price"] = ff[:n, S.FF_PRICE]
    out["qty"] = ff[:n, S.FF_QTY]
    out["fee"] = ff[:n, S.FF_FEE]
    out["position_after"] = ff[:n, S.FF_POS]
    out["cash_after"] = ff[:n, S.FF_CASH]
    out["mid"] = ff[:n, S.FF_MID]
    out["quoted_half_spread"] = ff[:n, S.FF_QHS]
    return out


def _order_events(ei: np.ndarray, ef: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=ORDER_EVENT_DTYPE)
    out["ts_ns"] = ei[:n, S.EV_TS]
    out["order_id"] = ei[:n, S.EV_ID]
    out["action"] = ei[:n, S.EV_ACTION]
    out["side"] = ei[:n, S.EV_SIDE]
    out["price"] = ef[:n, S.EVF_PRICE]
    out["qty"] = ef[:n, S.EVF_QTY]
    return out


def warm_up(*strategies: RunnableStrategy) -> float:
    """Load (or compile) the kernel with each of ``strategies`` once per process; returns the
    seconds spent, imports included. ``mmopt.strategies.warm_up(*names)`` does it by name."""
    if not strategies:
        raise ConfigError("warm_up: name at least one strategy (the kernel compiles per strategy)")
    start = time.perf_counter()
    from mmopt.engine._warmup import tiny_stream

    events, instrument = tiny_stream()
    market = prepare_market(events, instrument)
    for strategy in strategies:
        run_backtest(market, None, strategy, None, EngineConfig(step_ms=1.0))
    return time.perf_counter() - start

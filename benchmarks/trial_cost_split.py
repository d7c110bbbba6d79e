"""Where one trial of the default sweep spends its time: ``avellaneda_stoikov`` on one shard.

`make sweep`'s trials are engine-bound (the sweep's own timings: the kernel is about 97 % of
the workers' task time), and one trial is eight runs like this one. The shard is the default
dataset's first (``conf/data/synthetic.yaml``'s ``generate`` block: SYN00, its first day, a
2 h session), made in memory. Variants switch one part on at a time, with the sweep's engine
settings (``conf/engine/default.yaml``) and ``decide_on_fill`` off so that every variant
decides on the same grid:

* ``replay 1 clock`` / ``replay 2 clocks``: ``price_follow`` that never quotes (no side
  shows the notional it asks for), one decision an hour: the books and the row loops.
* ``empty decisions 100 ms``: the same, deciding every 100 ms (context, reconcile, no order).
* ``AS features, 1 h``: ``avellaneda_stoikov``, one decision an hour: + its features (volatility
  and OFI) fed on every top-of-book change.
* ``AS 1 s`` / ``AS 100 ms``: + its decisions and orders (100 ms is the sweep's step).

Also timed apart: ``features_refresh`` (what each of the strategy's decisions calls first),
per call on a 100 ms grid. Parameters: the best trial of the default `make sweep` (#8).

Run: ``.venv/bin/python benchmarks/trial_cost_split.py [--reps 9]``. Prints ms per run (best
of ``--reps``) with decisions and orders, the difference to the line above per decision, and
one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from _quiet import QUIET, check_quiet
from numba import njit
from omegaconf import OmegaConf

from mmopt.engine._features import (
    FEATURE_STATE_SIZE,
    features_init,
    features_on_top,
    features_refresh,
)

REPO = Path(__file__).resolve().parents[1]
BEST = {"gamma": 0.0150309, "k": 0.282464, "beta_ofi": 0.0452273, "horizon_s": 37.8867,
        "vol_halflife_s": 24.5526, "quote_size": 2, "max_inventory": 17}
HOUR_MS = 3_600_000.0


@njit(cache=True)
def _refresh_loop(state: np.ndarray, n: int, t0: int, step: int) -> None:
    for k in range(n):
        features_refresh(state, t0 + k * step)


def _refresh_ns(params: Any) -> float:
    """ns per ``features_refresh`` call on a 100 ms grid, the mid set once before."""
    from mmopt.strategies.avellaneda_stoikov import AVELLANEDA_STOIKOV

    vec = np.ascontiguousarray(AVELLANEDA_STOIKOV.feature_params(params), dtype=np.float64)
    best = float("inf")
    for n in (10, 72_000, 72_000, 72_000):  # the first call compiles
        state = np.zeros(FEATURE_STATE_SIZE)
        features_init(state, vec)
        features_on_top(state, 10**18, 100.0, 5.0, 100.02, 3.0)
        t0 = time.perf_counter()
        _refresh_loop(state, n, 10**18, 100_000_000)
        best = min(best, (time.perf_counter() - t0) / n * 1e9)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=9)
    args = ap.parse_args(argv)

    from mmopt.data.synth import SynthConfig, generate_shard
    from mmopt.engine import EngineConfig, prepare_market, run_backtest
    from mmopt.strategies import get_strategy, warm_up

    gen = OmegaConf.to_container(OmegaConf.load(REPO / "conf/data/synthetic.yaml").generate)
    events, instrument = generate_shard(SynthConfig(**gen), 0, 0)  # type: ignore[arg-type]
    engine_conf = OmegaConf.to_container(OmegaConf.load(REPO / "conf/engine/default.yaml"))
    assert isinstance(engine_conf, dict)
    engine_conf.update(decide_on_fill=False)
    market = prepare_market(events, instrument)
    for name in ("price_follow", "avellaneda_stoikov"):
        warm_up(name)
    variants: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
        ("replay 1 clock", "price_follow", QUIET, {"step_ms": HOUR_MS, "clocks": "local"}),
        ("replay 2 clocks", "price_follow", QUIET, {"step_ms": HOUR_MS}),
        ("empty decisions 100 ms", "price_follow", QUIET, {"step_ms": 100.0}),
        ("AS features, 1 h", "avellaneda_stoikov", BEST, {"step_ms": HOUR_MS}),
        ("AS 1 s", "avellaneda_stoikov", BEST, {"step_ms": 1000.0}),
        ("AS 100 ms", "avellaneda_stoikov", BEST, {"step_ms": 100.0}),
    ]
    print(f"{instrument.security}, {len(events):,} rows, the sweep's engine settings; "
          f"best of {args.reps}")
    print(f"{'variant':26s} {'ms/run':>8s} {'decisions':>10s} {'orders':>8s} "
          f"{'ns/decision vs above':>21s}")
    out: dict[str, float] = {}
    prev: tuple[float, int] | None = None
    for name, strategy_name, params, kw in variants:
        strategy = get_strategy(strategy_name)
        cfg = EngineConfig(**{**engine_conf, **kw})
        result = run_backtest(market, None, strategy, params, cfg)
        if params is QUIET:
            check_quiet("trial_cost_split", name, result.n_submitted)
        best = float("inf")
        for _ in range(args.reps):
            t0 = time.perf_counter()
            run_backtest(market, None, strategy, params, cfg)
            best = min(best, time.perf_counter() - t0)
        ms = best * 1e3
        extra = ""
        if prev is not None and result.n_decisions > prev[1]:
            extra = f"{(ms - prev[0]) * 1e6 / (result.n_decisions - prev[1]):+.0f}"
        print(f"{name:26s} {ms:8.2f} {result.n_decisions:10,d} {result.n_submitted:8,d} "
              f"{extra:>21s}")
        out[name] = round(ms, 3)
        prev = (ms, result.n_decisions)
    strategy = get_strategy("avellaneda_stoikov")
    refresh = _refresh_ns(strategy.make_params(BEST))
    print(f"features_refresh: {refresh:.0f} ns per call (100 ms grid)")
    print(json.dumps({"bench": "trial_cost_split", "rows": len(events), "ms_per_run": out,
                      "features_refresh_ns": round(refresh, 1)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""NBBO fills before/after the book fix: quote-only shards made from real top-of-book rows.

For each Binance security on 2024-08-08 (``--data``, the shared real data) the shard's
``bid`` / ``ask`` / ``trade`` rows are kept and its depth rows dropped: one row per best-price
change plus the trades, as an NBBO / TAQ / L1-ticker feed gives. The touch quoter
(``price_follow``: refill 0, min notional 0, 1 lot, max 10 lots; 100 ms steps; 1 ms entry and
response latency) runs on it with

* ``after``: the engine of this checkout, and
* ``after, one clock``: the same with ``clocks="local"``, which separates the book fix from
  the two-clock change that landed with it (the old engine had one clock), and
* ``before``: the engine before the book fix (commit ``4c31852``), from a separate git worktree
  (``--base``, made with ``git worktree add <dir> 4c31852``) run in a subprocess with its own
  PYTHONPATH. There a ``bid``/``ask`` row only set the size at its price, so a better stale
  level stayed in the book when the best price fell back.

Printed per shard: the fill count and the share of the 1 s equity grid points where the
engine's mid equals the quote's mid (the last ``bid`` and ``ask`` rows seen on the engine's own
clock; equal to a relative 1e-12; points before both sides are known are left out), then a
table and one JSON line ``{"bench": "nbbo_fills", ...}``.

Run: ``.venv/bin/python benchmarks/nbbo_fills.py --base ../bench_base [--data DIR]
[--securities a,b]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATE = "2024-08-08"
STEP_MS = 100.0
LATENCY_NS = 1_000_000
_INSTRUMENT_FIELDS = ("security", "tick_size", "lot_size", "contract_type", "contract_size",
                      "quote_currency", "maker_fee_bps", "taker_fee_bps")


def _child(npy: str, spec_json: str, clocks: str) -> int:
    """Run in the engine found on PYTHONPATH (this checkout or the base worktree)."""
    import mmopt
    from mmopt.data._schema import KIND_ASK, KIND_BID, Instrument
    from mmopt.engine import EngineConfig, run_backtest
    from mmopt.strategies import PriceFollowParams, get_strategy

    events = np.load(npy)
    instrument = Instrument(**json.loads(spec_json))
    params = PriceFollowParams(refill_interval_s=0.0, quote_size=1, max_position=10,
                               min_notional_before_quote=0.0)
    clock_kw = {} if clocks == "default" else {"clocks": clocks}  # the old engine: one clock
    cfg = EngineConfig(step_ms=STEP_MS, entry_latency_ns=LATENCY_NS,
                       response_latency_ns=LATENCY_NS, equity_interval_ms=1000.0, **clock_kw)
    res = run_backtest(events, instrument, get_strategy("price_follow"), params, cfg)
    shift = int(getattr(res, "local_clock_shift_ns", 0))  # the old engine has one clock
    eq = res.equity
    local = events["ts_ns"] + shift
    mids = []
    for kind in (KIND_BID, KIND_ASK):
        rows = events["kind"] == kind
        k = np.searchsorted(local[rows], eq["ts_ns"], side="right") - 1
        px = events["price"][rows][np.maximum(k, 0)]
        mids.append(np.where(k >= 0, px, np.nan))
    quote_mid = 0.5 * (mids[0] + mids[1])
    known = np.isfinite(quote_mid) & np.isfinite(eq["mid"])
    equal = np.isclose(eq["mid"][known], quote_mid[known], rtol=1e-12, atol=0.0)
    print(json.dumps({
        "engine": str(Path(mmopt.__file__).resolve().parents[1]),
        "fills": len(res.fills),
        "grid_points": int(known.sum()),
        "mid_equal_share": float(equal.mean()) if known.any() else float("nan"),
        "net_pnl": float(res.net_pnl),
        "clock_shift_ns": shift,
    }))
    return 0


def _run_engine(pythonpath: Path, npy: Path, spec: dict[str, Any], clocks: str = "default"
                ) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", str(npy), json.dumps(spec),
         clocks],
        capture_output=True, text=True, env=env, cwd=pythonpath,
    )
    if proc.returncode != 0:
        raise SystemExit(f"engine at {pythonpath} failed:\n{proc.stderr[-3000:]}")
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    if Path(out["engine"]) != pythonpath.resolve():
        raise SystemExit(f"expected the engine of {pythonpath}, the child imported "
                         f"{out['engine']} (is mmopt installed non-editable?)")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", type=Path, help="a worktree of commit 4c31852 (the old engine)")
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data"
                    / "binance", help="the Binance Hive root (shared real data)")
    ap.add_argument("--securities", default="", help="comma list; default every security")
    ap.add_argument("--child", nargs=3, metavar=("NPY", "INSTRUMENT_JSON", "CLOCKS"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return _child(*args.child)
    if args.base is None or not (args.base / "mmopt" / "engine").is_dir():
        raise SystemExit("--base: give a worktree of the engine before the book fix, made with "
                         "`git worktree add <dir> 4c31852`")
    if not (args.data / "instruments.csv").exists():
        raise SystemExit(f"--data: {args.data} has no instruments.csv (the shared Binance data)")

    from mmopt.data._schema import KIND_ASK, KIND_BID, KIND_TRADE
    from mmopt.data.catalog import open_catalog
    from mmopt.data.loader import load_events

    wanted = [s for s in args.securities.split(",") if s]
    catalog = open_catalog(args.data)
    securities = wanted or sorted({s.security for s in catalog.shards if s.date == DATE})
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for security in securities:
            shard = load_events(args.data, security, DATE)
            events = np.asarray(shard.events)
            nbbo = events[np.isin(events["kind"], (KIND_BID, KIND_ASK, KIND_TRADE))]
            npy = Path(tmp) / f"{security}.npy"
            np.save(npy, nbbo)
            spec = {f: getattr(shard.instrument, f) for f in _INSTRUMENT_FIELDS}
            before = _run_engine(args.base, npy, spec)
            after = _run_engine(REPO, npy, spec)
            local = _run_engine(REPO, npy, spec, clocks="local")
            row = {"security": security, "date": DATE, "rows": len(nbbo),
                   "top_rows": int(np.isin(nbbo["kind"], (KIND_BID, KIND_ASK)).sum()),
                   "fills_before": before["fills"], "fills_after": after["fills"],
                   "fills_after_one_clock": local["fills"],
                   "mid_equal_before": round(before["mid_equal_share"], 4),
                   "mid_equal_after": round(after["mid_equal_share"], 4),
                   "mid_equal_after_one_clock": round(local["mid_equal_share"], 4),
                   "grid_points": after["grid_points"],
                   "net_pnl_before": before["net_pnl"], "net_pnl_after": after["net_pnl"]}
            rows.append(row)
            print(f"{security}: fills {row['fills_before']} -> {row['fills_after']} "
                  f"({row['fills_after_one_clock']} on one clock), mid = quote "
                  f"mid at {row['mid_equal_before']:.1%} -> {row['mid_equal_after']:.1%} of "
                  f"{row['grid_points']} 1 s points", flush=True)
    print()
    print(f"{'security':26s} {'rows':>6s} {'fills before':>12s} {'after':>6s} "
          f"{'after 1 clock':>13s} {'mid=quote before':>16s} {'after':>6s} {'1 clock':>7s}")
    for r in rows:
        print(f"{r['security']:26s} {r['rows']:6d} {r['fills_before']:12d} {r['fills_after']:6d} "
              f"{r['fills_after_one_clock']:13d} {r['mid_equal_before']:16.1%} "
              f"{r['mid_equal_after']:6.1%} {r['mid_equal_after_one_clock']:7.1%}")
    print(json.dumps({"bench": "nbbo_fills", "date": DATE, "step_ms": STEP_MS,
                      "strategy": "price_follow (touch quoter)", "base_commit": "4c31852",
                      "shards": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

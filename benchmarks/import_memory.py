"""Peak memory and speed of `mmopt data import` on large inputs (a 50 M-row CSV and Parquet file).

Generates, in a temporary directory that is deleted afterwards, one synthetic event-row file of
``--rows`` rows as CSV and the same rows as Parquet (two securities, two UTC days, interleaved;
quotes, depth updates and trades; a third of the exchange times null), then imports each with
`mmopt data import --format csv` in a subprocess run under ``/usr/bin/time -v`` and prints the
child's peak RSS and rows/s. Without ``/usr/bin/time`` (apt-get install time; the project's
docker image has it) the child measures its own peak RSS with ``resource.getrusage`` and a line
says so. Ends with a JSON line ``{"bench": "import_memory", ...}``.

    nice -n 10 .venv/bin/python benchmarks/import_memory.py [--rows 50000000]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

GNU_TIME = Path("/usr/bin/time")
CHUNK = 1_000_000
T0 = 1_723_161_600_000_000_000  # 2024-08-09 00:00 UTC
KINDS = np.array(["bid", "ask", "trade", "bid_level", "ask_level"])
SECURITIES = np.array(["SYN.A", "SYN.B"])
MAP = """columns:
  time: ts
  exch_time: exch_ts
  security: sym
  type: type
  price: price
  size: size
  side: side
time_format: ns
"""


def _chunk(rng: np.random.Generator, start: int, n: int, total: int) -> pa.Table:
    """Rows start..start+n of the synthetic file: two days spread evenly over the rows."""
    idx = np.arange(start, start + n, dtype=np.int64)
    ts = T0 + idx * (2 * 86_400_000_000_000 // total)
    kind = rng.choice(5, n, p=[0.06, 0.06, 0.03, 0.42, 0.43])
    mid = 600_000 + (idx // 50_000) % 200
    depth = rng.geometric(0.3, n) - 1
    bidish = (kind == 0) | (kind == 3)
    ticks = np.where(bidish, mid - 1 - depth, mid + depth)
    side = np.where(rng.random(n) < 0.5, "buy", "sell")
    exch = pa.array(ts - 1_000_000, mask=(idx % 3 == 0))
    return pa.table(
        {
            "ts": pa.array(ts),
            "exch_ts": exch,
            "sym": pa.array(SECURITIES[idx % 2]),
            "type": pa.array(KINDS[kind]),
            "price": pa.array(ticks / 100.0),
            "size": pa.array(rng.integers(1, 500, n) / 1000.0),
            "side": pa.array(np.where(kind == 2, side, None), pa.string()),
        }
    )


def make_inputs(folder: Path, rows: int) -> tuple[Path, Path]:
    rng = np.random.default_rng(7)
    csv_path, pq_path = folder / "events.csv", folder / "events.parquet"
    first = _chunk(rng, 0, min(CHUNK, rows), rows)
    with (
        pacsv.CSVWriter(csv_path, first.schema) as cw,
        pq.ParquetWriter(pq_path, first.schema, compression="zstd") as pw,
    ):
        table = first
        for start in range(0, rows, CHUNK):
            if start:
                table = _chunk(rng, start, min(CHUNK, rows - start), rows)
            cw.write_table(table)
            pw.write_table(table)
    return csv_path, pq_path


RUNNER = (
    "import sys, resource\n"
    "from mmopt.cli import main\n"
    "code = main(sys.argv[2:])\n"
    "if sys.argv[1] == 'self':\n"
    "    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    "    print(f'Maximum resident set size (kbytes): {rss}', file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def run_import(source: Path, out: Path, map_file: Path) -> dict[str, float]:
    args = ["data", "import", "--format", "csv", str(source), "--out", str(out)]
    args += ["--map", str(map_file), "--tick-size", "0.01", "--lot-size", "0.001"]
    gnu = GNU_TIME.exists()
    cmd = [sys.executable, "-c", RUNNER, "time" if gnu else "self", *args]
    if gnu:
        cmd = [str(GNU_TIME), "-v", *cmd]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"import of {source.name} failed (exit {proc.returncode})")
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    if match is None:
        raise SystemExit(f"no peak RSS in the output of {cmd[0]}")
    shards = sorted(out.glob("security=*/date=*/part-0.parquet"))
    written = sum(pq.ParquetFile(p).metadata.num_rows for p in shards)
    progress = [line for line in proc.stderr.splitlines() if line.startswith("import:")]
    for line in progress[-2:]:
        print(f"    {line}")
    return {
        "peak_rss_mb": int(match.group(1)) / 1024.0,
        "wall_s": wall,
        "shards": float(len(shards)),
        "events_written": float(written),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000_000)
    args = parser.parse_args()
    if GNU_TIME.exists():
        print(f"peak RSS from {GNU_TIME} -v (the import's own process)")
    else:
        print(
            f"{GNU_TIME} not found (apt-get install time): peak RSS measured by the import "
            "process itself with resource.getrusage (ru_maxrss)"
        )
    folder = Path(tempfile.mkdtemp(prefix="mmopt-import-bench-"))
    results: dict[str, dict[str, float]] = {}
    try:
        t0 = time.perf_counter()
        csv_path, pq_path = make_inputs(folder, args.rows)
        sizes = {p.suffix: p.stat().st_size / 2**20 for p in (csv_path, pq_path)}
        print(
            f"generated {args.rows:,} rows in {time.perf_counter() - t0:.0f} s: "
            f"CSV {sizes['.csv']:,.0f} MiB, Parquet {sizes['.parquet']:,.0f} MiB"
        )
        map_file = folder / "map.yaml"
        map_file.write_text(MAP)
        for name, source in (("csv", csv_path), ("parquet", pq_path)):
            out = folder / f"out-{name}"
            res = run_import(source, out, map_file)
            res["rows_per_s"] = args.rows / res["wall_s"]
            results[name] = res
            print(
                f"{name:8s} {args.rows:,} rows: peak RSS {res['peak_rss_mb']:,.0f} MiB, "
                f"{res['wall_s']:.1f} s, {res['rows_per_s']:,.0f} rows/s, "
                f"{int(res['shards'])} shards, {int(res['events_written']):,} events"
            )
            shutil.rmtree(out, ignore_errors=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    line = {
        "bench": "import_memory",
        "rows": args.rows,
        "rss_source": "gnu_time" if GNU_TIME.exists() else "getrusage",
        "cpus": os.cpu_count(),
        **{f"{k}_{m}": round(v, 1) for k, res in results.items() for m, v in res.items()},
    }
    print(json.dumps(line))


if __name__ == "__main__":
    main()

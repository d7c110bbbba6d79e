"""Synthetic market generation speed: in memory, and generated + written as Parquet shards.

    .venv/bin/python benchmarks/synth_generation.py [--events 5000000] [--repeat 3]

Prints a table and a final JSON line
``{"bench": "synth", "events": ..., "seconds": ..., "meps": ..., ...}`` where ``events`` /
``seconds`` / ``meps`` are for in-memory generation of the default dataset (4 securities x 2
days, best of ``--repeat``, wall clock), ``stream_*`` for one long stream and ``write_*`` for
generating and writing the default dataset. ``cpu_meps`` divides by the process's CPU time
instead, which is the steadier number on a shared machine (generation is single-threaded).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable

from mmopt.data.synth import SynthConfig, generate_dataset, generate_events, generate_shard


def _best_of(repeat: int, fn: Callable[[], int]) -> tuple[int, float, float]:
    """(events, best wall seconds, CPU seconds of that run)."""
    best = (0, float("inf"), 0.0)
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        n = fn()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if wall < best[1]:
            best = (n, wall, cpu)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5_000_000, help="size of the single stream")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; the best is kept")
    args = parser.parse_args()

    config = SynthConfig()  # the default dataset: 4 securities x 2 days
    t = time.perf_counter()
    generate_shard(SynthConfig(events_per_day=2_000, n_days=1, n_securities=1), 0, 0)
    compile_s = time.perf_counter() - t

    def dataset_in_memory() -> int:
        return sum(
            len(generate_shard(config, s, d)[0])
            for s in range(config.n_securities)
            for d in range(config.n_days)
        )

    def stream() -> int:
        return len(generate_events(args.events, seed=1)[0])

    def dataset_written() -> int:
        with tempfile.TemporaryDirectory(prefix="mmopt-synth-bench-") as root:
            return generate_dataset(config, root).events

    rows = [
        ("default dataset 4x2, in memory", *_best_of(args.repeat, dataset_in_memory)),
        (f"one stream of {args.events:,} events", *_best_of(args.repeat, stream)),
        ("default dataset 4x2, generated + written", *_best_of(args.repeat, dataset_written)),
    ]
    print(f"numba load/compile: {compile_s:.2f} s (first call in this process)")
    print(f"{'case':<44} {'events':>11} {'wall s':>8} {'cpu s':>8} {'M ev/s':>8} {'cpu M/s':>8}")
    for name, n, wall, cpu in rows:
        print(
            f"{name:<44} {n:>11,} {wall:>8.3f} {cpu:>8.3f} {n / wall / 1e6:>8.2f} "
            f"{n / cpu / 1e6:>8.2f}"
        )
    mem, big, wrote = rows
    print(
        json.dumps(
            {
                "bench": "synth",
                "events": mem[1],
                "seconds": round(mem[2], 4),
                "meps": round(mem[1] / mem[2] / 1e6, 3),
                "cpu_meps": round(mem[1] / mem[3] / 1e6, 3),
                "stream_events": big[1],
                "stream_seconds": round(big[2], 4),
                "stream_meps": round(big[1] / big[2] / 1e6, 3),
                "stream_cpu_meps": round(big[1] / big[3] / 1e6, 3),
                "write_events": wrote[1],
                "write_seconds": round(wrote[2], 4),
                "write_meps": round(wrote[1] / wrote[2] / 1e6, 3),
            }
        )
    )


if __name__ == "__main__":
    main()

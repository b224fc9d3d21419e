"""Scale: validation over many shards by one and two processes and through Ray, one large
file in byte ranges, and the projection to 100 million requests.

    python bench/bench_scale.py [--shards 8] [--lines 50000] [--big 500000] [--runs 2]

Targets on 2 cores: `validate --jobs 2` over 8 shards of 50,000 lines at >= 1.7x the
throughput of `--jobs 1`; one 425 MB file with workers=2 at >= 1.7x workers=1; the shards
validated through a local Ray cluster within 1.5x the time of `--jobs 2` (the cluster's
start, about 3 s here, and its first call, whose tasks import batchio in each new
worker, timed apart and printed). Each run is a fresh process: its peak RSS is the
largest of its processes.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from _common import DATA, chat_requests, machine

PROGRAM = """
import resource, sys, time
import batchio
kind, workers, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
if kind == "ray":
    import logging, os
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    import ray, ray.data, batchio.ray
    started = time.perf_counter()
    ray.init(address="local", num_cpus=workers, include_dashboard=False, log_to_driver=False,
             configure_logging=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    startup = time.perf_counter() - started
    started = time.perf_counter()
    reports = batchio.ray.validate(paths, provider="openai")
    # The first call's tasks import batchio in each new worker (about 0.3 s a worker): a
    # cost once per cluster, as its start is; the second call is the one a running
    # cluster pays. Both are printed.
    first = time.perf_counter() - started
    started = time.perf_counter()
    reports = batchio.ray.validate(paths, provider="openai")
    startup = f"{startup},{first}"
else:
    startup = 0.0
    started = time.perf_counter()
    if len(paths) == 1:
        reports = [batchio.validate(paths[0], provider="openai", workers=workers)]
    else:
        reports = batchio.validate_files(paths, provider="openai", workers=workers)
elapsed = time.perf_counter() - started
requests = sum(report.requests for report in reports)
peak = max(resource.getrusage(who).ru_maxrss * 1024
           for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
print(elapsed, startup, requests, peak)
"""


def run(kind: str, workers: int, paths: list[Path]
        ) -> tuple[float, tuple[float, ...], int, int]:
    """One fresh process's time, its set-up times (Ray: the cluster's start and the first,
    cold call), requests and peak RSS."""
    done = subprocess.run([sys.executable, "-c", PROGRAM, kind, str(workers),
                           *map(str, paths)], capture_output=True, text=True, check=True)
    elapsed, startup, requests, peak = done.stdout.split()[-4:]
    return (float(elapsed), tuple(float(part) for part in startup.split(",")), int(requests),
            int(peak))


def best(runs: int, kind: str, workers: int, paths: list[Path]
         ) -> tuple[float, tuple[float, ...], int]:
    times, startups, peaks = [], [], []
    for _ in range(runs):
        elapsed, startup, _requests, peak = run(kind, workers, paths)
        times.append(elapsed)
        startups.append(startup)
        peaks.append(peak)
    return min(times), min(startups), max(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--big", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args()
    shards = [chat_requests(DATA / f"shards-{args.shards}x{args.lines}" / f"shard-{k}.jsonl",
                            args.lines, seed=k) for k in range(args.shards)]
    big = chat_requests(DATA / f"chat-{args.big}.jsonl", args.big)
    requests = args.shards * args.lines
    shards_mb = sum(path.stat().st_size for path in shards) / 1e6
    print(f"\nscale  [{machine()}]")
    one, _, one_peak = best(args.runs, "local", 1, shards)
    two, _, two_peak = best(args.runs, "local", 2, shards)
    print(f"  {args.shards} shards x {args.lines:,} lines ({shards_mb:.0f} MB)")
    print(f"    validate --jobs 1   {one:6.2f} s  {requests / one:9,.0f} requests/s  "
          f"peak {one_peak / 1e6:4.0f} MB")
    print(f"    validate --jobs 2   {two:6.2f} s  {requests / two:9,.0f} requests/s  "
          f"peak {two_peak / 1e6:4.0f} MB  {one / two:.2f}x --jobs 1 (target >= 1.7x)")
    if not args.no_ray:
        on_ray, (startup, cold), ray_peak = best(args.runs, "ray", 2, shards)
        print(f"    Ray (2 CPUs)        {on_ray:6.2f} s  {requests / on_ray:9,.0f} requests/s  "
              f"peak {ray_peak / 1e6:4.0f} MB (driver)  {on_ray / two:.2f}x the time of "
              f"--jobs 2 (target <= 1.5x), a running cluster; its first call {cold:.2f} s = "
              f"{cold / two:.2f}x (workers import batchio); cluster start {startup:.1f} s")
    big_one, _, big_one_peak = best(args.runs, "local", 1, [big])
    big_two, _, big_two_peak = best(args.runs, "local", 2, [big])
    big_mb = big.stat().st_size / 1e6
    print(f"  one file of {args.big:,} lines ({big_mb:.0f} MB)")
    print(f"    workers=1           {big_one:6.2f} s  {args.big / big_one:9,.0f} requests/s  "
          f"peak {big_one_peak / 1e6:4.0f} MB")
    print(f"    workers=2           {big_two:6.2f} s  {args.big / big_two:9,.0f} requests/s  "
          f"peak {big_two_peak / 1e6:4.0f} MB  {big_one / big_two:.2f}x workers=1 "
          "(target >= 1.7x)")
    per_core = requests / two / 2
    bytes_per_request = shards_mb * 1e6 / requests
    print(f"  projection for 100 million such requests ({100e6 * bytes_per_request / 1e9:.0f} "
          f"GB): the measured {per_core:,.0f} requests/s a core (--jobs 2 over the shards) "
          "times the cores; a projection, not a measurement, which holds only where storage "
          "delivers the bytes that fast:")
    for cores, where in ((16, "one machine of 16 cores"), (16 * 8, "8 machines of 16 cores")):
        seconds = 100e6 / (per_core * cores)
        print(f"    {where:24} ~{seconds:6.0f} s, reading "
              f"{per_core * cores * bytes_per_request / 1e9:.1f} GB/s")


if __name__ == "__main__":
    main()

"""Join time and memory: batchio.join against bare orjson and msgspec parses of every file.

    python bench/bench_join.py [--lines 500000] [--runs 2]

The data: LINES chat requests, answered in shuffled order, 5% in the error file (HTTP
failures and expired requests), 1% missing. Targets: peak RSS under 250 MB, wall time
within 2.5x of the bare parse; the joined table written as Parquet with the output checks
within 1.5x of the plain join (the rows iterated in Python), peak RSS under 300 MB: timed
in one process and with --jobs processes. Each join runs in a fresh subprocess so its peak
RSS is its own (the largest of its processes).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import msgspec
import orjson
from _common import DATA, chat_requests, machine


def make_results(inputs: Path, folder: Path, seed: int = 1) -> tuple[Path, Path]:
    output, errors = folder / "output.jsonl", folder / "errors.jsonl"
    if output.exists() and errors.exists():
        return output, errors
    rng = random.Random(seed)
    ids = [orjson.loads(line)["custom_id"] for line in inputs.open("rb")]
    rng.shuffle(ids)
    answer = "Batch APIs return results out of order; match them by custom_id. " * 4
    with open(output, "wb") as out, open(errors, "wb") as err:
        for custom_id in ids:
            roll = rng.random()
            if roll < 0.01:
                continue  # missing from both files
            if roll < 0.06:
                if roll < 0.035:
                    line = {"id": f"batch_req_{custom_id}", "custom_id": custom_id,
                            "response": None,
                            "error": {"code": "batch_expired", "message": "expired"}}
                else:
                    line = {"id": f"batch_req_{custom_id}", "custom_id": custom_id,
                            "response": {"status_code": 429, "request_id": "req_1", "body": {
                                "error": {"code": "rate_limit_exceeded", "message": "slow"}}},
                            "error": None}
                err.write(orjson.dumps(line) + b"\n")
                continue
            line = {"id": f"batch_req_{custom_id}", "custom_id": custom_id, "response": {
                "status_code": 200, "request_id": f"req_{custom_id}", "body": {
                    "id": "chatcmpl-1", "object": "chat.completion", "created": 1767225600,
                    "model": "gpt-4o-mini", "choices": [{"index": 0, "message": {
                        "role": "assistant", "content": answer}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 120, "completion_tokens": 60,
                              "total_tokens": 180}}}, "error": None}
            out.write(orjson.dumps(line) + b"\n")
    return output, errors


def bare_parse(paths: list[Path]) -> None:
    for path in paths:
        with open(path, "rb") as handle:
            for line in handle:
                orjson.loads(line)


def bare_msgspec_parse(paths: list[Path]) -> None:
    decode = msgspec.json.Decoder().decode
    for path in paths:
        with open(path, "rb") as handle:
            for line in handle:
                decode(line)


JOIN_PROGRAM = """
import resource, sys, time
import batchio
inputs, output, errors, index = sys.argv[1:5]
started = time.perf_counter()
result = batchio.join(inputs, outputs=output, errors=errors, index=index)
rows = 0
for row in result:
    rows += 1
elapsed = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(elapsed, peak, rows, result.summary.counts["missing"])
"""

TABLE_PROGRAM = """
import resource, sys, time
import batchio
inputs, output, errors, target, workers = sys.argv[1:6]
started = time.perf_counter()
result = batchio.join(inputs, outputs=output, errors=errors,
                      check_outputs=target.endswith(".parquet"))
rows = batchio.write_join(result, target, workers=int(workers))
elapsed = time.perf_counter() - started
peak = max(resource.getrusage(who).ru_maxrss * 1024
           for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
print(elapsed, peak, rows, result.summary.counts["missing"])
"""

BASELINE_PROGRAM = """
import resource
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
import batchio
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def run_join(inputs: Path, output: Path, errors: Path, index: str,
             program: str = JOIN_PROGRAM, workers: int = 1) -> tuple[float, int, int]:
    done = subprocess.run([sys.executable, "-c", program, str(inputs), str(output),
                           str(errors), index, str(workers)], capture_output=True, text=True,
                          check=True)
    elapsed, peak, rows, _missing = done.stdout.split()
    return float(elapsed), int(peak), int(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sqlite", action="store_true", help="also time the SQLite index")
    parser.add_argument("--jobs", type=int, default=2,
                        help="processes for the written joins (besides one)")
    args = parser.parse_args()
    folder = DATA / f"join-{args.lines}"
    folder.mkdir(parents=True, exist_ok=True)
    inputs = chat_requests(DATA / f"chat-{args.lines}.jsonl", args.lines)
    output, errors = make_results(inputs, folder)
    files = [inputs, output, errors]
    size = sum(path.stat().st_size for path in files)

    bare = bare_msgspec = float("inf")
    joined = tabled = written = tabled_jobs = written_jobs = float("inf")
    peak = table_peak = table_jobs_peak = 0
    parquet = folder / "joined.parquet"
    jsonl = folder / "joined.jsonl"
    # Each round times the bare parse, the plain join and the Parquet join by --jobs
    # processes back to back, so that the ratios are also given per round (this machine's
    # speed drifts by a third between minutes).
    join_ratios: list[float] = []
    table_ratios: list[float] = []
    for _ in range(args.runs):
        started = time.perf_counter()
        bare_parse(files)
        round_bare = time.perf_counter() - started
        bare = min(bare, round_bare)
        started = time.perf_counter()
        bare_msgspec_parse(files)
        bare_msgspec = min(bare_msgspec, time.perf_counter() - started)
        elapsed, peak_bytes, rows = run_join(inputs, output, errors, "memory")
        assert rows == args.lines
        joined = min(joined, elapsed)
        peak = max(peak, peak_bytes)
        join_ratios.append(elapsed / round_bare)
        round_join = elapsed
        elapsed, peak_bytes, rows = run_join(inputs, output, errors, str(parquet),
                                             TABLE_PROGRAM, args.jobs)
        assert rows == args.lines
        tabled_jobs = min(tabled_jobs, elapsed)
        table_jobs_peak = max(table_jobs_peak, peak_bytes)
        table_ratios.append(elapsed / round_join)
        elapsed, peak_bytes, rows = run_join(inputs, output, errors, str(parquet),
                                             TABLE_PROGRAM)
        assert rows == args.lines
        tabled = min(tabled, elapsed)
        table_peak = max(table_peak, peak_bytes)
        elapsed, _, rows = run_join(inputs, output, errors, str(jsonl), TABLE_PROGRAM)
        written = min(written, elapsed)
        elapsed, _, rows = run_join(inputs, output, errors, str(jsonl), TABLE_PROGRAM,
                                    args.jobs)
        written_jobs = min(written_jobs, elapsed)
    start_rss = [int(x) for x in subprocess.run(
        [sys.executable, "-c", BASELINE_PROGRAM], capture_output=True, text=True,
        check=True).stdout.split()][1]
    print(f"\njoin {args.lines:,} requests, {size / 1e6:.0f} MB in 3 files  [{machine()}]")
    print(f"  bare orjson parse of all files   {bare:7.2f} s")
    print(f"  bare msgspec parse of all files  {bare_msgspec:7.2f} s")
    print(f"  batchio.join (memory index)      {joined:7.2f} s   {joined / bare:.2f}x the bare "
          f"orjson parse, median of the rounds {statistics.median(join_ratios):.2f}x "
          "(target <= 2.5x)")
    print(f"  peak RSS of the join process     {peak / 1e6:7.1f} MB (target < 250 MB); "
          f"{start_rss / 1e6:.1f} MB after importing batchio")
    print(f"  bytes per request                {(peak - start_rss) / args.lines:7.0f} "
          "(peak RSS above the import, over the requests)")
    print("  the joined rows written to a file, by one process and by --jobs "
          f"{args.jobs} (target: Parquet with the output checks <= 1.5x the plain join, "
          "peak RSS < 300 MB):")
    for title, one, many, one_peak, many_peak in (
            ("join -o joined.jsonl (no checks)", written, written_jobs, None, None),
            ("join -o joined.parquet --check-outputs", tabled, tabled_jobs, table_peak,
             table_jobs_peak)):
        memory = "" if one_peak is None or many_peak is None else (
            f"; peak RSS {one_peak / 1e6:.0f} / {many_peak / 1e6:.0f} MB (largest process)")
        print(f"    {title:40} --jobs 1 {one:6.2f} s ({one / joined:.2f}x the plain join), "
              f"--jobs {args.jobs} {many:6.2f} s ({many / joined:.2f}x){memory}")
    print(f"    the Parquet join by --jobs {args.jobs} against the plain join of the same "
          f"round: {', '.join(f'{ratio:.2f}x' for ratio in table_ratios)} (median "
          f"{statistics.median(table_ratios):.2f}x)")
    if args.sqlite:
        elapsed, peak_bytes, rows = run_join(inputs, output, errors, "sqlite")
        print(f"  batchio.join (sqlite index)      {elapsed:7.2f} s   peak RSS "
              f"{peak_bytes / 1e6:.1f} MB")
    resource.getrusage(resource.RUSAGE_SELF)
    os.sync()


if __name__ == "__main__":
    main()

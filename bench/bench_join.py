"""Join time and memory: batchio.join against a bare orjson parse of the three files.

    python bench/bench_join.py [--lines 500000] [--runs 3] [--jobs N]

The data: LINES chat requests, answered in shuffled order, 5% in the error file (HTTP
failures and expired requests), 1% missing. Timed in each round, each as a ratio to that
round's bare parse: the rows iterated in Python by one process; ``join -o joined.jsonl``
and ``join -o joined.parquet --check-outputs`` by one process and by every core (--jobs).
Targets: the JSONL join by every core within 3x of the bare parse, the Parquet join with
the output checks within 3.5x and a peak RSS under 250 MB. Also timed: copying the joined
JSONL file, the written join's I/O alone (each row holds its request and result lines
whole, so the output is larger than the three inputs). Each join runs in a fresh
subprocess so its peak RSS is its own (the largest of its processes).
"""

from __future__ import annotations

import argparse
import os
import random
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


def copy_file(source: Path, target: Path) -> None:
    """The written join's I/O alone: the joined file's bytes read and written again."""
    with open(source, "rb") as reading, open(target, "wb", buffering=1 << 20) as writing:
        while chunk := reading.read(1 << 20):
            writing.write(chunk)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sqlite", action="store_true", help="also time the SQLite index")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2,
                        help="processes for the written joins (default: every core)")
    args = parser.parse_args()
    folder = DATA / f"join-{args.lines}"
    folder.mkdir(parents=True, exist_ok=True)
    inputs = chat_requests(DATA / f"chat-{args.lines}.jsonl", args.lines)
    output, errors = make_results(inputs, folder)
    files = [inputs, output, errors]
    size = sum(path.stat().st_size for path in files)
    parquet = folder / "joined.parquet"
    jsonl = folder / "joined.jsonl"
    copied = folder / "copied.jsonl"

    # Each round times the bare parse and every join back to back, and each join's ratio
    # is taken to the bare parse of its own round (this machine's speed drifts by a third
    # between minutes); the best of the rounds and the median of the ratios are printed.
    timings: dict[str, list[float]] = {}
    ratios: dict[str, list[float]] = {}
    peaks: dict[str, int] = {}

    def note(title: str, elapsed: float, bare: float, peak: int = 0) -> None:
        timings.setdefault(title, []).append(elapsed)
        ratios.setdefault(title, []).append(elapsed / bare)
        peaks[title] = max(peaks.get(title, 0), peak)

    for _ in range(args.runs):
        started = time.perf_counter()
        bare_parse(files)
        bare = time.perf_counter() - started
        note("bare orjson parse of the three files", bare, bare)
        started = time.perf_counter()
        bare_msgspec_parse(files)
        note("bare msgspec parse of the three files", time.perf_counter() - started, bare)
        elapsed, peak, rows = run_join(inputs, output, errors, "memory")
        assert rows == args.lines
        note("rows iterated in Python (one process)", elapsed, bare, peak)
        for jobs in (1, args.jobs):
            elapsed, peak, rows = run_join(inputs, output, errors, str(jsonl), TABLE_PROGRAM,
                                           jobs)
            assert rows == args.lines
            note(f"join -o joined.jsonl, --jobs {jobs}", elapsed, bare, peak)
        for jobs in (1, args.jobs):
            elapsed, peak, rows = run_join(inputs, output, errors, str(parquet),
                                           TABLE_PROGRAM, jobs)
            assert rows == args.lines
            note(f"join -o joined.parquet --check-outputs, --jobs {jobs}", elapsed, bare,
                 peak)
        started = time.perf_counter()
        copy_file(jsonl, copied)
        note("the joined.jsonl's bytes copied (its I/O alone)", time.perf_counter() - started,
             bare)
        copied.unlink()
    start_rss = [int(x) for x in subprocess.run(
        [sys.executable, "-c", BASELINE_PROGRAM], capture_output=True, text=True,
        check=True).stdout.split()][1]
    targets = {"rows iterated in Python (one process)": "no slower than before",
               f"join -o joined.jsonl, --jobs {args.jobs}": "<= 3x",
               f"join -o joined.parquet --check-outputs, --jobs {args.jobs}":
                   "<= 3.5x, peak RSS < 250 MB"}
    print(f"\njoin {args.lines:,} requests, {size / 1e6:.0f} MB in 3 files (joined.jsonl "
          f"{jsonl.stat().st_size / 1e6:.0f} MB, joined.parquet "
          f"{parquet.stat().st_size / 1e6:.0f} MB)  [{machine()}]")
    print(f"  {'':<52} {'best':>8}  {'x bare':>6}  {'median':>6}  {'peak RSS':>8}  target")
    best_bare = min(next(iter(timings.values())))
    for title, elapsed in timings.items():
        peak = f"{peaks[title] / 1e6:5.0f} MB" if peaks[title] else ""
        print(f"  {title:<52} {min(elapsed):6.2f} s  {min(elapsed) / best_bare:5.2f}x  "
              f"{statistics.median(ratios[title]):5.2f}x  {peak:>8}  {targets.get(title, '')}")
    print(f"  ({start_rss / 1e6:.1f} MB after importing batchio; peak RSS of the largest "
          "process)")
    if args.sqlite:
        elapsed, peak_bytes, rows = run_join(inputs, output, errors, "sqlite")
        print(f"  batchio.join (sqlite index)      {elapsed:7.2f} s   peak RSS "
              f"{peak_bytes / 1e6:.1f} MB")


if __name__ == "__main__":
    main()

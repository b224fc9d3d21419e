"""Writer and split throughput against the bare loops they replace.

    python bench/bench_build.py [--lines 200000] [--runs 3]

1. RequestWriter (ids, schema check, sharding, hashing, atomic shards) against a bare
   ``orjson.dumps`` + write loop over the same rows. Target >= 0.5x.
2. split (parse, limits, exact bytes into shards) against a bare line-copy loop.
   Target >= 0.5x.
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
from pathlib import Path

import orjson
from _common import DATA, best_of, chat_body, chat_requests, report

from batchio import RequestWriter, split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(0)
    bodies = [chat_body(rng) for _ in range(args.lines)]
    work = Path(tempfile.mkdtemp(prefix="batchio-bench-"))
    try:
        def bare_write() -> None:
            with open(work / "bare.jsonl", "wb") as handle:
                for number, body in enumerate(bodies, 1):
                    handle.write(orjson.dumps({
                        "custom_id": f"request-{number:07d}", "method": "POST",
                        "url": "/v1/chat/completions", "body": body}) + b"\n")

        def batchio_write() -> None:
            shutil.rmtree(work / "shards", ignore_errors=True)
            with RequestWriter(work / "shards", endpoint="/v1/chat/completions") as writer:
                for body in bodies:
                    writer.add(body)

        def batchio_write_unchecked() -> None:
            shutil.rmtree(work / "shards", ignore_errors=True)
            with RequestWriter(work / "shards", validate=False) as writer:
                for body in bodies:
                    writer.add(body)

        bare, checked, unchecked = best_of(args.runs, bare_write, batchio_write,
                                           batchio_write_unchecked)
        size = (work / "bare.jsonl").stat().st_size
        report(f"write {args.lines:,} chat requests, {size / 1e6:.0f} MB", size,
               ("bare orjson.dumps + write", bare),
               ("RequestWriter (validated, sharded)", checked),
               ("RequestWriter(validate=False)", unchecked))

        source = chat_requests(DATA / f"chat-{args.lines}.jsonl", args.lines)

        def bare_copy() -> None:
            with open(source, "rb") as reader, open(work / "copy.jsonl", "wb") as writer:
                for line in reader:
                    writer.write(line)

        def batchio_split() -> None:
            shutil.rmtree(work / "split", ignore_errors=True)
            split(source, work / "split")

        copy, splitting = best_of(args.runs, bare_copy, batchio_split)
        size = source.stat().st_size
        report(f"split {args.lines:,} lines, {size / 1e6:.0f} MB", size,
               ("bare line-copy loop", copy), ("batchio split", splitting))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Reader throughput: batchio.read_lines against bare loops of both JSON parsers.

    python bench/bench_read.py [--lines 500000] [--runs 3]

Prints, side by side in one run: a bare ``for line in f: orjson.loads(line)`` loop (the
baseline), a bare loop of one reused ``msgspec.json.Decoder`` (the parser batchio reads
with), and ``batchio.read_lines`` (numbers, offsets, exact bytes and every bad-input check).
Target: read_lines at >= 1.0x the bare orjson loop.
"""

from __future__ import annotations

import argparse

import msgspec
import orjson
from _common import DATA, best_of, chat_requests, report

from batchio import read_lines


def bare_orjson(path: str) -> int:
    count = 0
    with open(path, "rb") as handle:
        for line in handle:
            orjson.loads(line)
            count += 1
    return count


def bare_msgspec(path: str) -> int:
    decode = msgspec.json.Decoder().decode
    count = 0
    with open(path, "rb") as handle:
        for line in handle:
            decode(line)
            count += 1
    return count


def batchio_loop(path: str) -> int:
    count = 0
    for _ in read_lines(path):
        count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    path = chat_requests(DATA / f"chat-{args.lines}.jsonl", args.lines)
    size = path.stat().st_size
    assert bare_orjson(str(path)) == bare_msgspec(str(path)) == batchio_loop(str(path))
    orjson_time, msgspec_time, batchio_time = best_of(
        args.runs,
        lambda: bare_orjson(str(path)),
        lambda: bare_msgspec(str(path)),
        lambda: batchio_loop(str(path)),
    )
    report(f"read {args.lines:,} lines, {size / 1e6:.0f} MB", size,
           ("bare orjson loop", orjson_time),
           ("bare msgspec loop", msgspec_time),
           ("batchio.read_lines", batchio_time))


if __name__ == "__main__":
    main()

"""Reader throughput: batchio.read_lines against a bare ``for line in f: orjson.loads(line)``.

    python bench/bench_read.py [--lines 500000] [--runs 3]

Target: read_lines at >= 0.85x the bare loop.
"""

from __future__ import annotations

import argparse

import orjson
from _common import DATA, best_of, chat_requests, report

from batchio import read_lines


def bare_loop(path: str) -> int:
    count = 0
    with open(path, "rb") as handle:
        for line in handle:
            orjson.loads(line)
            count += 1
    return count


def batchio_loop(path: str, check_integers: bool = True) -> int:
    count = 0
    for _ in read_lines(path, check_integers=check_integers):
        count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    path = chat_requests(DATA / f"chat-{args.lines}.jsonl", args.lines)
    size = path.stat().st_size
    assert bare_loop(str(path)) == batchio_loop(str(path)) == args.lines
    bare, checked, unchecked = best_of(
        args.runs,
        lambda: bare_loop(str(path)),
        lambda: batchio_loop(str(path)),
        lambda: batchio_loop(str(path), check_integers=False),
    )
    report(f"read {args.lines:,} lines, {size / 1e6:.0f} MB", size,
           ("bare orjson loop", bare),
           ("batchio.read_lines (default)", checked),
           ("batchio.read_lines(check_integers=False)", unchecked))


if __name__ == "__main__":
    main()

"""Validation throughput: batchio.validate against bare loops of both JSON parsers.

    python bench/bench_validate.py [--lines 500000] [--runs 3]

Target: full validation (envelope, ids, schema, limits) at >= 0.6x the bare orjson loop
with two processes, >= 0.4x in one. The bare msgspec loop (the parser batchio reads with)
is printed beside it.
Also prints a pure-``jsonschema`` loop on a sample, and the memory kept per request.
"""

from __future__ import annotations

import argparse
import sys
import time

import jsonschema
import orjson
from _common import DATA, best_of, chat_requests, report
from bench_read import bare_msgspec, bare_orjson

from batchio import validate
from batchio.schemas import load_schemas, schema_id


def pure_jsonschema_seconds(path: str, lines: int) -> float:
    """Seconds a plain jsonschema loop would take for the whole file (timed on a sample)."""
    schema = load_schemas()[schema_id("openai/chat-completions")]
    validator = jsonschema.Draft202012Validator(schema)
    sample = 5_000
    started = time.process_time()
    with open(path, "rb") as handle:
        for number, line in enumerate(handle):
            if number == sample:
                break
            validator.is_valid(orjson.loads(line)["body"])
    return (time.process_time() - started) * lines / sample


def bytes_per_request(lines: int) -> float:
    """The memory the validator keeps per request: its custom_id -> first line dict."""
    seen = {f"request-{i:07d}": i + 1 for i in range(lines)}
    total = sys.getsizeof(seen) + sum(sys.getsizeof(key) for key in seen)
    total += sum(sys.getsizeof(value) for value in seen.values() if value > 256)
    return total / lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    path = str(chat_requests(DATA / f"chat-{args.lines}.jsonl", args.lines))
    result = validate(path, provider="openai")
    assert result.requests == args.lines, result.errors[:3]
    # The bench file is over OpenAI's per-file limits on purpose (a single big file).
    assert {p.code for p in result.errors} <= {"too_many_tasks", "file_too_large"}
    size = result.bytes
    bare, msgspec_loop, full, single = best_of(
        args.runs, lambda: bare_orjson(path), lambda: bare_msgspec(path),
        lambda: validate(path, workers=2), lambda: validate(path, workers=1))
    report(f"validate {args.lines:,} chat lines, {size / 1e6:.0f} MB", size,
           ("bare orjson loop", bare), ("bare msgspec loop", msgspec_loop),
           ("batchio.validate (two processes)", full),
           ("batchio.validate(workers=1)", single),
           ("pure jsonschema loop (extrapolated)", pure_jsonschema_seconds(path, args.lines)))
    print(f"  memory kept per request: {bytes_per_request(args.lines):.0f} bytes "
          "(custom_id -> first line)")


if __name__ == "__main__":
    main()

"""Validation throughput: batchio.validate against bare loops of both JSON parsers.

    python bench/bench_validate.py [--lines 500000] [--runs 3]
        [--kinds chat,embeddings,responses]

Target: full validation (envelope, ids, schema, limits) at >= 1.0x the bare orjson loop in
one process and >= 1.8x with two, peak RSS under 150 MB. The bare msgspec loop (the parser
batchio reads with) is printed beside it. Also prints a pure-``jsonschema`` loop on a
sample, the memory kept per request, and the peak RSS of this process and of its largest
worker.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time

import jsonschema
import orjson
from _common import (
    DATA,
    best_of,
    chat_requests,
    machine,
    paired_ratio,
    peak_rss_mb,
    report,
)
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
    """The memory the validator keeps per request: its ids as the typed lane keeps them,
    a set and the list of each block's ids (batchio.validation.IdLines)."""
    from batchio.validation import IdLines

    seen = IdLines()
    ids = [f"request-{i:07d}" for i in range(lines)]
    for start in range(0, lines, 1_200):
        seen.add_block(ids[start:start + 1_200], start + 1)
    total = sys.getsizeof(seen.block_ids) + sum(sys.getsizeof(key) for key in ids)
    total += sum(sys.getsizeof(block) for _, block in seen._blocks)
    return total / lines


#: The one schema of the structured-output file: a product, strict mode.
PRODUCT_SCHEMA = {
    "type": "object", "additionalProperties": False,
    "required": ["name", "price", "tags", "dimensions"],
    "properties": {
        "name": {"type": "string"}, "price": {"type": "number", "minimum": 0},
        "tags": {"type": "array", "items": {"type": "string"}},
        "dimensions": {"type": "object", "additionalProperties": False,
                       "required": ["width", "height"],
                       "properties": {"width": {"type": "number"},
                                      "height": {"type": "number"}}}}}


def structured_pair(lines: int) -> tuple[str, str]:
    """The same chat lines twice: plain, and each asking for one schema (strict mode)."""
    plain = chat_requests(DATA / f"chat-{lines}.jsonl", lines)
    asking = DATA / f"chat-{lines}-schema.jsonl"
    if not asking.exists():
        fragment = {"type": "json_schema", "json_schema": {
            "name": "product", "strict": True, "schema": PRODUCT_SCHEMA}}
        with open(plain, "rb") as source, open(asking, "wb") as target:
            for raw in source:
                line = orjson.loads(raw)
                line["body"]["response_format"] = fragment
                target.write(orjson.dumps(line) + b"\n")
    return str(plain), str(asking)


def schema_checks(lines: int, runs: int) -> None:
    """validate(workers=1) on lines that carry one schema against the same lines without it:
    what checking the schema (compiled once, the provider's rules judged once) costs."""
    plain, asking = structured_pair(lines)
    assert validate(asking, provider="openai").ok
    without, with_schema = best_of(runs, lambda: validate(plain, workers=1),
                                   lambda: validate(asking, workers=1))
    extra = os.path.getsize(asking) - os.path.getsize(plain)
    print(f"\nvalidate {lines:,} chat lines each asking for one JSON schema (+{extra / 1e6:.0f} "
          f"MB of schema text)  [{machine()}]")
    print(f"  without the schema      {without:6.2f} s")
    print(f"  with the schema         {with_schema:6.2f} s   {with_schema / without:.2f}x, "
          f"{(with_schema - without) / lines * 1e6:.1f} us a line more; median of the rounds "
          f"{paired_ratio(without, with_schema):.2f}x as fast")


def other_kind(kind: str, lines: int, runs: int) -> None:
    """Validation of an embeddings or Responses file against the bare loops."""
    path = str(chat_requests(DATA / f"{kind}-{lines}.jsonl", lines, kind=kind))
    result = validate(path, provider="openai")
    assert result.requests == lines, result.errors[:3]
    assert {p.code for p in result.errors} <= {"too_many_tasks", "file_too_large",
                                               "too_many_embedding_inputs"}
    size = result.bytes
    bare, msgspec_loop, full, single = best_of(
        runs, lambda: bare_orjson(path), lambda: bare_msgspec(path),
        lambda: validate(path, workers=2), lambda: validate(path, workers=1))
    report(f"validate {lines:,} {kind} lines, {size / 1e6:.0f} MB", size,
           ("bare orjson loop", bare), ("bare msgspec loop", msgspec_loop),
           ("batchio.validate (two processes)", full),
           ("batchio.validate(workers=1)", single))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--schema-lines", type=int, default=50_000,
                        help="lines of the structured-output comparison (0: skip it)")
    parser.add_argument("--kinds", default="chat",
                        help="request files to time: chat, embeddings, responses (comma list)")
    args = parser.parse_args()
    if args.schema_lines:
        schema_checks(args.schema_lines, args.runs)
    for kind in args.kinds.split(","):
        if kind != "chat":
            other_kind(kind.strip(), args.lines, args.runs)
    if "chat" not in args.kinds.split(","):
        peak_rss()
        return
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
          "(the ids the typed lane took: a set, and each block's list)")
    peak_rss()


def peak_rss() -> None:
    """The peak RSS of this process (the bare loops and one-process validation) and of the
    largest worker it started (Linux reports kilobytes)."""
    own, workers = peak_rss_mb(), peak_rss_mb(resource.RUSAGE_CHILDREN)
    print(f"  peak RSS: {own:.0f} MB in this process, {workers:.0f} MB in the largest worker "
          "(target < 150 MB)")


if __name__ == "__main__":
    main()

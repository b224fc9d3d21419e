"""An end-to-end batch pipeline on a small CSV, offline: build, validate, run, join, retry.

    python examples/pipeline/run.py [WORK_DIR]

rows -> RequestWriter (sharded) -> validate -> simulate (stands in for the provider) ->
join -> retry file -> validate the retry file. Prints what each step found.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import batchio

HERE = Path(__file__).resolve().parent


def main(work: Path) -> int:
    work.mkdir(parents=True, exist_ok=True)

    # 1. Rows -> request lines, ten per shard, ids from the CSV's own key.
    with batchio.RequestWriter(work / "requests", endpoint="/v1/chat/completions",
                               ids=batchio.CallerKeys(), max_requests=10) as writer, \
            open(HERE / "questions.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            writer.add({
                "model": "gpt-4o-mini",
                "messages": [
                    {"role": "system", "content": "Answer in two sentences."},
                    {"role": "user", "content": f"Explain {row['topic']} to {row['audience']}."},
                ],
                "max_tokens": 120,
            }, custom_id=row["question_id"])
    manifest = writer.manifest
    assert manifest is not None
    shards = [work / "requests" / shard.path for shard in manifest.shards]
    print(f"built {manifest.requests} requests in {len(shards)} shards")

    # 2. Validate every shard before "upload".
    for shard in shards:
        report = batchio.validate(shard)
        print(f"validate {shard.name}: {'ok' if report.ok else report.errors}")
        if not report.ok:
            return 1

    # 3. The provider runs them: simulated, with failures, expiries and a lost request.
    outputs, errors = [], []
    for number, shard in enumerate(shards):
        result = batchio.simulate(
            shard, output=work / f"output-{number}.jsonl", errors=work / f"errors-{number}.jsonl",
            seed=number, failure_rate=0.1, expire_rate=0.05, missing_rate=0.05)
        outputs.append(result.output)
        errors.append(work / f"errors-{number}.jsonl")
        print(f"batch {result.batch.id}: {result.batch.status.value}, "
              f"request_counts {result.batch.request_counts}")

    # 4. Join every result back to its request; write what needs another go.
    joined = batchio.join(shards, outputs=outputs, errors=errors)
    retry = work / "retry.jsonl"
    answers = 0
    with batchio.RetryWriter(retry) as retry_file:
        for row in joined:
            retry_file.add(row)
            if row.status == "succeeded":
                answers += 1
    summary = joined.summary.to_dict()
    print("join:", {key: summary[key] for key in
                    ("inputs", "succeeded", "failed", "expired", "cancelled", "missing")})
    print(f"{answers} answers; retry file holds {sum(1 for _ in batchio.read_lines(retry))} "
          "requests")

    # 5. The retry file is a valid batch file in its own right.
    report = batchio.validate(retry)
    print(f"validate retry.jsonl: {'ok' if report.ok else report.errors}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "work"))

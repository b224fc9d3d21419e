"""A batch job on Ray: prompts -> shards -> validated on the cluster -> results -> a table.

    python examples/ray/run.py [WORK_DIR] [--address auto]

A table of prompts (Arrow) -> RequestWriter shards -> batchio.ray.validate over every
shard on the Ray cluster, with ids checked across shards -> simulate (stands in for the
provider) -> join every shard's results, written as Parquet by every core -> read back
with Ray Data. Without --address it starts a local Ray cluster of two CPUs.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import pyarrow as pa

import batchio
import batchio.ray

HERE = Path(__file__).resolve().parent


def prompts(count: int) -> pa.Table:
    topics = ["tides", "rainbows", "compilers", "vaccines", "glaciers", "interest rates"]
    return pa.table({
        "prompt_id": [f"p-{i:05d}" for i in range(count)],
        "prompt": [f"Explain {topics[i % len(topics)]} in two sentences (#{i})."
                   for i in range(count)],
    })


def main(work: Path, address: str | None) -> int:
    import ray
    import ray.data

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    if address is None:
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
                 configure_logging=False)
    else:
        ray.init(address=address)
    ray.data.DataContext.get_current().enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    work.mkdir(parents=True, exist_ok=True)

    # 1. A table of prompts -> request shards of at most 250 requests, ids from the table.
    table = prompts(1_000)
    with batchio.RequestWriter(work / "shards", endpoint="/v1/chat/completions",
                               ids=batchio.CallerKeys(), max_requests=250) as writer:
        for row in table.to_pylist():
            writer.add({"model": "gpt-4o-mini", "max_tokens": 80,
                        "messages": [{"role": "user", "content": row["prompt"]}]},
                       custom_id=row["prompt_id"])
    manifest = work / "shards" / "manifest.json"
    print(f"built {table.num_rows} requests in {len(writer.manifest.shards)} shards")

    # 2. Every shard validated on the cluster, and no id used in two shards.
    reports = batchio.ray.validate(manifest, unique_across_files=True)
    print(f"validated {len(reports)} shards on Ray: "
          f"{sum(report.error_count for report in reports)} errors")
    if not all(reports):
        return 1

    # 3. The provider runs each shard (simulated here), its results in one folder.
    results = work / "results"
    results.mkdir(exist_ok=True)
    for number, shard in enumerate(batchio.Manifest.load(manifest).shards):
        batchio.simulate(work / "shards" / shard.path, seed=number, failure_rate=0.05,
                         output=results / f"{Path(shard.path).stem}.output.jsonl",
                         errors=results / f"{Path(shard.path).stem}.errors.jsonl")

    # 4. Join every shard's results back, written as Parquet by every core.
    joined = batchio.join(manifest, results=results, check_outputs=True)
    rows = batchio.write_join(joined, work / "joined.parquet", retry=work / "retry.jsonl")
    summary = joined.summary.to_dict()
    print(f"joined {rows} rows: {summary['succeeded']} succeeded, {summary['failed']} failed, "
          f"{summary['missing']} missing")

    # 5. The table, read back with Ray Data.
    statuses = ray.data.read_parquet(str(work / "joined.parquet")).groupby("status").count()
    print("by status:", sorted((row["status"], row["count()"])
                               for row in statuses.take_all()))
    ray.shutdown()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("work", nargs="?", type=Path, default=HERE / "work")
    parser.add_argument("--address", help="a running Ray cluster's address (default: a new "
                        "local one)")
    arguments = parser.parse_args()
    sys.exit(main(arguments.work, arguments.address))

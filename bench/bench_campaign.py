"""A campaign of three rounds against the plain join of its first round, in one run.

    python bench/bench_campaign.py [--lines 1000000]

The data: LINES chat requests (round 1) answered in shuffled order with 5% in the error
file (expired and HTTP 429) and 1% missing; round 2 is what ``campaign retry`` writes
from the ledger (about 7% of the ids), answered the same way; round 3 likewise. Timed:
``campaign record`` of each round plus ``campaign retry`` after the first two, and
``campaign final -o final.parquet``; against ``join -o joined.parquet`` of round 1 alone
(the same rows, one round). Each step runs in a fresh process so that its peak RSS is
its own. Target: bounded memory (the ledger holds ids, outcomes and places, never
bodies): the campaign's peak RSS close to the plain join's.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from _common import DATA, chat_requests, machine
from bench_join import make_results

STEP = """
import resource, sys, time
from batchio.campaign import Campaign
ledger, step, number, requests, results, target = sys.argv[1:7]
started = time.perf_counter()
with Campaign(ledger) as campaign:
    if step == "record":
        folders = [folder for folder in results.split(",")]
        campaign.record(int(number), requests=requests,
                        results=[p for f in folders for p in (f + "/output.jsonl",
                                                              f + "/errors.jsonl")])
        if target != "-":
            campaign.retry(target, overwrite=True)
    else:
        rows = campaign.final().write(target)
elapsed = time.perf_counter() - started
print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""

JOIN = """
import resource, sys, time
import batchio
inputs, output, errors, target = sys.argv[1:5]
started = time.perf_counter()
rows = batchio.write_join(batchio.join(inputs, outputs=output, errors=errors), target,
                          workers=1)
print(time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def run(program: str, *args: object) -> tuple[float, int]:
    done = subprocess.run([sys.executable, "-c", program, *map(str, args)],
                          capture_output=True, text=True, check=True)
    elapsed, peak = done.stdout.split()
    return float(elapsed), int(peak)


def answer_shards(folder: Path, seed: int) -> list[Path]:
    """Results for every shard in ``folder``: a folder of output and error file each."""
    answered = []
    for shard in sorted(folder.glob("requests-*.jsonl")):
        results = folder / f"{shard.stem}-results"
        results.mkdir(exist_ok=True)
        make_results(shard, results, seed=seed)
        answered.append(results)
    return answered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=1_000_000)
    args = parser.parse_args()
    inputs = chat_requests(DATA / f"chat-{args.lines}.jsonl", args.lines)
    first = DATA / f"join-{args.lines}"
    first.mkdir(parents=True, exist_ok=True)
    output, errors = make_results(inputs, first)
    work = DATA / f"campaign-{args.lines}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    ledger = work / "job.ledger"

    join_time, join_peak = run(JOIN, inputs, output, errors, work / "joined.parquet")
    steps: list[tuple[str, float, int]] = []
    elapsed, peak = run(STEP, ledger, "record", 1, inputs, first, work / "round2")
    steps.append(("record round 1, retry", elapsed, peak))
    second = answer_shards(work / "round2", seed=2)
    elapsed, peak = run(STEP, ledger, "record", 2, work / "round2",
                        ",".join(map(str, second)), work / "round3")
    steps.append(("record round 2, retry", elapsed, peak))
    third = answer_shards(work / "round3", seed=3)
    elapsed, peak = run(STEP, ledger, "record", 3, work / "round3",
                        ",".join(map(str, third)), "-")
    steps.append(("record round 3", elapsed, peak))
    elapsed, peak = run(STEP, ledger, "final", 0, "-", "-", work / "final.parquet")
    steps.append(("final -o final.parquet", elapsed, peak))

    retried = [sum(1 for shard in (work / name).glob("requests-*.jsonl")
                   for _ in shard.open("rb")) for name in ("round2", "round3")]
    total = sum(step[1] for step in steps)
    top = max(step[2] for step in steps)
    print(f"\ncampaign of {args.lines:,} ids over 3 rounds ({retried[0]:,} and "
          f"{retried[1]:,} retried)  [{machine()}]")
    print(f"  join -o joined.parquet of round 1   {join_time:7.2f} s   peak RSS "
          f"{join_peak / 1e6:6.1f} MB")
    for title, seconds, bytes_ in steps:
        print(f"  campaign {title:<27} {seconds:7.2f} s   peak RSS {bytes_ / 1e6:6.1f} MB")
    print(f"  the whole campaign                  {total:7.2f} s   {total / join_time:.2f}x "
          f"the plain join; peak RSS {top / 1e6:.1f} MB, {top / join_peak:.2f}x the join's")
    print(f"  ledger                              {ledger.stat().st_size / 1e6:7.1f} MB on "
          "disk")


if __name__ == "__main__":
    main()

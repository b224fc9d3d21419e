"""Shared helpers for the benchmarks: generated data files and side-by-side timing.

Benchmarks are scripts, not tests: they print figures and assert nothing about time.
"""

from __future__ import annotations

import os
import platform
import random
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import orjson

DATA = Path(__file__).resolve().parent / "data"

WORDS = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
         "incididunt ut labore et dolore magna aliqua batch request summary explain").split()


def chat_body(rng: random.Random, model: str = "gpt-4o-mini") -> dict[str, object]:
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(60, 110)))
    return {
        "model": model,
        "messages": [
            {"role": "system", "content": "You are a helpful assistant that answers briefly."},
            {"role": "user", "content": f"Summarise in two sentences: {text}"},
        ],
        "max_tokens": 256,
        "temperature": 0.2,
    }


def embeddings_body(rng: random.Random) -> dict[str, object]:
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(30, 80)))
    return {"model": "text-embedding-3-small", "input": text, "encoding_format": "float"}


def responses_body(rng: random.Random) -> dict[str, object]:
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(60, 110)))
    return {"model": "gpt-4o-mini", "instructions": "Answer briefly.",
            "input": f"Summarise in two sentences: {text}", "max_output_tokens": 256,
            "temperature": 0.2}


#: The request files the benches make: body maker and url, by kind.
KINDS = {"chat": (chat_body, "/v1/chat/completions"),
         "embeddings": (embeddings_body, "/v1/embeddings"),
         "responses": (responses_body, "/v1/responses")}


def chat_requests(path: Path, count: int, seed: int = 0, kind: str = "chat") -> Path:
    """A request file of ``count`` lines of ``kind`` (chat: about 600 bytes each), cached."""
    if path.exists() and path.stat().st_size > 0:
        return path
    rng = random.Random(seed)
    make, url = KINDS[kind]
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".tmp")
    with open(temp, "wb") as handle:
        for i in range(count):
            line = {"custom_id": f"request-{i:07d}", "method": "POST", "url": url,
                    "body": make(rng)}
            handle.write(orjson.dumps(line) + b"\n")
    os.replace(temp, path)
    return path


class Timing(float):
    """The fastest of several timings, in seconds, keeping every round's time."""

    rounds: list[float]

    def __new__(cls, rounds: list[float]) -> Timing:
        timing = super().__new__(cls, min(rounds))
        timing.rounds = rounds
        return timing


def best_of(runs: int, *works: Callable[[], object]) -> list[Timing]:
    """Each of ``works`` timed ``runs`` times; the works take turns within each round, so a
    slow spell of the machine hits them alike."""
    rounds: list[list[float]] = [[] for _ in works]
    for _ in range(runs):
        for index, work in enumerate(works):
            started = time.perf_counter()
            work()
            rounds[index].append(time.perf_counter() - started)
    return [Timing(times) for times in rounds]


def paired_ratio(baseline: float, contender: float) -> float:
    """Baseline time over contender time: the median of the per-round ratios when both
    carry their rounds (runs next to each other share the machine's mood), else the ratio
    of the best times."""
    if isinstance(baseline, Timing) and isinstance(contender, Timing):
        return statistics.median(b / c for b, c in zip(baseline.rounds, contender.rounds,
                                                           strict=True))
    return baseline / contender


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """This process's peak resident set size so far, in MB (``resource.RUSAGE_CHILDREN``:
    that of the largest process it has waited for)."""
    return resource.getrusage(who).ru_maxrss / 1024


def machine() -> str:
    return (f"{platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}")


def report(title: str, size_bytes: int, baseline: tuple[str, float],
           *contenders: tuple[str, float]) -> None:
    """Print each contender's best time and throughput beside the baseline's, and its ratio
    to the baseline twice: of the best times, and the median of the per-round ratios."""
    name, seconds = baseline
    mb = size_bytes / 1e6
    print(f"\n{title}  [{machine()}]")
    print(f"  {'':<44} {'best':>9}  {'throughput':>13}  {'ratio':>5}  {'median':>6}")
    print(f"  {name:<44} {seconds:7.3f} s  {mb / seconds:8.1f} MB/s  1.00x")
    for name, contender in contenders:
        print(f"  {name:<44} {contender:7.3f} s  {mb / contender:8.1f} MB/s  "
              f"{seconds / contender:.2f}x  {paired_ratio(seconds, contender):5.2f}x")

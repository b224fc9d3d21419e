"""Shared helpers for the benchmarks: generated data files and side-by-side timing.

Benchmarks are scripts, not tests: they print figures and assert nothing about time.
"""

from __future__ import annotations

import os
import platform
import random
import resource
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


def chat_requests(path: Path, count: int, seed: int = 0) -> Path:
    """A chat-completions request file of ``count`` lines (about 600 bytes each), cached."""
    if path.exists() and path.stat().st_size > 0:
        return path
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".tmp")
    with open(temp, "wb") as handle:
        for i in range(count):
            line = {"custom_id": f"request-{i:07d}", "method": "POST",
                    "url": "/v1/chat/completions", "body": chat_body(rng)}
            handle.write(orjson.dumps(line) + b"\n")
    os.replace(temp, path)
    return path


def best_of(runs: int, *works: Callable[[], object]) -> list[float]:
    """The fastest of ``runs`` timings of each of ``works``, in seconds.

    The works take turns within each round, so a slow spell of the machine hits them alike.
    """
    best = [float("inf")] * len(works)
    for _ in range(runs):
        for index, work in enumerate(works):
            started = time.perf_counter()
            work()
            best[index] = min(best[index], time.perf_counter() - started)
    return best


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> str:
    return (f"{platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}")


def report(title: str, size_bytes: int, baseline: tuple[str, float],
           *contenders: tuple[str, float]) -> None:
    """Print throughput of the baseline and each contender, with the ratio to the baseline."""
    name, seconds = baseline
    mb = size_bytes / 1e6
    print(f"\n{title}  [{machine()}]")
    print(f"  {name:<44} {seconds:7.3f} s  {mb / seconds:8.1f} MB/s  1.00x")
    for name, contender in contenders:
        print(f"  {name:<44} {contender:7.3f} s  {mb / contender:8.1f} MB/s  "
              f"{seconds / contender:.2f}x")

"""Feedback on long work: every command that reads a large input shows a progress bar on a
terminal (a real pseudo-terminal here), and none when piped or ``--quiet``; a file checked
by several processes moves its bar by the sum of their ranges."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

import batchio
from batchio.validation import PARALLEL_MIN_BYTES

LINES = 24_000  # about 5 MB of chat requests: past the bar's 4 MiB threshold


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("progress")
    padding = "words " * 30
    with open(folder / "big.jsonl", "wb") as handle:
        for number in range(LINES):
            handle.write(orjson.dumps({
                "custom_id": f"r{number}", "method": "POST", "url": "/v1/chat/completions",
                "body": {"model": "gpt-4o-mini", "messages": [
                    {"role": "user", "content": f"question {number} {padding}"}]}}) + b"\n")
    with open(folder / "rows.csv", "w", encoding="utf-8") as handle:
        handle.write("id,prompt\n")
        for number in range(LINES):
            handle.write(f"q{number},question {number} {padding}\n")
    batchio.simulate(folder / "big.jsonl", output=folder / "out.jsonl",
                     errors=folder / "err.jsonl", seed=1)
    return folder


def on_a_terminal(arguments: list[str], cwd: Path) -> tuple[int, str]:
    """Run batchio with its stderr on a pseudo-terminal: its exit status and what the
    terminal showed."""
    master, slave = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "batchio", *arguments], cwd=cwd,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=slave)
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 1 << 16)
        except OSError:  # the other end closed: the command is done
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    return process.wait(timeout=300), shown.decode("utf-8", "replace")


COMMANDS = {
    "validating big.jsonl": ["validate", "big.jsonl"],
    "splitting big.jsonl": ["split", "big.jsonl", "--out-dir", "shards", "--max-requests",
                            "10000", "--overwrite"],
    "estimating": ["estimate", "big.jsonl"],
    "simulating big.jsonl": ["simulate", "big.jsonl", "-o", "sim.jsonl"],
    "joining": ["join", "big.jsonl", "--results", "out.jsonl", "--errors", "err.jsonl",
                "-o", "joined.jsonl", "--jobs", "1"],
    "converting big.jsonl": ["convert", "big.jsonl", "--to", "anthropic", "--model",
                             "claude-haiku-4-5", "-o", "anthropic.jsonl"],
    "building from rows.csv": ["build", "rows.csv", "--model", "gpt-4o-mini",
                               "--id-field", "id", "-o", "built.jsonl", "--overwrite"],
    "recording round 1": ["campaign", "record", "job.ledger", "--round", "1", "--requests",
                          "big.jsonl", "--results", "out.jsonl", "--results", "err.jsonl"],
}


@pytest.mark.parametrize("label", list(COMMANDS))
def test_every_long_command_shows_a_bar_on_a_terminal_and_none_when_quiet(
        work: Path, label: str) -> None:
    for leftover in ("sim.jsonl", "joined.jsonl", "anthropic.jsonl", "anthropic.jsonl.ids.json",
                     "job.ledger"):
        (work / leftover).unlink(missing_ok=True)
    status, shown = on_a_terminal(COMMANDS[label], work)
    assert status == 0, shown
    assert label in shown, shown
    # The bar ends at 100%.
    assert "100%" in shown, shown
    for leftover in ("sim.jsonl", "joined.jsonl", "anthropic.jsonl", "anthropic.jsonl.ids.json",
                     "job.ledger"):
        (work / leftover).unlink(missing_ok=True)
    status, shown = on_a_terminal([*COMMANDS[label], "--quiet"], work)
    assert status == 0, shown
    assert label not in shown and "%" not in shown, shown


def test_piped_there_is_no_bar(work: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "batchio", "validate", "big.jsonl"],
                          cwd=work, capture_output=True, text=True)
    assert done.returncode == 0
    assert "validating" not in done.stderr and "%" not in done.stderr


def test_a_file_checked_by_two_processes_moves_by_the_sum_of_their_ranges(
        tmp_path: Path) -> None:
    path = tmp_path / "large.jsonl"
    line = orjson.dumps({"custom_id": "ID", "method": "POST", "url": "/v1/chat/completions",
                         "body": {"model": "gpt-4o-mini", "messages": [
                             {"role": "user", "content": "words " * 40}]}})
    count = PARALLEL_MIN_BYTES // len(line) + 2_000
    with open(path, "wb") as handle:
        for number in range(count):
            handle.write(line.replace(b'"ID"', b'"r%d"' % number) + b"\n")
    size = path.stat().st_size
    told: list[int] = []
    report = batchio.validate(path, provider="openai", workers=2, on_progress=told.append)
    assert report.requests == count
    assert told == sorted(told) and told[-1] == size
    # Before the end, the bar passed the first range's half of the file: the second
    # range's bytes, counted by the other process, are in the sum.
    assert any(size // 2 < position < size for position in told), told


def test_the_bar_label_says_what_is_read(work: Path) -> None:
    batchio.split(work / "big.jsonl", work / "parts", max_requests=10_000, overwrite=True)
    status, shown = on_a_terminal(["validate", "big.jsonl", "parts"], work)
    assert status == 0
    assert re.search(r"validating 4 files", shown), shown

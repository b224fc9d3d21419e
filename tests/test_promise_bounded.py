"""Promise 3: bounded memory and disk, whatever the input: each hostile input is read by
validate, split, join and status under a 500 MB address-space limit, in a child process."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import pytest
from promises import requests, run

LIMIT = 500 * 1024 * 1024


def gzip_bomb(path: Path, size: int) -> None:
    """``size`` bytes of zeros, gzipped as they stream (the file stays small)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b"\0" * (1 << 22)
    with open(path, "wb") as handle:
        for _ in range(size // len(chunk)):
            handle.write(compressor.compress(chunk))
        handle.write(compressor.flush())


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    files = {"newline-free": folder / "long.jsonl", "bomb": folder / "bomb.jsonl.gz",
             "blank": folder / "blank.jsonl"}
    with open(files["newline-free"], "wb") as handle:
        for _ in range(100):
            handle.write(b"x" * (1 << 20))
    # 2 GiB of zeros (2 MB on disk): memory does not grow with the size, since every
    # reader streams; a larger bomb only takes longer to decompress.
    gzip_bomb(files["bomb"], 2 * (1 << 30))
    files["blank"].write_bytes(b"\n" * 10_000_000)
    return files


EXPECTED = {
    # (command, input) -> (exit status, a piece of what it says)
    ("validate", "newline-free"): (1, "invalid_json_line"),
    ("validate", "bomb"): (1, "line_too_large"),
    ("validate", "blank"): (1, "empty_file"),
    ("split", "newline-free"): (2, "invalid_json_line"),
    ("split", "bomb"): (2, "line_too_large"),
    ("split", "blank"): (0, "10,000,000 blank lines left out"),
    ("join", "newline-free"): (2, "invalid_json_line"),
    ("join", "bomb"): (2, "line_too_large"),
    ("join", "blank"): (0, "0 requests"),
    ("status", "newline-free"): (2, "line_too_large"),
    ("status", "bomb"): (2, "line_too_large"),
    ("status", "blank"): (2, "blank_line"),
}


@pytest.mark.parametrize(("name", "kind"), sorted(EXPECTED))
def test_hostile_input_in_bounded_memory(tmp_path: Path, hostile: dict[str, Path],
                                         name: str, kind: str) -> None:
    source = hostile[kind]
    results = tmp_path / "results.jsonl"
    results.write_bytes(b'{"custom_id": "r0", "response": {"status_code": 200, "body": {}}, '
                        b'"error": null}\n')
    args = {"validate": ["validate", "--provider", "openai", source],
            "split": ["split", "--provider", "openai", source, "--out-dir", tmp_path / "out"],
            "join": ["join", "--provider", "openai", source, "--results", results, "-o",
                     tmp_path / "joined.jsonl"],
            "status": ["status", "--provider", "openai", source]}[name]
    result = run(*args, address_space=LIMIT, timeout=600)
    status, said = EXPECTED[(name, kind)]
    assert "Traceback" not in result.stderr and "MemoryError" not in result.stderr, \
        result.stderr[-2000:]
    assert result.returncode == status, (result.stdout[-500:], result.stderr[-500:])
    assert said in result.stdout + result.stderr


def test_a_line_over_the_cap_is_dropped_as_it_streams(tmp_path: Path) -> None:
    from batchio import read_lines

    path = tmp_path / "x.jsonl.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(requests(1) + b"y" * (50 << 20) + b"\n" + requests(1, "s"))
    items = list(read_lines(path, errors="collect", max_line_bytes=1 << 20))
    assert [getattr(item, "code", "line") for item in items] == [
        "line", "line_too_large", "line"]
    assert items[1].length == (50 << 20) + 1  # type: ignore[union-attr]

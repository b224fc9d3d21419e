"""Helpers for the promise tests: running the real command in a child process, with real
limits (file size, address space), real signals and real small filesystems."""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

BATCHIO = [sys.executable, "-m", "batchio"]


def request(custom_id: str, model: str = "gpt-4o-mini", **body: Any) -> bytes:
    return orjson.dumps({"custom_id": custom_id, "method": "POST",
                         "url": "/v1/chat/completions",
                         "body": {"model": model, "messages": [
                             {"role": "user", "content": "hi"}], **body}}) + b"\n"


def requests(count: int, prefix: str = "r") -> bytes:
    return b"".join(request(f"{prefix}{number}") for number in range(count))


def run(*args: Any, cwd: Path | None = None, stdin: bytes | None = None,
        file_size: int | None = None, address_space: int | None = None,
        env: dict[str, str] | None = None, timeout: float = 300
        ) -> subprocess.CompletedProcess[str]:
    """``batchio ARGS`` in a child process, under the limits given."""

    def limit() -> None:
        if file_size is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
        if address_space is not None:
            resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))

    return subprocess.run([*BATCHIO, *map(str, args)], cwd=cwd, input=(
        stdin.decode("latin-1") if stdin is not None else None), capture_output=True,
        text=True, preexec_fn=limit, env={**os.environ, **(env or {})}, timeout=timeout)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The single ``batchio: ...`` line a failing command prints, checked to be the only
    stderr line and free of tracebacks."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr, result.stderr
    assert len(lines) == 1 and lines[0].startswith("batchio: "), result.stderr
    return lines[0]


def leftovers(folder: Path) -> list[str]:
    """Temporary files batchio may have left in a folder."""
    return sorted(path.name for path in folder.rglob("*") if path.name.endswith(".tmp"))


@contextlib.contextmanager
def small_filesystem(size: str = "64k", read_only: bool = False) -> Iterator[Path]:
    """A real tmpfs of ``size`` (read-only if asked), mounted for the test; skipped where
    this machine does not let the tests mount one."""
    folder = Path(tempfile.mkdtemp(prefix="batchio-fs-"))
    options = f"size={size}" + (",ro" if read_only else "")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                             capture_output=True)
    if mounted.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)

"""Shared test helpers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys


def kill_when_halfway(program: str) -> None:
    """Run ``program`` in a new interpreter and SIGKILL it once it prints ``halfway``."""
    process = subprocess.Popen([sys.executable, "-c", program], stdout=subprocess.PIPE)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == b"halfway"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()

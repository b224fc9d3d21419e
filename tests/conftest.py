"""Shared test helpers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from hypothesis import HealthCheck, settings

# Timing is not behaviour: no per-example deadline and no slowness health check, so a busy
# CI machine cannot fail a property test.
settings.register_profile(
    "batchio", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("batchio")

# Ray clusters the tests start stay offline and quiet: no usage report sent, no token file.
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")


def kill_when_halfway(program: str) -> None:
    """Run ``program`` in a new interpreter and SIGKILL it once it prints ``halfway``."""
    process = subprocess.Popen([sys.executable, "-c", program], stdout=subprocess.PIPE)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == b"halfway"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()

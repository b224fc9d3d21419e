"""The shipped examples run as documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_pipeline_example_runs_end_to_end(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "pipeline" / "run.py"),
                           str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "built 30 requests in 3 shards"
    assert lines[1:4] == [f"validate requests-0000{i}.jsonl: ok" for i in (1, 2, 3)]
    assert lines[-1] == "validate retry.jsonl: ok"
    join_line = next(line for line in lines if line.startswith("join:"))
    assert "'inputs': 30" in join_line
    assert (tmp_path / "requests" / "manifest.json").exists()
    assert (tmp_path / "retry.jsonl").stat().st_size > 0

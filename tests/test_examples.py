"""The shipped examples run as documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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


def test_the_ray_example_runs_on_a_local_cluster(tmp_path: Path) -> None:
    pytest.importorskip("ray.data", reason="the [ray] extra is not installed")
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "ray" / "run.py"),
                           str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[:2] == ["built 1000 requests in 4 shards",
                         "validated 4 shards on Ray: 0 errors"]
    assert lines[2].startswith("joined 1000 rows: ")
    assert lines[3].startswith("by status: [")
    assert "Traceback" not in done.stderr
    import pyarrow.parquet

    table = pyarrow.parquet.read_table(tmp_path / "joined.parquet")
    assert table.num_rows == 1000
    assert table.column("custom_id").to_pylist() == [f"p-{i:05d}" for i in range(1000)]


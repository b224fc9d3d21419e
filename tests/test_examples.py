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


def test_the_rounds_example_runs_a_three_round_campaign_twice(tmp_path: Path) -> None:
    import orjson
    import pyarrow.parquet

    import batchio

    script = ROOT / "examples" / "rounds" / "run.sh"
    # The README tells users to run it from the repository's root; batchio on PATH.
    env = {**__import__("os").environ,
           "PATH": f"{Path(sys.executable).parent}:{__import__('os').environ['PATH']}"}
    for _ in range(2):  # a second run in the same folder starts the job over, cleanly
        done = subprocess.run(["bash", str(script), str(tmp_path)], capture_output=True,
                              text=True, timeout=300, cwd=ROOT, env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Traceback" not in done.stderr
    table = pyarrow.parquet.read_table(tmp_path / "final.parquet").to_pylist()
    assert len(table) == 30 and len({row["custom_id"] for row in table}) == 30
    with batchio.Campaign(tmp_path / "job.ledger", create=False) as campaign:
        status = campaign.status()
    assert status.total["requests"] == 30
    assert status.total["succeeded"] == sum(row["status"] == "succeeded" for row in table)
    rounds = [item.round for item in status.rounds]
    assert rounds[0] == 1 and rounds == list(range(1, len(rounds) + 1))
    # Every id of round 2 was retried from round 1's own request line.
    first = {orjson.loads(line)["custom_id"]: line
             for shard in sorted((tmp_path / "round1").glob("requests-*.jsonl"))
             for line in shard.read_bytes().splitlines()}
    for line in (tmp_path / "round2" / "requests-00001.jsonl").read_bytes().splitlines():
        assert first[orjson.loads(line)["custom_id"]] == line

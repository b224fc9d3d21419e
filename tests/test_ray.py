"""batchio.ray on a real local Ray cluster (two CPUs), started once for these tests."""

from __future__ import annotations

import gzip
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

ray = pytest.importorskip("ray", reason="the [ray] extra is not installed")
ray_data = pytest.importorskip("ray.data", reason="the [ray] extra is not installed")

import batchio  # noqa: E402
import batchio.ray as batchio_ray  # noqa: E402
from batchio.arrow import read_batches  # noqa: E402


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
             configure_logging=False)
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    ray_data.DataContext.get_current().enable_progress_bars = False
    yield
    ray.shutdown()


def request(custom_id: str, model: str = "gpt-4o-mini") -> bytes:
    return orjson.dumps({"custom_id": custom_id, "method": "POST",
                         "url": "/v1/chat/completions",
                         "body": {"model": model, "messages": [
                             {"role": "user", "content": "hi"}]}}) + b"\n"


@pytest.fixture()
def files(tmp_path: Path) -> list[Path]:
    first = tmp_path / "a.jsonl"
    first.write_bytes(b"".join(request(f"a{i}") for i in range(5)) + b"{not json\n\n"
                      + request("shared") + request("a0"))
    second = tmp_path / "b.jsonl.gz"
    second.write_bytes(gzip.compress(request("shared") + request("b1", model="gpt-4o")
                                     + request("shared") + b'{"custom_id": "b2"}\n'))
    third = tmp_path / "c.jsonl"
    third.write_bytes(request("c1") + request("shared"))
    return [first, second, third]


def test_the_lines_dataset_is_the_readers_lines(cluster: None, files: list[Path]) -> None:
    rows = batchio_ray.read_batch_files(files, rows=2).take_all()
    expected = [row for path in files for batch in read_batches(path)
                for row in batch.to_pylist()]
    assert rows == expected  # files in the order given, lines in file order
    assert len(rows) == 9 + 4 + 2


def test_each_report_is_the_local_report(cluster: None, files: list[Path]) -> None:
    reports = batchio_ray.validate(files, provider="openai")
    local = [batchio.validate(path, provider="openai") for path in files]
    assert [report.to_dict() for report in reports] == [report.to_dict() for report in local]
    assert [(problem.code, problem.line) for problem in reports[0].errors] == [
        ("invalid_json_line", 6), ("duplicate_custom_id", 9)]
    assert [(problem.code, problem.line) for problem in reports[0].warnings] == [
        ("blank_line", 7)]


def test_an_id_used_in_two_files_is_found(cluster: None, files: list[Path]) -> None:
    reports = batchio_ray.validate(files, provider="openai", unique_across_files=True)
    across = [(Path(problem.path or "").name, problem.line, problem.message)
              for report in reports for problem in report.errors
              if problem.code == "duplicate_custom_id" and "already used in" in problem.message]
    assert across == [
        ("b.jsonl.gz", 1, f"custom_id 'shared' was already used in {files[0]} on line 8"),
        ("c.jsonl", 2, f"custom_id 'shared' was already used in {files[0]} on line 8")]
    # The second file's own repeat stays its own report's, reported once.
    second: Any = reports[1]
    assert [(problem.code, problem.line) for problem in second.errors
            if problem.code == "duplicate_custom_id"] == [("duplicate_custom_id", 1),
                                                         ("duplicate_custom_id", 3)]
    assert second.counts["duplicate_custom_id"] == 2


def test_shards_written_through_ray_equal_split_after_a_killed_task(
        cluster: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inputs = []
    for number in range(3):
        path = tmp_path / f"in-{number}.jsonl"
        path.write_bytes(b"".join(request(f"r{number}-{i}") for i in range(40)))
        inputs.append(path)
    together = tmp_path / "together.jsonl"
    together.write_bytes(b"".join(path.read_bytes() for path in inputs))
    expected = batchio.split(together, tmp_path / "split", max_requests=25)

    # The second write task's worker dies once, half way through its part; Ray runs the
    # task again, which must replace the part, not add one.
    marker = tmp_path / "killed-once"
    base = batchio_ray._shard_sink_type()

    class DiesOnce(base):  # type: ignore[misc,valid-type]
        def write(self, blocks: Any, ctx: Any) -> Any:
            if ctx.task_idx == 1 and not marker.exists():
                marker.write_text("x")
                folder = Path(self.out_dir) / batchio_ray.PARTS_FOLDER
                (folder / f"{ctx.task_idx:08d}.jsonl.{os.getpid()}.tmp").write_bytes(b"{half")
                os._exit(1)
            return super().write(blocks, ctx)

    monkeypatch.setattr(batchio_ray, "_shard_sink_type", lambda: DiesOnce)
    manifest = batchio_ray.write_shards(batchio_ray.read_batch_files(inputs),
                                        tmp_path / "ray", max_requests=25)
    assert marker.exists()
    assert [shard.to_dict() for shard in manifest.shards] == [
        shard.to_dict() for shard in expected.shards]
    for shard in expected.shards:
        assert (tmp_path / "ray" / shard.path).read_bytes() == \
            (tmp_path / "split" / shard.path).read_bytes()
    assert sorted(path.name for path in (tmp_path / "ray").iterdir()) == sorted(
        path.name for path in (tmp_path / "split").iterdir())


def shards_with_results(tmp_path: Path, ids: list[str]) -> tuple[Path, Path]:
    source = tmp_path / "requests.jsonl"
    source.write_bytes(b"".join(request(cid) for cid in ids))
    manifest = batchio.split(source, tmp_path / "shards", max_requests=20)
    results = tmp_path / "results"
    results.mkdir()
    for number, shard in enumerate(manifest.shards):
        stem = Path(shard.path).name.removesuffix(".jsonl")
        batchio.simulate(tmp_path / "shards" / shard.path, seed=number, failure_rate=0.2,
                         expire_rate=0.1, missing_rate=0.1,
                         output=results / f"{stem}.output.jsonl",
                         errors=results / f"{stem}.errors.jsonl")
    return tmp_path / "shards" / "manifest.json", results


def test_a_join_through_ray_is_the_local_join(cluster: None, tmp_path: Path) -> None:
    manifest, results = shards_with_results(tmp_path, [f"r{i}" for i in range(70)])
    on_ray = batchio_ray.join(manifest, results=results, check_outputs=True)
    local = batchio.join(manifest, results=results, check_outputs=True)
    table = local.to_arrow()
    import pyarrow

    joined = pyarrow.concat_tables(ray.get(on_ray.dataset.to_arrow_refs()))
    assert joined.to_pylist() == table.to_pylist()
    assert on_ray.summary.to_dict() == local.summary.to_dict()
    assert on_ray.summary.inputs == 70 and on_ray.summary.counts["missing"] > 0


def test_a_join_through_ray_refuses_what_the_local_join_refuses(
        cluster: None, tmp_path: Path) -> None:
    ids = [f"r{i}" for i in range(70)]
    ids[55] = "r3"  # a later shard uses an id again
    manifest, results = shards_with_results(tmp_path, ids)
    with pytest.raises(batchio.DuplicateIdError) as local:
        list(batchio.join(manifest, results=results))
    with pytest.raises(batchio.DuplicateIdError) as on_ray:
        batchio_ray.join(manifest, results=results)
    assert str(on_ray.value) == str(local.value)
    (results / "stray.output.jsonl").write_bytes(b"")
    with pytest.raises(batchio.UsageError, match="named after no shard"):
        batchio_ray.join(manifest, results=results)


def test_a_dataset_of_lines_is_validated_file_by_file(cluster: None, files: list[Path]) -> None:
    lines = batchio_ray.read_batch_files(files, rows=3)
    reports = batchio_ray.validate(lines, provider="openai", unique_across_files=True)
    by_path = batchio_ray.validate(files, provider="openai", unique_across_files=True)
    assert [report.path for report in reports] == sorted(str(path) for path in files)
    assert sorted((report.to_dict() for report in reports), key=lambda r: r["path"]) == \
        sorted((report.to_dict() for report in by_path), key=lambda r: r["path"])


def test_a_join_through_ray_refuses_results_filed_under_another_shard(
        cluster: None, tmp_path: Path) -> None:
    manifest, results = shards_with_results(tmp_path, [f"r{i}" for i in range(40)])
    # The second shard's answers appended to the first shard's output file.
    first, second = sorted(results.glob("*.output.jsonl"))[:2]
    with first.open("ab") as handle:
        handle.write(second.read_bytes())
    second.write_bytes(b"")
    local = batchio.join(manifest, results=results)
    list(local)
    assert local.summary.orphans == []  # the local join matches across the folder
    with pytest.raises(batchio.JoinError) as raised:
        batchio_ray.join(manifest, results=results)
    assert raised.value.code == "misfiled_results"
    assert raised.value.path == str(first)


def test_write_shards_of_an_empty_dataset_writes_a_manifest_of_no_shards(
        cluster: None, tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_bytes(b"")
    manifest = batchio_ray.write_shards(batchio_ray.read_batch_files([tmp_path / "empty.jsonl"]),
                                        tmp_path / "out")
    assert (manifest.requests, manifest.shards, manifest.complete) == (0, [], True)
    assert batchio.Manifest.load(tmp_path / "out").requests == 0
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["manifest.json"]


def test_write_shards_never_writes_through_a_planted_link(cluster: None, tmp_path: Path
                                                          ) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"".join(request(f"r{i}") for i in range(30)))
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "requests-00001.jsonl").symlink_to(victim)
    (out / batchio_ray.PARTS_FOLDER).symlink_to(elsewhere)
    manifest = batchio_ray.write_shards(batchio_ray.read_batch_files([source]), out,
                                        overwrite=True)
    assert manifest.requests == 30
    assert victim.read_text() == "keep me"
    assert list(elsewhere.iterdir()) == []
    assert not (out / "requests-00001.jsonl").is_symlink()
    assert (out / "requests-00001.jsonl").read_bytes() == source.read_bytes()

"""Promise 1: nothing lost or misreported, whatever the input or the folder."""

from __future__ import annotations

import gzip
import io
import math
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import orjson
import pytest
import zstandard
from promises import leftovers, one_line_error, request, requests, run

import batchio
from batchio import (
    BatchioWarning,
    JoinError,
    LineError,
    Manifest,
    RequestWriter,
    SourceError,
    UsageError,
    join,
    read_lines,
    split,
    validate,
    validate_files,
    write_lines,
    write_retry,
)


def test_split_refuses_a_broken_line_with_its_real_number(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_bytes(request("a") + b"{not json\n" + request("c"))
    result = run("split", "in.jsonl", "--out-dir", "out", cwd=tmp_path)
    assert result.returncode == 2
    assert one_line_error(result).startswith("batchio: in.jsonl:2: invalid_json_line: ")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.jsonl"))


def test_split_leaves_no_unlisted_shard(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_bytes(requests(3) + b"[1]\n" + requests(2, "s"))
    with pytest.raises(LineError) as raised:
        split(tmp_path / "in.jsonl", tmp_path / "out", max_requests=1)
    assert (raised.value.code, raised.value.line) == ("not_an_object", 4)
    manifest = Manifest.load(tmp_path / "out")
    on_disk = sorted(path.name for path in (tmp_path / "out").glob("*.jsonl"))
    assert not manifest.complete
    # The shard open when the bad line came is discarded; the finished ones are listed.
    assert on_disk == [shard.path for shard in manifest.shards] == [
        "requests-00001.jsonl", "requests-00002.jsonl"]
    assert leftovers(tmp_path) == []


def test_a_folder_of_an_earlier_run_is_refused_then_replaced_with_overwrite(
        tmp_path: Path) -> None:
    (tmp_path / "big.jsonl").write_bytes(requests(6))
    (tmp_path / "small.jsonl").write_bytes(requests(1, "x"))
    assert run("split", "big.jsonl", "--out-dir", "out", "--max-requests", "2",
               cwd=tmp_path).returncode == 0
    (tmp_path / "out" / "notes.txt").write_text("mine")
    refused = run("split", "small.jsonl", "--out-dir", "out", cwd=tmp_path)
    assert refused.returncode == 2
    assert "target_exists" in one_line_error(refused)
    assert len(list((tmp_path / "out").glob("requests-*.jsonl"))) == 3
    replaced = run("split", "small.jsonl", "--out-dir", "out", "--overwrite", cwd=tmp_path)
    assert replaced.returncode == 0, replaced.stderr
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == [
        "manifest.json", "notes.txt", "requests-00001.jsonl"]


def test_overwrite_never_removes_the_input(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_bytes(requests(2))
    split(tmp_path / "in.jsonl", tmp_path / "out")
    shard = tmp_path / "out" / "requests-00001.jsonl"
    with pytest.raises(UsageError) as raised:
        split(shard, tmp_path / "out", overwrite=True)
    assert raised.value.code == "same_file"
    assert shard.read_bytes() == requests(2)


def test_a_complete_manifest_matches_its_shards(tmp_path: Path) -> None:
    import hashlib

    (tmp_path / "in.jsonl").write_bytes(requests(25))
    manifest = split(tmp_path / "in.jsonl", tmp_path / "out", max_requests=10)
    assert manifest.complete and manifest.requests == 25
    for shard in manifest.shards:
        data = (tmp_path / "out" / shard.path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == shard.sha256 and len(data) == shard.bytes


def test_a_manifest_whose_split_did_not_finish_is_refused_by_every_reader(
        tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_bytes(requests(3) + b"[1]\n")
    with pytest.raises(LineError):
        split(tmp_path / "in.jsonl", tmp_path / "out", max_requests=1)
    (tmp_path / "out.jsonl").write_bytes(b"")
    with pytest.raises(UsageError) as raised:
        join(tmp_path / "out", outputs=tmp_path / "out.jsonl")
    assert (raised.value.code, raised.value.path) == (
        "incomplete_manifest", str(tmp_path / "out" / "manifest.json"))
    for command in (["estimate", "out/manifest.json"],
                    ["join", "--manifest", "out", "--results", "out.jsonl", "-o", "j.jsonl"]):
        result = run(*command, cwd=tmp_path)
        assert result.returncode == 2
        assert one_line_error(result) == (
            "batchio: out/manifest.json: incomplete_manifest: the split that wrote it did not "
            "finish (complete: false): the 2 shards it lists may not hold every request; "
            "split again with --overwrite, or name the shard files to read just those")
    assert not (tmp_path / "j.jsonl").exists()


def test_a_shard_changed_since_split_is_read_as_it_is_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_bytes(requests(4))
    split(tmp_path / "in.jsonl", tmp_path / "out", max_requests=2)
    shard = tmp_path / "out" / "requests-00002.jsonl"
    shard.write_bytes(shard.read_bytes() + requests(1, "extra"))
    (tmp_path / "out.jsonl").write_bytes(b"")
    with pytest.warns(BatchioWarning) as warned:
        joined = join(tmp_path / "out", outputs=tmp_path / "out.jsonl")
    assert [(w.message.code, w.message.path) for w in warned  # type: ignore[union-attr]
            ] == [("changed_shard", str(shard))]
    assert [row.custom_id for row in joined][-1] == "extra0"
    result = run("join", "--manifest", "out", "--results", "out.jsonl", "-o", "j.jsonl",
                 cwd=tmp_path)
    assert result.returncode == 0
    size = shard.stat().st_size
    assert result.stderr.splitlines()[0] == (
        f"batchio: warning: out/requests-00002.jsonl: changed_shard: {size:,} bytes, not the "
        f"{size - len(requests(1, 'extra')):,} that out/manifest.json lists: changed since "
        "split (read as it is now)")
    assert "5 requests" in result.stdout


@pytest.mark.parametrize("name", ["../in.jsonl", "/etc/passwd", "sub/x.jsonl", "..", ""])
def test_a_manifest_naming_a_shard_outside_its_folder_is_not_read(tmp_path: Path,
                                                                  name: str) -> None:
    (tmp_path / "in.jsonl").write_bytes(requests(2))
    split(tmp_path / "in.jsonl", tmp_path / "out")
    manifest = tmp_path / "out" / "manifest.json"
    data = orjson.loads(manifest.read_bytes())
    data["shards"][0]["path"] = name
    manifest.write_bytes(orjson.dumps(data))
    with pytest.raises(SourceError, match="is not a file name in the manifest's folder"):
        join(tmp_path / "out", outputs=tmp_path / "in.jsonl")
    result = run("estimate", "out", cwd=tmp_path)
    assert result.returncode == 2
    assert one_line_error(result).startswith(
        "batchio: out/manifest.json: unreadable_file: cannot read manifest out/manifest.json: "
        "not a batchio manifest (shard path ")


def test_model_names_that_read_alike_get_their_own_shards(tmp_path: Path) -> None:
    models = ["gpt-4o/mini", "gpt-4o:mini", "GPT-4o-mini", "gpt-4o-mini", "m" * 300]
    (tmp_path / "in.jsonl").write_bytes(b"".join(
        request(f"r{index}", model) for index, model in enumerate(models)))
    manifest = split(tmp_path / "in.jsonl", tmp_path / "out", by_model=True)
    names = [shard.path for shard in manifest.shards]
    assert len(names) == len({name.lower() for name in names}) == 5
    assert all(len(name) < 100 for name in names)
    assert sorted(shard.model or "" for shard in manifest.shards) == sorted(models)
    again = split(tmp_path / "in.jsonl", tmp_path / "again", by_model=True)
    assert [shard.path for shard in again.shards] == names


@pytest.mark.parametrize("cut", ["frame", "block", "middle"])
def test_truncated_zstd_is_an_error(tmp_path: Path, cut: str) -> None:
    compressor = zstandard.ZstdCompressor()
    data = requests(2000)
    if cut == "frame":
        whole = compressor.compress(data)
        # A second frame cut off after its header: the file ends inside that frame.
        second = compressor.compress(requests(10, "t"))
        path_bytes = whole + second[:8]
    else:
        whole = compressor.compress(data)
        path_bytes = whole[: len(whole) // 2] if cut == "middle" else whole[:-3]
    path = tmp_path / "in.jsonl.zst"
    path.write_bytes(path_bytes)
    with pytest.raises(SourceError, match="truncated"):
        list(read_lines(path))
    result = run("validate", path)
    assert result.returncode == 2 and "truncated" in one_line_error(result)


def test_zstd_of_several_frames_is_read_whole(tmp_path: Path) -> None:
    compressor = zstandard.ZstdCompressor()
    path = tmp_path / "in.jsonl.zst"
    path.write_bytes(compressor.compress(requests(3)) + compressor.compress(requests(4, "t")))
    assert len(list(read_lines(path))) == 7


@pytest.mark.parametrize("keep", [10, 100, -8, -1])
def test_truncated_gzip_is_an_error(tmp_path: Path, keep: int) -> None:
    path = tmp_path / "in.jsonl.gz"
    path.write_bytes(gzip.compress(requests(500))[:keep])
    with pytest.raises(SourceError):
        list(read_lines(path))


def test_duplicate_keys_are_read_alike_and_warned(tmp_path: Path) -> None:
    line = (b'{"custom_id":"a","custom_id":"b","method":"POST","url":"/v1/chat/completions",'
            b'"body":{"model":"m","messages":[{"role":"user","content":"hi"}]}}\n')
    (tmp_path / "in.jsonl").write_bytes(line)
    report = validate(tmp_path / "in.jsonl", provider="openai")
    assert [(w.code, w.line, w.param) for w in report.warnings] == [
        ("duplicate_key", 1, "custom_id")]
    result = (b'{"custom_id":"a","custom_id":"b","response":{"status_code":200,'
              b'"body":{}},"error":null}\n')
    (tmp_path / "out.jsonl").write_bytes(result)
    rows = list(join(tmp_path / "in.jsonl", outputs=tmp_path / "out.jsonl"))
    assert [(row.custom_id, row.status) for row in rows] == [("b", "succeeded")]


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_are_never_written_as_null(tmp_path: Path, value: float) -> None:
    with pytest.raises(LineError) as raised:
        write_lines(tmp_path / "x.jsonl", [{"a": {"b": [1, value]}}])
    assert (raised.value.code, raised.value.param) == ("non_finite_number", "a.b[1]")
    assert not (tmp_path / "x.jsonl").exists()
    with RequestWriter(tmp_path / "r.jsonl") as writer, pytest.raises(LineError) as raised:
        writer.add({"model": "m", "messages": [{"role": "user", "content": "x"}],
                    "a_new_parameter": value})
    assert (raised.value.code, raised.value.line, raised.value.param) == (
        "non_finite_number", 1, "body.a_new_parameter")


@pytest.mark.parametrize(("row", "message"), [
    ({"id": None, "prompt": "p"}, "id field 'id' is empty (null)"),
    ({"id": {"a": 1}, "prompt": "p"}, "id field 'id' is {\"a\": 1}, not text"),
    ({"id": 1.5, "prompt": "p"}, "id field 'id' is 1.5, not text"),
    ({"id": "k", "prompt": None}, "prompt field 'prompt' is empty (null)"),
    ({"prompt": "p"}, "has no id field 'id' (its fields: 'prompt')"),
    ({"id": "k", "prompt": ["x"]}, "prompt field 'prompt' is [\"x\"], not text"),
])
def test_build_never_turns_values_into_text(tmp_path: Path, row: dict[str, object],
                                            message: str) -> None:
    (tmp_path / "rows.jsonl").write_bytes(orjson.dumps(row) + b"\n")
    result = run("build", "rows.jsonl", "-o", "out.jsonl", "--model", "m", "--id-field", "id",
                 cwd=tmp_path)
    assert result.returncode == 2
    assert message in one_line_error(result)
    assert "rows.jsonl:1:" in result.stderr
    assert not (tmp_path / "out.jsonl").exists()


def test_build_reads_a_csv_with_a_byte_order_mark_and_names_missing_fields(
        tmp_path: Path) -> None:
    (tmp_path / "rows.csv").write_bytes(b"\xef\xbb\xbfqid,prompt\nq1,Hello\n")
    built = run("build", "rows.csv", "-o", "out.jsonl", "--model", "m", "--id-field", "qid",
                cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert [line.value["custom_id"] for line in read_lines(tmp_path / "out.jsonl")] == ["q1"]
    missing = run("build", "rows.csv", "-o", "x.jsonl", "--model", "m", "--id-field", "id",
                  cwd=tmp_path)
    assert "row 2 has no id field 'id' (its fields: 'qid', 'prompt')" in one_line_error(missing)


@pytest.mark.parametrize("args", [
    ["join", "in.jsonl", "--results", "out.jsonl", "--errors", "out.jsonl"],
    ["join", "in.jsonl", "--results", "out.jsonl", "--retry", "in.jsonl"],
    ["join", "in.jsonl", "--results", "out.jsonl", "-o", "in.jsonl"],
    ["join", "in.jsonl", "--results", "out.jsonl", "-o", "./out.jsonl"],
    ["convert", "in.jsonl", "-o", "in.jsonl"],
    ["convert", "in.jsonl", "-o", "c.jsonl", "--mapping", "c.jsonl"],
    ["simulate", "in.jsonl", "-o", "o.jsonl", "--batch-json", "o.jsonl"],
    ["simulate", "in.jsonl", "-o", "in.jsonl"],
    ["build", "in.jsonl", "-o", "in.jsonl", "--prompt-field", "custom_id"],
    ["build", "in.jsonl", "-o", "schema.json", "--prompt-field", "custom_id", "--model", "m",
     "--json-schema", "schema.json"],
    ["build", "in.jsonl", "-o", "body.json", "--prompt-field", "custom_id", "--body-template",
     "body.json"],
    ["convert", "in.jsonl", "-o", "models.json", "--model-map", "models.json"],
    ["campaign", "final", "job.ledger", "-o", "job.ledger"],
    ["campaign", "final", "job.ledger", "-o", "in.jsonl"],
])
def test_one_file_for_two_roles_is_refused_before_anything_is_written(
        tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "in.jsonl").write_bytes(requests(3))
    (tmp_path / "out.jsonl").write_bytes(b"")
    (tmp_path / "schema.json").write_bytes(b'{"type": "object", "properties": {"a": {"type": '
                                           b'"string"}}, "required": ["a"], '
                                           b'"additionalProperties": false}')
    (tmp_path / "body.json").write_bytes(b'{"model": "m", "messages": [{"role": "user", '
                                         b'"content": "{custom_id}"}]}')
    (tmp_path / "models.json").write_bytes(b'{"gpt-4o-mini": "claude-haiku-4-5"}')
    if args[0] == "campaign":
        recorded = run("campaign", "record", "job.ledger", "--round", "1", "--requests",
                       "in.jsonl", "--results", "out.jsonl", cwd=tmp_path)
        assert recorded.returncode == 0, recorded.stderr
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert "same_file" in one_line_error(result)
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before


def test_write_retry_writes_when_called(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_bytes(requests(3))
    (tmp_path / "out.jsonl").write_bytes(b"")
    count = write_retry(join(tmp_path / "in.jsonl", outputs=tmp_path / "out.jsonl"),
                        tmp_path / "retry.jsonl")
    assert count == 3
    assert (tmp_path / "retry.jsonl").read_bytes() == requests(3)


def test_a_joins_summary_comes_after_its_rows_and_a_second_reading_reads_again(
        tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_bytes(requests(2))
    (tmp_path / "out.jsonl").write_bytes(b"")
    joined = join(tmp_path / "in.jsonl", outputs=tmp_path / "out.jsonl")
    with pytest.raises(JoinError, match="after its rows"):
        joined.summary  # noqa: B018
    first = list(joined)
    assert len(first) == 2
    assert joined.summary.counts["missing"] == 2
    # Read again: the files are read again and the summary made anew, not added to.
    assert list(joined) == first
    assert joined.summary.counts["missing"] == 2 and joined.summary.inputs == 2


def test_strict_join_raises_for_orphans_before_any_row(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_bytes(requests(2))
    (tmp_path / "out.jsonl").write_bytes(orjson.dumps({
        "custom_id": "zzz", "response": {"status_code": 200, "body": {}}, "error": None}) + b"\n")
    rows = iter(join(tmp_path / "in.jsonl", outputs=tmp_path / "out.jsonl", strict=True))
    with pytest.raises(JoinError) as raised:
        next(rows)
    assert raised.value.code == "orphan_result"


def test_bool_of_a_report_is_its_verdict_and_a_list_of_paths_is_refused(
        tmp_path: Path) -> None:
    (tmp_path / "bad.jsonl").write_bytes(b"[1]\n")
    assert not validate(tmp_path / "bad.jsonl")
    with pytest.raises(UsageError, match="validate_files"):
        validate([str(tmp_path / "bad.jsonl"), str(tmp_path / "other.jsonl")])


@pytest.mark.parametrize("results", [None, "unreadable"])
def test_join_says_why_when_nothing_can_be_joined(tmp_path: Path, results: str | None
                                                  ) -> None:
    (tmp_path / "in.jsonl").write_bytes(requests(2))
    (tmp_path / "out.jsonl").write_bytes(b"not json\n{]\n")
    args = ["join", "in.jsonl", "-o", "j.jsonl"]
    if results:
        args += ["--results", "out.jsonl"]
    result = run(*args, cwd=tmp_path)
    assert result.returncode in ((2,) if results is None else (1,))
    assert ("give the result files" if results is None else
            "batchio: out.jsonl:1: results_do_not_match: none of the 2 result lines of "
            "out.jsonl could be read as OpenAI Batch API results (the first: This line is not "
            "parseable as valid JSON: invalid literal, expected 'null' (column 1)); nothing "
            "was written, and no retry file, which would resubmit and pay for its requests "
            "again: are they another provider's? (--provider, provider= in Python)\n"
            ) in result.stderr
    assert not (tmp_path / "j.jsonl").exists()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_results_none_of_which_can_be_read_write_no_retry_file(tmp_path: Path,
                                                                jobs: str) -> None:
    """Every request would be failed or missing, and the retry file the whole job: the
    files from an earlier run are left as they were."""
    (tmp_path / "in.jsonl").write_bytes(requests(40))
    done = run("simulate", "in.jsonl", "-o", "out.jsonl", "--missing", "0", "--fail", "0",
               "--expire", "0", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (tmp_path / "j.jsonl").write_bytes(b"earlier table\n")
    (tmp_path / "retry.jsonl").write_bytes(b"earlier retry\n")
    result = run("join", "in.jsonl", "--results", "out.jsonl", "--provider", "anthropic",
                 "-o", "j.jsonl", "--retry", "retry.jsonl", "--jobs", jobs, cwd=tmp_path)
    assert result.returncode == 1
    line = one_line_error(result)
    assert ": results_do_not_match: none of the 40 result lines of out.jsonl could be read " \
           "as Anthropic Message Batches results (the first: not a result line of Anthropic " \
           "Message Batches: it has no 'result' field); nothing was written, and no retry " \
           "file" in line
    assert (tmp_path / "j.jsonl").read_bytes() == b"earlier table\n"
    assert (tmp_path / "retry.jsonl").read_bytes() == b"earlier retry\n"
    assert leftovers(tmp_path) == []
    joined = join(tmp_path / "in.jsonl", outputs=tmp_path / "out.jsonl", provider="anthropic")
    with pytest.raises(JoinError) as raised:
        batchio.write_join(joined, tmp_path / "j.parquet", retry=tmp_path / "retry.jsonl",
                           workers=int(jobs))
    assert raised.value.code == "results_do_not_match" and raised.value.line is not None
    assert joined.summary.none_readable and joined.summary.counts["failed"] == 40
    assert not (tmp_path / "j.parquet").exists()


def test_request_writer_after_close_refuses_to_lose_a_request(tmp_path: Path) -> None:
    writer = RequestWriter(tmp_path / "r.jsonl")
    writer.add({"model": "m", "messages": [{"role": "user", "content": "x"}]})
    writer.close()
    with pytest.raises(SourceError, match="closed"):
        writer.add({"model": "m", "messages": [{"role": "user", "content": "y"}]})
    assert len(list(read_lines(tmp_path / "r.jsonl"))) == 1


def test_read_lines_refuses_a_text_stream() -> None:
    with pytest.raises(UsageError, match="binary"):
        read_lines(io.StringIO('{"a": 1}\n'))


def _fed_fifo(path: Path, data: bytes) -> threading.Thread:
    """A FIFO at ``path`` that a thread fills with ``data`` once a reader opens it."""
    os.mkfifo(path)

    def feed() -> None:
        with open(path, "wb") as fifo:
            fifo.write(data)

    thread = threading.Thread(target=feed, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("command", [
    ["validate", "in.fifo"],
    ["estimate", "in.fifo", "--format", "json"],
    ["split", "in.fifo", "--out-dir", "shards", "--max-requests", "2"],
    ["join", "in.fifo", "--results", "out.jsonl", "-o", "joined.jsonl"],
    ["simulate", "in.fifo", "-o", "sim.jsonl", "--missing", "0"],
])
def test_input_read_once_from_a_fifo_loses_no_request(tmp_path: Path,
                                                      command: list[str]) -> None:
    (tmp_path / "out.jsonl").write_bytes(b"".join(orjson.dumps({
        "custom_id": f"r{n}", "response": {"status_code": 200, "body": {}}, "error": None})
        + b"\n" for n in range(5)))
    feeder = _fed_fifo(tmp_path / "in.fifo", requests(5))
    result = run(*command, cwd=tmp_path, timeout=60)
    feeder.join(5)
    assert "Traceback" not in result.stderr
    assert result.returncode == 0, result.stderr
    if command[0] == "validate":
        assert "ok (5 requests, 5 lines" in result.stderr + result.stdout
    else:
        assert result.stderr.splitlines()[0] == (
            "batchio: warning: in.fifo: provider_assumed: read once (stdin, a pipe or a "
            "FIFO), so its provider is not detected: openai is assumed; give --provider "
            "(provider= in Python) to choose")
    if command[0] == "estimate":
        assert orjson.loads(result.stdout)["requests"] == 5
    elif command[0] == "split":
        assert Manifest.load(tmp_path / "shards").requests == 5
    elif command[0] == "join":
        assert "5 requests: 5 succeeded" in result.stdout
        assert len((tmp_path / "joined.jsonl").read_bytes().splitlines()) == 5
    elif command[0] == "simulate":
        assert len((tmp_path / "sim.jsonl").read_bytes().splitlines()) >= 4


def test_result_files_given_as_iterators_are_read_once(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_bytes(requests(3))
    (tmp_path / "out.jsonl").write_bytes(b"".join(orjson.dumps({
        "custom_id": f"r{n}", "response": {"status_code": 200, "body": {}}, "error": None})
        + b"\n" for n in range(3)))
    joined = join(tmp_path / "in.jsonl", outputs=iter([tmp_path / "out.jsonl"]),
                  errors=iter([]))
    assert [row.status for row in joined] == ["succeeded"] * 3
    assert write_retry(join(tmp_path / "in.jsonl", outputs=iter([tmp_path / "out.jsonl"])),
                       tmp_path / "retry.jsonl") == 0


def test_a_file_read_both_as_input_and_as_results_is_refused(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_bytes(requests(3))
    (tmp_path / "out.jsonl").write_bytes(b"")
    with pytest.raises(UsageError) as raised:
        join(tmp_path / "in.jsonl", outputs=tmp_path / "out.jsonl",
             errors=tmp_path / "in.jsonl")
    assert raised.value.code == "same_file"
    split(tmp_path / "in.jsonl", tmp_path / "shards")
    result = run("join", "--manifest", "shards", "--results", "shards", "-o", "j.jsonl",
                 "--retry", "r.jsonl", cwd=tmp_path)
    assert result.returncode == 2
    assert one_line_error(result) == (
        "batchio: shards/requests-00001.jsonl: same_file: shards/requests-00001.jsonl is "
        "named as a result file and as an input (shards/requests-00001.jsonl): its lines "
        "would be read twice; name each file once, in its one role")
    assert not (tmp_path / "j.jsonl").exists() and not (tmp_path / "r.jsonl").exists()


def test_a_manifest_of_no_shards_or_of_wrong_types_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "zero").mkdir()
    (tmp_path / "zero" / "manifest.json").write_bytes(
        b'{"provider": "openai", "complete": true, "shards": []}')
    for command in (["estimate", "zero"], ["validate", "zero"],
                    ["join", "--manifest", "zero", "--results", "zero/manifest.json"]):
        result = run(*command, cwd=tmp_path)
        assert result.returncode == 2
        assert one_line_error(result) == (
            f"batchio: invalid_argument: no request file to {command[0]}: zero lists no "
            "shards")
    (tmp_path / "in.jsonl").write_bytes(requests(2))
    split(tmp_path / "in.jsonl", tmp_path / "out")
    manifest = tmp_path / "out" / "manifest.json"
    data = orjson.loads(manifest.read_bytes())
    manifest.write_bytes(orjson.dumps({**data, "complete": "false"}))
    result = run("estimate", "out", cwd=tmp_path)
    assert result.returncode == 2
    assert one_line_error(result).endswith(
        "not a batchio manifest (Expected `bool`, got `str` - at `$.complete`)")


def test_a_shard_linked_out_of_its_folder_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_bytes(requests(2))
    split(tmp_path / "in.jsonl", tmp_path / "out")
    shard = tmp_path / "out" / "requests-00001.jsonl"
    shard.unlink()
    shard.symlink_to(tmp_path / "in.jsonl")
    with pytest.raises(SourceError, match="is a link out of its folder"):
        join(tmp_path / "out")


def test_validate_reads_a_shard_folder_as_its_shards(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_bytes(requests(5))
    split(tmp_path / "in.jsonl", tmp_path / "out", max_requests=2)
    result = run("validate", "out", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    files = orjson.loads(result.stdout)["files"]
    assert [(file["path"], file["requests"]) for file in files] == [
        ("out/requests-00001.jsonl", 2), ("out/requests-00002.jsonl", 2),
        ("out/requests-00003.jsonl", 1)]
    assert [report.requests for report in validate_files([tmp_path / "out"])] == [2, 2, 1]


def test_standard_input_is_read_in_one_role_and_by_this_process(tmp_path: Path) -> None:
    data = requests(3)
    result = run("join", "-", "--results", "-", "-o", "j.jsonl", cwd=tmp_path, stdin=data)
    assert result.returncode == 2
    assert one_line_error(result) == (
        "batchio: -: same_file: - is named as a result file and as an input (-): its lines "
        "would be read twice; name each file once, in its one role")
    assert not (tmp_path / "j.jsonl").exists()
    (tmp_path / "in.jsonl").write_bytes(data)
    result = run("validate", "--jobs", "2", "-", "in.jsonl", "--format", "json",
                 cwd=tmp_path, stdin=data)
    assert result.returncode == 0, result.stderr
    assert [file["requests"] for file in orjson.loads(result.stdout)["files"]] == [3, 3]


@pytest.mark.parametrize(("change", "message"), [
    ({"provider": "nope"}, "provider 'nope' is not one batchio knows"),
    ({"path": "a\x00b"}, "shard path 'a\\x00b' is not a file name in the manifest's folder"),
    ({"bytes": -1}, "shard 'requests-00001.jsonl' counts bytes below 0"),
])
def test_a_manifest_with_a_field_no_split_writes_is_one_line(tmp_path: Path,
                                                            change: dict[str, object],
                                                            message: str) -> None:
    (tmp_path / "in.jsonl").write_bytes(requests(2))
    split(tmp_path / "in.jsonl", tmp_path / "out")
    manifest = tmp_path / "out" / "manifest.json"
    data = orjson.loads(manifest.read_bytes())
    if "provider" in change:
        data.update(change)
    else:
        data["shards"][0].update(change)
    manifest.write_bytes(orjson.dumps(data))
    for command in (["validate", "out"], ["estimate", "out"]):
        result = run(*command, cwd=tmp_path)
        assert result.returncode == 2
        assert one_line_error(result) == (
            "batchio: out/manifest.json: unreadable_file: cannot read manifest "
            f"out/manifest.json: not a batchio manifest ({message})")


def test_simulate_writes_no_result_file_when_its_batch_object_cannot_be_written(
        tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_bytes(requests(5))
    result = run("simulate", "in.jsonl", "-o", "o.jsonl",
                 "--batch-json", "/dev/full", cwd=tmp_path)
    assert result.returncode == 3
    assert one_line_error(result) == ("batchio: /dev/full: unwritable_file: cannot write "
                                      "/dev/full: No space left on device")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in.jsonl"]


def test_a_result_file_that_cannot_be_read_is_unreadable_not_unwritable(tmp_path: Path
                                                                        ) -> None:
    (tmp_path / "in.jsonl").write_bytes(requests(2))
    locked = tmp_path / "out.jsonl"
    locked.write_bytes(b"")
    locked.chmod(0)
    # Root reads any file: the permission is held to by dropping that power.
    setpriv = shutil.which("setpriv")
    prefix = [setpriv, "--bounding-set", "-dac_override,-dac_read_search"] \
        if setpriv and os.geteuid() == 0 else []
    for flag in ("--results", "--errors"):
        done = subprocess.run([*prefix, sys.executable, "-m", "batchio", "join", "in.jsonl",
                               flag, "out.jsonl", "-o", "j.jsonl"], cwd=tmp_path,
                              capture_output=True, text=True, check=False)
        if done.returncode == 0:
            pytest.skip("this machine reads a file without read permission")
        assert done.returncode == 2, done.stderr
        assert done.stderr == ("batchio: out.jsonl: unreadable_file: cannot open out.jsonl: "
                               "Permission denied\n")
        assert not (tmp_path / "j.jsonl").exists()

"""Faults at the edges: planted links, killed and starved joins, hostile result values,
schemas that cannot be used, usage that cannot be trusted, and arguments that would retry
nothing. Real files, real signals, real small file systems."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pyarrow.csv
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from promises import one_line_error, requests, run, small_filesystem
from test_join import request, succeeded, write

import batchio
from batchio import RetryWriter, UsageError
from batchio.cli import main
from batchio.outputs import OutputChecker


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


# --- 1. files a command makes in a folder are made there --------------------------------

@pytest.mark.parametrize("overwrite", [True, False])
def test_split_never_writes_through_a_link_at_a_shard_name(tmp_path: Path, overwrite: bool
                                                           ) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    out = tmp_path / "a"
    out.mkdir()
    (out / "requests-00001.jsonl").symlink_to("../victim.txt" if overwrite else "../gone.txt")
    (tmp_path / "in.jsonl").write_bytes(requests(3))
    result = run("split", "in.jsonl", "--out-dir", "a", *(["--overwrite"] if overwrite else []),
                 cwd=tmp_path)
    if overwrite:
        # The link is removed itself; the shard is made in the folder.
        assert result.returncode == 0, result.stderr
        shard = out / "requests-00001.jsonl"
        assert not shard.is_symlink() and shard.read_bytes() == requests(3)
    else:
        # A link at a shard's name is another run's leftover: refused, nothing made outside.
        assert result.returncode == 2
        assert "target_exists" in one_line_error(result)
        assert not (tmp_path / "gone.txt").exists()
    assert victim.read_text() == "keep me"


def test_build_out_dir_never_creates_a_file_outside_its_folder(tmp_path: Path) -> None:
    (tmp_path / "rows.jsonl").write_bytes(b'{"prompt": "a"}\n{"prompt": "b"}\n')
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").symlink_to("../planted.json")
    result = run("build", "rows.jsonl", "--out-dir", "out", "--model", "gpt-4o-mini",
                 "--overwrite", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "planted.json").exists()
    assert not (out / "manifest.json").is_symlink()
    assert batchio.Manifest.load(out).requests == 2


def test_a_manifest_written_over_a_link_replaces_the_link(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    batchio.write_lines(tmp_path / "in.jsonl", [orjson.loads(line) for line in
                                                requests(2).splitlines()])
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").symlink_to(victim)
    batchio.split(tmp_path / "in.jsonl", out, overwrite=True)
    assert victim.read_text() == "keep me"
    assert not (out / "manifest.json").is_symlink()


# --- 2. to 4. the join by several processes, killed or starved --------------------------

def _join_files(folder: Path, count: int) -> tuple[Path, Path]:
    inputs = folder / "in.jsonl"
    inputs.write_bytes(b"".join(orjson.dumps(request(f"r{i}", "x" * 200)) + b"\n"
                                for i in range(count)))
    output = folder / "out.jsonl"
    output.write_bytes(b"".join(orjson.dumps(succeeded(f"r{i}")) + b"\n"
                                for i in reversed(range(count))))
    return inputs, output


def _children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as handle:
                    fields = handle.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            state = handle.read().rsplit(b")", 1)[1].split()[0]
    except OSError:
        return False
    return state != b"Z"


@pytest.fixture(scope="module")
def big_join(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return _join_files(tmp_path_factory.mktemp("kill"), 150_000)


@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
@given(delay=st.floats(min_value=0.0, max_value=0.6))
def test_sigkill_of_a_join_ends_its_workers_and_the_next_run_removes_the_spool(
        big_join: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory,
        delay: float) -> None:
    inputs, output = big_join
    folder = tmp_path_factory.mktemp("run")
    spool = folder / "spool"
    spool.mkdir()
    environment = {**os.environ, "TMPDIR": str(spool)}
    process = subprocess.Popen(
        [sys.executable, "-m", "batchio", "join", str(inputs), "--results", str(output), "-o",
         str(folder / "joined.parquet"), "--jobs", "2"], stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, env=environment)
    deadline = time.monotonic() + 60
    while not any(spool.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.005)
    workers: set[int] = set()
    while len(workers) < 2 and time.monotonic() < deadline and process.poll() is None:
        workers |= _children(process.pid)
        time.sleep(0.005)
    assert len(workers) == 2, "the join's workers were not seen running"
    time.sleep(delay)
    process.kill()
    process.wait()
    gone_by = time.monotonic() + 1.0
    while any(_alive(pid) for pid in workers) and time.monotonic() < gone_by:
        time.sleep(0.01)
    assert not any(_alive(pid) for pid in workers), "a worker outlived its killed parent"
    # The next run removes what the killed one left, and leaves nothing itself.
    small_inputs, small_output = _join_files(folder, 50)
    again = run("join", small_inputs, "--results", small_output, "-o", folder / "again.jsonl",
                "--jobs", "2", env={"TMPDIR": str(spool)})
    assert again.returncode == 0, again.stderr
    assert list(spool.iterdir()) == []


def test_a_full_temporary_folder_is_one_line_and_exit_3(tmp_path: Path) -> None:
    inputs, output = _join_files(tmp_path, 3_000)
    with small_filesystem("64k") as disk:
        result = run("join", inputs, "--results", output, "-o", tmp_path / "joined.parquet",
                     "--jobs", "2", env={"TMPDIR": str(disk)})
        assert result.returncode == 3, result.stderr
        line = one_line_error(result)
        assert "unwritable_file" in line and str(disk) in line
        assert "No space left on device" in line
    assert not (tmp_path / "joined.parquet").exists()


@pytest.mark.parametrize("suffix", ["parquet", "csv", "jsonl"])
def test_a_full_target_under_two_processes_is_the_write_error(tmp_path: Path, suffix: str
                                                               ) -> None:
    inputs, output = _join_files(tmp_path, 3_000)
    with small_filesystem("64k") as disk:
        result = run("join", inputs, "--results", output, "-o", disk / f"joined.{suffix}",
                     "--jobs", "2")
        assert result.returncode == 3, result.stderr
        line = one_line_error(result)
        assert "unwritable_file" in line and "worker_failed" not in line
        assert list(disk.iterdir()) == []


# --- 5. and 6. folders read only their own regular files --------------------------------

def test_a_results_folder_never_follows_a_link_out(tmp_path: Path) -> None:
    write(tmp_path / "in.jsonl", [request("a")])
    results = tmp_path / "res"
    results.mkdir()
    write(results / "out.jsonl", [succeeded("a")])
    (results / "passwd.jsonl").symlink_to("/etc/passwd")
    result = run("join", "in.jsonl", "--results", "res", "-o", "j.jsonl", cwd=tmp_path)
    assert result.returncode == 2
    line = one_line_error(result)
    assert "passwd.jsonl" in line and "link out of its folder" in line
    assert not (tmp_path / "j.jsonl").exists()


@pytest.mark.parametrize("command", ["validate", "estimate", "join"])
def test_a_fifo_in_a_shard_folder_is_refused_without_blocking(tmp_path: Path, command: str
                                                              ) -> None:
    (tmp_path / "in.jsonl").write_bytes(requests(4))
    batchio.split(tmp_path / "in.jsonl", tmp_path / "shards", max_requests=2)
    shard = tmp_path / "shards" / "requests-00002.jsonl"
    shard.unlink()
    os.mkfifo(shard)
    extra = ["--results", "in.jsonl"] if command == "join" else []
    result = run(command, "shards", *extra, cwd=tmp_path, timeout=60)
    assert result.returncode == 2
    line = one_line_error(result)
    assert "unreadable_file" in line and "not a regular file" in line


def test_a_manifest_that_lists_a_shard_twice_is_refused_by_every_reader(tmp_path: Path
                                                                        ) -> None:
    (tmp_path / "in.jsonl").write_bytes(requests(4))
    batchio.split(tmp_path / "in.jsonl", tmp_path / "shards", max_requests=2)
    path = tmp_path / "shards" / "manifest.json"
    manifest = orjson.loads(path.read_bytes())
    manifest["shards"].append(manifest["shards"][0])
    manifest["requests"] += manifest["shards"][0]["requests"]
    path.write_bytes(orjson.dumps(manifest))
    for args in (["validate", "shards"], ["estimate", "shards"],
                 ["join", "shards", "--results", "in.jsonl"]):
        result = run(*args, cwd=tmp_path)
        assert result.returncode == 2, (args, result.stdout)
        assert "lists shard 'requests-00001.jsonl' twice" in one_line_error(result)


# --- 7. Batch files have a size; a stream with no newline ends --------------------------

def test_status_of_an_endless_device_ends_with_one_line(tmp_path: Path) -> None:
    for args in (["status", "/dev/zero"],):
        result = run(*args, cwd=tmp_path, timeout=120)
        assert result.returncode == 2
        assert "line_too_large" in one_line_error(result)
    batch = {"id": "batch_1", "object": "batch", "status": "completed", "created_at": 1,
             "request_counts": {"total": 1, "completed": 1, "failed": 0}}
    (tmp_path / "batch.json").write_bytes(orjson.dumps(batch))
    result = run("status", "batch.json", "--results", "/dev/zero", cwd=tmp_path, timeout=120)
    assert result.returncode == 2
    assert "line_too_large" in one_line_error(result)


def test_a_polling_log_past_its_cap_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                               ) -> None:
    import batchio.batch

    monkeypatch.setattr(batchio.batch, "MAX_BATCH_FILE", 100)
    monkeypatch.setattr(batchio.batch, "MAX_BATCH_LOG", 1_000)
    line = orjson.dumps({"id": "batch_1", "object": "batch", "status": "in_progress",
                         "created_at": 1}) + b"\n"
    (tmp_path / "log.jsonl").write_bytes(line * 200)
    with pytest.raises(batchio.SourceError) as raised:
        batchio.load_batches(tmp_path / "log.jsonl")
    assert raised.value.code == "file_too_large"


@pytest.mark.parametrize("created_at", [10**20, 2**62, -1])
def test_a_time_no_date_can_name_is_an_invalid_batch(tmp_path: Path, created_at: int) -> None:
    (tmp_path / "b.json").write_text(json.dumps(
        {"id": "batch_1", "object": "batch", "status": "in_progress",
         "created_at": created_at}))
    for output_format in ("text", "json"):
        result = run("status", "b.json", "--format", output_format, cwd=tmp_path)
        assert result.returncode == 2
        assert "invalid_batch" in one_line_error(result) and "created_at" in result.stderr


# --- 8. one verdict for every byte of a result ------------------------------------------

_FORMATS = ("jsonl", "csv", "parquet")


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(lines=st.lists(st.binary(max_size=60), min_size=1, max_size=6),
       answered=st.integers(min_value=0, max_value=6))
def test_result_lines_of_any_bytes_leave_every_format_whole(
        tmp_path_factory: pytest.TempPathFactory, lines: list[bytes], answered: int) -> None:
    folder = tmp_path_factory.mktemp("bytes")
    count = 6
    write(folder / "in.jsonl", [request(f"r{i}") for i in range(count)])
    # Each hostile line names an input (so that it is joined as that input's result), then
    # any bytes: a quote, a backslash, bad UTF-8, a cut.
    hostile = [b'{"custom_id": "r%d", "response": ' % number + raw.replace(b"\n", b" ")
               for number, raw in enumerate(lines)]
    good = [orjson.dumps(succeeded(f"r{i}")) for i in range(len(lines), min(answered, count))]
    (folder / "out.jsonl").write_bytes(b"\n".join(hostile + good) + b"\n")
    summaries = []
    for kind in _FORMATS:
        target = folder / f"joined.{kind}"
        result = batchio.join(folder / "in.jsonl", outputs=[folder / "out.jsonl"])
        try:
            assert batchio.write_join(result, target, workers=1) == count
        except batchio.JoinError as exc:
            # No line of the file could be read as a result: refused, nothing written.
            assert exc.code == "results_do_not_match"
            assert result.summary.unreadable_file == str(folder / "out.jsonl")
            assert not target.exists()
            summaries.append(result.summary.to_dict())
            continue
        summary = result.summary
        summaries.append(summary.to_dict())
        if kind == "parquet":
            table = pq.read_table(target)
        elif kind == "csv":
            target.read_bytes().decode("utf-8")
            table = pyarrow.csv.read_csv(target)
        else:
            rows = [json.loads(text) for text in target.read_bytes().decode("utf-8")
                    .splitlines()]
            table = pyarrow.Table.from_pylist([{"status": row["status"]} for row in rows])
        assert table.num_rows == count == summary.inputs
        statuses = table.column("status").to_pylist()
        assert {status: statuses.count(status) for status in set(statuses)} == {
            status: number for status, number in summary.counts.items() if number}
    assert summaries[0] == summaries[1] == summaries[2]


# --- 10. to 12. schemas that cannot be used, answers beyond a parser's range -------------

def _structured(custom_id: str, schema: Any) -> dict[str, Any]:
    line = request(custom_id)
    line["body"]["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": "x", "schema": schema}}
    return line


@pytest.mark.parametrize("schema", [
    {"type": "object", "properties": {"a": {"type": "string", "pattern": "([a-"}}},
    {"$ref": "https://example.com/remote.schema.json"},
    {"type": 42},
    {"type": "objekt"},
])
def test_validate_reports_a_schema_that_cannot_be_compiled(tmp_path: Path, schema: Any
                                                           ) -> None:
    path = write(tmp_path / "s.jsonl", [_structured("a", schema), _structured("b", schema),
                                        _structured("c", {"type": "object"})])
    report = batchio.validate(path)
    codes = [(problem.code, problem.line, problem.param) for problem in report.errors]
    assert codes == [("invalid_json_schema", line, "body.response_format.json_schema.schema")
                     for line in (1, 2)]


def test_a_forced_tools_schema_is_found_at_its_place(tmp_path: Path) -> None:
    line = request("a")
    line["body"]["tools"] = [{"type": "function", "function": {
        "name": "f", "parameters": {"type": "objekt"}}}]
    line["body"]["tool_choice"] = {"type": "function", "function": {"name": "f"}}
    report = batchio.validate(write(tmp_path / "t.jsonl", [line]))
    assert [(p.code, p.param) for p in report.errors] == [
        ("invalid_json_schema", "body.tools[0].function.parameters")]


def _answer(text: str) -> dict[str, Any]:
    return {"text": text, "finish_reason": "stop"}


def test_the_output_check_names_the_schema_not_a_file() -> None:
    checker = OutputChecker()
    body = _structured("a", {"type": 42})["body"]
    check, message = checker.check(body, _answer('{"a": 1}'))
    assert check == "not_checked"
    assert message is not None and message.startswith("invalid_json_schema:")
    assert "unreadable_file" not in message


def test_a_false_schema_admits_no_answer_and_a_string_is_no_schema() -> None:
    checker = OutputChecker()
    assert checker.check(_structured("a", False)["body"], _answer('{"a": 1}'))[0] == \
        "schema_violation"
    check, message = checker.check(_structured("a", "string")["body"], _answer('{"a": 1}'))
    assert check == "not_checked" and message is not None and "cannot be used" in message
    assert checker.check(_structured("a", True)["body"], _answer('{"a": 1}'))[0] == "ok"


def test_an_integer_of_5000_digits_is_judged_by_the_schema() -> None:
    checker = OutputChecker()
    bounded = _structured("a", {"type": "object", "properties": {
        "n": {"type": "integer", "maximum": 10}}})["body"]
    unbounded = _structured("a", {"type": "object", "properties": {
        "n": {"type": "integer"}}})["body"]
    huge = '{"n": ' + "1" * 5000 + "}"
    assert checker.check(bounded, _answer(huge))[0] == "schema_violation"
    assert checker.check(unbounded, _answer(huge)) == ("ok", None)
    assert checker.check(bounded, _answer('{"n": ')) [0] == "invalid_json"


# --- 13. and 14. usage and answers that cannot be taken at face value ------------------

@pytest.mark.parametrize("usage", [
    {"prompt_tokens": -5, "completion_tokens": 3, "total_tokens": -2},
    {"prompt_tokens": 2**70, "completion_tokens": 3},
    {"prompt_tokens": "7", "completion_tokens": 3},
])
def test_usage_that_cannot_be_used_is_null_and_counted(tmp_path: Path, usage: Any) -> None:
    inputs = write(tmp_path / "in.jsonl", [request(f"r{i}") for i in range(5)])
    lines = []
    for number in range(5):
        line = succeeded(f"r{number}")
        line["response"]["body"]["model"] = "gpt-4o-mini"
        line["response"]["body"]["usage"] = usage if number else {
            "prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}
        lines.append(line)
    output = tmp_path / "out.jsonl"
    output.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = batchio.join(inputs, outputs=[output])
    rows = list(result)
    assert [row.to_dict()["input_tokens"] for row in rows] == [10, None, None, None, None]
    assert [row.to_dict()["output_tokens"] for row in rows] == [2, 3, 3, 3, 3]
    summary = result.summary
    assert summary.unusable_usage == 4
    assert summary.usage["gpt-4o-mini"].to_dict()["input_tokens"] == 10
    assert summary.to_dict()["unusable_usage"] == 4
    cli = run("join", inputs, "--results", output, "-o", tmp_path / "j.jsonl")
    assert "4 result lines report a token count that cannot be used" in cli.stderr


@pytest.mark.parametrize("body", ["str", [], {"choices": []}, {"choices": [None]}])
def test_a_200_without_an_answer_is_an_invalid_result_line(tmp_path: Path, body: Any) -> None:
    inputs = write(tmp_path / "in.jsonl", [request("a")])
    line = succeeded("a")
    line["response"]["body"] = body
    output = write(tmp_path / "out.jsonl", [line])
    result = batchio.join(inputs, outputs=[output])
    [row] = list(result)
    assert (row.status, row.error_code) == ("failed", "invalid_result_line")
    assert [problem.line for problem in result.summary.problems] == [1]


# --- 15. retry statuses that say what is meant -----------------------------------------

def test_an_empty_retry_status_is_a_usage_error(tmp_path: Path) -> None:
    write(tmp_path / "in.jsonl", [request("a")])
    write(tmp_path / "out.jsonl", [succeeded("a")])
    result = run("join", "in.jsonl", "--results", "out.jsonl", "-o", "j.jsonl", "--retry",
                 "r.jsonl", "--retry-status", "", cwd=tmp_path)
    assert result.returncode == 2
    assert "retry statuses are empty" in result.stderr
    assert not (tmp_path / "r.jsonl").exists() and not (tmp_path / "j.jsonl").exists()
    with pytest.raises(UsageError, match="empty"):
        batchio.reconcile.retry_choices([" ", ""])


def test_retry_statuses_add_to_and_take_from_the_default() -> None:
    choices = batchio.reconcile.retry_choices
    default = batchio.reconcile.DEFAULT_RETRY_STATUSES
    assert choices("default") == default
    assert choices("+truncated,+schema_violation") == default | {"truncated",
                                                                   "schema_violation"}
    assert choices("-missing") == default - {"missing"}
    assert choices("failed,truncated") == {"failed", "truncated"}
    with pytest.raises(UsageError, match="'nope'"):
        choices("+nope")


def test_a_retry_writer_refuses_an_id_twice(tmp_path: Path) -> None:
    inputs = write(tmp_path / "in.jsonl", [request("a")])
    [row] = list(batchio.join(inputs, outputs=[write(tmp_path / "o.jsonl", [])]))
    with pytest.raises(UsageError, match="in the retry file already"), \
            RetryWriter(tmp_path / "retry.jsonl") as writer:
        assert writer.add(row)
        writer.add(row)
    assert not (tmp_path / "retry.jsonl").exists()


def test_a_file_named_twice_to_validate_is_said(tmp_path: Path) -> None:
    path = write(tmp_path / "in.jsonl", [request("a")])
    with pytest.warns(batchio.BatchioWarning, match="named twice") as caught:
        reports = batchio.validate_files([path, tmp_path / "." / "in.jsonl"], workers=1)
    assert len(reports) == 2
    assert [warning.message.code for warning in caught.list  # type: ignore[union-attr]
            ] == ["same_file"]


# --- 16. simulate honours its shares or says why it cannot ------------------------------

def test_simulated_refusals_are_all_refusals_and_faults_that_cannot_apply_are_said(
        tmp_path: Path) -> None:
    lines = [request(f"r{i}") for i in range(300)]
    for line in lines:
        line["body"]["max_tokens"] = 20
    write(tmp_path / "in.jsonl", lines)
    result = run("simulate", "in.jsonl", "-o", "out.jsonl",
                 "--fail", "0", "--expire", "0", "--missing", "0", "--refusal", "1",
                 "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert orjson.loads(result.stdout)["outputs"]["refusal"] == 300
    result = run("simulate", "in.jsonl", "-o", "out2.jsonl", "--fail", "0", "--expire",
                 "0", "--missing", "0", "--invalid-json", "1", cwd=tmp_path)
    assert result.returncode == 0
    assert "fault_not_applied" in result.stderr and "300 answers" in result.stderr


# --- 19. to 21. -------------------------------------------------------------------------

def test_estimate_total_names_the_figures_it_sums(tmp_path: Path) -> None:
    report = batchio.estimate([write(tmp_path / "in.jsonl", [request("a")])])
    assert report.total("requests") == 1
    with pytest.raises(UsageError, match="requests, input_tokens"):
        report.total("nope")


def test_calibrate_reads_whole_floats_as_counts(tmp_path: Path) -> None:
    pandas = pytest.importorskip("pandas")
    long_text = "word " * 400
    frame = pandas.DataFrame({
        "request": [orjson.dumps(request(f"r{i}", long_text)).decode() for i in range(20)]
        + [orjson.dumps(request("x")).decode()],
        "input_tokens": [float(410 + i % 3) for i in range(20)] + [None]})
    assert str(frame["input_tokens"].dtype) == "float64"
    path = tmp_path / "saved.parquet"
    frame.to_parquet(path)
    fitted = batchio.calibrate(path)
    assert fitted.requests == 20


# --- a join that refuses the wrong results -----------------------------------------------

def test_a_join_against_another_jobs_results_writes_nothing(tmp_path: Path) -> None:
    write(tmp_path / "in.jsonl", [request(f"r{i}") for i in range(20)])
    results = tmp_path / "other"
    results.mkdir()
    write(results / "out.jsonl", [succeeded(f"x{i}") for i in range(30)])
    result = run("join", "in.jsonl", "--results", "other", "-o", "j.parquet", "--retry",
                 "retry.jsonl", cwd=tmp_path)
    assert result.returncode == 1
    line = one_line_error(result)
    assert "results_do_not_match" in line and "none of the 30 result lines" in line
    assert "20 inputs" in line
    assert not (tmp_path / "retry.jsonl").exists() and not (tmp_path / "j.parquet").exists()
    joined = batchio.join(tmp_path / "in.jsonl", results=results)
    with pytest.raises(batchio.JoinError) as raised:
        next(iter(joined))
    assert raised.value.code == "results_do_not_match"
    # Standard input, read once: the same refusal once the inputs are read.
    piped = run("join", "-", "--results", "other", "-o", "j.jsonl", cwd=tmp_path,
                stdin=(tmp_path / "in.jsonl").read_bytes())
    assert piped.returncode == 1 and "results_do_not_match" in piped.stderr
    assert not (tmp_path / "j.jsonl").exists()


def test_most_results_answering_nothing_is_a_warning(tmp_path: Path) -> None:
    inputs = write(tmp_path / "in.jsonl", [request(f"r{i}") for i in range(4)])
    output = write(tmp_path / "out.jsonl", [succeeded("r0")]
                   + [succeeded(f"x{i}") for i in range(3)])
    with pytest.warns(batchio.BatchioWarning, match="3 of the 4 result lines"):
        list(batchio.join(inputs, outputs=[output]))

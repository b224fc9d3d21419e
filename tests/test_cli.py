"""The command line: output shapes, exit statuses, and no tracebacks on bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batchio import __version__
from batchio.cli import main
from batchio.results import COLUMN_NAMES

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def run(*args: Any, input: bytes | None = None) -> Any:
    return CliRunner().invoke(main, [str(arg) for arg in args], input=input)


def test_version_and_help() -> None:
    assert run("--version").output.strip() == f"batchio, version {__version__}"
    assert "validate" in run("--help").output


def test_python_dash_m_is_the_same_group() -> None:
    done = subprocess.run([sys.executable, "-m", "batchio", "--version"], capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == f"batchio, version {__version__}"


def test_validate_a_valid_file_exits_0() -> None:
    result = run("validate", EXAMPLES / "chat_requests.jsonl")
    assert result.exit_code == 0
    assert result.output.strip().endswith("endpoint /v1/chat/completions; model gpt-4o-mini)")
    assert ": ok (12 requests, 12 lines" in result.output


def test_validate_text_lines_are_compiler_style() -> None:
    path = EXAMPLES / "bad_requests.jsonl"
    result = run("validate", path)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == (f"{path}:2: duplicate_custom_id: custom_id 'request-00001' was already "
                        "used on line 1 [custom_id] (custom_id=request-00001)")
    assert lines[-1].startswith(f"{path}: 5 errors")


def test_validate_json_shape() -> None:
    result = run("validate", "--format", "json", EXAMPLES / "bad_requests.jsonl",
                 EXAMPLES / "chat_requests.jsonl")
    assert result.exit_code == 1
    document = orjson.loads(result.output)
    assert document["ok"] is False
    bad, good = document["files"]
    assert set(bad) >= {"path", "ok", "lines", "requests", "bytes", "endpoint", "models",
                        "embedding_inputs", "errors", "errors_truncated"}
    assert [e["code"] for e in bad["errors"]] == [
        "duplicate_custom_id", "model_mismatch", "invalid_body", "stream_not_supported",
        "invalid_json_line"]
    assert bad["errors"][2]["param"] == "body.messages[0].role"
    assert good["ok"] is True and good["errors"] == []


def test_validate_reads_stdin_and_caps_errors(tmp_path: Path) -> None:
    data = (EXAMPLES / "bad_requests.jsonl").read_bytes()
    result = run("validate", "--max-errors", "2", "--format", "json", "-", input=data)
    [report] = orjson.loads(result.output)["files"]
    assert report["path"] == "<stdin>"
    assert len(report["errors"]) == 2 and report["errors_truncated"] == 3


def test_validate_unreadable_file_exits_2_without_traceback(tmp_path: Path) -> None:
    result = run("validate", tmp_path / "absent.jsonl")
    assert result.exit_code == 2
    assert "cannot open" in result.output and "Traceback" not in result.output


def test_validate_usage_error_exits_2() -> None:
    assert run("validate", "--provider", "nope", "x.jsonl").exit_code == 2


def test_validate_with_provider_and_schema(tmp_path: Path) -> None:
    schema = tmp_path / "house.json"
    schema.write_text('{"required": ["temperature"]}')
    result = run("validate", "--provider", "anthropic", "--schema", schema,
                 EXAMPLES / "anthropic_requests.jsonl")
    assert result.exit_code == 1
    assert "custom_schema" in result.output


def write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    return path


def test_join_writes_rows_retry_file_and_json_summary(tmp_path: Path) -> None:
    inputs = EXAMPLES / "chat_requests.jsonl"
    output = write(tmp_path / "out.jsonl", [
        {"id": "b1", "custom_id": "request-00002", "error": None,
         "response": {"status_code": 200, "request_id": "r", "body": {"ok": True}}},
        {"id": "b2", "custom_id": "request-00001", "error": None,
         "response": {"status_code": 500, "request_id": "r", "body": {
             "error": {"code": "server_error", "message": "oops"}}}},
    ])
    errors = write(tmp_path / "err.jsonl", [
        {"id": "b3", "custom_id": "request-00003", "response": None,
         "error": {"code": "batch_expired", "message": "expired"}}])
    joined, retry = tmp_path / "joined.jsonl", tmp_path / "retry.jsonl"
    result = run("join", inputs, "--results", output, "--errors", errors, "-o", joined,
                 "--retry", retry, "--format", "json")
    assert result.exit_code == 0, result.output
    summary = orjson.loads(result.output)
    assert {k: summary[k] for k in ("inputs", "succeeded", "failed", "expired", "cancelled",
                                    "missing", "orphans", "duplicates")} == {
        "inputs": 12, "succeeded": 1, "failed": 1, "expired": 1, "cancelled": 0,
        "missing": 9, "orphans": 0, "duplicates": 0}
    assert summary["error_codes"] == {"batch_expired": 1, "server_error": 1}
    rows = [orjson.loads(line) for line in joined.read_bytes().splitlines()]
    assert [list(row) for row in rows[:1]] == [list(COLUMN_NAMES)]
    assert rows[0]["request"] == orjson.loads(inputs.read_bytes().splitlines()[0])
    assert rows[0]["response"]["response"]["status_code"] == 500
    assert (rows[0]["http_status"], rows[0]["error_code"], rows[0]["error_message"]) == (
        500, "server_error", "oops")
    assert [row["status"] for row in rows[:4]] == ["failed", "succeeded", "expired", "missing"]
    input_lines = inputs.read_bytes().splitlines(keepends=True)
    assert retry.read_bytes() == b"".join([input_lines[0], *input_lines[2:]])


def test_join_strict_exits_1_and_retry_status_selects(tmp_path: Path) -> None:
    inputs = EXAMPLES / "chat_requests.jsonl"
    output = write(tmp_path / "out.jsonl", [])
    retry = tmp_path / "retry.jsonl"
    result = run("join", inputs, "--results", output, "--retry", retry, "--retry-status",
                 "succeeded", "--strict", "-o", tmp_path / "joined.jsonl")
    assert result.exit_code == 1
    assert "12 requests: 0 succeeded, 0 failed, 0 expired, 0 cancelled, 12 missing" in result.output
    assert retry.read_bytes() == b""


def _answer(custom_id: str) -> dict[str, Any]:
    return {"id": "b", "custom_id": custom_id, "error": None,
            "response": {"status_code": 200, "request_id": "r", "body": {}}}


@pytest.mark.parametrize(("extra", "code"), [("ghost", "orphan_result"),
                                             ("request-00002", "duplicate_result")])
def test_join_strict_refuses_orphan_and_duplicate_results_with_exit_1_and_their_place(
        tmp_path: Path, extra: str, code: str) -> None:
    answers = [_answer(f"request-{number:05}") for number in range(1, 13)]
    output = write(tmp_path / "out.jsonl", [*answers, _answer(extra)])
    joined, retry = tmp_path / "joined.jsonl", tmp_path / "retry.jsonl"
    result = run("join", EXAMPLES / "chat_requests.jsonl", "--results", output, "--strict",
                 "-o", joined, "--retry", retry)
    assert result.exit_code == 1
    why = ("is not among the inputs" if extra == "ghost" else
           "has a result line before this one")
    assert result.output.splitlines() == [
        f"batchio: {output}:13: {code}: 1 {code.split('_')[0]} result line, the first here: "
        f"its custom_id {why}; a strict join accepts none (custom_id={extra})"]
    assert not joined.exists() and not retry.exists()


def test_join_bad_retry_status_is_a_usage_error(tmp_path: Path) -> None:
    result = run("join", EXAMPLES / "chat_requests.jsonl", "--retry-status", "lost")
    assert result.exit_code == 2


def test_join_duplicate_inputs_exit_2(tmp_path: Path) -> None:
    inputs = write(tmp_path / "in.jsonl", [{"custom_id": "a"}, {"custom_id": "a"}])
    output = write(tmp_path / "out.jsonl", [])
    result = run("join", inputs, "--results", output, "-o", tmp_path / "joined.jsonl")
    assert result.exit_code == 2
    assert "used by two inputs" in result.output
    assert not (tmp_path / "joined.jsonl").exists()


def test_validate_with_an_unreadable_schema_exits_2(tmp_path: Path) -> None:
    schema = tmp_path / "broken.json"
    schema.write_text("{not json")
    result = run("validate", "--schema", schema, EXAMPLES / "chat_requests.jsonl")
    assert result.exit_code == 2
    assert "cannot read schema" in result.output and "Traceback" not in result.output


@settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=200) | st.lists(st.sampled_from([
    b'{"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {}}\n',
    b'{"custom_id": "a"}\n', b"[]\n", b"\n", b'{"custom_id": 1, "body": []}\n', b"\xff\n",
    b'{"custom_id": "b", "response": {"status_code": "x"}, "error": 5}\n']),
    max_size=6).map(b"".join))
def test_no_input_makes_a_command_crash(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "any.jsonl"
    path.write_bytes(data)
    for args in (["validate", path], ["validate", "--provider", "anthropic", path],
                 ["join", EXAMPLES / "chat_requests.jsonl", "--results", path, "-o",
                  tmp_path / "joined.jsonl"],
                 ["join", path, "-o", tmp_path / "joined2.jsonl"],
                 ["split", path, "--out-dir", tmp_path / "split"],
                 ["status", path],
                 ["simulate", path, "-o", tmp_path / "simulated.jsonl"],
                 ["convert", path, "-o", tmp_path / "converted.jsonl"],
                 ["convert", "--results", "--from", "anthropic", path, "-o",
                  tmp_path / "results.jsonl"],
                 ["build", path, "-o", tmp_path / "built.jsonl", "--model", "m"]):
        result = run(*args)
        assert result.exit_code in (0, 1, 2), (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            args, result.exception)


def test_simulate_refuses_one_batch_json_for_a_folder_of_shards(tmp_path: Path) -> None:
    split = run("split", EXAMPLES / "chat_requests.jsonl", "--out-dir", tmp_path / "split",
                "--max-requests", "5")
    assert split.exit_code == 0, split.output
    result = run("simulate", tmp_path / "split", "--out-dir", tmp_path / "results",
                 "--batch-json", tmp_path / "batch.json")
    assert result.exit_code == 2
    assert "holds 3 shards, each with its own Batch object" in result.stderr
    assert not (tmp_path / "results").exists() and not (tmp_path / "batch.json").exists()


def test_simulate_into_a_file_named_as_its_folder_is_one_line(tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.write_text("not a folder", encoding="utf-8")
    result = run("simulate", EXAMPLES / "chat_requests.jsonl", "--out-dir", taken)
    assert result.exit_code == 3
    assert result.stderr == (f"batchio: {taken}: unwritable_file: cannot use {taken} as the "
                             "results folder: it is a file, not a folder\n")
    assert taken.read_text(encoding="utf-8") == "not a folder"


def test_simulate_never_replaces_result_files_without_overwrite(tmp_path: Path) -> None:
    split = run("split", EXAMPLES / "chat_requests.jsonl", "--out-dir", tmp_path / "split",
                "--max-requests", "5")
    assert split.exit_code == 0, split.output
    # A real job's results, downloaded as the provider names them, for the second shard only.
    results = tmp_path / "results"
    results.mkdir()
    real = results / "requests-00002.output.jsonl"
    real.write_bytes(b'{"custom_id": "paid-for"}\n')
    result = run("simulate", tmp_path / "split", "--out-dir", results)
    assert result.exit_code == 2
    assert result.stderr == (
        f"batchio: {results}: target_exists: {results} already holds "
        "requests-00002.output.jsonl: simulated results would replace them (are they a real "
        "job's?); use --overwrite to replace them, or another folder\n")
    # Refused before any shard was answered: nothing written, the real file as it was.
    assert sorted(path.name for path in results.iterdir()) == ["requests-00002.output.jsonl"]
    assert real.read_bytes() == b'{"custom_id": "paid-for"}\n'
    replaced = run("simulate", tmp_path / "split", "--out-dir", results, "--overwrite")
    assert replaced.exit_code == 0, replaced.output
    assert len(list(results.iterdir())) == 9
    assert b"paid-for" not in real.read_bytes()
    again = run("simulate", tmp_path / "split", "--out-dir", results, "--format", "json")
    assert again.exit_code == 2
    assert orjson.loads(again.stdout)["error"]["code"] == "target_exists"


def test_join_reads_its_inputs_from_stdin(tmp_path: Path) -> None:
    output = write(tmp_path / "out.jsonl", [
        {"id": "b1", "custom_id": "request-00002", "error": None,
         "response": {"status_code": 200, "request_id": "r", "body": {}}}])
    result = run("join", "-", "--results", output, "-o", tmp_path / "joined.jsonl",
                 "--format", "json", input=(EXAMPLES / "chat_requests.jsonl").read_bytes())
    assert result.exit_code == 0, result.output
    summary = orjson.loads(result.stdout)
    assert (summary["inputs"], summary["succeeded"], summary["missing"]) == (12, 1, 11)
    assert result.stderr.startswith("batchio: warning: <stdin>: provider_assumed: ")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_rows_to_dev_stdout_leave_the_report_on_stderr(tmp_path: Path, jobs: str) -> None:
    # /dev/stdout is stdout by another name: rows only there, as with -o -.
    rows = [{"custom_id": f"r{n}", "method": "POST", "url": "/v1/chat/completions",
             "body": {"model": "m", "messages": [{"role": "user", "content": "x"}]}}
            for n in range(50)]
    inputs = write(tmp_path / "in.jsonl", rows)
    output = write(tmp_path / "out.jsonl", [_answer(f"r{n}") for n in range(40)])
    expected = run("join", inputs, "--results", output, "-o", tmp_path / "joined.jsonl")
    assert expected.exit_code == 0, expected.output
    for target in ("/dev/stdout", "-"):
        done = subprocess.run([sys.executable, "-m", "batchio", "join", str(inputs),
                               "--results", str(output), "-o", target, "--jobs", jobs],
                              capture_output=True, check=False)
        assert done.returncode == 0, done.stderr
        assert done.stdout == (tmp_path / "joined.jsonl").read_bytes()
        assert b"50 requests: 40 succeeded" in done.stderr


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_chosen_columns_keep_the_lines_json_exactly(tmp_path: Path, jobs: str) -> None:
    # request and response are the lines' own JSON, whichever columns are chosen: a
    # 30-digit seed and a 1.00 are written as they were, never as a float or 1.0.
    lines = [b'{"custom_id":"r%d","method":"POST","url":"/v1/chat/completions","body":'
             b'{"model":"m","messages":[{"role":"user","content":"x"}],'
             b'"seed":123456789012345678901234567890,"temperature":1.00}}' % n
             for n in range(30)]
    inputs = tmp_path / "in.jsonl"
    inputs.write_bytes(b"\n".join(lines) + b"\n")
    output = write(tmp_path / "out.jsonl", [_answer(f"r{n}") for n in range(30)])
    target = tmp_path / "joined.jsonl"
    result = run("join", inputs, "--results", output, "-o", target, "--jobs", jobs,
                 "--columns", "request,custom_id")
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == b"".join(
        b'{"request":' + line + b',"custom_id":"r%d"}\n' % n for n, line in enumerate(lines))


def test_a_column_named_twice_is_refused_in_every_format(tmp_path: Path) -> None:
    inputs = write(tmp_path / "in.jsonl", [
        {"custom_id": "r1", "method": "POST", "url": "/v1/chat/completions",
         "body": {"model": "m", "messages": [{"role": "user", "content": "x"}]}}])
    output = write(tmp_path / "out.jsonl", [_answer("r1")])
    for suffix in ("jsonl", "csv", "parquet"):
        target = tmp_path / f"joined.{suffix}"
        result = run("join", inputs, "--results", output, "-o", target, "--columns",
                     "custom_id,status,custom_id")
        assert result.exit_code == 2
        assert result.stderr == ("batchio: invalid_argument: column 'custom_id' is named "
                                 "twice\n")
        assert not target.exists()


def test_retry_lines_on_stdout_leave_the_report_on_stderr(tmp_path: Path) -> None:
    rows = [{"custom_id": f"r{n}", "method": "POST", "url": "/v1/chat/completions",
             "body": {"model": "m", "messages": [{"role": "user", "content": "x"}]}}
            for n in range(10)]
    inputs = write(tmp_path / "in.jsonl", rows)
    output = write(tmp_path / "out.jsonl", [_answer(f"r{n}") for n in range(7)])
    result = run("join", inputs, "--results", output, "-o", tmp_path / "joined.jsonl",
                 "--retry", "-")
    assert result.exit_code == 0, result.output
    assert [orjson.loads(line)["custom_id"] for line in result.stdout.splitlines()] == [
        "r7", "r8", "r9"]
    assert "10 requests: 7 succeeded" in result.stderr
    both = run("join", inputs, "--results", output, "-o", "-", "--retry", "-")
    assert both.exit_code == 2
    assert both.stdout == ""
    assert both.stderr == ("batchio: -: same_file: two outputs write stdout (- and -): their "
                           "lines would be mixed; write one of them to a file\n")


@pytest.mark.parametrize("target", ["-", "/dev/stdout"])
def test_simulated_results_on_stdout_leave_the_report_on_stderr(target: str) -> None:
    requests = Path(__file__).parent.parent / "examples" / "chat_requests.jsonl"
    done = subprocess.run([sys.executable, "-m", "batchio", "simulate", str(requests), "-o",
                           target, "--fail", "0", "--expire", "0", "--missing", "0"],
                          capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    ids = sorted(orjson.loads(line)["custom_id"] for line in done.stdout.splitlines())
    assert ids == [f"request-{number:05d}" for number in range(1, 13)]
    assert b"completed: 12 succeeded" in done.stderr


def test_an_error_leaves_stdout_to_the_rows_in_json_mode(tmp_path: Path) -> None:
    # The error's document goes where the report goes: stderr, when stdout carries rows.
    rows = tmp_path / "rows.csv"
    rows.write_text("id,prompt\nk1,a\nk2,b\nk1,c\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "batchio", "build", str(rows), "--model",
                           "gpt-4o-mini", "--id-field", "id", "-o", "-", "--format", "json"],
                          capture_output=True, check=False)
    assert done.returncode == 2
    assert [orjson.loads(line)["custom_id"] for line in done.stdout.splitlines()] == [
        "k1", "k2"]
    message, document = done.stderr.decode().split("\n", 1)
    assert message.startswith(f"batchio: {rows}:4: duplicate_custom_id: ")
    assert orjson.loads(document)["error"]["code"] == "duplicate_custom_id"


@pytest.mark.parametrize("command", [
    ["simulate", "{requests}", "-o", "-", "--batch-json", "/dev/stdout"],
    ["convert", "{requests}", "--to", "anthropic", "--model", "claude-haiku-4-5", "-o",
     "/dev/stdout", "--mapping", "-"],
])
def test_two_outputs_on_stdout_are_refused(command: list[str]) -> None:
    requests = str(Path(__file__).parent.parent / "examples" / "chat_requests.jsonl")
    done = subprocess.run([sys.executable, "-m", "batchio",
                           *(requests if part == "{requests}" else part for part in command)],
                          capture_output=True, check=False)
    assert done.returncode == 2
    assert done.stdout == b""
    assert b"same_file: two outputs write stdout" in done.stderr


def test_a_mapping_file_on_stdout_is_written_not_read(tmp_path: Path) -> None:
    # Read back, it would wait forever on this process's own output (a pipe here).
    source = tmp_path / "in.jsonl"
    source.write_bytes(orjson.dumps({
        "custom_id": "has space", "method": "POST", "url": "/v1/chat/completions",
        "body": {"model": "m", "messages": [{"role": "user", "content": "hi"}]}}) + b"\n")
    done = subprocess.run([sys.executable, "-m", "batchio", "convert", str(source), "--to",
                           "anthropic", "--model", "claude-haiku-4-5", "-o",
                           str(tmp_path / "out.jsonl"), "--mapping", "/dev/stdout"],
                          capture_output=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    assert list(orjson.loads(done.stdout).values()) == ["has space"]
    assert b"1 converted, 0 left out; 1 ids remapped" in done.stderr
    back = subprocess.run([sys.executable, "-m", "batchio", "convert", "--results",
                           str(tmp_path / "out.jsonl"), "--from", "anthropic", "-o",
                           str(tmp_path / "back.jsonl"), "--mapping", "/dev/stdout"],
                          capture_output=True, check=False, timeout=60)
    assert back.returncode == 2
    assert b"invalid_argument: the id mapping is read" in back.stderr


def test_join_to_stdout_refuses_a_repeated_input_id_before_any_row(tmp_path: Path) -> None:
    rows = [{"custom_id": f"r{n}", "method": "POST", "url": "/v1/chat/completions",
             "body": {"model": "m", "messages": [{"role": "user", "content": "x"}]}}
            for n in range(50)]
    rows[45]["custom_id"] = "r3"
    inputs = write(tmp_path / "in.jsonl", rows)
    output = write(tmp_path / "out.jsonl", [_answer(f"r{n}") for n in range(50)])
    result = run("join", inputs, "--results", output, "-o", "-")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"batchio: {inputs}:46: duplicate_custom_id: custom_id 'r3' is used by two inputs: "
        f"{inputs}:4 and {inputs}:46; results cannot be matched unambiguously "
        "(custom_id=r3)"]


def test_estimate_says_when_the_cost_has_no_upper_bound(tmp_path: Path) -> None:
    lines = [orjson.loads(line) for line in (EXAMPLES / "chat_requests.jsonl").read_bytes()
             .splitlines()]
    for line in lines:
        line["body"].pop("max_tokens", None)
        line["body"].pop("max_completion_tokens", None)
    (tmp_path / "none.jsonl").write_bytes(b"".join(orjson.dumps(line) + b"\n"
                                                   for line in lines))
    lines[0]["body"]["max_tokens"] = 100
    (tmp_path / "one.jsonl").write_bytes(b"".join(orjson.dumps(line) + b"\n"
                                                  for line in lines))
    result = run("estimate", tmp_path / "none.jsonl", tmp_path / "one.jsonl")
    assert result.exit_code == 0, result.output
    none, one, total = result.stdout.splitlines()[:3]
    assert none.endswith("no bound on output tokens (no request sets an output cap); from "
                         "$0.0000 at batch prices, no upper bound")
    assert "; $0.0000 to more than $0.0001 at batch prices" in one
    assert "to more than $" in total


def test_each_error_names_its_place_and_code(tmp_path: Path) -> None:
    """``batchio: <place>: <code>: <reason>``, the place a file or an option."""
    (tmp_path / "empty").mkdir()
    (tmp_path / "e.jsonl").write_bytes(b"")
    (tmp_path / "null.json").write_bytes(b"null\n")
    (tmp_path / "rows.csv").write_text("id,prompt\n1,hello\n", encoding="utf-8")
    chat = str(EXAMPLES / "chat_requests.jsonl")
    cases = [
        (["join", chat, "--results", tmp_path / "empty"], f"{tmp_path / 'empty'}",
         "invalid_argument"),
        (["split", chat, "--out-dir", tmp_path / "s", "--max-bytes", "12QB"],
         "split --max-bytes", "invalid_argument"),
        (["estimate", chat, "--calibrate", tmp_path / "e.jsonl"], f"{tmp_path / 'e.jsonl'}",
         "invalid_argument"),
        (["convert", tmp_path / "e.jsonl", "--to", "anthropic", "--model", "claude-haiku-4-5",
          "-o", tmp_path / "c.jsonl"], f"{tmp_path / 'e.jsonl'}", "empty_file"),
        (["build", tmp_path / "rows.csv", "--model", "gpt-4o-mini", "--json-schema",
          tmp_path / "null.json", "-o", tmp_path / "x.jsonl"], f"{tmp_path / 'null.json'}",
         "invalid_json_schema"),
        (["status", tmp_path / "e.jsonl"], f"{tmp_path / 'e.jsonl'}", "empty_file"),
        (["convert", tmp_path / "big.jsonl", "--to", "anthropic", "--model",
          "claude-haiku-4-5", "-o", tmp_path / "c.jsonl"], f"{tmp_path / 'big.jsonl'}:1",
         "integer_out_of_range"),
    ]
    (tmp_path / "big.jsonl").write_bytes(
        (EXAMPLES / "chat_requests.jsonl").read_bytes().splitlines()[0].replace(
            b'"max_tokens":200', b'"max_tokens":' + b"9" * 30) + b"\n")
    for args, place, code in cases:
        result = run(*args)
        assert result.exit_code in (1, 2), (args, result.output)
        errors = [line for line in result.stderr.splitlines() if line.startswith("batchio: ")
                  and not line.startswith("batchio: warning")]
        assert errors and errors[-1].startswith(f"batchio: {place}: {code}: "), (args, errors)

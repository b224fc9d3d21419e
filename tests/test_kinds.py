"""Every file named for what it is: inspect says it, validate checks a result file as
results, status and join say when they are handed the wrong kind of file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from test_join import batch_error, http_failure, succeeded

import batchio
from batchio.cli import main
from batchio.kinds import inspect, line_kind

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

ANTHROPIC_RESULT = {"custom_id": "a", "result": {"type": "succeeded", "message": {
    "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
    "content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn",
    "stop_sequence": None, "usage": {"input_tokens": 3, "output_tokens": 1}}}}
GEMINI_RESULT = {"key": "k1", "response": {"candidates": [{"content": {
    "role": "model", "parts": [{"text": "hi"}]}, "finishReason": "STOP"}]}}


@pytest.mark.parametrize(("line", "kind", "provider"), [
    ({"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {}},
     "requests", "openai"),
    ({"custom_id": "a", "params": {"model": "m"}}, "requests", "anthropic"),
    ({"key": "a", "request": {"contents": []}}, "requests", "gemini"),
    (succeeded("a"), "results", "openai"),
    (batch_error("a", "batch_expired"), "results", "openai"),
    (ANTHROPIC_RESULT, "results", "anthropic"),
    (GEMINI_RESULT, "results", "gemini"),
    ({"id": "batch_1", "object": "batch", "status": "completed"}, "batch", "openai"),
    ({"id": "msgbatch_1", "type": "message_batch", "processing_status": "ended"}, "batch",
     "anthropic"),
    ({"name": "batches/123", "metadata": {}}, "batch", "gemini"),
    ({"type": "object", "properties": {}}, "unknown", None),
])
def test_each_shape_is_named(line: dict[str, Any], kind: str, provider: str | None) -> None:
    assert line_kind(line) == (kind, provider)


def write(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    return path


def test_inspect_names_every_example(tmp_path: Path) -> None:
    kinds = {path.name: inspect(path) for path in sorted(EXAMPLES.glob("*.jsonl"))}
    assert {name: (found.kind, found.provider) for name, found in kinds.items()} == {
        "anthropic_requests.jsonl": ("requests", "anthropic"),
        "bad_requests.jsonl": ("requests", "openai"),
        "bedrock_requests.jsonl": ("requests", "bedrock"),
        "vertex_requests.jsonl": ("requests", "vertex"),
        "chat_requests.jsonl": ("requests", "openai"),
        "embeddings_requests.jsonl": ("requests", "openai")}
    assert kinds["chat_requests.jsonl"].records == 12
    assert kinds["chat_requests.jsonl"].endpoints == {"/v1/chat/completions": 12}
    simulated = batchio.simulate(EXAMPLES / "chat_requests.jsonl", output=tmp_path / "o.jsonl",
                                 errors=tmp_path / "e.jsonl", seed=2, failure_rate=0.5,
                                 batch_json=tmp_path / "b.json")
    output = inspect(tmp_path / "o.jsonl")
    assert (output.kind, output.provider) == ("results", "openai")
    # (Simulated failures are HTTP errors, which OpenAI puts in the output file too.)
    assert sum(output.statuses.values()) == output.records == len(
        (tmp_path / "o.jsonl").read_bytes().splitlines())
    assert output.statuses["succeeded"] == simulated.counts["succeeded"]
    assert inspect(tmp_path / "b.json").kind == "batch"
    batchio.split(EXAMPLES / "chat_requests.jsonl", tmp_path / "shards", max_requests=5)
    assert (inspect(tmp_path / "shards").kind, inspect(tmp_path / "shards").records) == (
        "shards", 3)
    folder = inspect(tmp_path)
    assert folder.kind == "folder" and folder.statuses == {"results": 2}
    (tmp_path / "notes.json").write_text('{"a": 1}\n')
    assert inspect(tmp_path / "notes.json").kind == "unknown"
    done = CliRunner().invoke(main, ["inspect", str(tmp_path / "o.jsonl"), "--format", "json"])
    assert orjson.loads(done.stdout)["files"][0]["kind"] == "results"


@pytest.mark.parametrize(("provider", "lines"), [
    ("openai", [succeeded("a"), http_failure("b", 429, "rate_limit_exceeded"),
                batch_error("c", "batch_expired")]),
    ("anthropic", [ANTHROPIC_RESULT, {"custom_id": "b", "result": {"type": "expired"}}]),
    ("gemini", [GEMINI_RESULT, {"key": "k2", "error": {"code": 500, "message": "x"}}]),
    # docs.aws.amazon.com/bedrock/latest/userguide/batch-inference-results.html
    ("bedrock", [{"recordId": "CALL0000001", "modelInput": {"inputText": "x"},
                  "modelOutput": {"inputTextTokenCount": 8, "results": [
                      {"tokenCount": 3, "outputText": "blue", "completionReason": "FINISH"}]}},
                 {"recordId": "CALL0000002", "modelInput": {"inputText": "y"},
                  "error": {"errorCode": 400, "errorMessage": "bad request"}}]),
    # Vertex AI predictions.jsonl: no id, the request echoed; a failure's status text.
    ("vertex", [{"status": "", "processed_time": "2025-08-14T16:27:27.775+00:00",
                 "request": {"contents": []}, "response": GEMINI_RESULT["response"]},
                {"status": "Bad Request: {\"error\": {\"code\": 400}}",
                 "processed_time": "2025-08-14T16:27:27.775+00:00",
                 "request": {"contents": [{"parts": [{"text": "x"}]}]}}]),
])
def test_a_result_file_is_validated_as_results(tmp_path: Path, provider: str,
                                               lines: list[dict[str, Any]]) -> None:
    path = write(tmp_path / "out.jsonl", lines)
    report = batchio.validate(path)
    assert (report.kind, report.provider, report.ok, report.results) == (
        "results", provider, True, len(lines))
    assert report.requests == 0 and not report.warnings
    broken = write(tmp_path / "broken.jsonl", [*lines, lines[0], {"whatever": 1}])
    bad = batchio.validate(broken)
    codes = [(problem.line, problem.code) for problem in bad.errors]
    assert (len(lines) + 1, "duplicate_result") in codes
    assert any(line == len(lines) + 2 for line, _ in codes)
    cli = CliRunner().invoke(main, ["validate", str(path)])
    assert cli.exit_code == 0
    assert f"ok ({len(lines)} result lines of {provider}" in cli.stdout


def test_a_broken_openai_result_line_is_explained_with_its_line(tmp_path: Path) -> None:
    line = succeeded("a")
    line["response"]["status_code"] = "two hundred"
    path = write(tmp_path / "out.jsonl", [succeeded("z"), line])
    report = batchio.validate(path)
    assert [(p.line, p.code) for p in report.errors] == [(2, "invalid_result_line")]
    assert "status_code" in (report.errors[0].param or report.errors[0].message)


def test_validate_reads_a_folder_without_a_manifest_and_the_hook_passes_a_repo(
        tmp_path: Path) -> None:
    write(tmp_path / "batch_input.jsonl", [orjson.loads(line) for line in
                                            (EXAMPLES / "chat_requests.jsonl").read_bytes()
                                            .splitlines()])
    batchio.simulate(tmp_path / "batch_input.jsonl", output=tmp_path / "batch_output.jsonl",
                     seed=1)
    done = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert done.exit_code == 0, done.output
    results = len((tmp_path / "batch_output.jsonl").read_bytes().splitlines())
    assert done.stdout.splitlines()[-1] == (f"2 files, 12 requests, {results} result lines: "
                                            "all ok")
    # The pre-commit hook runs `batchio validate` on every .jsonl file it is given.
    hook = subprocess.run([sys.executable, "-m", "batchio", "validate",
                           str(tmp_path / "batch_input.jsonl"),
                           str(tmp_path / "batch_output.jsonl")], capture_output=True,
                          text=True, check=False)
    assert hook.returncode == 0, hook.stdout + hook.stderr
    write(tmp_path / "batch_output.jsonl", [succeeded("a"), {"custom_id": "b",
                                                             "response": "?"}])
    broken = subprocess.run([sys.executable, "-m", "batchio", "validate",
                             str(tmp_path / "batch_output.jsonl")], capture_output=True,
                            text=True, check=False)
    assert broken.returncode == 1 and ":2: invalid_result_line" in broken.stdout


def test_status_and_join_say_when_handed_the_wrong_kind(tmp_path: Path) -> None:
    status = CliRunner().invoke(main, ["status", str(EXAMPLES / "chat_requests.jsonl")])
    assert status.exit_code == 2
    assert "wrong_file_kind" in status.stderr and "is a request file (openai)" in status.stderr
    joined = CliRunner().invoke(main, ["join", str(EXAMPLES / "chat_requests.jsonl"),
                                       "--results", str(EXAMPLES / "anthropic_requests.jsonl")])
    assert joined.exit_code == 2
    assert "is a request file (anthropic): its lines ask, they do not answer" in joined.stderr
    with pytest.raises(batchio.JoinError) as raised:
        batchio.join(EXAMPLES / "chat_requests.jsonl",
                     outputs=EXAMPLES / "anthropic_requests.jsonl")
    assert raised.value.code == "wrong_file_kind"


def test_an_empty_file_is_said_empty_not_a_batch_object(tmp_path: Path) -> None:
    for name, data in (("empty.jsonl", b""), ("blank.jsonl", b"\n\n  \n")):
        (tmp_path / name).write_bytes(data)
        found = inspect(tmp_path / name)
        assert (found.kind, found.records) == ("unknown", 0)
        assert found.reason == "an empty file: no line holds anything"


def test_a_pretty_printed_document_that_is_not_json_is_said_at_its_line(tmp_path: Path
                                                                         ) -> None:
    (tmp_path / "bad.json").write_bytes(b'{\n  "id": "batch_1",\n  "created_at": 1e400\n}\n')
    assert inspect(tmp_path / "bad.json").reason == "line 3: invalid_json_line"

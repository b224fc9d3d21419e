"""Promises 5 and 6: values from files never reach the terminal raw; simulate and status
say what is true."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from promises import request, requests, run

from batchio import BatchHistory, RequestWriter, read_lines, simulate

HOSTILE = "a\x1b]0;PWNED\x07\x1b[2J\nfake.jsonl: ok (forged line)\r"


@pytest.mark.parametrize("command", [
    ["validate", "in.jsonl"],
    ["split", "in.jsonl", "--out-dir", "out"],
    ["join", "in.jsonl", "--results", "/dev/null", "-o", "j.jsonl"],
    ["convert", "in.jsonl", "-o", "c.jsonl"],
])
def test_no_control_character_from_a_file_reaches_the_terminal(tmp_path: Path,
                                                               command: list[str]) -> None:
    (tmp_path / "in.jsonl").write_bytes(
        request(HOSTILE, model="m\x1b[31mRED") + request(HOSTILE) + b'{"custom_id": 5}\n')
    result = run(*command, cwd=tmp_path)
    for stream in (result.stdout, result.stderr):
        assert "\x1b" not in stream and "\x07" not in stream and "\r" not in stream
        assert "forged line" not in "".join(line for line in stream.splitlines()
                                            if line.startswith("fake.jsonl"))


def test_status_escapes_the_batch_id(tmp_path: Path) -> None:
    (tmp_path / "b.json").write_bytes(orjson.dumps({
        "id": "b\x1b]0;PWNED\x07\nforged", "object": "batch", "status": "in_progress",
        "endpoint": "/v1/chat/completions\x1b[2J", "created_at": 1}))
    result = run("status", "b.json", cwd=tmp_path)
    assert "\x1b" not in result.stdout and len(result.stdout.splitlines()[0]) < 200


def test_simulated_anthropic_batches_are_what_status_reads(tmp_path: Path) -> None:
    rows = [{"custom_id": f"r{i}", "params": {"model": "claude", "max_tokens": 50,
                                              "messages": [{"role": "user", "content": "x"}]}}
            for i in range(20)]
    (tmp_path / "in.jsonl").write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    done = run("simulate", "in.jsonl", "-o", "o.jsonl", "--batch-json", "b.json",
               "--provider", "anthropic", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    document = orjson.loads((tmp_path / "b.json").read_bytes())
    assert document["type"] == "message_batch" and "processing_status" in document
    status = run("status", "b.json", "--provider", "anthropic", cwd=tmp_path)
    assert status.returncode == 0, status.stdout + status.stderr


def test_errors_for_a_one_file_provider_is_refused(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_bytes(b'{"custom_id": "a", "params": {"model": "c", '
                                        b'"max_tokens": 5, "messages": []}}\n')
    result = run("simulate", "in.jsonl", "-o", "o.jsonl", "--errors", "e.jsonl",
                 "--provider", "anthropic", cwd=tmp_path)
    assert result.returncode == 2
    assert "returns every result in one file" in result.stderr
    assert not (tmp_path / "o.jsonl").exists() and not (tmp_path / "e.jsonl").exists()


@pytest.mark.parametrize(("field", "cap"), [("max_tokens", 7), ("max_completion_tokens", 9)])
def test_simulated_answers_stay_within_the_requests_cap(tmp_path: Path, field: str,
                                                        cap: int) -> None:
    with RequestWriter(tmp_path / "in.jsonl") as writer:
        for _ in range(50):
            writer.add({"model": "gpt-4o-mini", field: cap,
                        "messages": [{"role": "user", "content": "x"}]})
    simulate(tmp_path / "in.jsonl", output=tmp_path / "o.jsonl", errors=tmp_path / "e.jsonl",
             failure_rate=0, expire_rate=0, missing_rate=0)
    answers = [line.value["response"]["body"] for line in read_lines(tmp_path / "o.jsonl")]
    assert len(answers) == 50
    for body in answers:
        tokens = body["usage"]["completion_tokens"]
        assert tokens <= cap
        assert body["choices"][0]["finish_reason"] == ("length" if tokens == cap else "stop")


def test_the_simulated_batch_names_the_files_endpoint(tmp_path: Path) -> None:
    with RequestWriter(tmp_path / "in.jsonl", endpoint="/v1/embeddings") as writer:
        writer.add({"model": "text-embedding-3-small", "input": "x"})
    result = simulate(tmp_path / "in.jsonl", output=tmp_path / "o.jsonl")
    assert result.batch.endpoint == "/v1/embeddings"


def test_cli_and_python_simulate_the_same(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_bytes(requests(300))
    run("simulate", "in.jsonl", "--out-dir", "cli", cwd=tmp_path)
    simulate(tmp_path / "in.jsonl", output=tmp_path / "py-o.jsonl",
             errors=tmp_path / "py-e.jsonl", batch_json=tmp_path / "py-b.json")
    for cli, python in (("output.jsonl", "o.jsonl"), ("errors.jsonl", "e.jsonl"),
                        ("batch.json", "b.json")):
        assert (tmp_path / "cli" / f"in.{cli}").read_bytes() == (
            tmp_path / f"py-{python}").read_bytes()


def test_status_gives_no_eta_past_expiry_or_from_one_snapshot(tmp_path: Path) -> None:
    running = {"id": "b", "object": "batch", "endpoint": "/v1/chat/completions",
               "status": "in_progress", "created_at": 1_000, "in_progress_at": 1_000,
               "expires_at": 1_000 + 86_400,
               "request_counts": {"total": 1_000_000, "completed": 1, "failed": 0}}
    progress = BatchHistory([running]).progress()
    assert progress is not None and progress.eta_seconds is None
    assert progress.running_seconds is not None and progress.running_seconds > 0
    late = BatchHistory([running]).progress(now=2_000)
    assert late is not None and late.eta_seconds is None  # would end long after expires_at
    (tmp_path / "b.json").write_bytes(orjson.dumps(running))
    result = run("status", "b.json", cwd=tmp_path)
    assert "ETA" not in result.stdout and "running for" in result.stdout


def test_status_problems_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "b.json").write_bytes(orjson.dumps({
        "id": "b", "object": "batch", "endpoint": "/v1/chat/completions",
        "status": "completed", "created_at": 1}))
    result = run("status", "b.json", cwd=tmp_path)
    assert result.returncode == 1
    assert any(line.startswith("b.json:1: inconsistent_batch:")
               for line in result.stdout.splitlines())


def test_status_on_a_file_without_batch_objects_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "arr.json").write_text("[1, 2]")
    result = run("status", "arr.json", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("batchio: arr.json: invalid_batch: the file holds no "
                                    "Batch object")

"""Results as a table: the joined columns for every provider, Arrow/Parquet/CSV/JSONL that
agree with ``JoinedRow.to_dict()``, output checks, usage, cost and estimates."""

from __future__ import annotations

import base64
import json
import math
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec
import orjson
import pyarrow as pa
import pyarrow.csv
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import batchio
from batchio import COLUMNS, OUTPUT_CHECKS, TokenUsage, join, load_prices, simulate
from batchio.cli import main
from batchio.results import COLUMN_NAMES
from batchio.table import joined_line

EXAMPLES = Path(__file__).parent.parent / "examples"


def lines(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    return path


def chat_request(custom_id: str, body: dict[str, Any], url: str = "/v1/chat/completions"
                 ) -> dict[str, Any]:
    return {"custom_id": custom_id, "method": "POST", "url": url, "body": body}


def openai_result(custom_id: str, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
    return {"id": f"batch_req_{custom_id}", "custom_id": custom_id, "error": None,
            "response": {"status_code": status, "request_id": "req", "body": body}}


def rows_of(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
    return [row.to_dict() for row in join(*args, **kwargs)]


# --- known rows: every column's value ----------------------------------------------------------

def test_openai_chat_responses_embeddings_and_failures_give_their_columns(
        tmp_path: Path) -> None:
    vector = [0.5, -0.25, 1.0]
    packed = base64.b64encode(struct.pack("<3f", *vector)).decode()
    requests = lines(tmp_path / "in.jsonl", [
        chat_request("chat", {"model": "gpt-4o-mini", "messages": [
            {"role": "user", "content": "hi"}]}),
        chat_request("resp", {"model": "gpt-4.1", "input": "hi"}, "/v1/responses"),
        chat_request("emb", {"model": "text-embedding-3-small", "input": "hi",
                             "encoding_format": "base64"}, "/v1/embeddings"),
        chat_request("fail", {"model": "gpt-4o-mini", "messages": []}),
        chat_request("gone", {"model": "gpt-4o-mini", "messages": []}),
    ])
    output = lines(tmp_path / "out.jsonl", [
        openai_result("resp", {"object": "response", "model": "gpt-4.1-2025-04-14",
                               "status": "incomplete",
                               "incomplete_details": {"reason": "max_output_tokens"},
                               "output": [
                                   {"type": "reasoning", "summary": []},
                                   {"type": "message", "content": [
                                       {"type": "output_text", "text": "Hel"}]},
                                   {"type": "message", "content": [
                                       {"type": "output_text", "text": "lo"}]}],
                               "usage": {"input_tokens": 10, "output_tokens": 30,
                                         "total_tokens": 40,
                                         "input_tokens_details": {"cached_tokens": 4},
                                         "output_tokens_details": {"reasoning_tokens": 20}}}),
        openai_result("chat", {"object": "chat.completion", "model": "gpt-4o-mini-2024-07-18",
                               "choices": [{"index": 0, "finish_reason": "stop", "message": {
                                   "role": "assistant", "content": "Hello!",
                                   "refusal": None}}],
                               "usage": {"prompt_tokens": 9, "completion_tokens": 3,
                                         "total_tokens": 12,
                                         "prompt_tokens_details": {"cached_tokens": 0}}}),
        openai_result("emb", {"object": "list", "model": "text-embedding-3-small",
                              "data": [{"index": 0, "embedding": packed}],
                              "usage": {"prompt_tokens": 1, "total_tokens": 1}}),
        openai_result("fail", {"error": {"code": "invalid_value", "message": "bad messages"}},
                      status=400),
    ])
    rows = {row["custom_id"]: row for row in rows_of(requests, outputs=output)}
    assert [list(row) for row in rows.values()] == [list(COLUMN_NAMES)] * 5
    chat = rows["chat"]
    assert (chat["status"], chat["http_status"], chat["model"], chat["endpoint"]) == (
        "succeeded", 200, "gpt-4o-mini-2024-07-18", "/v1/chat/completions")
    assert (chat["text"], chat["finish_reason"], chat["finish_reason_raw"], chat["refusal"]) == (
        "Hello!", "stop", "stop", None)
    assert (chat["input_tokens"], chat["output_tokens"], chat["cached_tokens"],
            chat["reasoning_tokens"], chat["total_tokens"]) == (9, 3, 0, None, 12)
    assert (chat["input_line"], chat["result_file"], chat["result_line"]) == (
        1, str(output), 2)
    assert orjson.loads(chat["request"]) == orjson.loads(requests.read_bytes().splitlines()[0])
    assert orjson.loads(chat["response"])["custom_id"] == "chat"
    resp = rows["resp"]
    assert (resp["text"], resp["finish_reason"], resp["finish_reason_raw"]) == (
        "Hello", "length", "max_output_tokens")
    assert (resp["input_tokens"], resp["output_tokens"], resp["cached_tokens"],
            resp["reasoning_tokens"], resp["total_tokens"]) == (10, 30, 4, 20, 40)
    assert rows["emb"]["embedding"] == vector and rows["emb"]["text"] is None
    fail = rows["fail"]
    assert (fail["status"], fail["http_status"], fail["error_code"], fail["error_message"],
            fail["retryable"], fail["input_tokens"]) == (
        "failed", 400, "invalid_value", "bad messages", False, None)
    gone = rows["gone"]
    assert (gone["status"], gone["response"], gone["result_file"], gone["model"]) == (
        "missing", None, None, "gpt-4o-mini")


def test_anthropic_gemini_and_mistral_answers_give_their_columns(tmp_path: Path) -> None:
    anthropic_in = lines(tmp_path / "a.jsonl", [
        {"custom_id": "a1", "params": {"model": "claude-haiku-4-5", "max_tokens": 50,
                                       "messages": [{"role": "user", "content": "hi"}]}}])
    anthropic_out = lines(tmp_path / "a-out.jsonl", [
        {"custom_id": "a1", "result": {"type": "succeeded", "message": {
            "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
            "content": [{"type": "thinking", "thinking": "hmm"}, {"type": "text", "text": "A"},
                        {"type": "text", "text": "B"}],
            "stop_reason": "max_tokens",
            "usage": {"input_tokens": 5, "cache_read_input_tokens": 100,
                      "cache_creation_input_tokens": 10, "output_tokens": 50}}}}])
    [row] = rows_of(anthropic_in, outputs=anthropic_out, provider="anthropic")
    assert (row["text"], row["finish_reason"], row["finish_reason_raw"]) == (
        "AB", "length", "max_tokens")
    assert (row["input_tokens"], row["cached_tokens"], row["output_tokens"],
            row["total_tokens"], row["http_status"]) == (115, 100, 50, 165, None)

    gemini_in = lines(tmp_path / "g.jsonl", [
        {"key": "g1", "request": {"contents": [{"parts": [{"text": "hi"}]}]}}])
    gemini_out = lines(tmp_path / "g-out.jsonl", [
        {"key": "g1", "response": {"modelVersion": "gemini-2.5-flash", "candidates": [
            {"content": {"parts": [{"text": "plan", "thought": True}, {"text": "Yes"}]},
             "finishReason": "SAFETY"}],
            "usageMetadata": {"promptTokenCount": 7, "candidatesTokenCount": 3,
                              "thoughtsTokenCount": 11, "cachedContentTokenCount": 2,
                              "totalTokenCount": 21}}}])
    [row] = rows_of(gemini_in, outputs=gemini_out, provider="gemini")
    assert (row["text"], row["finish_reason"], row["finish_reason_raw"], row["model"]) == (
        "Yes", "content_filter", "SAFETY", "gemini-2.5-flash")
    assert (row["input_tokens"], row["output_tokens"], row["reasoning_tokens"],
            row["cached_tokens"], row["total_tokens"]) == (7, 14, 11, 2, 21)

    mistral_in = lines(tmp_path / "m.jsonl", [chat_request("m1", {
        "model": "mistral-small-latest", "messages": [{"role": "user", "content": "hi"}]})])
    mistral_out = lines(tmp_path / "m-out.jsonl", [openai_result("m1", {
        "choices": [{"finish_reason": "model_length", "message": {"content": [
            {"type": "thinking", "thinking": []}, {"type": "text", "text": "Sure"}]}}]})])
    [row] = rows_of(mistral_in, outputs=mistral_out, provider="mistral")
    assert (row["text"], row["finish_reason"], row["finish_reason_raw"]) == (
        "Sure", "length", "model_length")


# --- every provider's simulated results, and the table formats agreeing ---------------------

SIMULATED = [
    ("openai", "chat_requests.jsonl"), ("openai", "embeddings_requests.jsonl"),
    ("anthropic", "anthropic_requests.jsonl"), ("azure", "chat_requests.jsonl"),
    ("groq", "chat_requests.jsonl"), ("mistral", "chat_requests.jsonl"),
    ("together", "chat_requests.jsonl"),
]


@pytest.mark.parametrize(("provider", "name"), SIMULATED)
def test_simulated_results_of_each_provider_fill_the_columns_in_input_order(
        tmp_path: Path, provider: str, name: str) -> None:
    requests = EXAMPLES / name
    one_file = provider in ("anthropic",)
    result = simulate(requests, output=tmp_path / "out.jsonl",
                      errors=None if one_file else tmp_path / "err.jsonl", provider=provider,
                      seed=3, failure_rate=0.2, expire_rate=0.1, missing_rate=0.1,
                      truncation_rate=0.2, embedding_dimensions=8)
    result_files = [tmp_path / "out.jsonl"] + ([] if one_file else [tmp_path / "err.jsonl"])
    rows = rows_of(requests, outputs=result_files, provider=provider)
    # A written join reads each answer as it sums its usage; its lines are those of the
    # rows iterated, which read the answer for the columns alone.
    target = tmp_path / "joined.jsonl"
    batchio.write_join(join(requests, outputs=result_files, provider=provider), target,
                       workers=1)
    assert target.read_bytes() == b"".join(
        joined_line(row) for row in join(requests, outputs=result_files, provider=provider))
    ids = [orjson.loads(line)["custom_id"] for line in requests.read_bytes().splitlines()]
    assert [row["custom_id"] for row in rows] == ids
    assert [row["input_line"] for row in rows] == list(range(1, len(ids) + 1))
    counts = {status: sum(row["status"] == status for row in rows)
              for status in result.counts}
    assert counts == result.counts
    for row in rows:
        answer = orjson.loads(row["response"]) if row["response"] else None
        if row["status"] != "succeeded":
            assert row["text"] is None and row["input_tokens"] is None
            continue
        assert row["input_tokens"] is not None and row["input_tokens"] > 0
        if name.startswith("embeddings"):
            # One vector a row: a request of several inputs has them all in ``response``.
            inputs = batchio.bodies.embedding_inputs(orjson.loads(row["request"])["body"])
            if inputs == 1:
                assert row["embedding"] is not None and len(row["embedding"]) == 8
            else:
                assert row["embedding"] is None
                assert answer is not None
                assert len(answer["response"]["body"]["data"]) == inputs
            assert row["finish_reason"] is None
        else:
            assert isinstance(row["text"], str) and row["text"]
            assert row["finish_reason"] in ("stop", "length")
            assert row["output_tokens"] is not None and row["output_tokens"] > 0
        assert answer is not None


def test_simulated_gemini_results_fill_the_columns_in_input_order(tmp_path: Path) -> None:
    requests = lines(tmp_path / "in.jsonl", [
        {"key": f"k{index}", "request": {"contents": [{"parts": [{"text": "x" * index}]}],
                                         "generationConfig": {"maxOutputTokens": 50}}}
        for index in range(1, 40)])
    result = simulate(requests, output=tmp_path / "out.jsonl", provider="gemini", seed=5,
                      failure_rate=0.2, missing_rate=0.1)
    rows = rows_of(requests, outputs=tmp_path / "out.jsonl", provider="gemini")
    assert [row["custom_id"] for row in rows] == [f"k{index}" for index in range(1, 40)]
    answers = {line["key"]: line for line in map(orjson.loads, (tmp_path / "out.jsonl")
                                                 .read_bytes().splitlines())}
    for row in rows:
        if row["status"] != "succeeded":
            assert row["input_tokens"] is None
            continue
        response = answers[row["custom_id"]]["response"]
        metadata = response["usageMetadata"]
        candidate = response["candidates"][0]
        assert row["input_tokens"] == metadata["promptTokenCount"]
        assert row["output_tokens"] == metadata["candidatesTokenCount"] <= 50
        assert row["text"] == candidate["content"]["parts"][0]["text"]
        assert row["finish_reason"] == {"STOP": "stop", "MAX_TOKENS": "length"}[
            candidate["finishReason"]]
    assert sum(row["status"] == "succeeded" for row in rows) == result.counts["succeeded"]


def test_arrow_parquet_csv_and_jsonl_agree_with_to_dict(tmp_path: Path) -> None:
    requests = EXAMPLES / "embeddings_requests.jsonl"
    simulate(requests, output=tmp_path / "out.jsonl", errors=tmp_path / "err.jsonl", seed=1,
             failure_rate=0.3, embedding_dimensions=4)
    files = [tmp_path / "out.jsonl", tmp_path / "err.jsonl"]
    expected = rows_of(requests, outputs=files)
    table = join(requests, outputs=files).to_arrow()
    assert table.schema.names == list(COLUMN_NAMES)
    assert [str(field.type) for field in table.schema] == [
        {"list<float64>": "list<item: double>", "bool": "bool", "int64": "int64",
         "float64": "double", "string": "string"}[kind] for _, kind in COLUMNS]
    assert table.to_pylist() == expected
    batches = list(join(requests, outputs=files).iter_batches(rows=2))
    assert [batch.num_rows for batch in batches] == [2] * (len(expected) // 2) + (
        [1] if len(expected) % 2 else [])
    for suffix in ("parquet", "csv", "jsonl"):
        target = tmp_path / f"joined.{suffix}"
        result = CliRunner().invoke(main, ["join", str(requests), "--results", str(files[0]),
                                           "--errors", str(files[1]), "-o", str(target)])
        assert result.exit_code == 0, result.output
    assert pq.read_table(tmp_path / "joined.parquet").to_pylist() == expected
    csv_rows = pyarrow.csv.read_csv(tmp_path / "joined.csv", convert_options=pyarrow.csv.
                                    ConvertOptions(strings_can_be_null=True)).to_pylist()
    assert [row["custom_id"] for row in csv_rows] == [row["custom_id"] for row in expected]
    # CSV leaves the lines' whole JSON out unless the columns name it.
    assert list(csv_rows[0]) == list(COLUMN_NAMES[:-2])
    for got, want in zip(csv_rows, expected, strict=True):
        vector = None if got["embedding"] is None else json.loads(got["embedding"])
        assert vector == want["embedding"]
        assert (got["status"], got["http_status"]) == (want["status"], want["http_status"])
    asked = CliRunner().invoke(main, ["join", str(requests), "--results", str(files[0]),
                                      "--errors", str(files[1]), "-o",
                                      str(tmp_path / "whole.csv"), "--columns",
                                      "custom_id,request,response"])
    assert asked.exit_code == 0, asked.output
    whole = pyarrow.csv.read_csv(tmp_path / "whole.csv", convert_options=pyarrow.csv.
                                 ConvertOptions(strings_can_be_null=True)).to_pylist()
    assert [(row["request"], row["response"]) for row in whole] == [
        (row["request"], row["response"]) for row in expected]
    jsonl_rows = [orjson.loads(line) for line in
                  (tmp_path / "joined.jsonl").read_bytes().splitlines()]
    for got, want in zip(jsonl_rows, expected, strict=True):
        assert got["request"] == orjson.loads(want["request"])
        assert got["response"] == (None if want["response"] is None
                                   else orjson.loads(want["response"]))
        assert {key: value for key, value in got.items() if key not in ("request", "response")} \
            == {key: value for key, value in want.items() if key not in ("request", "response")}


def test_pandas_and_polars_see_the_same_rows(tmp_path: Path) -> None:
    requests = EXAMPLES / "chat_requests.jsonl"
    simulate(requests, output=tmp_path / "out.jsonl", errors=tmp_path / "err.jsonl", seed=2)
    files = [tmp_path / "out.jsonl", tmp_path / "err.jsonl"]
    frame = join(requests, outputs=files).to_pandas()
    assert list(frame.columns) == list(COLUMN_NAMES) and len(frame) == 12
    polars_frame = join(requests, outputs=files).to_polars()
    assert polars_frame.columns == list(COLUMN_NAMES)
    assert polars_frame["custom_id"].to_list() == frame["custom_id"].tolist()


def test_a_table_without_pyarrow_names_the_extra(tmp_path: Path) -> None:
    requests = EXAMPLES / "chat_requests.jsonl"
    simulate(requests, output=tmp_path / "out.jsonl", errors=tmp_path / "err.jsonl")
    code = ("import sys; sys.modules['pyarrow'] = None; from batchio.cli import run; "
            "sys.argv = ['batchio', 'join', sys.argv[1], '--results', sys.argv[2], "
            "'-o', sys.argv[3]]; run()")
    result = subprocess.run([sys.executable, "-c", code, str(requests),
                             str(tmp_path / "out.jsonl"), str(tmp_path / "j.parquet")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "batchio: missing_extra: tables (Arrow, Parquet, CSV) need the optional extra: "
        "pip install "
        "'batchio[arrow]'"]
    assert not (tmp_path / "j.parquet").exists()


# --- output checks -------------------------------------------------------------------------------

SCHEMA = {"type": "object", "properties": {"name": {"type": "string"},
                                           "age": {"type": "integer", "minimum": 0}},
          "required": ["name", "age"], "additionalProperties": False}


def structured_requests(path: Path, count: int) -> Path:
    kinds: list[dict[str, Any]] = [
        {"response_format": {"type": "json_schema", "json_schema": {
            "name": "person", "strict": True, "schema": SCHEMA}}},
        {"response_format": {"type": "json_object"}},
        {},
    ]
    return lines(path, [chat_request(f"r{index}", {
        "model": "gpt-4o-mini", "max_tokens": 1000,
        "messages": [{"role": "user", "content": f"person {index}"}], **kinds[index % 3]})
        for index in range(count)])


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**31), rates=st.lists(st.sampled_from([0.0, 0.1, 0.15, 0.25]),
                                                  min_size=4, max_size=4),
       provider=st.sampled_from(["openai", "anthropic"]))
def test_check_outputs_counts_exactly_what_the_simulation_injected(
        tmp_path: Path, seed: int, rates: list[float], provider: str) -> None:
    folder = tmp_path / f"check-{seed}-{provider}"
    folder.mkdir(exist_ok=True)
    anthropic_kinds: list[dict[str, Any]] = [
        {"tools": [{"name": "person", "input_schema": SCHEMA}],
         "tool_choice": {"type": "tool", "name": "person"}},
        {"output_config": {"format": {"type": "json_schema", "schema": SCHEMA}}}]
    if provider == "openai":
        requests = structured_requests(folder / "in.jsonl", 90)
    else:
        requests = lines(folder / "in.jsonl", [
            {"custom_id": f"r{index}", "params": {
                "model": "claude-haiku-4-5", "max_tokens": 1000,
                "messages": [{"role": "user", "content": "x"}], **anthropic_kinds[index % 2]}}
            for index in range(90)])
    refusal, truncated, invalid, violation = rates
    result = simulate(requests, output=folder / "out.jsonl",
                      errors=folder / "err.jsonl" if provider == "openai" else None,
                      provider=provider, seed=seed, failure_rate=0.1, missing_rate=0.05,
                      refusal_rate=refusal, truncation_rate=truncated,
                      invalid_json_rate=invalid, schema_violation_rate=violation)
    files = [folder / "out.jsonl"] + ([folder / "err.jsonl"] if provider == "openai" else [])
    joined = join(requests, outputs=files, provider=provider, check_outputs=True)
    rows = list(joined)
    checks = joined.summary.to_dict()["output_checks"]
    expected = dict(result.outputs)
    expected["not_checked"] += len(rows) - result.counts["succeeded"]
    assert checks == expected
    assert sum(checks.values()) == len(rows)
    assert list(checks) == list(OUTPUT_CHECKS)
    for row in rows:
        if row.output_check == "schema_violation":
            assert row.output_check_message


def test_check_outputs_reads_each_providers_request_schema(tmp_path: Path) -> None:
    requests = lines(tmp_path / "in.jsonl", [
        chat_request("schema-ok", {"model": "m", "messages": [], "response_format": {
            "type": "json_schema", "json_schema": {"name": "p", "schema": SCHEMA}}}),
        chat_request("schema-bad", {"model": "m", "messages": [], "response_format": {
            "type": "json_schema", "json_schema": {"name": "p", "schema": SCHEMA}}}),
        chat_request("object-bad", {"model": "m", "messages": [],
                                    "response_format": {"type": "json_object"}}),
        chat_request("not-json", {"model": "m", "input": "x", "text": {"format": {
            "type": "json_schema", "name": "p", "schema": SCHEMA}}}, "/v1/responses"),
        chat_request("cut", {"model": "m", "messages": []}),
        chat_request("refused", {"model": "m", "messages": []}),
        chat_request("empty", {"model": "m", "messages": []}),
        chat_request("free", {"model": "m", "messages": []}),
        chat_request("bad-schema", {"model": "m", "messages": [], "response_format": {
            "type": "json_schema", "json_schema": {"name": "p", "schema": {
                "type": "object", "properties": {"a": {"$ref": "https://example.com/x"}}}}}}),
    ])

    def chat(custom_id: str, content: Any, finish: str = "stop", refusal: Any = None
             ) -> dict[str, Any]:
        return openai_result(custom_id, {"choices": [{"finish_reason": finish, "message": {
            "content": content, "refusal": refusal}}]})

    output = lines(tmp_path / "out.jsonl", [
        chat("schema-ok", '{"name": "Ada", "age": 36}'),
        chat("schema-bad", '{"name": "Ada", "age": -1}'),
        chat("object-bad", "[1, 2]"),
        openai_result("not-json", {"object": "response", "status": "completed", "output": [
            {"type": "message", "content": [{"type": "output_text", "text": "{\"name\""}]}]}),
        chat("cut", "Once upon", "length"),
        chat("refused", None, "stop", "I can't help with that."),
        chat("empty", "   "),
        chat("free", "Hello"),
        chat("bad-schema", '{"a": 1}'),
    ])
    rows = {row.custom_id: row for row in join(requests, outputs=output, check_outputs=True)}
    assert {name: row.output_check for name, row in rows.items()} == {
        "schema-ok": "ok", "schema-bad": "schema_violation", "object-bad": "invalid_json",
        "not-json": "invalid_json", "cut": "truncated", "refused": "refusal",
        "empty": "empty", "free": "ok", "bad-schema": "not_checked"}
    assert rows["schema-bad"].output_check_message == "age: -1 is less than the minimum of 0"
    assert rows["refused"].output_check_message == "I can't help with that."


def test_gemini_response_schema_in_openapi_form_is_checked(tmp_path: Path) -> None:
    schema = {"type": "OBJECT", "properties": {"n": {"type": "INTEGER", "nullable": True}},
              "required": ["n"]}
    requests = lines(tmp_path / "in.jsonl", [
        {"key": key, "request": {"contents": [{"parts": [{"text": "x"}]}],
                                 "generation_config": {"response_mime_type": "application/json",
                                                       "response_schema": schema}}}
        for key in ("null-ok", "string-bad")])
    output = lines(tmp_path / "out.jsonl", [
        {"key": key, "response": {"candidates": [{"content": {"parts": [{"text": text}]},
                                                  "finishReason": "STOP"}]}}
        for key, text in (("null-ok", '{"n": null}'), ("string-bad", '{"n": "1"}'))])
    rows = [row.output_check for row in join(requests, outputs=output, provider="gemini",
                                             check_outputs=True)]
    assert rows == ["ok", "schema_violation"]


def test_retry_status_takes_output_checks(tmp_path: Path) -> None:
    requests = structured_requests(tmp_path / "in.jsonl", 30)
    result = simulate(requests, output=tmp_path / "out.jsonl", errors=tmp_path / "err.jsonl",
                      seed=4, failure_rate=0, expire_rate=0, missing_rate=0,
                      truncation_rate=0.2, invalid_json_rate=0.3)
    retry = tmp_path / "retry.jsonl"
    cli = CliRunner().invoke(main, [
        "join", str(requests), "--results", str(tmp_path / "out.jsonl"), "--errors",
        str(tmp_path / "err.jsonl"), "-o", str(tmp_path / "j.jsonl"), "--check-outputs",
        "--retry", str(retry), "--retry-status", "truncated,invalid_json"])
    assert cli.exit_code == 0, cli.output
    expected = result.outputs["truncated"] + result.outputs["invalid_json"]
    assert expected > 0
    assert len(retry.read_bytes().splitlines()) == expected
    bad = CliRunner().invoke(main, [
        "join", str(requests), "--results", str(tmp_path / "out.jsonl"), "--retry",
        str(retry), "--retry-status", "ok"])
    assert bad.exit_code == 2 and "unknown status 'ok'" in bad.output


# --- usage, prices and cost ----------------------------------------------------------------------

def test_every_price_has_a_date_and_a_source() -> None:
    table = load_prices()
    assert len(table) >= 30
    for price in table.prices.values():
        assert len(price.date) == 10 and price.date[4] == "-" and price.date[7] == "-"
        assert price.source.startswith("https://")
        assert price.batch_input >= 0 and price.input >= price.batch_input
        if price.output is not None:
            assert price.batch_output is not None and price.output >= price.batch_output


def test_the_cost_of_a_simulated_job_is_the_hand_sum(tmp_path: Path) -> None:
    requests = EXAMPLES / "chat_requests.jsonl"
    simulate(requests, output=tmp_path / "out.jsonl", errors=tmp_path / "err.jsonl", seed=7,
             failure_rate=0.2)
    joined = join(requests, outputs=[tmp_path / "out.jsonl", tmp_path / "err.jsonl"])
    rows = [row.to_dict() for row in joined]
    summary = joined.summary.to_dict()
    succeeded = [row for row in rows if row["input_tokens"] is not None]
    input_tokens = sum(row["input_tokens"] for row in succeeded)
    output_tokens = sum(row["output_tokens"] for row in succeeded)
    assert summary["usage"] == {"gpt-4o-mini": {
        "requests": len(succeeded), "input_tokens": input_tokens, "cached_tokens": 0,
        "cache_write_tokens": 0, "output_tokens": output_tokens, "reasoning_tokens": 0}}
    price = load_prices().find("openai", "gpt-4o-mini")
    assert price is not None
    hand = (input_tokens * price.batch_input + output_tokens * (price.batch_output or 0)) / 1e6
    assert summary["cost"]["models"]["gpt-4o-mini"]["cost"] == round(hand, 6)
    assert math.isclose(summary["cost"]["total"], hand, abs_tol=1e-6)
    assert summary["cost"]["unpriced"] == []


def test_dated_models_are_priced_as_their_name_and_unknown_ones_are_unpriced() -> None:
    table = load_prices()
    assert table.find("openai", "gpt-4o-mini-2024-07-18") is table.find("openai", "gpt-4o-mini")
    assert table.find("openai", "gpt-4o-mini-x") is None
    report = batchio.pricing.cost_report("openai", {"my-model": TokenUsage(1, 10, 0, 5, 0)})
    assert report["unpriced"] == ["my-model"] and report["total"] == 0


# --- estimate -------------------------------------------------------------------------------------

def test_estimate_prints_the_same_figures_from_python_and_the_cli(tmp_path: Path) -> None:
    paths = [EXAMPLES / "chat_requests.jsonl", EXAMPLES / "embeddings_requests.jsonl"]
    report = batchio.estimate(paths)
    cli = CliRunner().invoke(main, ["estimate", *map(str, paths), "--format", "json"])
    assert cli.exit_code == 0, cli.output
    assert orjson.loads(cli.output) == {
        "command": "estimate", "ok": True, "exit_status": 0, "warnings": [],
        **orjson.loads(orjson.dumps(report.to_dict()))}
    chat = report.files[0]
    bodies = [orjson.loads(line)["body"] for line in paths[0].read_bytes().splitlines()]
    assert chat.requests == len(bodies)
    assert chat.input_tokens == sum(batchio.estimate_tokens(body) for body in bodies)
    assert chat.output_cap_tokens == sum(body["max_tokens"] for body in bodies)
    assert report.files[1].output_cap_tokens == 0 and report.files[1].uncapped == 0
    text = CliRunner().invoke(main, ["estimate", *map(str, paths)])
    assert f"{chat.requests:,} requests, ~{chat.input_tokens:,} input tokens" in text.output


def test_estimate_reads_a_manifests_shards_and_warns_over_an_enqueued_limit(
        tmp_path: Path) -> None:
    batchio.split(EXAMPLES / "chat_requests.jsonl", tmp_path / "shards", max_requests=5)
    report = batchio.estimate(tmp_path / "shards", enqueued_limit=100)
    assert [item.requests for item in report.files] == [5, 5, 2]
    assert report.total("input_tokens") == batchio.estimate(
        EXAMPLES / "chat_requests.jsonl").total("input_tokens")
    assert any("over the enqueued-token limit of 100" in warning
               for item in report.files for warning in item.warnings)


@pytest.mark.parametrize("ratio", [2.5, 4.0, 6.0])
def test_calibrate_recovers_the_ratio_a_job_was_simulated_with(tmp_path: Path,
                                                               ratio: float) -> None:
    requests = lines(tmp_path / "in.jsonl", [chat_request(f"r{index}", {
        "model": "gpt-4o-mini", "messages": [
            {"role": "user", "content": "word " * (20 + index * 7)}]})
        for index in range(200)])
    simulate(requests, output=tmp_path / "out.jsonl", errors=tmp_path / "err.jsonl",
             chars_per_token=ratio, seed=11)
    joined_path = tmp_path / "joined.parquet"
    cli = CliRunner().invoke(main, ["join", str(requests), "--results",
                                    str(tmp_path / "out.jsonl"), "--errors",
                                    str(tmp_path / "err.jsonl"), "-o", str(joined_path)])
    assert cli.exit_code == 0, cli.output
    fitted = batchio.calibrate(joined_path)
    assert abs(fitted.chars_per_token - ratio) / ratio < 0.05
    assert fitted.median_error < 0.1
    cli = CliRunner().invoke(main, ["estimate", str(requests), "--calibrate", str(joined_path),
                                    "--format", "json"])
    assert cli.exit_code == 0, cli.output
    document = orjson.loads(cli.output)
    assert document["calibration"]["chars_per_token"] == round(fitted.chars_per_token, 4)
    assert document["chars_per_token"] == fitted.chars_per_token


def test_estimate_of_a_bad_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"custom_id": "a", "body": {}}\n{not json\n')
    cli = CliRunner().invoke(main, ["estimate", str(bad)])
    # A bad input line stops the command as it stops split: exit 2, its place named.
    assert cli.exit_code == 2
    assert cli.output.splitlines() == [
        f"batchio: {bad}:2: invalid_json_line: This line is not parseable as valid JSON: "
        "unexpected character, expected a string key (column 2)"]
    assert pa.__version__


# --- hostile results and requests: a row's worst case is a null or a verdict, never a crash --

def test_counts_beyond_64_bits_and_vectors_beyond_float_are_nulls(tmp_path: Path) -> None:
    requests = lines(tmp_path / "in.jsonl", [
        chat_request("big", {"model": "gpt-4o-mini", "messages": []}),
        chat_request("emb", {"model": "text-embedding-3-small", "input": "x"},
                     "/v1/embeddings"),
        chat_request("nan", {"model": "text-embedding-3-small", "input": "x"},
                     "/v1/embeddings")])
    nan_vector = base64.b64encode(struct.pack("<2f", 1.0, float("nan"))).decode()
    output = tmp_path / "out.jsonl"
    output.write_bytes(b"".join([
        b'{"custom_id": "big", "error": null, "response": {"status_code": 2000000000000000000'
        b'0000, "body": {"choices": [{"finish_reason": "stop", "message": {"content": "hi"}}],'
        b' "usage": {"prompt_tokens": 1000000000000000000000000000000, "completion_tokens":'
        b' 5}}}}\n',
        b'{"custom_id": "emb", "error": null, "response": {"status_code": 200, "body": {"data":'
        b' [{"embedding": [1, 1' + b"0" * 400 + b']}]}}}\n',
        orjson.dumps(openai_result("nan", {"data": [{"embedding": nan_vector}]})) + b"\n"]))
    rows = rows_of(requests, outputs=output)
    assert (rows[0]["http_status"], rows[0]["input_tokens"], rows[0]["output_tokens"]) == (
        None, None, 5)
    assert rows[1]["embedding"] is None and rows[2]["embedding"] is None
    for target in ("j.parquet", "j.csv", "j.jsonl"):
        cli = CliRunner().invoke(main, ["join", str(requests), "--results", str(output), "-o",
                                        str(tmp_path / target), "--format", "json"])
        assert cli.exit_code == 0, cli.output
        assert orjson.loads(cli.stdout)["usage"]["gpt-4o-mini"]["output_tokens"] == 5


def test_counts_that_each_fit_but_sum_past_64_bits_are_said_not_a_crash(
        tmp_path: Path) -> None:
    """A total made of two counts past 64 bits is null and counted as unusable; usage
    summed past 64 bits is written whole in the JSON document."""
    half = 1 << 62
    requests = lines(tmp_path / "in.jsonl", [
        chat_request(f"r{number}", {"model": "gpt-4o-mini", "messages": []})
        for number in range(3)])
    answer = {"model": "gpt-4o-mini", "choices": [{"message": {"content": "x"},
                                                   "finish_reason": "stop"}]}
    output = lines(tmp_path / "out.jsonl", [
        openai_result("r0", {**answer, "usage": {"prompt_tokens": half,
                                                 "completion_tokens": half}}),
        openai_result("r1", {**answer, "usage": {"prompt_tokens": half * 2 - 1,
                                                 "completion_tokens": 0,
                                                 "total_tokens": half * 2 - 1}}),
        openai_result("r2", {**answer, "usage": {"prompt_tokens": half * 2 - 1,
                                                 "completion_tokens": 0,
                                                 "total_tokens": half * 2 - 1}})])
    rows = rows_of(requests, outputs=output)
    assert [row["total_tokens"] for row in rows] == [None, half * 2 - 1, half * 2 - 1]
    for target in ("j.parquet", "j.csv", "j.jsonl"):
        for jobs in ("1", "2"):
            cli = CliRunner().invoke(main, ["join", str(requests), "--results", str(output),
                                            "-o", str(tmp_path / target), "--format", "json",
                                            "--jobs", jobs])
            assert cli.exit_code == 0, cli.output
            document = json.loads(cli.stdout)  # its whole numbers read exactly
            assert document["unusable_usage"] == 1
            assert document["usage"]["gpt-4o-mini"]["input_tokens"] == \
                half + 2 * (half * 2 - 1)
    assert pq.read_table(tmp_path / "j.parquet").column("total_tokens").to_pylist() == [
        None, half * 2 - 1, half * 2 - 1]


def test_deep_recursive_and_backtracking_schemas_give_verdicts_not_failures(
        tmp_path: Path) -> None:
    # Written as text: deeper than orjson's own writer goes.
    deep = '{"type": "OBJECT", "properties": {"a": ' * 300 + '{"type": "STRING"}' + "}}" * 300
    recursive = {"$defs": {"node": {"type": "object", "properties": {
        "next": {"$ref": "#/$defs/node"}}}}, "$ref": "#/$defs/node", "required": ["x"]}
    deep_answer = '{"next": ' * 400 + "{}" + "}" * 400
    requests = tmp_path / "in.jsonl"
    requests.write_bytes(b"".join([
        b'{"key": "deep", "request": {"contents": [], "generationConfig": {'
        b'"responseMimeType": "application/json", "responseSchema": ' + deep.encode() + b"}}}\n",
        orjson.dumps({"key": "recursive", "request": {"contents": [], "generationConfig": {
            "responseJsonSchema": recursive}}}) + b"\n",
        orjson.dumps({"key": "redos", "request": {"contents": [], "generationConfig": {
            "responseJsonSchema": {"type": "string", "pattern": "^(a+)+$"}}}}) + b"\n"]))
    answers = {"deep": '{"a": 1}', "recursive": deep_answer,
               "redos": orjson.dumps("a" * 40 + "!").decode()}
    output = lines(tmp_path / "out.jsonl", [
        {"key": key, "response": {"candidates": [{"content": {"parts": [{"text": text}]},
                                                  "finishReason": "STOP"}]}}
        for key, text in answers.items()])
    rows = {row.custom_id: (row.output_check, row.output_check_message) for row in join(
        requests, outputs=output, provider="gemini", check_outputs=True)}
    assert rows["deep"] == ("not_checked",
                            "the request's schema is nested too deeply to check")
    assert rows["recursive"][0] in ("schema_violation", "not_checked")
    assert rows["redos"][0] == "schema_violation"


def test_tool_calls_allowed_are_ok_and_forced_functions_are_checked(tmp_path: Path) -> None:
    tools = [{"type": "function", "function": {"name": "person", "parameters": SCHEMA}}]
    requests = lines(tmp_path / "in.jsonl", [
        chat_request("allowed", {"model": "m", "messages": [], "tools": tools}),
        chat_request("forced-ok", {"model": "m", "messages": [], "tools": tools, "tool_choice": {
            "type": "function", "function": {"name": "person"}}}),
        chat_request("forced-bad", {"model": "m", "messages": [], "tools": tools,
                                    "tool_choice": {"type": "function",
                                                    "function": {"name": "person"}}}),
        chat_request("filtered", {"model": "m", "messages": []})])

    def called(custom_id: str, arguments: str) -> dict[str, Any]:
        return openai_result(custom_id, {"choices": [{"finish_reason": "tool_calls", "message": {
            "content": None, "tool_calls": [{"type": "function", "function": {
                "name": "person", "arguments": arguments}}]}}]})

    output = lines(tmp_path / "out.jsonl", [
        called("allowed", "{}"), called("forced-ok", '{"name": "Ada", "age": 1}'),
        called("forced-bad", '{"name": "Ada"'),
        openai_result("filtered", {"choices": [{"finish_reason": "content_filter",
                                                "message": {"content": "Part"}}]})])
    rows = {row.custom_id: row.output_check for row in join(requests, outputs=output,
                                                            check_outputs=True)}
    assert rows == {"allowed": "ok", "forced-ok": "ok", "forced-bad": "invalid_json",
                    "filtered": "refusal"}


def test_output_checks_as_retry_statuses_need_check_outputs(tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"
    simulate(EXAMPLES / "chat_requests.jsonl", output=output, errors=tmp_path / "e.jsonl")
    cli = CliRunner().invoke(main, ["join", str(EXAMPLES / "chat_requests.jsonl"), "--results",
                                    str(output), "--retry", str(tmp_path / "r.jsonl"),
                                    "--retry-status", "truncated"])
    assert cli.exit_code == 2
    assert "--retry-status truncated is an output check: add --check-outputs" in cli.output
    assert not (tmp_path / "r.jsonl").exists()


def test_a_missing_result_file_is_named_as_an_input_for_every_format(tmp_path: Path) -> None:
    for target in ("j.parquet", "j.csv", "j.jsonl"):
        cli = CliRunner().invoke(main, ["join", str(EXAMPLES / "chat_requests.jsonl"),
                                        "--results", str(tmp_path / "absent.jsonl"), "-o",
                                        str(tmp_path / target)])
        assert cli.exit_code == 2, (target, cli.output)
        assert "absent.jsonl" in cli.output and "cannot write" not in cli.output
        assert not (tmp_path / target).exists()


def test_anthropic_cache_writes_cost_more_and_undated_names_find_dated_prices() -> None:
    table = load_prices()
    dated = table.find("anthropic", "claude-haiku-4-5-20251001")
    assert dated is not None and table.find("anthropic", "claude-haiku-4-5") is dated
    plain, plain_uncertain = dated.cost(TokenUsage(input=1_000_000))
    written, written_uncertain = dated.cost(TokenUsage(input=1_000_000,
                                                       cache_writes=1_000_000))
    assert written == pytest.approx(plain * 1.25)
    assert written_uncertain and not plain_uncertain


def test_estimate_takes_unusable_caps_as_none_and_reads_each_files_provider(
        tmp_path: Path) -> None:
    odd = tmp_path / "odd.jsonl"
    odd.write_bytes(b"".join(msgspec.json.encode(chat_request(f"r{index}", {
        "model": "gpt-4o-mini", "messages": [], "max_tokens": cap})) + b"\n"
        for index, cap in enumerate([10**30, -5, 0, "9", 7])))
    [item] = batchio.estimate(odd).files
    assert (item.output_cap_tokens, item.uncapped) == (7, 4)
    report = batchio.estimate([EXAMPLES / "chat_requests.jsonl",
                               EXAMPLES / "anthropic_requests.jsonl"])
    assert [item.provider for item in report.files] == ["openai", "anthropic"]
    assert list(report.files[1].models) == ["claude-sonnet-4-5"]
    assert report.files[1].input_tokens > 0


def test_calibrate_refuses_what_is_not_a_joined_table(tmp_path: Path) -> None:
    fake = tmp_path / "f.parquet"
    fake.write_bytes(b"x\n")
    with pytest.raises(batchio.UsageError, match="is not a joined table batchio can read"):
        batchio.calibrate(fake)
    with pytest.raises(batchio.UsageError, match="no rows with a request"):
        batchio.calibrate([{"request": "{x", "input_tokens": 5},
                           {"request": '{"body": {"messages": []}}', "input_tokens": 2**80}])
    with pytest.raises(batchio.UsageError, match="outside any tokenizer's range"):
        batchio.calibrate([{"request": '{"body": {"input": "abc"}}',
                            "input_tokens": 10**12}])


def test_simulate_answers_a_schema_too_deep_to_serialise(tmp_path: Path) -> None:
    schema = '{"type": "object", "properties": {"a": ' * 200 + '{"type": "string"}' + \
        "}}" * 200
    requests = tmp_path / "in.jsonl"
    requests.write_bytes(
        b'{"custom_id": "r1", "method": "POST", "url": "/v1/chat/completions", "body": '
        b'{"model": "gpt-4o-mini", "messages": [], "response_format": {"type": '
        b'"json_schema", "json_schema": {"name": "deep", "schema": ' + schema.encode()
        + b"}}}}\n")
    result = simulate(requests, output=tmp_path / "out.jsonl", errors=tmp_path / "e.jsonl",
                      failure_rate=0, expire_rate=0, missing_rate=0)
    assert result.counts["succeeded"] == 1
    assert sum(result.outputs.values()) == 1


def test_a_gemini_batch_embedding_counts_its_tokens_as_input() -> None:
    # google-genai SingleEmbedContentResponse: the embedding and its input's tokenCount,
    # a 64-bit count that the JSON of a batch result carries as a string.
    from batchio.results import answer_fields

    fields = answer_fields({"embedding": {"values": [0.25, -0.5]}, "tokenCount": "7"})
    assert (fields["embedding"], fields["input_tokens"], fields["output_tokens"],
            fields["total_tokens"]) == ([0.25, -0.5], 7, None, 7)


# The typed reading of successful chat results (providers/_results.py) against the general
# one: lines around its shape, each part valid, missing, null or of another type.
_ANY_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-3, 2**70), st.just(1.0),
                        st.text(max_size=3))
_COUNT = st.one_of(st.integers(0, 10_000), _ANY_SCALAR, st.just(2**63), st.just(-1))


def _mostly(usual: st.SearchStrategy[Any], unusual: st.SearchStrategy[Any]
            ) -> st.SearchStrategy[Any]:
    return st.integers(0, 7).flatmap(lambda pick: usual if pick < 7 else unusual)


def _maybe(value: st.SearchStrategy[Any], rare: bool) -> st.SearchStrategy[Any]:
    """A field's value, absent (``...``) or a scalar of any type: most often the value, or
    most often absent where the field is ``rare`` (one that takes a line off the typed
    reading)."""
    usual, unusual = (st.just(...), value) if rare else (value, st.just(...))
    return st.integers(0, 19).flatmap(
        lambda pick: usual if pick < 18 else unusual if pick == 18 else _ANY_SCALAR)


_RARE = frozenset({"error", "inputTokens", "function_call", "modelVersion", "usageMetadata",
                   "text", "arguments"})


def _fields(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({name: _maybe(value, name in _RARE)
                                  for name, value in fields.items()}).map(
        lambda drawn: {name: value for name, value in drawn.items() if value is not ...})


_CALL = _mostly(_fields(function=_fields(name=st.just("f"), arguments=st.text(max_size=4))),
                _fields(arguments=st.text(max_size=4)))
_MESSAGE = _fields(
    role=st.just("assistant"),
    content=_mostly(st.text(max_size=4), st.lists(st.fixed_dictionaries(
        {"type": st.just("text"), "text": st.text(max_size=3)}), max_size=2)),
    refusal=st.text(max_size=4), tool_calls=st.lists(_CALL, max_size=2),
    function_call=_fields(name=st.just("f"), arguments=st.text(max_size=4)))
_CHOICE = _fields(index=st.just(0), message=_MESSAGE, text=st.text(max_size=3),
                  finish_reason=st.sampled_from(["stop", "length", "tool_calls",
                                                 "content_filter", "odd"]),
                  logprobs=st.just({"content": [{"token": "a", "logprob": -1.5e-05}]}))
_USAGE = _fields(prompt_tokens=_COUNT, completion_tokens=_COUNT, total_tokens=_COUNT,
                 prompt_tokens_details=_fields(cached_tokens=_COUNT),
                 completion_tokens_details=_fields(reasoning_tokens=_COUNT),
                 inputTokens=_COUNT)
_BODY = _fields(id=st.just("chatcmpl-1"), object=st.just("chat.completion"),
                model=_mostly(st.just("gpt-4o-mini"), st.just("")), modelVersion=st.just("v"),
                choices=_mostly(st.lists(_CHOICE, min_size=1, max_size=2),
                                st.lists(_ANY_SCALAR, max_size=1)), usage=_USAGE,
                usageMetadata=st.just({"promptTokenCount": 3}))
_RESULT_LINE = _fields(
    id=st.just("batch_req_1"), custom_id=st.text(max_size=4),
    response=_fields(status_code=_mostly(st.just(200),
                                         st.sampled_from([201, 299, 300, 400, 500])),
                     request_id=st.just("r"), body=_BODY),
    error=st.fixed_dictionaries({"code": st.sampled_from(["batch_expired", "x"])}))
# Text spliced into a line where a field's value stands (a repeated key: the last counts):
# values a typed decode might skip unchecked.
_SPLICES = [b"", b"", b"", b'"id":1e400,', b'"id":"\xff",', b'"id":"caf\xc3\xa9",',
            b'"id":[1,],', b'"id":' + b"9" * 310 + b".5,", b'"response":null,',
            b'"id":"\\ud800",', b'"id":' + b"[" * 300 + b"]" * 300 + b",", b'"extra":1,']


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(line=_RESULT_LINE, splice=st.sampled_from(_SPLICES), at_end=st.booleans())
def test_the_typed_reading_of_a_success_is_the_general_reading(
        line: dict[str, Any], splice: bytes, at_end: bool) -> None:
    from batchio.providers._results import read_openai_success
    from batchio.results import answer_body, answer_fields

    encoded = msgspec.json.encode(line)
    raw = (encoded[:-1] + b"," + splice.rstrip(b",") + b"}" if at_end and splice and
           len(encoded) > 2 else b"{" + splice + encoded[1:]) + b"\n"
    typed = read_openai_success(raw)
    if typed is None:
        return
    outcome = batchio.get_profile("openai").classify_result(msgspec.json.decode(raw))
    assert typed.response is None and outcome.response is not None
    assert typed._replace(response=outcome.response, http_status=None, answer=None) == outcome
    assert typed.http_status == outcome.response["status_code"]
    assert orjson.dumps(typed.answer, option=orjson.OPT_SORT_KEYS) == orjson.dumps(
        answer_fields(answer_body(outcome.response)), option=orjson.OPT_SORT_KEYS)


def test_the_typed_reading_takes_every_simulated_chat_success(tmp_path: Path) -> None:
    from batchio.providers._results import read_openai_success

    simulate(EXAMPLES / "chat_requests.jsonl", output=tmp_path / "out.jsonl",
             errors=tmp_path / "err.jsonl", seed=5, failure_rate=0.3)
    lines = [raw for name in ("out.jsonl", "err.jsonl")
             for raw in (tmp_path / name).read_bytes().splitlines(keepends=True)]
    successes = [raw for raw in lines if b'"status_code":200' in raw]
    assert successes and len(successes) < len(lines)
    assert all(read_openai_success(raw) is not None for raw in successes)
    assert all(read_openai_success(raw) is None for raw in lines if raw not in successes)


def _success(custom_id: str, message: dict[str, Any], **body: Any) -> bytes:
    answer = {"id": "chatcmpl-1", "object": "chat.completion", "created": 1767225600,
              "model": "gpt-4o-mini", "choices": [{"index": 0, "message": message,
                                                   "finish_reason": "stop"}],
              "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}}
    answer.update(body)
    return msgspec.json.encode({"id": "batch_req_1", "custom_id": custom_id, "response": {
        "status_code": 200, "request_id": "req_1", "body": answer}, "error": None})


def test_a_written_join_of_unusual_successes_is_the_rows_iterated(tmp_path: Path) -> None:
    """Lines each way of reading a success takes (typed, general, refused): the written
    JSONL and Parquet hold the rows iterated, by one process and by two."""
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    asking = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "n?"}],
              "response_format": {"type": "json_schema", "json_schema": {
                  "name": "n", "strict": True, "schema": schema}}}
    text = {"role": "assistant", "content": "plain"}
    results = [
        _success("ascii", text),
        _success("utf8", {"role": "assistant", "content": "caf\u00e9 \u2615 \u65e5\u672c"}),
        _success("escapes", {"role": "assistant", "content": "a\n\"b\"\u0001"}),
        _success("json-ok", {"role": "assistant", "content": '{"n": 3}'}),
        _success("json-bad", {"role": "assistant", "content": '{"n": "three"}'}),
        _success("refused", {"role": "assistant", "content": None, "refusal": "no"}),
        _success("tool", {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}),
        _success("huge-count", text, usage={"prompt_tokens": 2**70, "completion_tokens": 1}),
        _success("no-total", text, usage={"prompt_tokens": 1, "completion_tokens": 1,
                                          "prompt_tokens_details": {"cached_tokens": 1}}),
        _success("extra-field", text, provider_extra=1),
        _success("parts", {"role": "assistant", "content": [{"type": "text", "text": "p"}]}),
        _success("no-usage", text, usage=None),
        _success("logprobs", text, choices=[{"index": 0, "message": text,
                                             "finish_reason": "length", "logprobs": {
                                                 "content": [{"logprob": -1.5e-05}]}}]),
        _success("model-twice", text).replace(b'"model":"gpt-4o-mini"',
                                              b'"model":"gpt-4o-mini","model":"other"'),
        _success("huge-float", text).replace(b'"created":1767225600', b'"created":1e400'),
        _success("bad-utf8", {"role": "assistant", "content": "XX"}).replace(b"XX", b"\xff"),
        _success("http-201", text).replace(b'"status_code":200', b'"status_code":201'),
    ]
    # The ids read past what the lines hold that no JSON parser takes.
    ids = [msgspec.json.decode(msgspec.json.decode(line, type=dict[str, msgspec.Raw])[
        "custom_id"]) for line in results]
    from batchio.providers._results import read_openai_success

    typed = [custom_id for custom_id, line in zip(ids, results, strict=True)
             if read_openai_success(line) is not None]
    assert set(ids) - set(typed) == {"extra-field", "parts", "no-usage", "huge-float",
                                     "bad-utf8"}
    requests = lines(tmp_path / "requests.jsonl", [
        chat_request(custom_id, asking if custom_id.startswith("json") else {
            "model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})
        for custom_id in ids])
    output = tmp_path / "output.jsonl"
    output.write_bytes(b"".join(line + b"\n" for line in reversed(results)))
    expected_lines = b"".join(joined_line(row) for row in join(
        requests, outputs=output, check_outputs=True))
    expected = rows_of(requests, outputs=output, check_outputs=True)
    by_id = {row["custom_id"]: row for row in expected}
    assert by_id["huge-float"]["error_code"] == by_id["bad-utf8"]["error_code"] == \
        "invalid_result_line"
    assert (by_id["json-ok"]["output_check"], by_id["json-bad"]["output_check"]) == (
        "ok", "schema_violation")
    assert by_id["utf8"]["text"] == "caf\u00e9 \u2615 \u65e5\u672c"
    assert by_id["http-201"]["http_status"] == 201
    assert by_id["model-twice"]["model"] == "other"  # the last of repeated keys
    for workers in (1, 2):
        result = join(requests, outputs=output, check_outputs=True)
        batchio.write_join(result, tmp_path / "joined.jsonl", workers=workers)
        assert (tmp_path / "joined.jsonl").read_bytes() == expected_lines
        assert result.summary.unusable_usage == 1
        result = join(requests, outputs=output, check_outputs=True)
        batchio.write_join(result, tmp_path / "joined.parquet", workers=workers)
        assert pq.read_table(tmp_path / "joined.parquet").to_pylist() == expected

"""The pre-submit validator: one test per code, no false positives, and injected defects."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batchio import CODES, validate
from batchio.providers import Limits, get_profile

CHAT = "/v1/chat/completions"


def chat(custom_id: str = "r1", content: Any = "hi", **body: Any) -> dict[str, Any]:
    return {"custom_id": custom_id, "method": "POST", "url": CHAT,
            "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}],
                     **body}}


def codes(report: Any) -> list[tuple[str, int | None]]:
    return [(problem.code, problem.line) for problem in report.errors]


def as_file(tmp_path: Path, rows: list[Any], name: str = "requests.jsonl") -> Path:
    path = tmp_path / name
    path.write_bytes(b"".join(
        row if isinstance(row, bytes) else orjson.dumps(row) + b"\n" for row in rows))
    return path


def test_a_valid_file_passes_with_counts(tmp_path: Path) -> None:
    path = as_file(tmp_path, [chat("a"), chat("b")])
    report = validate(path)
    assert report.ok and report.errors == [] and report.warnings == []
    assert (report.lines, report.requests, report.bytes) == (2, 2, path.stat().st_size)
    assert report.endpoint == CHAT
    assert report.models == {"gpt-4o-mini": 2}


VALID_BODIES: dict[str, list[dict[str, Any]]] = {
    "/v1/chat/completions": [
        {"model": "m", "messages": [{"role": "user", "content": "héllo wörld 你好 🎉"}]},
        {"model": "m", "messages": [
            {"role": "developer", "content": "be brief"},
            {"role": "user", "content": [
                {"type": "text", "text": "what is this?"},
                {"type": "image_url", "image_url": {"url": "https://example.com/a.png",
                                                    "detail": "low"}}]}]},
        {"model": "m", "messages": [
            {"role": "user", "content": "weather?"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_1", "type": "function",
                 "function": {"name": "get_weather", "arguments": "{\"city\": \"Oslo\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "4 degrees"}],
         "tools": [{"type": "function", "function": {
             "name": "get_weather", "parameters": {"type": "object"}}}],
         "tool_choice": "auto"},
        {"model": "m", "messages": [{"role": "user", "content": "json please"}],
         "response_format": {"type": "json_schema", "json_schema": {
             "name": "answer", "strict": True,
             "schema": {"type": "object", "properties": {"a": {"type": "string"}},
                        "required": ["a"], "additionalProperties": False}}},
         "temperature": 0, "max_completion_tokens": 50, "seed": 42, "stream": False,
         "some_future_parameter": {"x": 1}},
    ],
    "/v1/embeddings": [
        {"model": "text-embedding-3-small", "input": "one string"},
        {"model": "text-embedding-3-small", "input": ["a", "b", "c"], "dimensions": 256},
        {"model": "text-embedding-3-small", "input": [1, 2, 3]},
    ],
    "/v1/responses": [
        {"model": "m", "input": "hello"},
        {"model": "m", "input": [{"role": "user", "content": [
            {"type": "input_text", "text": "describe"},
            {"type": "input_image", "image_url": "https://example.com/a.png"}]}],
         "instructions": "be kind", "max_output_tokens": 100},
    ],
    "/v1/completions": [{"model": "m", "prompt": "Once upon a time", "max_tokens": 5}],
    "/v1/moderations": [
        {"model": "omni-moderation-latest", "input": "text to check"},
        {"input": ["one", "two"]},
        {"model": "omni-moderation-latest", "input": [
            {"type": "text", "text": "hi"},
            {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]},
    ],
    "/v1/images/generations": [{"model": "gpt-image-1", "prompt": "a red fox", "n": 1}],
    "/v1/images/edits": [{"model": "gpt-image-1", "prompt": "add a hat", "image": "file-abc"}],
    "/v1/videos": [{"model": "sora-2", "prompt": "waves at dusk", "seconds": "4"}],
}


@pytest.mark.parametrize(
    ("url", "body"),
    [(url, body) for url, bodies in VALID_BODIES.items() for body in bodies],
)
def test_valid_bodies_of_every_endpoint_pass(url: str, body: dict[str, Any]) -> None:
    report = validate([{"custom_id": "x", "method": "POST", "url": url, "body": body}])
    assert report.errors == []


def test_embedding_inputs_are_counted() -> None:
    rows = [{"custom_id": f"e{i}", "method": "POST", "url": "/v1/embeddings", "body": body}
            for i, body in enumerate(VALID_BODIES["/v1/embeddings"])]
    assert validate(rows).embedding_inputs == 1 + 3 + 1


# One minimal failing file per code: (rows, provider, code, line).
CASES: list[tuple[str, list[Any], str, int | None]] = [
    ("invalid_json_line", [chat("a"), b'{"custom_id": \n'], "openai", 2),
    ("not_an_object", [chat("a"), b"[1]\n"], "openai", 2),
    ("invalid_utf8", [chat("a"), b'{"a": "\xff"}\n'], "openai", 2),
    ("utf8_bom", [b"\xef\xbb\xbf" + orjson.dumps(chat("a")) + b"\n"], "openai", 1),
    ("blank_line", [chat("a"), b"\n", chat("b")], "blank-lines-refused", 2),
    ("non_finite_number", [chat("a"), b'{"a": NaN}\n'], "openai", 2),
    ("nesting_too_deep", [chat("a"), b'{"a": ' + b"[" * 1100 + b"]" * 1100 + b"}\n"],
     "openai", 2),
    ("missing_custom_id", [chat("a"), {k: v for k, v in chat().items() if k != "custom_id"}],
     "openai", 2),
    ("invalid_custom_id", [chat("a"), chat("")], "openai", 2),
    ("custom_id_too_long", [{"custom_id": "x" * 65, "params": {
        "model": "c", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}}],
     "anthropic", 1),
    ("custom_id_charset", [{"custom_id": "has space", "params": {
        "model": "c", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}}],
     "anthropic", 1),
    ("duplicate_custom_id", [chat("a"), chat("b"), chat("a")], "openai", 3),
    ("invalid_method", [chat("a"), {**chat("b"), "method": "GET"}], "openai", 2),
    ("missing_url", [chat("a"), {k: v for k, v in chat("b").items() if k != "url"}],
     "openai", 2),
    ("unsupported_url", [chat("a"), {**chat("b"), "url": "/v1/chat"}], "openai", 2),
    ("url_mismatch", [chat("a"), {**chat("b"), "url": "/v1/completions", "body": {
        "model": "gpt-4o-mini", "prompt": "x"}}], "openai", 2),
    ("missing_body", [chat("a"), {k: v for k, v in chat("b").items() if k != "body"}],
     "openai", 2),
    ("body_not_object", [chat("a"), {**chat("b"), "body": "text"}], "openai", 2),
    ("missing_model", [chat("a"), {**chat("b"), "body": {"messages": [
        {"role": "user", "content": "x"}]}}], "openai", 2),
    ("model_mismatch", [chat("a"), {**chat("b"), "body": {
        "model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]}}], "openai", 2),
    ("invalid_body", [chat("a"), {**chat("b"), "body": {
        "model": "gpt-4o-mini", "messages": [{"role": "human", "content": "x"}]}}], "openai", 2),
    ("stream_not_supported", [chat("a"), chat("b", stream=True)], "openai", 2),
    ("empty_file", [], "openai", None),
]


@pytest.mark.parametrize(("code", "rows", "provider", "line"), CASES,
                         ids=[case[0] for case in CASES])
def test_each_code_on_a_minimal_file(tmp_path: Path, code: str, rows: list[Any],
                                     provider: str, line: int | None) -> None:
    profile = (replace(get_profile("openai"), name="strict", blank_lines="error")
               if provider == "blank-lines-refused" else get_profile(provider))
    report = validate(as_file(tmp_path, rows), provider=profile)
    assert codes(report) == [(code, line)]
    assert code in CODES
    assert not report.ok


def test_invalid_body_names_the_json_path() -> None:
    row = chat("a")
    row["body"]["messages"] = [{"role": "user", "content": "x"}, {"role": "user", "content": "y"},
                               {"role": "robot", "content": "z"}]
    [problem] = validate([row]).errors
    assert (problem.code, problem.param, problem.custom_id) == (
        "invalid_body", "body.messages[2].role", "a")


def test_duplicate_names_the_first_line() -> None:
    [problem] = validate([chat("a"), chat("b"), chat("a")]).errors
    assert "line 1" in problem.message


def test_model_mismatch_names_the_expected_model() -> None:
    other = chat("b")
    other["body"]["model"] = "gpt-4o"
    [problem] = validate([chat("a"), other]).errors
    assert "'gpt-4o-mini'" in problem.message and "line 1" in problem.message


def test_unknown_top_level_field_is_a_warning() -> None:
    report = validate([{**chat("a"), "note": "x"}])
    assert report.ok
    assert [(w.code, w.line, w.param) for w in report.warnings] == [("unknown_field", 1, "note")]


def test_crlf_file_is_valid_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "crlf.jsonl"
    path.write_bytes(orjson.dumps(chat("a")) + b"\r\n" + orjson.dumps(chat("b")) + b"\r\n")
    report = validate(path)
    assert report.ok and [w.code for w in report.warnings] == ["crlf_line_ending"]


def limited(**limits: Any) -> Any:
    profile = get_profile("openai")
    from dataclasses import replace
    return replace(profile, limits=Limits(**{"max_requests": None, "max_file_bytes": None,
                                             **limits}))


def test_too_many_tasks_names_the_first_line_over() -> None:
    report = validate([chat(f"r{i}") for i in range(5)], provider=limited(max_requests=3))
    assert codes(report) == [("too_many_tasks", 4)]


def test_file_too_large_is_a_whole_file_problem() -> None:
    report = validate([chat(f"r{i}") for i in range(5)], provider=limited(max_file_bytes=300))
    assert codes(report) == [("file_too_large", None)]


def test_too_many_embedding_inputs() -> None:
    rows = [{"custom_id": f"e{i}", "method": "POST", "url": "/v1/embeddings",
             "body": {"model": "e", "input": ["a", "b", "c"]}} for i in range(3)]
    report = validate(rows, provider=limited(max_embedding_inputs=7))
    assert codes(report) == [("too_many_embedding_inputs", 3)]
    assert report.embedding_inputs == 9


def test_line_too_large() -> None:
    report = validate([chat("a"), chat("b", content="x" * 500)], max_line_bytes=300)
    assert codes(report) == [("line_too_large", 2)]


def test_user_schema_applies_to_every_body(tmp_path: Path) -> None:
    schema = tmp_path / "house.json"
    schema.write_bytes(orjson.dumps({"type": "object", "required": ["temperature"]}))
    report = validate([chat("a", temperature=0.5), chat("b")], schema=schema)
    assert [(p.code, p.line, p.custom_id) for p in report.errors] == [("custom_schema", 2, "b")]


def test_max_errors_caps_the_list_and_counts_the_rest() -> None:
    report = validate([chat("a")] * 10, max_errors=3)
    assert len(report.errors) == 3
    assert report.errors_truncated == 6
    assert report.to_dict()["errors_truncated"] == 6


def test_endpoint_argument_overrides_the_first_line() -> None:
    report = validate([chat("a")], endpoint="/v1/embeddings")
    assert ("url_mismatch", 1) in codes(report)


def test_report_json_shape(tmp_path: Path) -> None:
    data = validate(as_file(tmp_path, [chat("a"), chat("a")])).to_dict()
    assert set(data) >= {"path", "ok", "lines", "requests", "bytes", "endpoint", "models",
                         "embedding_inputs", "errors", "errors_truncated"}
    assert data["errors"] == [{"line": 2, "code": "duplicate_custom_id",
                               "message": "custom_id 'a' was already used on line 1",
                               "param": "custom_id", "custom_id": "a"}]


def test_examples_validate() -> None:
    examples = Path(__file__).resolve().parent.parent / "examples"
    assert validate(examples / "chat_requests.jsonl").ok
    assert validate(examples / "embeddings_requests.jsonl").ok
    assert validate(examples / "anthropic_requests.jsonl", provider="anthropic").ok
    bad = validate(examples / "bad_requests.jsonl")
    assert [code for code, _ in codes(bad)] == [
        "duplicate_custom_id", "model_mismatch", "invalid_body", "stream_not_supported",
        "invalid_json_line"]


# Defects that each produce exactly one known code on the line they are put on.
def _defect(kind: str, row: dict[str, Any]) -> bytes:
    row = copy.deepcopy(row)
    if kind == "invalid_json_line":
        return orjson.dumps(row)[:-3] + b"\n"
    if kind == "not_an_object":
        return b'["a list"]\n'
    if kind == "missing_custom_id":
        del row["custom_id"]
    elif kind == "invalid_method":
        row["method"] = "PUT"
    elif kind == "unsupported_url":
        row["url"] = "/v2/chat"
    elif kind == "url_mismatch":
        row["url"] = "/v1/embeddings"
        row["body"] = {"model": row["body"]["model"], "input": "a body for its own url"}
    elif kind == "missing_body":
        del row["body"]
    elif kind == "model_mismatch":
        row["body"]["model"] = "another-model"
    elif kind == "invalid_body":
        row["body"]["messages"][0]["role"] = "narrator"
    elif kind == "stream_not_supported":
        row["body"]["stream"] = True
    elif kind == "duplicate_custom_id":
        row["custom_id"] = "id-0"
    return orjson.dumps(row) + b"\n"


DEFECTS = ["invalid_json_line", "not_an_object", "missing_custom_id", "invalid_method",
           "unsupported_url", "url_mismatch", "missing_body", "model_mismatch", "invalid_body",
           "stream_not_supported", "duplicate_custom_id"]

contents = st.text(min_size=1, max_size=40) | st.lists(
    st.fixed_dictionaries({"type": st.just("text"), "text": st.text(max_size=20)}),
    min_size=1, max_size=3)


@settings(max_examples=150, deadline=None)
@given(contents=st.lists(contents, min_size=2, max_size=30), data=st.data(),
       defect=st.sampled_from(DEFECTS))
def test_one_injected_defect_is_reported_exactly_once_at_its_line(
        contents: list[Any], data: st.DataObject, defect: str) -> None:
    rows = [chat(f"id-{i}", content=content, temperature=0.5) for i, content in
            enumerate(contents)]
    at = data.draw(st.integers(min_value=1, max_value=len(rows) - 1))
    lines = [orjson.dumps(row) + b"\n" for row in rows]
    lines[at] = _defect(defect, rows[at])
    report = validate(lines)
    assert codes(report) == [(defect, at + 1)]


@pytest.mark.parametrize(("provider", "severity"), [
    ("openai", "warning"), ("anthropic", "warning"), ("vllm", None)])
def test_blank_lines_follow_the_providers_policy(tmp_path: Path, provider: str,
                                                 severity: str | None) -> None:
    # vLLM's run_batch strips lines and skips empty ones; for the others it is not known.
    profile = get_profile(provider)
    row = ({"custom_id": "a", "params": {"model": "m", "max_tokens": 5, "messages": [
        {"role": "user", "content": "hi"}]}} if provider == "anthropic" else chat("a"))
    other = {**row, "custom_id": "b"}
    report = validate(as_file(tmp_path, [row, b"\n", other, b"   \n"]), provider=profile)
    assert report.ok
    assert report.requests == 2
    found = [(w.code, w.line, w.severity) for w in report.warnings]
    assert found == ([] if severity is None else
                     [("blank_line", 2, "warning"), ("blank_line", 4, "warning")])


def test_a_file_ending_in_blank_lines_counts_every_line(tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parent.parent / "examples"
    path = tmp_path / "blanks.jsonl"
    path.write_bytes((examples / "chat_requests.jsonl").read_bytes() + b"\n\n\n")
    for workers in (1, 2):
        report = validate(path, workers=workers)
        assert (report.requests, report.lines, report.bytes) == (12, 15, path.stat().st_size)
        [warning] = report.warnings
        assert (warning.code, warning.line, warning.lines) == ("blank_line", 13, 3)
    (tmp_path / "only.jsonl").write_bytes(b"\n\n  \n\t\n")
    assert validate(tmp_path / "only.jsonl").lines == 4

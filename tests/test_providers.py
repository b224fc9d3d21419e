"""Provider profiles and conversion: each provider's rules, result shapes and round trips."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batchio import (
    PROVIDERS,
    LineError,
    RequestWriter,
    convert,
    convert_results,
    get_profile,
    join,
    read_lines,
    simulate,
    validate,
)
from batchio._cli_input import prompt_body
from batchio.cli import main
from batchio.providers import Limits


def valid_file(tmp_path: Path, provider: str, count: int = 3) -> Path:
    profile = get_profile(provider)
    path = tmp_path / f"{provider}.jsonl"
    with RequestWriter(path, provider=provider) as writer:
        for number in range(count):
            writer.add(prompt_body(profile, profile.default_endpoint, model="model-a",
                                   prompt=f"question {number}", system="Be brief.",
                                   max_tokens=50))
    return path


def lines(path: Path) -> list[dict[str, Any]]:
    return [line.value for line in read_lines(path)]


def rewrite(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    return path


@pytest.mark.parametrize("provider", PROVIDERS)
def test_valid_files_pass(tmp_path: Path, provider: str) -> None:
    report = validate(valid_file(tmp_path, provider), provider=provider)
    assert report.ok, report.errors
    assert report.requests == 3


@pytest.mark.parametrize("provider", PROVIDERS)
def test_each_rule_fails_with_its_code_and_line(tmp_path: Path, provider: str) -> None:
    profile = get_profile(provider)
    rows = lines(valid_file(tmp_path, provider))

    def check(broken: dict[str, Any], code: str) -> None:
        path = rewrite(tmp_path / "broken.jsonl", [rows[0], broken, rows[2]])
        assert [(e.code, e.line) for e in validate(path, provider=provider).errors] == [
            (code, 2)], (provider, code)

    without_id = {k: v for k, v in rows[1].items() if k != profile.id_field}
    if profile.id_required:
        check(without_id, "missing_custom_id")
    else:
        # Accepted by the service; its result just cannot be matched back by id.
        path = rewrite(tmp_path / "broken.jsonl", [rows[0], without_id, rows[2]])
        report = validate(path, provider=provider)
        assert report.ok
        # Where the service adds an id (Bedrock) a warning; where lines carry none as the
        # provider's own shape (Vertex AI's Gemini lines), nothing.
        said = [("missing_custom_id", 2)] if profile.missing_id_warns else []
        # Three records are under Bedrock's minimum per job: a warning at the file's end.
        below = [("too_few_requests", None)] if profile.limits.min_requests else []
        assert [(w.code, w.line) for w in report.warnings] == said + below
    repeated = {**rows[1], profile.id_field: rows[0][profile.id_field]}
    if profile.duplicate_ids == "error":
        check(repeated, "duplicate_custom_id")
    else:
        # The runner runs both requests (vLLM): a warning.
        report = validate(rewrite(tmp_path / "broken.jsonl", [rows[0], repeated, rows[2]]),
                          provider=provider)
        assert report.ok
        below = [("too_few_requests", None)] if profile.limits.min_requests else []
        assert [(w.code, w.line) for w in report.warnings] == [
            ("duplicate_custom_id", 2), *below]
    check({k: v for k, v in rows[1].items() if k != profile.body_field}, "missing_body")
    check({**rows[1], profile.body_field: "text"}, "body_not_object")
    if profile.carries_url:
        check({**rows[1], "url": "/v1/unknown"}, "unsupported_url")
        check({**rows[1], "method": "GET"}, "invalid_method")
    if profile.one_model_per_file:
        check({**rows[1], profile.body_field: {**rows[1][profile.body_field],
                                               "model": "model-b"}}, "model_mismatch")
    if profile.ids.pattern:
        check({**rows[1], profile.id_field: "not valid!"}, "custom_id_charset")
    limited = replace(profile, limits=Limits(max_requests=2, max_file_bytes=None))
    path = rewrite(tmp_path / "many.jsonl", rows)
    assert [(e.code, e.line) for e in validate(path, provider=limited).errors] == [
        ("too_many_tasks", 3)]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_result_files_in_the_providers_shape_join(tmp_path: Path, provider: str) -> None:
    requests = valid_file(tmp_path, provider, count=40)
    error_file = None if get_profile(provider).one_result_file else tmp_path / "err.jsonl"
    simulation = simulate(requests, output=tmp_path / "out.jsonl", errors=error_file,
                          provider=provider, seed=5, failure_rate=0.2, expire_rate=0.1,
                          missing_rate=0.1)
    errors = [simulation.errors] if simulation.errors else []
    joined = join(requests, outputs=[simulation.output], errors=errors, provider=provider)
    rows = list(joined)
    assert len(rows) == 40
    # Gemini's expiry is the google.rpc DEADLINE_EXCEEDED status: read as expired too.
    assert joined.summary.counts == simulation.counts
    assert not joined.summary.orphans and not joined.summary.problems


def test_anthropic_join_gives_the_same_statuses_as_openai(tmp_path: Path) -> None:
    requests = valid_file(tmp_path, "openai", count=30)
    simulation = simulate(requests, output=tmp_path / "out.jsonl", errors=tmp_path / "err.jsonl",
                          seed=9, failure_rate=0.2, expire_rate=0.1, missing_rate=0.1)
    openai_rows = list(join(requests, outputs=tmp_path / "out.jsonl",
                            errors=tmp_path / "err.jsonl"))
    # The same fates, written in Anthropic's one-file shape.
    anthropic_lines = []
    for row in openai_rows:
        if row.status == "missing":
            continue
        fates: dict[str, dict[str, Any]] = {
            "succeeded": {"type": "succeeded", "message": {"id": "msg", "type": "message",
                                                           "content": []}},
            "failed": {"type": "errored", "error": {"type": "error", "error": {
                "type": "invalid_request_error", "message": "bad"}}},
            "expired": {"type": "expired"}, "cancelled": {"type": "canceled"}}
        result = fates[row.status]
        anthropic_lines.append({"custom_id": row.custom_id, "result": result})
    rewrite(tmp_path / "results.jsonl", anthropic_lines)
    converted = convert(requests, tmp_path / "anthropic.jsonl", to_provider="anthropic")
    assert converted.ok
    anthropic_rows = list(join(tmp_path / "anthropic.jsonl",
                               outputs=tmp_path / "results.jsonl", provider="anthropic"))
    assert [r.status for r in anthropic_rows] == [r.status for r in openai_rows]
    assert simulation.counts["missing"] == sum(r.status == "missing" for r in anthropic_rows)


def test_anthropic_sdk_result_objects_join(tmp_path: Path) -> None:
    types = pytest.importorskip("anthropic.types.messages")
    requests = valid_file(tmp_path, "anthropic", count=4)
    ids = [line["custom_id"] for line in lines(requests)]
    message = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude",
               "content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn",
               "stop_sequence": None, "usage": {"input_tokens": 3, "output_tokens": 1}}
    results = [
        {"custom_id": ids[0], "result": {"type": "succeeded", "message": message}},
        {"custom_id": ids[1], "result": {"type": "errored", "error": {
            "type": "error", "error": {"type": "overloaded_error", "message": "busy"}}}},
        {"custom_id": ids[2], "result": {"type": "expired"}},
        {"custom_id": ids[3], "result": {"type": "canceled"}},
    ]
    objects = [types.MessageBatchIndividualResponse.model_validate(r) for r in results]
    (tmp_path / "results.jsonl").write_text(
        "".join(obj.model_dump_json() + "\n" for obj in objects))
    rows = list(join(requests, outputs=tmp_path / "results.jsonl", provider="anthropic"))
    assert [row.status for row in rows] == ["succeeded", "failed", "expired", "cancelled"]
    convert_results(tmp_path / "results.jsonl", tmp_path / "as-openai.jsonl",
                    from_provider="anthropic")
    openai_requests = tmp_path / "openai.jsonl"
    convert(requests, openai_requests, from_provider="anthropic", to_provider="openai")
    rows = list(join(openai_requests, outputs=tmp_path / "as-openai.jsonl"))
    assert [row.status for row in rows] == ["succeeded", "failed", "expired", "cancelled"]
    assert rows[0].response["body"]["choices"][0]["message"]["content"] == "hi"
    assert rows[1].retryable


def test_ids_are_remapped_and_restored(tmp_path: Path) -> None:
    source = rewrite(tmp_path / "in.jsonl", [
        {"custom_id": "row 1/with spaces", "method": "POST", "url": "/v1/chat/completions",
         "body": {"model": "m", "messages": [{"role": "user", "content": "a"}]}},
        {"custom_id": "x" * 80, "method": "POST", "url": "/v1/chat/completions",
         "body": {"model": "m", "messages": [{"role": "user", "content": "b"}]}},
        {"custom_id": "fine-id", "method": "POST", "url": "/v1/chat/completions",
         "body": {"model": "m", "messages": [{"role": "user", "content": "c"}]}},
    ])
    there = convert(source, tmp_path / "anthropic.jsonl", to_provider="anthropic")
    assert len(there.remapped) == 2 and there.mapping_path is not None
    assert validate(tmp_path / "anthropic.jsonl", provider="anthropic").ok
    new_ids = [line["custom_id"] for line in lines(tmp_path / "anthropic.jsonl")]
    assert new_ids[2] == "fine-id"
    back = convert(tmp_path / "anthropic.jsonl", tmp_path / "back.jsonl",
                   from_provider="anthropic", to_provider="openai", mapping=there.mapping_path)
    assert back.ok
    assert [line["custom_id"] for line in lines(tmp_path / "back.jsonl")] == [
        "row 1/with spaces", "x" * 80, "fine-id"]
    results = rewrite(tmp_path / "results.jsonl", [
        {"custom_id": new_ids[1], "result": {"type": "expired"}}])
    convert_results(results, tmp_path / "restored.jsonl", from_provider="anthropic",
                    mapping=there.mapping_path)
    assert lines(tmp_path / "restored.jsonl")[0]["custom_id"] == "x" * 80


def test_unconvertible_requests_are_reported_and_left_out(tmp_path: Path) -> None:
    rows = [
        {"custom_id": "ok", "method": "POST", "url": "/v1/chat/completions",
         "body": {"model": "m", "messages": [{"role": "user", "content": "a"}]}},
        {"custom_id": "tools", "method": "POST", "url": "/v1/chat/completions",
         "body": {"model": "m", "messages": [{"role": "user", "content": "a"}],
                  "tools": [{"type": "custom", "custom": {"name": "f"}}]}},
        {"custom_id": "hot", "method": "POST", "url": "/v1/chat/completions",
         "body": {"model": "m", "messages": [{"role": "user", "content": "a"}],
                  "temperature": 1.5}},
    ]
    source = rewrite(tmp_path / "in.jsonl", rows)
    result = convert(source, tmp_path / "out.jsonl")
    assert result.converted == 1
    assert [(p.line, p.code, p.param, p.custom_id) for p in result.skipped] == [
        (2, "unconvertible_request", "body.tools[0]", "tools"),
        (3, "unconvertible_request", "body.temperature", "hot")]
    with pytest.raises(LineError) as raised:
        convert(source, tmp_path / "strict.jsonl", strict=True)
    assert raised.value.line == 2
    assert not (tmp_path / "strict.jsonl").exists()
    cli = CliRunner().invoke(main, ["convert", str(source), "--from", "openai", "--to",
                                    "anthropic", "-o", str(tmp_path / "cli.jsonl")])
    assert cli.exit_code == 1
    assert "2 left out" in cli.output


text = st.text(min_size=1, max_size=30)
names = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True)
schemas = st.builds(
    lambda fields: {"type": "object", "properties": {name: {"type": kind}
                                                     for name, kind in fields.items()},
                    "required": sorted(fields), "additionalProperties": False},
    st.dictionaries(names, st.sampled_from(["string", "number", "boolean"]), max_size=4))
function_tools: st.SearchStrategy[list[dict[str, Any]]] = st.lists(st.builds(
    lambda name, description, parameters, strict: {"type": "function", "function": {
        "name": name, **({"description": description} if description else {}),
        "parameters": parameters, **({"strict": strict} if strict is not None else {})}},
    names, st.none() | text, schemas, st.none() | st.booleans()),
    min_size=1, max_size=3, unique_by=lambda tool: str(tool["function"]["name"]))
chat_requests = st.fixed_dictionaries(
    {"model": st.sampled_from(["gpt-4o", "gpt-4o-mini"]),
     "messages": st.lists(st.fixed_dictionaries({
         "role": st.sampled_from(["user", "assistant"]),
         "content": text | st.lists(st.fixed_dictionaries(
             {"type": st.just("text"), "text": text}), min_size=1, max_size=3)}),
         min_size=1, max_size=5)},
    optional={"temperature": st.floats(min_value=0, max_value=1),
              "top_p": st.floats(min_value=0, max_value=1),
              "max_tokens": st.integers(min_value=1, max_value=4096),
              "stop": st.lists(text, min_size=1, max_size=4),
              "user": text,
              "response_format": st.builds(lambda schema: {
                  "type": "json_schema", "json_schema": {
                      "name": "answer", "strict": True, "schema": schema}}, schemas),
              "tools": function_tools,
              "tool_choice": st.sampled_from(["auto", "required", "none", "first"]),
              "parallel_tool_calls": st.just(False)})
systems = st.none() | text
#: Each source model and the target's model it is given, there and back.
THERE = {"gpt-4o": "claude-sonnet-4-6", "gpt-4o-mini": "claude-haiku-4-5"}
BACK = {target: source for source, target in THERE.items()}


def settled(body: dict[str, Any]) -> dict[str, Any]:
    """A drawn chat body as a request states it: a tool choice only beside tools (a
    forced one naming the first tool), parallel_tool_calls only beside a tool choice that
    calls tools."""
    body = dict(body)
    tools = body.get("tools")
    if not tools:
        body.pop("tool_choice", None)
    elif body.get("tool_choice") == "first":
        body["tool_choice"] = {"type": "function",
                               "function": {"name": tools[0]["function"]["name"]}}
    if body.get("tool_choice") in (None, "none"):
        body.pop("parallel_tool_calls", None)
    return body


def meaning(body: dict[str, Any]) -> dict[str, Any]:
    """What a chat request asks, with representation details (roles' names for the system
    prompt, the default max_tokens) set aside."""
    normal = dict(body)
    normal.setdefault("max_tokens", 1024)
    normal["messages"] = [
        {"role": "system" if m["role"] in ("system", "developer") else m["role"],
         "content": m["content"]} for m in body["messages"]]
    return normal


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(requests=st.lists(st.tuples(chat_requests, systems), min_size=1, max_size=8))
def test_openai_to_anthropic_to_openai_keeps_every_requests_meaning(
        tmp_path_factory: pytest.TempPathFactory,
        requests: list[tuple[dict[str, Any], str | None]]) -> None:
    folder = tmp_path_factory.mktemp("roundtrip")
    rows: list[dict[str, Any]] = []
    for number, (body, system) in enumerate(requests):
        body = settled(body)
        if system is not None:
            body = {**body, "messages": [{"role": "system", "content": system},
                                         *body["messages"]]}
        rows.append({"custom_id": f"request {number}", "method": "POST",
                     "url": "/v1/chat/completions", "body": body})
    source = rewrite(folder / "in.jsonl", rows)
    there = convert(source, folder / "anthropic.jsonl", to_provider="anthropic",
                    model_map=THERE)
    assert there.ok, there.skipped[:1]
    report = validate(folder / "anthropic.jsonl", provider="anthropic")
    assert report.ok, [problem.describe() for problem in report.errors[:2]]
    back = convert(folder / "anthropic.jsonl", folder / "back.jsonl",
                   from_provider="anthropic", to_provider="openai",
                   mapping=there.mapping_path, model_map=BACK)
    assert back.ok, back.skipped[:1]
    returned = lines(folder / "back.jsonl")
    assert [line["custom_id"] for line in returned] == [row["custom_id"] for row in rows]
    assert [meaning(line["body"]) for line in returned] == [meaning(row["body"]) for row in rows]


def test_convert_refuses_a_repeated_id_and_leaves_no_stale_ids_file(tmp_path: Path) -> None:
    from batchio import DuplicateIdError

    line = {"method": "POST", "url": "/v1/chat/completions",
            "body": {"model": "m", "messages": [{"role": "user", "content": "hi"}]}}
    repeated = rewrite(tmp_path / "dup.jsonl", [{"custom_id": "dup", **line},
                                                {"custom_id": "dup", **line}])
    with pytest.raises(DuplicateIdError) as raised:
        convert(repeated, tmp_path / "out.jsonl", to_provider="anthropic")
    assert (raised.value.line, raised.value.custom_id) == (2, "dup")
    assert not (tmp_path / "out.jsonl").exists()
    # A first conversion remaps ids Anthropic refuses; a second, of clean ids, to the same
    # output removes the first one's ids file (it would restore ids this file lacks).
    spaced = rewrite(tmp_path / "spaced.jsonl", [{"custom_id": "has space", **line}])
    assert convert(spaced, tmp_path / "out.jsonl", to_provider="anthropic").remapped
    assert (tmp_path / "out.jsonl.ids.json").exists()
    clean = rewrite(tmp_path / "clean.jsonl", [{"custom_id": "clean", **line}])
    assert not convert(clean, tmp_path / "out.jsonl", to_provider="anthropic").remapped
    assert not (tmp_path / "out.jsonl.ids.json").exists()


@pytest.mark.parametrize("target", ["-", "/dev/stdout"])
def test_convert_to_stdout_refuses_ids_it_cannot_map_back(tmp_path: Path,
                                                          target: str) -> None:
    # No file beside stdout can hold the mapping (it was "-.ids.json" in the current
    # folder, or a file made in /dev): refused, unless a mapping file is named.
    line = {"method": "POST", "url": "/v1/chat/completions",
            "body": {"model": "m", "messages": [{"role": "user", "content": "hi"}]}}
    spaced = rewrite(tmp_path / "spaced.jsonl", [{"custom_id": "ok", **line},
                                                 {"custom_id": "has space", **line}])
    command = [sys.executable, "-m", "batchio", "convert", str(spaced), "--to", "anthropic",
               "--model", "claude-haiku-4-5", "-o", target]
    done = subprocess.run(command, capture_output=True, check=False, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.decode().startswith(
        f"batchio: {spaced}:2: custom_id_charset: custom_id 'has space': ")
    assert "no mapping file could give it back" in done.stderr.decode()
    assert not (tmp_path / "-.ids.json").exists()
    assert not Path(f"{target}.ids.json").exists()
    named = subprocess.run([*command, "--mapping", str(tmp_path / "ids.json")],
                           capture_output=True, check=False, cwd=tmp_path)
    assert named.returncode == 0, named.stderr
    mapped = orjson.loads((tmp_path / "ids.json").read_bytes())
    assert list(mapped.values()) == ["has space"]
    assert [orjson.loads(row)["custom_id"] for row in named.stdout.splitlines()] == [
        "ok", next(iter(mapped))]
    assert b"2 converted" in named.stderr


PROMPTED = {"openai/chat-completions", "mistral/chat-completions", "openai/embeddings",
            "openai/responses", "openai/completions", "anthropic/messages",
            "gemini/generate-content", "gemini/embed-content"}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_prompt_body_for_every_endpoint_passes_its_providers_rules(
        tmp_path: Path, provider: str) -> None:
    profile = get_profile(provider)
    for endpoint, schema in profile.endpoints.items():
        if schema not in PROMPTED:
            continue  # bodies that hold more than a prompt (images, audio): build's rows
            # cannot say them
        path = tmp_path / f"{provider}.jsonl"
        with RequestWriter(path, provider=provider, endpoint=endpoint) as writer:
            writer.add(prompt_body(profile, endpoint, model="model-a", prompt="hello"))
        report = validate(path, provider=provider, endpoint=endpoint if not
                          profile.carries_url else None)
        assert report.ok, (provider, endpoint, report.errors)


def test_an_anthropic_tool_call_and_cache_tokens_survive_conversion_to_openai(
        tmp_path: Path) -> None:
    from batchio.conversion import anthropic_result_to_openai

    line = {"custom_id": "a", "result": {"type": "succeeded", "message": {
        "id": "msg_1", "model": "claude-sonnet-4-5", "stop_reason": "tool_use",
        "content": [{"type": "text", "text": "Checking."},
                    {"type": "tool_use", "id": "toolu_1", "name": "get_weather",
                     "input": {"city": "Paris"}}],
        "usage": {"input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": 5000,
                  "cache_creation_input_tokens": 300}}}}
    body = anthropic_result_to_openai(line, "a")["response"]["body"]
    [choice] = body["choices"]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["tool_calls"] == [{"id": "toolu_1", "type": "function", "function": {
        "name": "get_weather", "arguments": '{"city":"Paris"}'}}]
    assert body["usage"] == {"prompt_tokens": 5310, "completion_tokens": 5,
                             "total_tokens": 5315, "prompt_tokens_details": {"cached_tokens": 5000}}


def test_a_request_its_target_would_refuse_is_left_out_not_converted(tmp_path: Path) -> None:
    line = {"method": "POST", "url": "/v1/chat/completions"}
    source = rewrite(tmp_path / "in.jsonl", [
        {"custom_id": "only-system", **line, "body": {"model": "m", "messages": [
            {"role": "system", "content": "Be brief."}]}},
        {"custom_id": "fine", **line, "body": {"model": "m", "messages": [
            {"role": "user", "content": "hi"}]}}])
    result = convert(source, tmp_path / "out.jsonl", to_provider="anthropic")
    assert result.converted == 1
    assert [(p.code, p.line, p.custom_id) for p in result.skipped] == [
        ("unconvertible_request", 1, "only-system")]
    assert result.skipped[0].message.startswith(
        "Anthropic Message Batches would refuse the converted request: ")
    assert validate(tmp_path / "out.jsonl", provider="anthropic").ok


gemini_requests = chat_requests.map(lambda body: {
    key: value for key, value in body.items() if key not in ("user", "parallel_tool_calls")})


def gemini_settled(body: dict[str, Any]) -> dict[str, Any]:
    """A chat body Gemini can state: its tools carry no strict flag (Gemini has none)."""
    body = settled(body)
    if body.get("tools"):
        body["tools"] = [{"type": "function", "function": {
            key: value for key, value in tool["function"].items() if key != "strict"}}
            for tool in body["tools"]]
    return body


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(requests=st.lists(st.tuples(gemini_requests, systems), min_size=1, max_size=8))
def test_openai_to_gemini_to_openai_keeps_every_requests_meaning(
        tmp_path_factory: pytest.TempPathFactory,
        requests: list[tuple[dict[str, Any], str | None]]) -> None:
    folder = tmp_path_factory.mktemp("gemini")
    rows: list[dict[str, Any]] = []
    for number, (body, system) in enumerate(requests):
        body = gemini_settled(body)
        if system is not None:
            body = {**body, "messages": [{"role": "system", "content": system},
                                         *body["messages"]]}
        rows.append({"custom_id": f"request-{number}", "method": "POST",
                     "url": "/v1/chat/completions", "body": body})
    source = rewrite(folder / "in.jsonl", rows)
    models = {"gpt-4o": "gemini-2.5-pro", "gpt-4o-mini": "gemini-2.5-flash"}
    there = convert(source, folder / "gemini.jsonl", to_provider="gemini", model_map=models)
    assert there.ok, there.skipped[:1]
    report = validate(folder / "gemini.jsonl", provider="gemini")
    assert report.ok, [problem.describe() for problem in report.errors[:2]]
    back = convert(folder / "gemini.jsonl", folder / "back.jsonl", from_provider="gemini",
                   to_provider="openai", mapping=there.mapping_path,
                   model_map={target: source for source, target in models.items()})
    assert back.ok, back.skipped[:1]
    returned = lines(folder / "back.jsonl")
    assert [line["custom_id"] for line in returned] == [row["custom_id"] for row in rows]
    assert [gemini_meaning(line["body"]) for line in returned] == [
        gemini_meaning(row["body"]) for row in rows]


def gemini_meaning(body: dict[str, Any]) -> dict[str, Any]:
    """A chat request's meaning as Gemini can state it: a content of one text part is
    that text (Gemini's parts do not tell the two apart)."""
    normal = meaning(body)
    for message in normal["messages"]:
        content = message["content"]
        if isinstance(content, list) and len(content) == 1 and content[0]["type"] == "text":
            message["content"] = content[0]["text"]
    return normal


def test_what_gemini_cannot_state_is_reported_not_dropped(tmp_path: Path) -> None:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}],
            "tools": [{"type": "function", "function": {"name": "f", "strict": True,
                                                         "parameters": {"type": "object"}}}]}
    source = rewrite(tmp_path / "in.jsonl", [{"custom_id": "a", "method": "POST",
                                              "url": "/v1/chat/completions", "body": body}])
    result = convert(source, tmp_path / "out.jsonl", to_provider="gemini",
                     model="gemini-2.5-flash")
    assert [(p.param, p.message) for p in result.skipped] == [
        ("body.tools[0].function.strict", "strict has no Gemini equivalent")]
    assert not (tmp_path / "out.jsonl").exists()


responses_requests = chat_requests.map(lambda body: {
    key: value for key, value in body.items() if key not in ("user", "stop")})


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(requests=st.lists(st.tuples(responses_requests, systems), min_size=1, max_size=8))
def test_chat_to_responses_to_anthropic_to_chat_keeps_every_requests_meaning(
        tmp_path_factory: pytest.TempPathFactory,
        requests: list[tuple[dict[str, Any], str | None]]) -> None:
    folder = tmp_path_factory.mktemp("responses")
    rows: list[dict[str, Any]] = []
    for number, (body, system) in enumerate(requests):
        body = settled(body)
        if system is not None:
            body = {**body, "messages": [{"role": "system", "content": system},
                                         *body["messages"]]}
        rows.append({"custom_id": f"request-{number}", "method": "POST",
                     "url": "/v1/chat/completions", "body": body})
    source = rewrite(folder / "in.jsonl", rows)
    there = convert(source, folder / "responses.jsonl", to_provider="openai",
                    endpoint="/v1/responses")
    assert there.ok, there.skipped[:1]
    report = validate(folder / "responses.jsonl", provider="openai")
    # (The drawn files mix two models, which one OpenAI batch file may not.)
    refused = [problem for problem in report.errors if problem.code != "model_mismatch"]
    assert not refused, [problem.describe() for problem in refused[:2]]
    assert {line["url"] for line in lines(folder / "responses.jsonl")} == {"/v1/responses"}
    # Responses -> Anthropic -> chat: each step through chat completions' words.
    hop = convert(folder / "responses.jsonl", folder / "anthropic.jsonl",
                  to_provider="anthropic", model_map=THERE)
    assert hop.ok, hop.skipped[:1]
    back = convert(folder / "anthropic.jsonl", folder / "back.jsonl", from_provider="anthropic",
                   to_provider="openai", mapping=hop.mapping_path, model_map=BACK)
    assert back.ok, back.skipped[:1]
    returned = lines(folder / "back.jsonl")
    assert [meaning(line["body"]) for line in returned] == [meaning(row["body"]) for row in rows]

"""Structured outputs: built in each provider's own form, read back by the output checks,
and the schemas checked before upload by each provider's documented rules."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

import batchio
from batchio.cli import main
from batchio.outputs import requested_output
from batchio.structured import structured_output, with_structured_output

SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["name", "price"],
    "properties": {"name": {"type": "string"}, "price": {"type": "number"}}}

#: provider, model, endpoint (None: its usual one), where the schema goes in the body.
BUILT = [
    ("openai", "gpt-4o-mini", None, "response_format.json_schema.schema"),
    ("openai", "gpt-4o-mini", "/v1/responses", "text.format.schema"),
    ("azure", "gpt-4o-mini", None, "response_format.json_schema.schema"),
    ("anthropic", "claude-haiku-4-5", None, "output_config.format.schema"),
    ("gemini", "gemini-2.5-flash", None, "generationConfig.responseJsonSchema"),
    ("mistral", "mistral-small-latest", None, "response_format.json_schema.schema"),
    ("groq", "llama-3.1-8b-instant", None, "response_format.json_schema.schema"),
    ("together", "meta-llama/Llama-3.3-70B-Instruct-Turbo", None,
     "response_format.json_schema.schema"),
    ("vllm", "meta-llama/Llama-3.1-8B-Instruct", None, "response_format.json_schema.schema"),
]


def dig(value: Any, path: str) -> Any:
    for part in path.split("."):
        value = value[part]
    return value


@pytest.mark.parametrize(("provider", "model", "endpoint", "where"), BUILT)
def test_build_with_a_schema_writes_the_providers_form_and_validates(
        tmp_path: Path, provider: str, model: str, endpoint: str | None, where: str) -> None:
    (tmp_path / "product.schema.json").write_bytes(orjson.dumps(SCHEMA))
    rows = tmp_path / "rows.csv"
    with open(rows, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerows([["id", "title"], ["p1", "a lamp"], ["p2", "a chair"]])
    args = ["build", str(rows), "--provider", provider, "--model", model, "--template",
            "Describe {title}", "--id-field", "id", "--json-schema",
            str(tmp_path / "product.schema.json"), "-o", str(tmp_path / "requests.jsonl")]
    if endpoint:
        args += ["--endpoint", endpoint]
    done = CliRunner().invoke(main, args)
    assert done.exit_code == 0, done.output
    lines = [orjson.loads(line) for line in
             (tmp_path / "requests.jsonl").read_bytes().splitlines()]
    profile = batchio.get_profile(provider)
    for line in lines:
        body = line[profile.body_field]
        assert dig(body, where) == SCHEMA
        wanted = requested_output(body)
        assert wanted is not None and wanted.schema == SCHEMA and wanted.param == where
        if provider != "anthropic" and provider != "gemini":
            named = dig(body, where.rsplit(".", 1)[0])
            assert named["name"] == "product" and named["strict"] is True
    report = batchio.validate(tmp_path / "requests.jsonl", provider=provider)
    assert report.ok, [problem.describe() for problem in report.errors + report.warnings]
    assert report.warning_count == 0


def test_a_gemini_bodys_own_generation_config_is_kept() -> None:
    body = {"contents": [], "generationConfig": {"temperature": 0.1}}
    merged = with_structured_output(body, structured_output(SCHEMA, provider="gemini"))
    assert merged["generationConfig"] == {"temperature": 0.1,
                                          "responseMimeType": "application/json",
                                          "responseJsonSchema": SCHEMA}
    assert body == {"contents": [], "generationConfig": {"temperature": 0.1}}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"provider": "openai", "endpoint": "/v1/embeddings"}, "takes no structured output"),
    ({"provider": "openai", "name": "has space"}, "must be 1 to 64 letters"),
    ({"provider": "openai", "name": "x" * 65}, "must be 1 to 64 letters"),
])
def test_structured_output_refuses_what_the_provider_would(kwargs: dict[str, Any],
                                                           message: str) -> None:
    with pytest.raises(batchio.UsageError, match=message):
        structured_output(SCHEMA, **kwargs)


def test_a_body_template_is_filled_inside_its_strings(tmp_path: Path) -> None:
    template = {"messages": [{"role": "system", "content": "Answer as {persona}."},
                             {"role": "user", "content": "Describe {title}"}],
                "max_tokens": 50, "seed": 7}
    (tmp_path / "body.json").write_bytes(orjson.dumps(template))
    rows = tmp_path / "rows.jsonl"
    # A row's text with quotes and braces cannot change the body's structure.
    rows.write_bytes(orjson.dumps({"title": 'a "lamp"}, "x": {', "persona": "a poet"})
                     + b"\n")
    done = CliRunner().invoke(main, [
        "build", str(rows), "--body-template", str(tmp_path / "body.json"), "--model",
        "gpt-4o-mini", "-o", str(tmp_path / "out.jsonl")])
    assert done.exit_code == 0, done.output
    body = orjson.loads((tmp_path / "out.jsonl").read_bytes())["body"]
    assert body == {"messages": [{"role": "system", "content": "Answer as a poet."},
                                 {"role": "user", "content": 'Describe a "lamp"}, "x": {'}],
                    "max_tokens": 50, "seed": 7, "model": "gpt-4o-mini"}
    missing = CliRunner().invoke(main, [
        "build", str(rows), "--body-template", str(tmp_path / "body.json"), "--template",
        "{title}", "-o", str(tmp_path / "x.jsonl")])
    assert missing.exit_code == 2 and "without --template" in missing.stderr


# --- the schema checked before upload, by each provider's rules ----------------------------

def obj(**properties: Any) -> dict[str, Any]:
    """A strict-mode object: every property required, no others."""
    return {"type": "object", "properties": properties, "required": list(properties),
            "additionalProperties": False}


STR: dict[str, Any] = {"type": "string"}


def line_for(provider: str, schema: Any, *, strict: bool = True,
             endpoint: str | None = None) -> tuple[dict[str, Any], str]:
    """A request line asking for ``schema``, and where its schema is (param)."""
    if provider in ("openai", "groq"):
        model = "gpt-4o-mini" if provider == "openai" else "llama-3.1-8b-instant"
        body: dict[str, Any]
        if endpoint == "/v1/responses":
            body = {"model": model, "input": "x", "text": {"format": {
                "type": "json_schema", "name": "a", "strict": strict, "schema": schema}}}
            return ({"custom_id": "r1", "method": "POST", "url": endpoint, "body": body},
                    "body.text.format.schema")
        body = {"model": model, "messages": [{"role": "user", "content": "x"}],
                "response_format": {"type": "json_schema", "json_schema": {
                    "name": "a", "strict": strict, "schema": schema}}}
        return ({"custom_id": "r1", "method": "POST", "url": "/v1/chat/completions",
                 "body": body}, "body.response_format.json_schema.schema")
    if provider == "anthropic":
        return ({"custom_id": "r1", "params": {
            "model": "claude-haiku-4-5", "max_tokens": 10,
            "messages": [{"role": "user", "content": "x"}],
            "output_config": {"format": {"type": "json_schema", "schema": schema}}}},
            "params.output_config.format.schema")
    return ({"key": "r1", "request": {"contents": [{"role": "user", "parts": [{"text": "x"}]}],
                                      "generationConfig": {
                                          "responseMimeType": "application/json",
                                          "responseJsonSchema": schema}}},
            "request.generationConfig.responseJsonSchema")


def deep(levels: int) -> dict[str, Any]:
    schema = obj(leaf=STR)
    for _ in range(levels - 1):
        schema = obj(inner=schema)
    return schema


RECURSIVE = {**obj(root={"$ref": "#/$defs/node"}), "$defs": {"node": obj(
    children={"type": "array", "items": {"$ref": "#/$defs/node"}})}}

#: (provider, schema, options, code, severity, path within the schema); each rule's source
#: is in batchio/schema_rules.py's docstring.
BROKEN: list[tuple[str, Any, dict[str, Any], str, str, str]] = [
    # OpenAI strict mode (platform.openai.com/docs/guides/structured-outputs).
    ("openai", {**obj(a=STR, b=STR), "required": ["a"]}, {}, "strict_schema_violation",
     "error", "properties.b"),  # every property required
    ("openai", {"type": "object", "properties": {"a": STR}, "required": ["a"]}, {},
     "strict_schema_violation", "error", "additionalProperties"),  # additionalProperties
    ("openai", {**obj(a=STR), "additionalProperties": True}, {},
     "strict_schema_violation", "error", "additionalProperties"),
    ("openai", obj(inner={"type": "object", "properties": {"x": STR}, "required": ["x"]}),
     {}, "strict_schema_violation", "error", "properties.inner.additionalProperties"),
    ("openai", {"anyOf": [obj(a=STR), obj(b=STR)]}, {}, "strict_schema_violation", "error",
     ""),  # the root must be an object, not anyOf
    ("openai", {"type": "array", "items": STR}, {}, "strict_schema_violation", "error", ""),
    ("openai", obj(a={"allOf": [STR]}), {}, "unsupported_schema_keyword", "error",
     "properties.a.allOf"),  # allOf, not, if/then/else, dependent*: not supported
    ("openai", obj(a={"type": "string", "not": {"const": "x"}}), {},
     "unsupported_schema_keyword", "error", "properties.a.not"),
    ("openai", obj(a={"type": "string", "if": {"const": "x"}, "then": STR}), {},
     "unsupported_schema_keyword", "error", "properties.a.if"),
    ("openai", {**obj(a=STR), "dependentRequired": {"a": []}}, {},
     "unsupported_schema_keyword", "error", "dependentRequired"),
    ("openai", obj(a={"type": "string", "format": "uri"}), {}, "unsupported_schema_keyword",
     "warning", "properties.a.format"),  # only the listed formats
    ("openai", deep(11), {}, "schema_too_large", "error",
     ".".join(["properties.inner"] * 10)),  # 10 levels of nesting
    ("openai", obj(**{f"p{i}": STR for i in range(5_001)}), {}, "schema_too_large",
     "error", ""),  # 5,000 properties
    ("openai", obj(a={"type": "integer", "enum": list(range(1_001))}), {},
     "schema_too_large", "error", ""),  # 1,000 enum values
    ("openai", obj(a={"type": "string", "enum": [f"{i:070d}" for i in range(251)]}), {},
     "schema_too_large", "error", "properties.a.enum"),  # 15,000 characters past 250
    ("openai", obj(a={"type": "string", "enum": ["x" * 60_001, "y" * 60_001]}), {},
     "schema_too_large", "error", ""),  # 120,000 characters of names and values
    ("openai", {"type": "objekt"}, {}, "invalid_json_schema", "error", ""),  # no schema
    ("openai", {**obj(a=STR, b=STR), "required": ["a"]}, {"endpoint": "/v1/responses"},
     "strict_schema_violation", "error", "properties.b"),  # Responses' text.format
    # Groq strict mode (console.groq.com/docs/structured-outputs).
    ("groq", {**obj(a=STR, b=STR), "required": ["b"]}, {}, "strict_schema_violation",
     "error", "properties.a"),
    # Anthropic (docs.claude.com/en/docs/build-with-claude/structured-outputs): a 400 each.
    ("anthropic", obj(n={"type": "integer", "minimum": 0}), {},
     "unsupported_schema_keyword", "error", "properties.n.minimum"),
    ("anthropic", obj(n={"type": "number", "multipleOf": 2}), {},
     "unsupported_schema_keyword", "error", "properties.n.multipleOf"),
    ("anthropic", obj(s={"type": "string", "maxLength": 5}), {},
     "unsupported_schema_keyword", "error", "properties.s.maxLength"),
    ("anthropic", obj(l={"type": "array", "items": STR, "minItems": 2}), {},
     "unsupported_schema_keyword", "error", "properties.l.minItems"),
    ("anthropic", obj(l={"type": "array", "items": STR, "uniqueItems": True}), {},
     "unsupported_schema_keyword", "error", "properties.l.uniqueItems"),
    ("anthropic", {**obj(a=STR), "additionalProperties": True}, {},
     "unsupported_schema_keyword", "error", "additionalProperties"),
    ("anthropic", RECURSIVE, {}, "unsupported_schema_keyword", "error",
     "$defs.node.properties.children.items.$ref"),  # no recursive schemas
    ("anthropic", obj(a={"$ref": "https://example.com/a.json"}), {},
     "invalid_json_schema", "error", ""),  # no external $ref (batchio resolves none either)
    ("anthropic", obj(a={"enum": [{"x": 1}, "y"]}), {}, "unsupported_schema_keyword",
     "error", "properties.a.enum"),  # enums of primitive values
    ("anthropic", {"type": "object", "properties": {f"p{i}": STR for i in range(25)}}, {},
     "schema_too_large", "error", ""),  # 24 optional parameters
    ("anthropic", obj(**{f"p{i}": {"type": ["string", "null"]} for i in range(17)}), {},
     "schema_too_large", "error", ""),  # 16 with anyOf or a list of types
    # Gemini (ai.google.dev/api/generate-content): unread keywords are ignored.
    ("gemini", obj(s={"type": "string", "minLength": 2}), {},
     "unsupported_schema_keyword", "warning", "properties.s.minLength"),
    ("gemini", obj(s={"type": "string", "pattern": "^a"}), {},
     "unsupported_schema_keyword", "warning", "properties.s.pattern"),
]


@pytest.mark.parametrize(("provider", "schema", "options", "code", "severity", "path"),
                         BROKEN, ids=[f"{case[0]}-{case[3]}-{case[5] or 'root'}"[:60]
                                      for case in BROKEN])
def test_a_schema_the_provider_refuses_gets_its_code_and_path(
        tmp_path: Path, provider: str, schema: Any, options: dict[str, Any], code: str,
        severity: str, path: str) -> None:
    line, param = line_for(provider, schema, **options)
    (tmp_path / "in.jsonl").write_bytes(orjson.dumps(line) + b"\n")
    report = batchio.validate(tmp_path / "in.jsonl", provider=provider)
    found = [problem for problem in report.errors + report.warnings if problem.code == code]
    assert found, [problem.describe() for problem in report.errors + report.warnings]
    assert found[0].param == (f"{param}.{path}" if path else param)
    assert found[0].severity == severity
    assert report.ok == (severity == "warning")


VALID = [
    ("openai", obj(a=STR, b={"type": ["integer", "null"], "minimum": 0},
                   c={"type": "array", "items": obj(d={"type": "string",
                                                       "format": "date-time"})},
                   e={"anyOf": [obj(f=STR), {"type": "null"}]}), {}),
    ("openai", {**obj(a=STR, b=STR), "required": ["a"]}, {"strict": False}),  # opts out
    ("openai", {**obj(node={"$ref": "#/$defs/node"}),
                "$defs": {"node": obj(next={"anyOf": [{"$ref": "#/$defs/node"},
                                                      {"type": "null"}]})}}, {}),
    ("openai", deep(10), {}),
    ("openai", obj(a=STR), {"endpoint": "/v1/responses"}),
    ("groq", obj(a=STR), {}),
    ("groq", {"type": "object", "properties": {"a": STR}}, {"strict": False}),
    ("anthropic", {"type": "object", "properties": {"a": STR, "b": {
        "type": "array", "items": STR, "minItems": 1}, "c": {"enum": ["x", 1, None]},
        "d": {"type": "string", "format": "date"}}, "required": ["a"],
        "additionalProperties": False, "$defs": {"unused": STR}}, {}),
    ("gemini", obj(s={"type": "string", "format": "date-time", "enum": ["a"]},
                   n={"type": "integer", "minimum": 0, "maximum": 9}), {}),
]


@pytest.mark.parametrize(("provider", "schema", "options"), VALID)
def test_a_schema_the_provider_takes_passes(tmp_path: Path, provider: str, schema: Any,
                                            options: dict[str, Any]) -> None:
    line, _ = line_for(provider, schema, **options)
    (tmp_path / "in.jsonl").write_bytes(orjson.dumps(line) + b"\n")
    report = batchio.validate(tmp_path / "in.jsonl", provider=provider)
    assert report.ok and not report.warnings, [
        problem.describe() for problem in report.errors + report.warnings]


def test_gemini_response_schema_is_openapi_and_refuses_unknown_fields(tmp_path: Path
                                                                      ) -> None:
    config = {"responseMimeType": "application/json", "responseSchema": {
        "type": "OBJECT", "properties": {"a": {"type": "STRING"}},
        "additionalProperties": False}}
    line = {"key": "r1", "request": {"contents": [{"role": "user", "parts": [{"text": "x"}]}],
                                     "generationConfig": config}}
    (tmp_path / "in.jsonl").write_bytes(orjson.dumps(line) + b"\n")
    report = batchio.validate(tmp_path / "in.jsonl", provider="gemini")
    assert [(p.code, p.param) for p in report.errors] == [
        ("unsupported_schema_keyword",
         "request.generationConfig.responseSchema.additionalProperties")]
    config["responseJsonSchema"] = obj(a=STR)
    del config["responseSchema"]["additionalProperties"]  # type: ignore[attr-defined]
    (tmp_path / "in.jsonl").write_bytes(orjson.dumps(line) + b"\n")
    report = batchio.validate(tmp_path / "in.jsonl", provider="gemini")
    assert [(p.code, p.param) for p in report.errors] == [
        ("unsupported_schema_keyword", "request.generationConfig.responseSchema")]


def test_one_schema_for_many_lines_is_judged_once(tmp_path: Path) -> None:
    line, _ = line_for("openai", {**obj(a=STR, b=STR), "required": ["a"]})
    lines = []
    for number in range(2_000):
        line["custom_id"] = f"r{number}"
        lines.append(orjson.dumps(line))
    (tmp_path / "in.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    report = batchio.validate(tmp_path / "in.jsonl", provider="openai", max_errors=0)
    assert report.counts["strict_schema_violation"] == 2_000


@pytest.mark.parametrize(("provider", "model", "warned"), [
    ("anthropic", "gpt-4o-mini", True), ("openai", "claude-haiku-4-5", True),
    ("anthropic", "claude-haiku-4-5", False), ("openai", "llama-3.1-8b-instant", False),
    ("azure", "claude-haiku-4-5", False), ("openai", "my-fine-tune", False)])
def test_a_model_only_another_provider_serves_is_a_warning(
        tmp_path: Path, provider: str, model: str, warned: bool) -> None:
    path = tmp_path / "in.jsonl"
    with batchio.RequestWriter(path, provider=provider) as writer:
        for _ in range(3):
            body: dict[str, Any] = {"model": model,
                                    "messages": [{"role": "user", "content": "x"}]}
            if provider == "anthropic":
                body["max_tokens"] = 10
            writer.add(body)
    report = batchio.validate(path, provider=provider)
    foreign = [problem for problem in report.warnings if problem.code == "foreign_model"]
    assert len(foreign) == (1 if warned else 0)
    if warned:
        assert foreign[0].line == 1 and model in foreign[0].message


@pytest.mark.parametrize(("provider", "field", "belongs"), [
    ("anthropic", "response_format", "output_config.format"),
    ("gemini", "response_format", "generationConfig.responseJsonSchema"),
    ("gemini", "responseJsonSchema", "generationConfig.responseJsonSchema"),
    ("openai-responses", "response_format", "text.format"),
])
def test_another_apis_name_for_structured_output_is_refused_with_the_right_one(
        tmp_path: Path, provider: str, field: str, belongs: str) -> None:
    if provider == "openai-responses":
        line: dict[str, Any] = {"custom_id": "r1", "method": "POST", "url": "/v1/responses",
                                "body": {"model": "gpt-4o-mini", "input": "x"}}
        provider, body = "openai", line["body"]
    else:
        line, _ = line_for(provider, obj(a=STR))
        body = line[batchio.get_profile(provider).body_field]
    body[field] = {"type": "json_schema", "json_schema": {"name": "a", "schema": obj(a=STR)}}
    (tmp_path / "in.jsonl").write_bytes(orjson.dumps(line) + b"\n")
    report = batchio.validate(tmp_path / "in.jsonl", provider=provider)
    assert [(p.code, (p.param or "").rsplit(".", 1)[-1]) for p in report.errors][:1] == [
        ("unsupported_parameter", field)]
    assert f"use {belongs}" in report.errors[0].message


def test_anthropic_structured_requests_convert_to_openai_and_back(tmp_path: Path) -> None:
    line, _ = line_for("anthropic", obj(name=STR, price={"type": "number"}))
    line["params"]["tools"] = [{"name": "lookup", "input_schema": obj(q=STR)}]
    line["params"]["tool_choice"] = {"type": "tool", "name": "lookup"}
    source = tmp_path / "anthropic.jsonl"
    source.write_bytes(orjson.dumps(line) + b"\n")
    there = batchio.convert(source, tmp_path / "openai.jsonl", to_provider="openai",
                            model="gpt-4o-mini")
    assert there.ok, there.skipped
    body = orjson.loads((tmp_path / "openai.jsonl").read_bytes())["body"]
    assert body["response_format"] == {"type": "json_schema", "json_schema": {
        "name": "answer", "strict": True, "schema": obj(name=STR, price={"type": "number"})}}
    assert body["tool_choice"] == {"type": "function", "function": {"name": "lookup"}}
    assert batchio.validate(tmp_path / "openai.jsonl", provider="openai").ok
    back = batchio.convert(tmp_path / "openai.jsonl", tmp_path / "back.jsonl",
                           to_provider="anthropic", model="claude-haiku-4-5")
    assert back.ok
    params = orjson.loads((tmp_path / "back.jsonl").read_bytes())["params"]
    assert params["output_config"] == line["params"]["output_config"]
    assert params["tools"] == line["params"]["tools"]
    assert params["tool_choice"] == line["params"]["tool_choice"]


def test_a_conversion_where_nothing_converts_writes_no_file(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    with batchio.RequestWriter(source) as writer:
        for _ in range(30):
            writer.add({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}],
                        "response_format": {"type": "json_object"}})
    done = CliRunner().invoke(main, ["convert", str(source), "--to", "anthropic", "--model",
                                     "claude-haiku-4-5", "-o", str(tmp_path / "out.jsonl")])
    assert done.exit_code == 1
    assert not (tmp_path / "out.jsonl").exists()
    note, *lines = done.stderr.splitlines()
    assert note == "provider openai (detected from the first request; --from to choose)"
    assert lines[0].endswith("(and 29 more requests)") and "json_object" in lines[0]
    assert lines[1] == (f"batchio: {source}: nothing_converted: no request could be "
                        f"converted, so {tmp_path / 'out.jsonl'} was not written")
    assert len(lines) == 2  # one line for the one cause, and the note
    assert done.stdout == f"{tmp_path / 'out.jsonl'}: 0 converted, 30 left out\n"


def test_estimate_says_unknown_where_no_model_is_priced(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    with batchio.RequestWriter(source, provider="anthropic") as writer:
        for model in ("claude-mystery-9", "claude-mystery-9", "claude-haiku-4-5"):
            writer.add({"model": model, "max_tokens": 10,
                        "messages": [{"role": "user", "content": "x"}]})
    report = batchio.estimate(source)
    assert report.files[0].unpriced_requests == 2
    document = report.to_dict()
    assert document["unpriced_requests"] == 2 and document["cost_high"] > 0
    text = CliRunner().invoke(main, ["estimate", str(source)]).stdout
    assert "at batch prices (without the 2 unpriced requests)" in text
    only = tmp_path / "only.jsonl"
    only.write_bytes(source.read_bytes().splitlines(keepends=True)[0])
    document = batchio.estimate(only).to_dict()
    assert (document["cost_low"], document["cost_high"]) == (None, None)
    assert "cost unknown" in CliRunner().invoke(main, ["estimate", str(only)]).stdout
    assert "$0.0000" not in CliRunner().invoke(main, ["estimate", str(only)]).stdout

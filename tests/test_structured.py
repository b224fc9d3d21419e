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

"""The shipped JSON Schemas: valid, self-describing, usable with plain jsonschema, offline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
import referencing
from referencing.jsonschema import DRAFT202012

from batchio import BatchioError, read_lines
from batchio.schemas import CompiledSchema, load_schemas, schema_dir

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = load_schemas()


def plain_registry() -> referencing.Registry[Any]:
    """A registry built only from the files, as another tool would build it."""
    resources = []
    for path in sorted((ROOT / "schemas").rglob("*.schema.json")):
        schema = orjson.loads(path.read_bytes())
        resources.append((schema["$id"], DRAFT202012.create_resource(schema)))
    return referencing.Registry().with_resources(resources)


def test_the_source_tree_and_the_package_ship_the_same_schemas() -> None:
    files = {p.relative_to(ROOT / "schemas") for p in (ROOT / "schemas").rglob("*.schema.json")}
    shipped = {p.relative_to(schema_dir()) for p in schema_dir().rglob("*.schema.json")}
    assert files == shipped
    assert len(files) >= 16


@pytest.mark.parametrize("uri", sorted(SCHEMAS))
def test_every_schema_is_valid_draft_2020_12_and_describes_itself(uri: str) -> None:
    schema = SCHEMAS[uri]
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == uri
    assert schema["title"] and schema["description"]


@pytest.mark.parametrize(("example", "schema_file"), [
    ("chat_requests.jsonl", "openai/request-line.schema.json"),
    ("embeddings_requests.jsonl", "openai/request-line.schema.json"),
    ("anthropic_requests.jsonl", "anthropic/request-line.schema.json"),
])
def test_examples_pass_with_the_plain_jsonschema_package(example: str, schema_file: str) -> None:
    schema = orjson.loads((ROOT / "schemas" / schema_file).read_bytes())
    validator = jsonschema.Draft202012Validator(schema, registry=plain_registry())
    lines = list(read_lines(ROOT / "examples" / example))
    assert lines
    for line in lines:
        assert list(validator.iter_errors(line.value)) == []


def test_request_line_schema_rejects_what_the_validator_rejects() -> None:
    schema = orjson.loads((ROOT / "schemas/openai/request-line.schema.json").read_bytes())
    validator = jsonschema.Draft202012Validator(schema, registry=plain_registry())
    body: dict[str, Any] = {"messages": [{"role": "user", "content": "hi"}]}
    line = {"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": body}
    assert [e.validator for e in validator.iter_errors(line)] == ["required"]
    body["model"] = "m"
    body["stream"] = True
    [error] = list(validator.iter_errors(line))
    assert list(error.absolute_path) == ["body", "stream"]


def test_a_remote_reference_is_an_error_not_a_download() -> None:
    schema = {"$ref": "https://example.com/remote.schema.json"}
    with pytest.raises(BatchioError):
        compiled = CompiledSchema(schema)
        compiled.is_valid({})

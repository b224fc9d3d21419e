"""The typed lane: types generated from the shipped schemas decode only what the schemas
accept, and the validator's verdicts do not depend on the lane a line takes.

Bodies are drawn from each shipped schema (mostly valid, then mutated: a field removed, a
wrong type, an enum value off by one character, an extra field, a string too long), and
every one the types decode must pass the compiled schema. The validator is then run with
the typed lane on and off over files of random corrupted lines: the same problems, at the
same lines, with the same params.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batchio import jsonl, validate, validation
from batchio.providers import PROVIDERS, get_profile
from batchio.schemas import compiled, load_schemas, schema_id
from batchio.typed import body_type, python_pattern, value_type

#: Every body schema a provider's endpoint is checked by.
BODY_SCHEMAS = sorted({schema_id(name) for profile in map(get_profile, PROVIDERS)
                       for name in [*profile.endpoints.values(),
                                    *profile.endpoint_suffixes.values()]})

STRINGS = st.text(max_size=6)
SCALARS = st.none() | st.booleans() | st.integers(-3, 300) | st.floats(
    -3, 300, allow_nan=False) | STRINGS


def resolve(uri: str, schema: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    while "$ref" in schema:
        document, _, fragment = schema["$ref"].partition("#")
        if document:
            uri = document if "://" in document else uri.rsplit("/", 1)[0] + "/" + document
        node: Any = load_schemas()[uri]
        for step in fragment.strip("/").split("/") if fragment.strip("/") else []:
            node = node[step]
        schema = {**node, **{k: v for k, v in schema.items() if k != "$ref"}}
    return uri, schema


@st.composite
def from_schema(draw: st.DrawFn, uri: str, schema: Any, depth: int = 0) -> Any:
    """A value shaped by ``schema``: valid more often than not, never guaranteed."""
    if not isinstance(schema, Mapping) or depth > 6:
        return draw(SCALARS)
    uri, schema = resolve(uri, schema)
    if "enum" in schema:
        return draw(st.sampled_from(schema["enum"]))
    if "const" in schema:
        return schema["const"]
    for word in ("anyOf", "oneOf"):
        if word in schema and all("type" in alt or "$ref" in alt for alt in schema[word]):
            alternative = draw(st.sampled_from(schema[word]))
            rest = {k: v for k, v in schema.items() if k != word}
            return draw(from_schema(uri, {**rest, **alternative}, depth + 1))
    kinds = schema.get("type", "object" if "properties" in schema else None)
    if kinds is None:
        return draw(SCALARS)
    kind = draw(st.sampled_from([kinds] if isinstance(kinds, str) else kinds))
    if kind == "null":
        return None
    if kind == "boolean":
        return draw(st.booleans())
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", -5))
        high = schema.get("maximum", schema.get("exclusiveMaximum", low + 300))
        whole = draw(st.integers(int(low), int(high)))
        return whole if kind == "integer" else whole / draw(st.sampled_from([1, 2, 4]))
    if kind == "string":
        if "pattern" in schema:
            return draw(st.from_regex(python_pattern(schema["pattern"]), fullmatch=True))
        low = schema.get("minLength", 0)
        return draw(st.text(min_size=low, max_size=max(low, min(schema.get(
            "maxLength", 8), 8))))
    if kind == "array":
        low = schema.get("minItems", 0)
        return draw(st.lists(from_schema(uri, schema.get("items", {}), depth + 1),
                             min_size=low, max_size=max(low, min(schema.get(
                                 "maxItems", 3), 3))))
    properties = dict(schema.get("properties", {}))
    # The properties an if/then/else may ask for are drawn as well, now and then.
    for word in ("then", "else"):
        branch = schema.get(word)
        while isinstance(branch, Mapping):
            properties.update({k: v for k, v in branch.get("properties", {}).items()
                               if k not in properties})
            for name in branch.get("required", []):
                properties.setdefault(name, {})
            branch = branch.get("else") or branch.get("then")
    required = set(schema.get("required", []))
    tested = constants_tested(schema)
    value: dict[str, Any] = {}
    for name, sub in properties.items():
        if name in required or draw(st.integers(0, 3)) == 0:
            if name in tested and draw(st.integers(0, 4)):
                value[name] = draw(st.sampled_from(tested[name]))
            else:
                value[name] = draw(from_schema(uri, sub, depth + 1))
    return value


def constants_tested(schema: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The constants an if/else chain tests properties against (a message's roles)."""
    tested: dict[str, list[Any]] = {}
    node: Any = schema
    while isinstance(node, Mapping) and isinstance(node.get("if"), Mapping):
        for name, test in node["if"].get("properties", {}).items():
            values = test.get("enum", [test["const"]] if "const" in test else [])
            tested.setdefault(name, []).extend(values)
        node = node.get("else")
    return tested


MUTATIONS = ("remove", "wrong type", "enum off by one", "extra field", "too long", "null")


def mutate(value: Any, rng: random.Random) -> Any:
    """The value with one random change somewhere inside it."""
    if isinstance(value, dict) and value and rng.random() < 0.6:
        key = rng.choice(sorted(value))
        return {**value, key: mutate(value[key], rng)}
    if isinstance(value, list) and value and rng.random() < 0.6:
        index = rng.randrange(len(value))
        return [*value[:index], mutate(value[index], rng), *value[index + 1:]]
    mutation = rng.choice(MUTATIONS)
    if mutation == "remove" and isinstance(value, dict) and value:
        key = rng.choice(sorted(value))
        return {k: v for k, v in value.items() if k != key}
    if mutation == "wrong type":
        return rng.choice([1, 1.5, "1", True, [], {}, None, [1], {"a": 1}])
    if mutation == "enum off by one" and isinstance(value, str):
        return value[:-1] if value and rng.random() < 0.5 else value + "x"
    if mutation == "extra field" and isinstance(value, dict):
        return {**value, rng.choice(["extra", "type", "role", "text"]): rng.choice(
            [1, "x", None, {}])}
    if mutation == "too long":
        if isinstance(value, str):
            return value * 200 + "y" * 5000
        if isinstance(value, list):
            return value * 3000 if value else [0] * 3000
    if mutation == "null":
        return None
    return -1 if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def decodes(type_: Any, value: Any) -> bool:
    try:
        msgspec.json.decode(orjson.dumps(value), type=type_)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return False
    return True


@pytest.mark.parametrize("uri", BODY_SCHEMAS, ids=lambda uri: uri.split("schemas/")[1])
def test_a_body_the_types_decode_passes_its_schema(uri: str) -> None:
    """Soundness: decoded means valid, on drawn bodies and their mutations, for every
    shipped body schema."""
    schema = load_schemas()[uri]
    engine = compiled(uri)
    struct = body_type(uri)
    try:
        whole = value_type(uri)
    except ValueError:  # a top level the types cannot say: nothing is decoded
        whole = None

    @settings(max_examples=120, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(body=from_schema(uri, schema), seed=st.integers(0, 2**32),
           mutations=st.integers(0, 2))
    def check(body: Any, seed: int, mutations: int) -> None:
        rng = random.Random(seed)
        for _ in range(mutations):
            body = mutate(body, rng)
        valid = engine.is_valid(body)
        for type_ in (struct, whole):
            if type_ is not None and decodes(type_, body):
                assert valid, (uri, body)

    check()


def test_every_shipped_body_schema_has_types_for_its_top_level() -> None:
    """Where a body schema's top level cannot be typed the lane is off for its endpoint:
    the list of such schemas is known and short."""
    untyped = [uri.split("schemas/")[1] for uri in BODY_SCHEMAS if body_type(uri) is None]
    assert untyped == ["vllm/audio.schema.json"]


@pytest.mark.parametrize("body", [
    {"model": "m", "messages": [{"role": "user", "content": "hi"}]},
    {"model": "m", "messages": [{"role": "system", "content": "s"},
                                {"role": "user", "content": [
                                    {"type": "text", "text": "hi"},
                                    {"type": "image_url", "image_url": {"url": "u"}}]}],
     "temperature": 0.5, "max_tokens": 10, "stop": ["a"], "metadata": {"k": "v"},
     "tools": [{"type": "function", "function": {"name": "f_1", "parameters": {}}}]},
])
def test_ordinary_chat_bodies_decode(body: dict[str, Any]) -> None:
    uri = schema_id("openai/chat-completions")
    assert compiled(uri).is_valid(body)
    assert decodes(body_type(uri), body)


@pytest.mark.parametrize("body", [
    {"model": "m", "messages": [{"role": "user", "content": None}]},
    {"model": "m", "messages": [{"role": "tool", "content": "x"}]},
    {"model": "m", "messages": []},
    {"model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": 3},
    {"model": "m", "messages": [{"role": "user", "content": "x"}], "n": 1.0},
    {"model": "m", "messages": [{"role": "user", "content": "x"}], "stream": True},
    {"model": "m", "messages": [{"role": "user", "content": [{"type": "text"}]}]},
    {"model": "m", "messages": [{"role": "user", "content": "x"}],
     "tools": [{"type": "function", "function": {"name": "f\n"}}]},
    {"model": "m", "messages": [{"role": "user", "content": "x"}],
     "metadata": {str(i): "v" for i in range(17)}},
    {"model": "", "messages": [{"role": "user", "content": "x"}]},
    {"model": "m", "messages": [{"role": "user", "content": "x"}],
     "tools": [{"function": {"name": "f"}}]},
])
def test_bodies_the_types_refuse(body: dict[str, Any]) -> None:
    """A name with a trailing newline matches Python's ``$`` but not ECMA-262's: the
    generated pattern ends in ``\\Z``. A tool without its ``type`` has no tag, which a lone
    tagged Struct would not ask for. Valid or not, none of these is decoded."""
    uri = schema_id("openai/chat-completions")
    assert not decodes(body_type(uri), body)


# --- the validator, lane on and lane off ------------------------------------------------

#: A clean line of each kind: (provider, url or None, body).
GOOD: dict[str, tuple[str, str | None, dict[str, Any]]] = {
    "chat": ("openai", "/v1/chat/completions", {"model": "gpt-4o-mini", "messages": [
        {"role": "user", "content": "hello there"}], "max_tokens": 5}),
    "embeddings": ("openai", "/v1/embeddings", {"model": "text-embedding-3-small",
                                                "input": ["a", "b", "c"]}),
    "responses": ("openai", "/v1/responses", {"model": "gpt-4o-mini", "input": "hi",
                                              "instructions": "brief"}),
    "anthropic": ("anthropic", None, {"model": "claude-haiku-4-5", "max_tokens": 64,
                                      "messages": [{"role": "user", "content": "hi"}]}),
    "anthropic blocks": ("anthropic", None, {
        "model": "claude-haiku-4-5", "max_tokens": 64,
        "system": [{"type": "text", "text": "brief", "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]}),
    "gemini": ("gemini", None, {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}),
    "mistral": ("mistral", None, {"messages": [{"role": "user", "content": "hi"}],
                                  "max_tokens": 9}),
}


def corrupted_lines(kind: str, count: int, seed: int) -> bytes:
    """``count`` request lines, most clean, the rest broken in one of many ways."""
    rng = random.Random(seed)
    provider, url, body = GOOD[kind]
    profile = get_profile(provider)
    out = []
    for number in range(count):
        line: dict[str, Any] = {profile.id_field: f"r-{number}"}
        if url is not None:
            line.update(method="POST", url=url)
        line[profile.body_field] = body
        roll = rng.random() * 4
        if roll < 0.005:
            line[profile.id_field] = f"r-{rng.randrange(max(number, 1))}"
        elif roll < 0.015:
            line[profile.body_field] = mutate(body, rng)
        elif roll < 0.018:
            line = mutate(line, rng)
        elif roll < 0.019:
            line["extra"] = 1
        elif roll < 0.0193:
            line[profile.body_field] = {**body, "model": "gpt-4o"}
        raw = orjson.dumps(line)
        roll = rng.random() * 4
        if roll < 0.004:
            raw = raw[:rng.randrange(len(raw))]
        elif roll < 0.006:
            raw = b""
        elif roll < 0.008:
            key = orjson.dumps(profile.id_field)
            raw = raw.replace(key, key + b':"x",' + key, 1)
        elif roll < 0.009:
            raw = b"\xff" + raw
        out.append(raw + b"\n")
    return b"".join(out)


def problems(path: Path, provider: str, workers: int) -> list[tuple[Any, ...]]:
    report = validate(path, provider=provider, max_errors=None, workers=workers)
    return [(p.severity, p.code, p.line, p.param, p.custom_id, p.message)
            for p in report.errors + report.warnings] + [
        (report.requests, report.lines, report.bytes, report.embedding_inputs,
         tuple(sorted(report.models.items())), tuple(sorted(report.endpoints.items())))]


@pytest.mark.parametrize("kind", sorted(GOOD))
def test_the_typed_lane_changes_no_verdict(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           kind: str) -> None:
    """20,000 random corrupted lines for OpenAI (6,667 of each kind), and as many of each
    other provider's, read in small blocks so that lanes alternate often: the same problems
    with the typed lane as without, in one process and in two; and the lane does take
    lines."""
    monkeypatch.setattr(jsonl, "READ_BUFFER", 16_384)
    path = tmp_path / "requests.jsonl"
    path.write_bytes(corrupted_lines(kind, 6_667, seed=len(kind)))
    taken = []
    original = validation._LineChecker.take_block

    def counting(self: Any, *args: Any) -> tuple[int, int]:
        result = original(self, *args)
        taken.append(result[0])
        return result

    monkeypatch.setattr(validation._LineChecker, "take_block", counting)
    provider = GOOD[kind][0]
    with_lane = problems(path, provider, workers=1)
    assert sum(taken) > 3_000
    assert len(with_lane) > 20
    monkeypatch.setattr(validation, "TYPED_LANE", False)
    assert problems(path, provider, workers=1) == with_lane
    monkeypatch.setattr(validation, "TYPED_LANE", True)
    assert problems(path, provider, workers=2) == with_lane


@pytest.mark.parametrize("name", [name for name in PROVIDERS
                                  if get_profile(name).endpoint_keys is not None])
@given(data=st.data())
@settings(max_examples=200, deadline=None)
def test_the_endpoint_keys_alone_decide_a_bodys_endpoint(name: str, data: st.DataObject
                                                         ) -> None:
    """Bodies that hold the same of a provider's ``endpoint_keys`` are for one endpoint,
    whatever else they hold: what lets the typed lane fix those keys."""
    profile = get_profile(name)
    assert profile.endpoint_of_body is not None and profile.endpoint_keys is not None
    keys = [*sorted(profile.endpoint_keys), "model", "max_tokens", "extra", "prompt_cache"]
    body = data.draw(st.dictionaries(st.sampled_from(keys), SCALARS | st.lists(SCALARS)))
    other = data.draw(st.dictionaries(st.sampled_from(keys), SCALARS | st.lists(SCALARS)))
    same = {**{k: v for k, v in other.items() if k not in profile.endpoint_keys},
            **{k: v for k, v in body.items() if k in profile.endpoint_keys}}
    assert profile.endpoint_of_body(same) == profile.endpoint_of_body(body)


@pytest.mark.parametrize(("value", "code"), [
    (b'"\xff"', "invalid_utf8"),
    (b"1e400", "non_finite_number"),
    (b"1" + b"0" * 4300, "integer_out_of_range"),
])
@pytest.mark.parametrize("where", ["unknown field", "unknown key", "free-form object"])
def test_what_msgspec_would_skip_unread_still_gets_its_problem(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: bytes, code: str,
        where: str) -> None:
    """A part no type reads (a field the schema does not name, a tool's parameters) would
    be skipped by msgspec without reading its UTF-8 or its numbers: such a line is left to
    the lanes that read every byte, and gets the reader's problem at its line."""
    monkeypatch.setattr(jsonl, "READ_BUFFER", 4_096 if len(value) < 100 else 65_536)
    head = b'{"custom_id":"bad","method":"POST","url":"/v1/chat/completions","body":{' \
           b'"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],'
    hostile = {
        "unknown field": head + b'"x":' + value + b"}}",
        "unknown key": head + b'"x":{"a":' + value + b"}}}",
        "free-form object": head + b'"tools":[{"type":"function","function":{"name":"f",'
                            b'"parameters":{"p":' + value + b"}}}]}}",
    }[where]
    url, body = GOOD["chat"][1:]
    clean = [orjson.dumps({"custom_id": f"r-{n}", "method": "POST", "url": url,
                           "body": body}) for n in range(2_000)]
    path = tmp_path / "requests.jsonl"
    path.write_bytes(b"\n".join([*clean[:1_500], hostile, *clean[1_500:]]) + b"\n")
    with_lane = problems(path, "openai", workers=1)
    assert [(p[1], p[2]) for p in with_lane[:-1]] == [(code, 1_501)]
    monkeypatch.setattr(validation, "TYPED_LANE", False)
    assert problems(path, "openai", workers=1) == with_lane


@pytest.mark.parametrize(("pattern", "python"), [
    ("^[a-zA-Z0-9_-]{1,64}$", r"^[a-zA-Z0-9_-]{1,64}\Z"),
    ("^vertex-", "^vertex-"),
    ("(?i)abc", None), ("a.b", None), (r"\d+", None), ("[^a]", None), ("a$b", None),
])
def test_only_patterns_both_dialects_read_alike_are_translated(pattern: str,
                                                               python: str | None) -> None:
    if python is None:
        with pytest.raises(Exception, match="pattern"):
            python_pattern(pattern)
    else:
        assert python_pattern(pattern) == python


@pytest.mark.parametrize("schema", [
    {"type": "array", "uniqueItems": True},
    {"type": "array", "prefixItems": [{"type": "string"}]},
    {"type": "boolean", "oneOf": [{"const": True}]},
    {"type": "string", "format": "date"},
    {"type": "object", "properties": {"a": {}}, "minProperties": 1},
    {"type": "object", "propertyNames": {"maxLength": 3}},
    {"type": "object", "additionalProperties": {"type": "string"}, "properties": {"a": {}}},
    {"oneOf": [{"type": "string"}, {"type": "integer"}]},
    {"type": "number", "multipleOf": 0.1},
    {"type": "string", "pattern": "^a.b$"},
    {"not": {"type": "string"}, "type": "string"},
])
def test_what_the_types_cannot_say_is_not_said(schema: dict[str, Any]) -> None:
    """A keyword the types cannot state makes its part inexpressible: never ignored."""
    from batchio.typed import _generator, _Inexpressible
    uri = schema_id("openai/chat-completions")
    try:
        made = _generator()._part(uri, "", schema).type
    except _Inexpressible:
        return
    pytest.fail(f"{schema} became {made}")


@pytest.mark.parametrize("name", sorted(PROVIDERS))
@given(custom_id=st.text(max_size=70) | st.sampled_from(["abc\n", "a" * 64, "a" * 65, "é"]))
@settings(max_examples=150, deadline=None)
def test_an_id_rule_and_its_type_agree(name: str, custom_id: str) -> None:
    """The id type the typed lane decodes with takes exactly the ids the rule passes."""
    rule = get_profile(name).ids
    assert decodes(rule.decoded_type(), custom_id) == (rule.problem(custom_id) is None)

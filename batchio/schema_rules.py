"""The rules a provider applies to a structured output's JSON Schema before it takes the
request, so that a schema it refuses is caught before upload, not a day later.

Owns :func:`rules_for` (which rule set applies to a request: by provider and the form that
carries the schema) and :func:`schema_findings` (the rule set's findings on one schema, a
path within the schema each). A rule the provider documents as refused (HTTP 400) is an
error; one it documents as ignored is a warning. The codes: ``strict_schema_violation``
(a strict-mode rule), ``unsupported_schema_keyword`` (a keyword the provider's subset
lacks) and ``schema_too_large`` (a documented size limit); and ``invalid_json_schema`` for
a schema that is no JSON Schema at all (:func:`schema_problems` checks that first).

Sources (read 2026-12-06):

- OpenAI strict mode: platform.openai.com/docs/guides/structured-outputs, "Supported
  schemas": root an object (not ``anyOf``); every property in ``required``;
  ``additionalProperties: false`` on every object; no ``allOf``, ``not``,
  ``dependentRequired``, ``dependentSchemas``, ``if``/``then``/``else``; string formats
  date-time, time, date, duration, email, hostname, ipv4, ipv6, uuid; at most 5,000
  properties and 10 levels of nesting; 120,000 characters of property names, definition
  names, enum and const values; 1,000 enum values; 15,000 characters for one string enum
  of more than 250 values. ``strict: false`` opts out of all of it.
- Groq strict mode (console.groq.com/docs/structured-outputs): every field required and
  ``additionalProperties: false``.
- Anthropic (docs.claude.com/en/docs/build-with-claude/structured-outputs, "JSON Schema
  limitations", a 400 for each): no recursive schemas, no external ``$ref``, no numeric
  constraints (``minimum``, ``maximum``, ``exclusiveMinimum``, ``exclusiveMaximum``,
  ``multipleOf``), no ``minLength``/``maxLength``, no array constraints but ``minItems``
  of 0 or 1, ``additionalProperties`` only ``false``, enums of primitive values; at most
  24 optional parameters and 16 parameters with ``anyOf`` or a list of types.
- Gemini (ai.google.dev/api/generate-content, ``responseJsonSchema``): the keywords it
  reads (others "the model ignores": a warning); ``responseSchema`` omitted when
  ``responseJsonSchema`` is given; ``responseSchema`` (an OpenAPI subset) refuses a field
  it does not define (400 "Cannot find field").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .errors import Severity, quote
from .outputs import ASKING_KEYS, RequestedOutput, SchemaCache, requested_output

RuleSet = Literal["openai_strict", "groq_strict", "anthropic", "gemini_json", "gemini_openapi"]


@dataclass(frozen=True, slots=True)
class SchemaFinding:
    """A rule a schema breaks: its code, error or warning, where in the schema (a dotted
    path, "" for the root), and why."""

    code: str
    severity: Severity
    path: str
    message: str


def rules_for(provider: str, wanted: RequestedOutput) -> RuleSet | None:
    """The rule set the provider applies to the schema ``wanted`` (found in a body by
    :func:`batchio.outputs.requested_output`); None where it documents none (the
    metaschema still applies)."""
    param = wanted.param or ""
    if provider == "anthropic":
        if param.startswith(("output_config", "output_format")):
            return "anthropic"
        return "anthropic" if wanted.tool and wanted.strict else None
    if provider == "gemini":
        if param.endswith(("responseSchema", "response_schema")):
            return "gemini_openapi"
        return "gemini_json" if param.endswith(("JsonSchema", "json_schema")) else None
    if not wanted.strict:
        return None
    if provider in ("openai", "azure"):
        return "openai_strict"
    return "groq_strict" if provider == "groq" else None


def _dig(body: Mapping[str, Any], param: str) -> Any:
    value: Any = body
    for part in param.replace("]", "").replace("[", ".").split("."):
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, Mapping):
            value = value.get(part)
        else:
            return None
    return value


# --- walking a schema -----------------------------------------------------------------------

#: Keywords whose value is a schema, a list of schemas, or a map of names to schemas.
_ONE = ("items", "additionalProperties", "not", "if", "then", "else", "contains",
        "propertyNames", "unevaluatedItems", "unevaluatedProperties")
_MANY = ("anyOf", "oneOf", "allOf", "prefixItems")
_NAMED = ("properties", "$defs", "definitions", "patternProperties", "dependentSchemas")


def _join(path: str, *parts: str) -> str:
    return ".".join(part for part in (path, *parts) if part)


def _subschemas(schema: Mapping[str, Any], path: str, depth: int
                ) -> Iterator[tuple[Mapping[str, Any], str, int]]:
    """Every schema object within ``schema`` (itself first), with its path and its depth
    of nested objects (the root object is 1)."""
    yield schema, path, depth
    deeper = depth + (1 if _is_object(schema) else 0)
    for key in _ONE:
        value = schema.get(key)
        if isinstance(value, Mapping):
            yield from _subschemas(value, _join(path, key), deeper)
    for key in _MANY:
        value = schema.get(key)
        if isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, Mapping):
                    yield from _subschemas(item, _join(path, f"{key}[{index}]"), deeper)
    for key in _NAMED:
        value = schema.get(key)
        if isinstance(value, Mapping):
            for name, item in value.items():
                if isinstance(item, Mapping):
                    inner = deeper if key == "properties" else depth
                    yield from _subschemas(item, _join(path, key, str(name)), inner)


def _is_object(schema: Mapping[str, Any]) -> bool:
    kind = schema.get("type")
    return kind == "object" or (isinstance(kind, list) and "object" in kind) or (
        kind is None and isinstance(schema.get("properties"), Mapping))


def _types(schema: Mapping[str, Any]) -> list[Any]:
    kind = schema.get("type")
    return kind if isinstance(kind, list) else [kind]


# --- the rule sets --------------------------------------------------------------------------

OPENAI_FORMATS = frozenset({"date-time", "time", "date", "duration", "email", "hostname",
                            "ipv4", "ipv6", "uuid"})
OPENAI_UNSUPPORTED = ("allOf", "not", "dependentRequired", "dependentSchemas", "if", "then",
                      "else")
OPENAI_MAX_PROPERTIES, OPENAI_MAX_DEPTH = 5_000, 10
OPENAI_MAX_TEXT, OPENAI_MAX_ENUM_VALUES = 120_000, 1_000
OPENAI_LONG_ENUM, OPENAI_LONG_ENUM_TEXT = 250, 15_000

ANTHROPIC_UNSUPPORTED = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
                         "multipleOf", "minLength", "maxLength", "maxItems", "uniqueItems",
                         "contains", "minContains", "maxContains")
ANTHROPIC_MAX_OPTIONAL, ANTHROPIC_MAX_UNIONS = 24, 16

GEMINI_JSON_KEYWORDS = frozenset({
    "$id", "$defs", "$ref", "$anchor", "type", "format", "title", "description", "enum",
    "items", "prefixItems", "minItems", "maxItems", "minimum", "maximum", "anyOf", "oneOf",
    "properties", "additionalProperties", "required", "propertyOrdering",
    # Not the model's to keep, and harmless where it ignores them.
    "$schema", "$comment"})
GEMINI_OPENAPI_FIELDS = frozenset({
    "type", "format", "title", "description", "nullable", "enum", "items", "minItems",
    "maxItems", "minLength", "maxLength", "pattern", "minProperties", "maxProperties",
    "minimum", "maximum", "properties", "required", "propertyOrdering", "anyOf", "default",
    "example"})


def _keywords(path: str, keywords: Iterable[Any], severity: Severity, message: str, *,
              quoted: bool = False) -> Iterator[SchemaFinding]:
    """An ``unsupported_schema_keyword`` finding for each of ``keywords`` at ``path``
    (``message`` names it where it says ``{}``; ``quoted``: as a quoted value, for a key
    the schema's author wrote, not one of a known list)."""
    for keyword in keywords:
        yield SchemaFinding("unsupported_schema_keyword", severity, _join(path, str(keyword)),
                            message.format(quote(keyword, 40) if quoted else keyword))


def _object_rules(schema: Mapping[str, Any], path: str, who: str
                  ) -> Iterator[SchemaFinding]:
    """Strict mode's two object rules: ``additionalProperties: false``, every property
    required."""
    if not _is_object(schema):
        return
    if schema.get("additionalProperties") is not False:
        yield SchemaFinding("strict_schema_violation", "error",
                            _join(path, "additionalProperties"),
                            f"{who} strict mode needs additionalProperties: false on every "
                            "object")
    properties = schema.get("properties")
    required = schema.get("required")
    required = required if isinstance(required, list) else []
    if isinstance(properties, Mapping):
        for name in properties:
            if name not in required:
                yield SchemaFinding(
                    "strict_schema_violation", "error", _join(path, "properties", str(name)),
                    f"{who} strict mode needs every property in required: property "
                    f"{quote(name, 60)} is not (make it optional with a null type)")
                break


def _openai_strict(schema: Mapping[str, Any]) -> Iterator[SchemaFinding]:
    if not _is_object(schema) or "anyOf" in schema:
        yield SchemaFinding("strict_schema_violation", "error", "",
                            "OpenAI strict mode needs an object at the root, not "
                            f"{quote(schema.get('type', 'anyOf'), 40)}")
    properties = enum_values = text = 0
    for sub, path, depth in _subschemas(schema, "", 1):
        yield from _object_rules(sub, path, "OpenAI")
        yield from _keywords(path, [key for key in OPENAI_UNSUPPORTED if key in sub],
                             "error", "OpenAI strict mode does not support {}")
        form = sub.get("format")
        if isinstance(form, str) and "string" in _types(sub) and form not in OPENAI_FORMATS:
            yield SchemaFinding("unsupported_schema_keyword", "warning", _join(path, "format"),
                                f"OpenAI strict mode supports no format {quote(form, 40)} "
                                f"(only {', '.join(sorted(OPENAI_FORMATS))})")
        if depth > OPENAI_MAX_DEPTH and _is_object(sub):
            yield SchemaFinding("schema_too_large", "error", path,
                                f"objects nested {depth} levels deep: OpenAI strict mode "
                                f"allows {OPENAI_MAX_DEPTH}")
        named = sub.get("properties")
        if isinstance(named, Mapping):
            properties += len(named)
            text += sum(len(str(name)) for name in named)
        for key in ("$defs", "definitions"):
            if isinstance(sub.get(key), Mapping):
                text += sum(len(str(name)) for name in sub[key])
        values = sub.get("enum")
        if isinstance(values, list):
            enum_values += len(values)
            strings = [value for value in values if isinstance(value, str)]
            text += sum(len(value) for value in strings)
            if len(strings) > OPENAI_LONG_ENUM and sum(map(len, strings)) > \
                    OPENAI_LONG_ENUM_TEXT:
                yield SchemaFinding("schema_too_large", "error", _join(path, "enum"),
                                    f"a string enum of {len(strings):,} values and "
                                    f"{sum(map(len, strings)):,} characters: OpenAI allows "
                                    f"{OPENAI_LONG_ENUM_TEXT:,} characters past "
                                    f"{OPENAI_LONG_ENUM} values")
        if isinstance(sub.get("const"), str):
            text += len(sub["const"])
    yield from _over_limits("OpenAI strict mode allows", (
        (properties, OPENAI_MAX_PROPERTIES, "properties"),
        (enum_values, OPENAI_MAX_ENUM_VALUES, "enum values"),
        (text, OPENAI_MAX_TEXT, "characters of names, enum and const values")))


def _over_limits(who: str, counts: Iterable[tuple[int, int, str]]
                 ) -> Iterator[SchemaFinding]:
    """A ``schema_too_large`` finding for each count past its documented limit."""
    for total, limit, what in counts:
        if total > limit:
            yield SchemaFinding("schema_too_large", "error", "",
                                f"{total:,} {what}: {who} {limit:,}")


def _groq_strict(schema: Mapping[str, Any]) -> Iterator[SchemaFinding]:
    for sub, path, _ in _subschemas(schema, "", 1):
        yield from _object_rules(sub, path, "Groq")


def _recursive(schema: Mapping[str, Any]) -> str | None:
    """The path of a ``$ref`` that makes the schema recursive (refers to the root or to a
    definition that leads back to itself), or None."""
    edges: dict[str, set[str]] = {}
    first: dict[tuple[str, str], str] = {}
    for sub, path, _ in _subschemas(schema, "", 1):
        ref = sub.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#"):
            continue
        owner = next((f"#/{kind}/{path.split('.')[1]}" for kind in ("$defs", "definitions")
                      if path.startswith(f"{kind}.")), "#")
        edges.setdefault(owner, set()).add(ref)
        first.setdefault((owner, ref), _join(path, "$ref"))
    for start in edges:
        stack, seen = [start], set()
        while stack:
            node = stack.pop()
            for target in edges.get(node, ()):
                if target == start:
                    return first.get((node, target), "")
                if target not in seen:
                    seen.add(target)
                    stack.append(target)
    return None


def _anthropic(schema: Mapping[str, Any]) -> Iterator[SchemaFinding]:
    optional = unions = 0
    for sub, path, _ in _subschemas(schema, "", 1):
        yield from _keywords(path, [key for key in ANTHROPIC_UNSUPPORTED if key in sub],
                             "error", "Anthropic's structured outputs do not support {}")
        low = sub.get("minItems")
        if isinstance(low, int) and low > 1:
            yield SchemaFinding("unsupported_schema_keyword", "error", _join(path, "minItems"),
                                f"Anthropic's structured outputs take minItems 0 or 1, not "
                                f"{low}")
        if "additionalProperties" in sub and sub["additionalProperties"] is not False:
            yield SchemaFinding("unsupported_schema_keyword", "error",
                                _join(path, "additionalProperties"),
                                "Anthropic's structured outputs take additionalProperties "
                                "only as false")
        values = sub.get("enum")
        if isinstance(values, list) and any(isinstance(value, (dict, list))
                                            for value in values):
            yield SchemaFinding("unsupported_schema_keyword", "error", _join(path, "enum"),
                                "Anthropic's structured outputs take enums of strings, "
                                "numbers, booleans or null only")
        ref = sub.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            yield SchemaFinding("unsupported_schema_keyword", "error", _join(path, "$ref"),
                                f"Anthropic's structured outputs resolve no external $ref "
                                f"({quote(ref, 60)})")
        properties = sub.get("properties")
        if isinstance(properties, Mapping):
            listed = sub.get("required")
            required: list[Any] = listed if isinstance(listed, list) else []
            optional += sum(1 for name in properties if name not in required)
            unions += sum(1 for item in properties.values() if isinstance(item, Mapping) and (
                "anyOf" in item or isinstance(item.get("type"), list)))
    recursive = _recursive(schema)
    if recursive is not None:
        yield SchemaFinding("unsupported_schema_keyword", "error", recursive,
                            "Anthropic's structured outputs do not support recursive schemas")
    yield from _over_limits("Anthropic allows in a request", (
        (optional, ANTHROPIC_MAX_OPTIONAL, "optional properties"),
        (unions, ANTHROPIC_MAX_UNIONS, "properties with anyOf or a list of types")))


def _gemini_json(schema: Mapping[str, Any]) -> Iterator[SchemaFinding]:
    for sub, path, _ in _subschemas(schema, "", 1):
        yield from _keywords(path, [key for key in sub if key not in GEMINI_JSON_KEYWORDS],
                             "warning", "Gemini's responseJsonSchema does not read {}: the "
                             "model ignores it", quoted=True)


def _gemini_openapi(schema: Mapping[str, Any]) -> Iterator[SchemaFinding]:
    stack: list[tuple[Any, str]] = [(schema, "")]
    while stack:
        sub, path = stack.pop()
        if not isinstance(sub, Mapping):
            continue
        yield from _keywords(path, [key for key in sub if key not in GEMINI_OPENAPI_FIELDS],
                             "error", "Gemini's responseSchema has no field {} (refused: "
                             "Cannot find field); responseJsonSchema takes JSON Schema",
                             quoted=True)
        if isinstance(sub.get("properties"), Mapping):
            stack.extend((item, _join(path, "properties", str(name)))
                         for name, item in sub["properties"].items())
        if isinstance(sub.get("items"), Mapping):
            stack.append((sub["items"], _join(path, "items")))
        if isinstance(sub.get("anyOf"), list):
            stack.extend((item, _join(path, f"anyOf[{index}]"))
                         for index, item in enumerate(sub["anyOf"]))


_RULES = {"openai_strict": _openai_strict, "groq_strict": _groq_strict,
          "anthropic": _anthropic, "gemini_json": _gemini_json,
          "gemini_openapi": _gemini_openapi}


def schema_findings(rules: RuleSet, schema: Mapping[str, Any]) -> list[SchemaFinding]:
    """What ``rules`` find in ``schema``, each rule's first finding per place."""
    found: list[SchemaFinding] = []
    seen: set[tuple[str, str]] = set()
    for finding in _RULES[rules](schema):
        if (finding.code, finding.path) not in seen:
            seen.add((finding.code, finding.path))
            found.append(finding)
    return found




def schema_problems(body: Any, schemas: SchemaCache, provider: str
                    ) -> list[tuple[str, Severity, str, str]]:
    """Everything wrong with the schema a request body asks its answer to keep, as
    ``(code, severity, param within the body, message)``: a schema that is no JSON Schema
    (``invalid_json_schema``), else the provider's rules on it. Each distinct schema is
    judged once per rule set and place (``schemas`` remembers).

    Where one field carries all a body asks for (``response_format``, ``text``,
    ``output_config``, ``generationConfig``: the usual job), the verdict is remembered by
    that field as written, and a line that repeats it costs one lookup (50,000 lines
    repeating one schema: about 1 us a line against 2.5 us for finding the schema first).
    """
    asking = ASKING_KEYS.intersection(body)
    if len(asking) == 1:
        (name,) = asking
        if name != "tool_choice":  # a forced tool's schema is in tools, not here
            return list(schemas.remember(f"{provider}:{name}", body[name],
                                         lambda: tuple(_schema_problems(body, schemas,
                                                                        provider))))
    return _schema_problems(body, schemas, provider)


def _schema_problems(body: Any, schemas: SchemaCache, provider: str
                     ) -> list[tuple[str, Severity, str, str]]:
    """:func:`schema_problems`, the schema found first."""
    try:
        wanted = requested_output(body)
    except RecursionError:
        return []
    # (A value that is no schema object at all is the body schema's to report.)
    if wanted is None or wanted.param is None or wanted.schema is None:
        return []
    rules = rules_for(provider, wanted)
    schema = _dig(body, wanted.param) if rules == "gemini_openapi" else wanted.schema
    param = wanted.param
    problems: list[tuple[str, Severity, str, str]] = list(schemas.remember(
        f"{rules}:{param}", schema, lambda: _judged(rules, param, wanted, schemas, schema)))
    if rules is not None and rules.startswith("gemini"):
        config = _dig(body, param.split(".", 1)[0])
        if isinstance(config, Mapping) and any(name in config for name in (
                "responseJsonSchema", "response_json_schema")) and any(
                name in config for name in ("responseSchema", "response_schema")):
            where = f"{param.split('.', 1)[0]}.responseSchema"
            problems.append(("unsupported_schema_keyword", "error", where,
                             f"{where}: give responseJsonSchema or responseSchema, not both "
                             "(Gemini: responseSchema must be omitted)"))
    return problems


def _judged(rules: RuleSet | None, param: str, wanted: RequestedOutput,
            schemas: SchemaCache, schema: Any) -> tuple[tuple[str, Severity, str, str], ...]:
    """The problems of one distinct schema at ``param`` under ``rules``."""
    compiled = schemas.get(wanted.schema) if wanted.schema is not None else None
    if isinstance(compiled, str):
        return (("invalid_json_schema", "error", param,
                 f"{param} is not a usable JSON Schema: {compiled}"),)
    if rules is None or not isinstance(schema, Mapping):
        return ()
    try:
        findings = schema_findings(rules, schema)
    except RecursionError:
        return ()
    return tuple((finding.code, finding.severity, _join(param, finding.path),
                  f"{_join(param, finding.path)}: {finding.message}") for finding in findings)


__all__ = ["RuleSet", "SchemaFinding", "rules_for", "schema_findings", "schema_problems"]

"""Checks of a model's answers against what their own requests asked for.

Owns :func:`requested_output` (what output a request body asks for: JSON with a schema, a
JSON object, or a forced tool's input) and :class:`OutputChecker`, which gives each
succeeded answer one verdict of :data:`OUTPUT_CHECKS`:

- ``refusal``: the model refused (a refusal field or part, or a refusal stop reason), or
  the provider's content filter stopped the answer;
- ``truncated``: it stopped at the token limit (finish reason ``length``);
- ``empty``: no answer text (or no call of a forced tool); a tool call the request
  allowed but did not force is ``ok``;
- ``invalid_json``: JSON was asked for and the answer does not parse (or is not an object
  where ``json_object`` mode asked for one);
- ``schema_violation``: it parses but breaks the request's schema (the first violation's
  path and message go with it);
- ``ok``: none of these; ``not_checked``: the request did not succeed, its answer is not
  a generation (embeddings, moderations), or its schema could not be compiled.

Each distinct schema is compiled once, keyed by its canonical bytes.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal, NamedTuple

import msgspec
import orjson

from .errors import BatchioError
from .jsonl import json_type
from .schemas import CompiledSchema, format_param

OutputCheck = Literal["ok", "not_checked", "invalid_json", "schema_violation", "truncated",
                      "refusal", "empty"]
OUTPUT_CHECKS: tuple[OutputCheck, ...] = ("ok", "not_checked", "invalid_json",
                                          "schema_violation", "truncated", "refusal", "empty")

#: Schemas compiled and kept by one checker, at most (a job has a few distinct schemas).
MAX_CACHED_SCHEMAS = 1024


class RequestedOutput(NamedTuple):
    """What a request asked its answer to be: JSON (``schema`` None: any JSON, or any JSON
    object when ``object_only``), or a forced tool's input (``tool``)."""

    schema: Mapping[str, Any] | None
    object_only: bool = False
    tool: bool = False
    #: A schema nested too deeply to convert or check.
    too_deep: bool = False
    #: Where the schema is in the body (``response_format.json_schema.schema``).
    param: str | None = None
    #: What stands where the schema should be when it is no schema object: a boolean
    #: schema (``false`` admits no answer) or a value that is no schema at all.
    other: Any = None
    #: ``strict: true`` beside the schema (OpenAI-shaped strict mode, a strict tool).
    strict: bool = False


class _TooDeep(Exception):
    pass


def requested_output(body: Any) -> RequestedOutput | None:
    """The structured output a request body asks for, in any provider's words; None when it
    asks for free text."""
    if not isinstance(body, dict) or ASKING_KEYS.isdisjoint(body):
        return None
    return (_openai_format(body.get("response_format"), "response_format")  # chat, Mistral
            or _openai_format(_get(body.get("text"), "format"), "text.format")  # Responses
            or _openai_format(_get(body.get("output_config"), "format"),
                              "output_config.format")  # Anthropic
            or _openai_format(body.get("output_format"), "output_format")  # older beta name
            or _forced_tool(body)
            or _gemini_format(body))


#: The fields through which a request can ask for structured output: a body with none of
#: them asks for free text (one set test, where most bodies of a job end).
ASKING_KEYS = frozenset({"response_format", "text", "output_config", "output_format",
                          "tool_choice", "generationConfig", "generation_config"})


def _get(container: Any, key: str) -> Any:
    return container.get(key) if isinstance(container, dict) else None


def _requested(schema: Any, param: str, object_only: bool = False, tool: bool = False,
               strict: bool = False) -> RequestedOutput:
    """A request's output with the schema found at ``param`` (None: none there). (Made
    positionally: keywords cost a NamedTuple a microsecond, on every line that asks.)"""
    if schema is None or isinstance(schema, dict):
        return _new_output((schema, object_only, tool, False, param, None, strict))
    return _new_output((None, object_only, tool, False, param, schema, strict))


_new_output = RequestedOutput._make


def _strict(holder: Any) -> bool:
    return _get(holder, "strict") is True


def _openai_format(spec: Any, param: str) -> RequestedOutput | None:
    kind = _get(spec, "type")
    if kind == "json_schema":
        # Chat wraps it ({"json_schema": {"name", "schema"}}); Responses and Anthropic do not.
        wrapped = _get(spec, "json_schema")
        if isinstance(wrapped, dict):
            schema, param = _get(wrapped, "schema"), f"{param}.json_schema.schema"
        else:
            schema, param = _get(spec, "schema"), f"{param}.schema"
        return _requested(schema, param, object_only=schema is None,
                          strict=_strict(wrapped if isinstance(wrapped, dict) else spec))
    if kind == "json_object":
        # Together's older form puts a schema beside the type.
        return _requested(_get(spec, "schema"), f"{param}.schema", object_only=True)
    return None


def _forced_tool(body: Mapping[str, Any]) -> RequestedOutput | None:
    """A tool the request forces: Anthropic's ``tool_choice: {"type": "tool", "name"}``
    (its ``input_schema``), or an OpenAI-shaped forced function (chat: ``{"type":
    "function", "function": {"name"}}``, Responses: ``{"type": "function", "name"}``; its
    ``parameters``)."""
    choice = body.get("tool_choice")
    kind = _get(choice, "type")
    tools = body.get("tools")
    if not isinstance(tools, list):
        return None
    if kind == "tool":
        name = _get(choice, "name")
        for number, tool in enumerate(tools):
            if _get(tool, "name") == name:
                return _requested(_get(tool, "input_schema"),
                                  f"tools[{number}].input_schema", tool=True,
                                  strict=_strict(tool))
    elif kind == "function":
        name = _get(_get(choice, "function"), "name") or _get(choice, "name")
        for number, tool in enumerate(tools):
            wrapped = _get(tool, "function")
            function = wrapped or tool
            if _get(function, "name") == name:
                where = f"tools[{number}].function" if wrapped else f"tools[{number}]"
                return _requested(_get(function, "parameters"), f"{where}.parameters",
                                  tool=True, strict=_strict(function))
    return None


def _gemini_format(body: Mapping[str, Any]) -> RequestedOutput | None:
    where = "generationConfig" if body.get("generationConfig") else "generation_config"
    config = body.get(where)
    if not isinstance(config, dict):
        return None
    for name in ("responseJsonSchema", "response_json_schema"):
        if name in config and config[name] is not None:
            return _requested(config[name], f"{where}.{name}")
    for name in ("responseSchema", "response_schema"):
        schema = config.get(name)
        if isinstance(schema, dict):
            try:
                return RequestedOutput(_from_openapi(schema), param=f"{where}.{name}")
            except _TooDeep:
                return RequestedOutput(None, too_deep=True, param=f"{where}.{name}")
    mime = config.get("responseMimeType", config.get("response_mime_type"))
    return RequestedOutput(None) if mime == "application/json" else None


#: The deepest Gemini ``responseSchema`` converted; deeper ones are not checked.
_MAX_SCHEMA_DEPTH = 64


def _from_openapi(schema: Any, depth: int = 0) -> Any:
    """Gemini's ``responseSchema`` (an OpenAPI subset: upper-case types, ``nullable``) as a
    JSON Schema; None past :data:`_MAX_SCHEMA_DEPTH` levels (the request is not checked)."""
    if depth > _MAX_SCHEMA_DEPTH:
        raise _TooDeep
    if isinstance(schema, list):
        return [_from_openapi(item, depth + 1) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "type" and isinstance(value, str):
            converted["type"] = value.lower()
        elif key in ("properties", "$defs", "definitions") and isinstance(value, dict):
            converted[key] = {name: _from_openapi(sub, depth + 1) for name, sub in value.items()}
        elif key in ("items", "anyOf", "oneOf", "allOf"):
            converted[key] = _from_openapi(value, depth + 1)
        elif key not in ("nullable", "propertyOrdering", "format", "example"):
            converted[key] = value
    if schema.get("nullable") is True and isinstance(converted.get("type"), str):
        converted["type"] = [converted["type"], "null"]
    return converted


def _how_it_ended(answer: Mapping[str, Any]) -> tuple[OutputCheck, str | None] | None:
    """The verdict an answer's ending decides before its content is read: not a generation,
    a refusal (or a content filter's stop), or a cut at the token limit; None otherwise."""
    finish = answer.get("finish_reason")
    refusal = answer.get("refusal")
    if finish is None and answer.get("text") is None and answer.get("tool_input") is None \
            and not answer.get("tool_arguments") and not refusal:
        # No text, no tool call and no finish reason: not a generation (embeddings).
        return "not_checked", None
    if finish == "refusal" or refusal:
        return "refusal", refusal[:200] if isinstance(refusal, str) else None
    if finish == "content_filter":
        return "refusal", f"stopped by the content filter ({answer.get('finish_reason_raw')})"
    if finish == "length":
        return "truncated", f"stopped at the token limit ({answer.get('finish_reason_raw')})"
    return None


class OutputChecker:
    """Gives succeeded answers their :data:`OUTPUT_CHECKS` verdict (see the module)."""

    def __init__(self) -> None:
        self._schemas = SchemaCache()
        self._decode = _decode_answer

    def check(self, request_body: Any, answer: Mapping[str, Any]
              ) -> tuple[OutputCheck, str | None]:
        """The verdict and its message for one succeeded answer (``answer`` as
        :func:`batchio.results.answer_fields` reads it) to the request ``request_body``."""
        ended = _how_it_ended(answer)
        if ended is not None:
            return ended
        try:
            wanted = requested_output(request_body)
        except RecursionError:
            return "not_checked", "the request is nested too deeply to read its schema"
        if wanted is not None and wanted.tool:
            value, verdict = self._tool_input(answer)
        elif answer.get("tool_input") is not None or answer.get("tool_arguments") \
                or answer.get("finish_reason") == "tool_calls":
            return "ok", None  # a tool call the request allowed, not one it forced
        else:
            value, verdict = self._json_answer(answer, wanted)
        if verdict is not None:
            return verdict
        assert wanted is not None  # a free-text answer has its verdict already
        if wanted.too_deep:
            return "not_checked", "the request's schema is nested too deeply to check"
        if wanted.other is not None:
            if wanted.other is False:
                return "schema_violation", "the request's schema is false: it admits no answer"
            if wanted.other is not True:
                return "not_checked", (f"invalid_json_schema: the request's schema cannot be "
                                       f"used: {_not_a_schema(wanted.other)}")
        if wanted.schema is None:
            return "ok", None
        return self._against(wanted.schema, value)

    def _tool_input(self, answer: Mapping[str, Any]
                    ) -> tuple[Any, tuple[OutputCheck, str | None] | None]:
        """The forced tool's input (an object, or the JSON of OpenAI-shaped arguments), or
        the verdict when there is none to check."""
        value = answer.get("tool_input")
        if value is not None:
            return value, None
        arguments = answer.get("tool_arguments")
        if not arguments:
            return None, ("empty", "no call of the forced tool")
        try:
            return self._decode(arguments), None
        except (msgspec.DecodeError, RecursionError) as exc:
            return None, ("invalid_json", f"the tool's arguments: {exc}"[:200])

    def _json_answer(self, answer: Mapping[str, Any], wanted: RequestedOutput | None
                     ) -> tuple[Any, tuple[OutputCheck, str | None] | None]:
        """The answer's text parsed as JSON where JSON was asked for, or the verdict."""
        text = answer.get("text")
        if not isinstance(text, str) or not text.strip():
            return None, ("empty", None)
        if wanted is None:
            return None, ("ok", None)
        try:
            value = self._decode(text)
        except (msgspec.DecodeError, RecursionError) as exc:
            return None, ("invalid_json", str(exc)[:200])
        if wanted.object_only and not isinstance(value, dict):
            return None, ("invalid_json", "the answer is JSON but not an object")
        return value, None

    def _against(self, schema: Mapping[str, Any], value: Any
                 ) -> tuple[OutputCheck, str | None]:
        try:
            compiled = self._schemas.get(schema)
        except RecursionError:
            return "not_checked", "the request's schema is nested too deeply to check"
        if isinstance(compiled, str):
            return "not_checked", f"invalid_json_schema: {compiled}"[:300]
        try:
            # An answer may hold an integer longer than Python converts by default (see
            # _decode_answer): the validator reads it as text.
            with _integers_of_any_length():
                error = compiled.first_error(value)
        except (RecursionError, ValueError) as exc:
            return "not_checked", f"the answer could not be checked: {exc}"[:300]
        if error is None:
            return "ok", None
        path, message = error
        where = format_param("", path) or "the answer"
        return "schema_violation", f"{where}: {message}"[:300]


_decode = msgspec.json.Decoder().decode
#: The longest integer an answer is read with exactly (longer ones are read as infinite:
#: converting a digit string to an int takes time that grows with its square).
_MAX_INTEGER_DIGITS = 100_000


def _decode_answer(text: str | bytes) -> Any:
    """An answer's JSON. Integers of any length are valid JSON: one longer than Python
    reads by default (4,300 digits) is read exactly up to :data:`_MAX_INTEGER_DIGITS`, so
    that a schema's ``maximum`` judges it (``schema_violation``), not the parser
    (``invalid_json``)."""
    try:
        return _decode(text)
    except msgspec.DecodeError as exc:
        if "Integer value out of range" not in str(exc):
            raise
    try:
        with _integers_of_any_length():
            return json.loads(text, parse_int=_long_int, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise msgspec.DecodeError(str(exc)) from exc


@contextlib.contextmanager
def _integers_of_any_length() -> Iterator[None]:
    """Python's limit on converting long integers to and from text lifted for the block
    (the length is bounded by :func:`_long_int` where answers are read)."""
    previous = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        yield
    finally:
        sys.set_int_max_str_digits(previous)


def _long_int(digits: str) -> int | float:
    if len(digits) > _MAX_INTEGER_DIGITS:
        return float("-inf") if digits.startswith("-") else float("inf")
    return int(digits)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _not_a_schema(value: Any) -> str:
    return f"a JSON {json_type(value)} stands where a schema object should be"


class SchemaCache:
    """The schemas of requests, each distinct one compiled once (keyed by its canonical
    bytes; a job has a few), with the reason a schema cannot be compiled."""

    def __init__(self) -> None:
        self._compiled: dict[bytes, CompiledSchema | str] = {}
        self._memo: dict[tuple[str, bytes], Any] = {}

    @staticmethod
    def key(schema: Any, *, canonical: bool = True) -> bytes:
        """A schema's bytes: canonical ones (equal schemas, whatever their key order, share
        them), or as written (a cheaper key for a schema repeated line after line)."""
        try:
            return orjson.dumps(schema, option=orjson.OPT_SORT_KEYS if canonical else 0)
        except TypeError:  # an integer orjson cannot write: rare enough to key by repr
            return repr(schema).encode()

    def remember(self, work: str, schema: Any, judge: Callable[[], Any]) -> Any:
        """What ``judge`` works out about ``schema`` (``work`` names it), once per distinct
        schema: looked up by the schema as written (on 50,000 lines repeating one schema,
        1.7 us a line for the canonical key against less than half that), then by its
        canonical bytes."""
        written = (work, self.key(schema, canonical=False))
        found = self._memo.get(written, _UNSEEN)
        if found is _UNSEEN:
            canonical = (work, self.key(schema))
            found = self._memo.get(canonical, _UNSEEN)
            if found is _UNSEEN:
                found = judge()
            if len(self._memo) >= 2 * MAX_CACHED_SCHEMAS:
                self._memo.clear()
            self._memo[written] = self._memo[canonical] = found
        return found

    def get(self, schema: Mapping[str, Any]) -> CompiledSchema | str:
        """The schema compiled, or why it cannot be (one line)."""
        key = self.key(schema)
        found = self._compiled.get(key)
        if found is None:
            try:
                # The compiled validator checks the schema against its metaschema itself
                # (a bad type, a pattern that is no regular expression, a $ref it cannot
                # resolve locally); the check in Python would cost about 0.7 ms a property.
                found = CompiledSchema(schema, uri="the request's schema", check=False)
            except (BatchioError, RecursionError, ValueError) as exc:
                cause = exc.__cause__ or exc
                reason = getattr(cause, "message", None) or str(cause)
                found = reason.split("\n", 1)[0][:240]
            if len(self._compiled) >= MAX_CACHED_SCHEMAS:
                self._compiled.clear()
            self._compiled[key] = found
        return found


_UNSEEN: Any = object()


__all__ = ["ASKING_KEYS", "MAX_CACHED_SCHEMAS", "OUTPUT_CHECKS", "OutputCheck", "OutputChecker",
           "RequestedOutput", "SchemaCache", "requested_output"]

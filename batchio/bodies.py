"""What batchio reads off request bodies, below validation and building alike.

Owns counting a body's embedding inputs, estimating its input tokens, and turning a schema
violation into the one problem shown for a body: its JSON path as ``param`` and a message
a person can act on (values quoted short, sizes in words, the best alternative of an
``anyOf``). It knows
nothing of files or lines.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sized
from dataclasses import dataclass
from typing import Any

from .errors import Problem, UsageError, quote
from .jsonl import json_type
from .schemas import CompiledSchema, SchemaViolation, format_param

#: The longest message a report carries.
MAX_MESSAGE = 300


def embedding_inputs(body: Mapping[str, Any]) -> int:
    """How many inputs an embeddings body counts for towards the per-file limit."""
    return embedding_input_count(body.get("input"))


def embedding_input_count(items: Any) -> int:
    """How many inputs an embeddings body's ``input`` counts for."""
    if isinstance(items, list):
        # A list of token ids is one input; a list of strings or token lists is many.
        if items and isinstance(items[0], int):
            return 1
        return len(items)
    return 1


def text_size(body: Mapping[str, Any]) -> tuple[int, int]:
    """(characters, messages) of a request body: the characters of every string in it
    except the model name, and the objects with a ``role`` (chat messages)."""
    characters = 0
    messages = 0
    stack: list[Any] = [value for key, value in body.items() if key != "model"]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            characters += len(value)
        elif isinstance(value, dict):
            if "role" in value:
                messages += 1
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return characters, messages


@dataclass(frozen=True, slots=True)
class TokenCounter:
    """A dependency-free estimate of a request's input tokens: its characters divided by
    ``chars_per_token``, plus ``per_message`` tokens of overhead a chat message.

    Four characters a token is the figure OpenAI and Google give for English text
    (https://help.openai.com/en/articles/4936856-what-are-tokens-and-how-to-count-them,
    https://ai.google.dev/gemini-api/docs/tokens); each provider's profile names its own
    (``Profile.chars_per_token``), and :func:`batchio.estimating.calibrate` fits one to a
    past job's real usage. An estimate for budgets, not a count: tokenizers differ by
    language and model.
    """

    chars_per_token: float = 4.0
    per_message: int = 4

    def __post_init__(self) -> None:
        if not (isinstance(self.chars_per_token, (int, float))
                and math.isfinite(self.chars_per_token) and self.chars_per_token > 0):
            raise UsageError(f"chars_per_token must be a positive number, not "
                             f"{self.chars_per_token!r}")

    def __call__(self, body: Mapping[str, Any]) -> int:
        return self.tokens_for(*text_size(body))

    def tokens_for(self, characters: int, messages: int) -> int:
        """The estimate for a body of this many characters and chat messages."""
        return math.ceil(characters / self.chars_per_token) + self.per_message * messages


#: The default counter: four characters a token, four tokens a message.
DEFAULT_COUNTER = TokenCounter()


def estimate_tokens(body: Mapping[str, Any]) -> int:
    """A request's input tokens by :data:`DEFAULT_COUNTER` (see :class:`TokenCounter`)."""
    return DEFAULT_COUNTER(body)


def output_cap(body: Mapping[str, Any]) -> int | None:
    """The request's own cap on output tokens, whichever field its API names it by
    (``max_completion_tokens``, ``max_tokens``, ``max_output_tokens``, Gemini's
    ``generationConfig.maxOutputTokens``); None when it sets none, or none a service could
    use (not a whole number from 1 to 2**63 - 1: no bound at all)."""
    value: Any = None
    for name in ("max_completion_tokens", "max_tokens", "max_output_tokens"):
        value = body.get(name)
        if value is not None:
            break
    else:
        config = body.get("generationConfig") or body.get("generation_config")
        if isinstance(config, Mapping):
            value = config.get("maxOutputTokens", config.get("max_output_tokens"))
    return value if type(value) is int and 0 < value < 1 << 63 else None


def body_is_clean(schema: CompiledSchema, body: Mapping[str, Any], model_required: bool,
                  misplaced_names: frozenset[str] | None) -> bool:
    """The verdict of an endpoint's rules on one body: True when it names a model where the
    endpoint requires one, holds no parameter of a sibling endpoint, and passes the
    endpoint's compiled schema. The fast lanes of the validator and the request writer call
    it, and :func:`body_problems` explains a body it finds unclean."""
    return ((not model_required or body.get("model") is not None)
            and (misplaced_names is None or misplaced_names.isdisjoint(body))
            and schema.is_valid(body))


def body_problems(schema: CompiledSchema, body: Mapping[str, Any], prefix: str, url: str, *,
                  model_required: bool, misplaced: Mapping[str, str]) -> Iterator[Problem]:
    """What :func:`body_is_clean` found wrong with a body, in the order they are reported:
    a model the endpoint requires, parameters that belong to a sibling endpoint
    (``misplaced``: name -> where it belongs), then the endpoint's schema. The validator
    lists every one; the request writer raises the first."""
    if body_is_clean(schema, body, model_required, frozenset(misplaced) or None):
        return
    if model_required and body.get("model") is None:
        yield Problem(code="missing_model", message="the body names no model",
                      param=format_param(prefix, ("model",)))
    for name in sorted(misplaced.keys() & body.keys()):
        yield Problem(code="unsupported_parameter", param=format_param(prefix, (name,)),
                      message=f"{name} is not a parameter of {url}: use {misplaced[name]} "
                      "(the service fails each such request with HTTP 400 "
                      "unsupported_parameter)")
    if not schema.is_valid(body):
        yield rejection(schema, body, prefix, "invalid_body")


def rejection(schema: CompiledSchema, body: Any, prefix: str, code: str) -> Problem:
    """The problem for a body the compiled ``schema`` rejects: explained where the
    explaining engine finds why, and still a problem where it finds nothing."""
    problem = explain_body(schema, body, prefix, code)
    if problem is None:
        problem = Problem(code=code, param=prefix or None, message=(
            f"rejected by the compiled schema {schema.uri.rsplit('/', 1)[-1]}; no "
            "explanation found"))
    return problem


def explain_body(schema: CompiledSchema, body: Any, body_field: str, code: str
                 ) -> Problem | None:
    """The one problem to show for a body a schema rejected, with its JSON path as param.

    ``code`` is ``invalid_body`` for the endpoint's schema (a true ``stream`` becomes
    ``stream_not_supported``) or ``custom_schema`` for a user's own. None when the schema
    finds nothing to explain (the caller decides what a rejection without a reason means).
    """
    violation = schema.explain(body)
    if violation is None:
        return None
    param = format_param(body_field, violation.path)
    if code == "invalid_body" and violation.path == ("stream",):
        return Problem(code="stream_not_supported", param=param,
                       message="stream must not be true in a batch request")
    return Problem(code=code, param=param, message=describe_violation(violation, param))


def describe_violation(violation: SchemaViolation, param: str) -> str:
    """A short message for one violation, never longer than :data:`MAX_MESSAGE`."""
    where = param or "the body"
    describe = _DESCRIBE.get(violation.keyword)
    message = describe(where, violation) if describe is not None else None
    if message is None:
        message = f"{where}: {violation.message}"
    return message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE - 1] + "…"


# One function per schema keyword: the message for a violation of it, or None where the
# instance is not of the kind the keyword speaks of (the validator's own message is used).

def _describe_type(where: str, violation: SchemaViolation) -> str:
    expected = violation.expected
    types = expected if isinstance(expected, list) else [expected]
    return (f"{where} is {_kind(violation.instance)} {quote(violation.instance)}; expected "
            f"{' or '.join(str(kind) for kind in types)}")


def _describe_size(noun: str, kind: type[Sized], bound: str) -> Callable[[str, SchemaViolation],
                                                                   str | None]:
    def describe(where: str, violation: SchemaViolation) -> str | None:
        if not isinstance(violation.instance, kind):
            return None
        return f"{where} has {len(violation.instance):,} {noun}; {bound} {violation.expected:,}"
    return describe


def _describe_bound(bound: str) -> Callable[[str, SchemaViolation], str]:
    def describe(where: str, violation: SchemaViolation) -> str:
        return f"{where} is {quote(violation.instance)}; it must be {bound} {violation.expected}"
    return describe


def _describe_enum(where: str, violation: SchemaViolation) -> str | None:
    if not isinstance(violation.expected, list):
        return None
    options = ", ".join(quote(option, 30) for option in violation.expected[:8])
    return f"{where} is {quote(violation.instance)}; expected one of {options}"


def _describe_const(where: str, violation: SchemaViolation) -> str:
    return f"{where} is {quote(violation.instance)}; expected {quote(violation.expected, 40)}"


def _describe_required(where: str, violation: SchemaViolation) -> str | None:
    value, expected = violation.instance, violation.expected
    if not isinstance(value, dict) or not isinstance(expected, list):
        return None
    missing = [name for name in expected if name not in value] or expected
    return f"{where} has no {quote(missing[0], 60)}, which is required"


def _describe_pattern(where: str, violation: SchemaViolation) -> str:
    return (f"{where} is {quote(violation.instance)}, which does not match "
            f"{quote(violation.expected, 60)}")


def _describe_not(where: str, violation: SchemaViolation) -> str:
    return f"{where} holds something it must not ({violation.message[:120]})"


_DESCRIBE: dict[str, Callable[[str, SchemaViolation], str | None]] = {
    "type": _describe_type,
    "maxItems": _describe_size("items", list, "at most"),
    "minItems": _describe_size("items", list, "at least"),
    "maxLength": _describe_size("characters", str, "at most"),
    "minLength": _describe_size("characters", str, "at least"),
    "maxProperties": _describe_size("fields", dict, "at most"),
    "minProperties": _describe_size("fields", dict, "at least"),
    "maximum": _describe_bound("at most"),
    "exclusiveMaximum": _describe_bound("less than"),
    "minimum": _describe_bound("at least"),
    "exclusiveMinimum": _describe_bound("more than"),
    "enum": _describe_enum,
    "const": _describe_const,
    "required": _describe_required,
    "pattern": _describe_pattern,
    "not": _describe_not,
}


def _kind(value: object) -> str:
    name = json_type(value)
    return name if name == "null" else ("an " if name[0] in "ao" else "a ") + name

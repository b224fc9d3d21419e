"""What batchio reads off request bodies, below validation and building alike.

Owns counting a body's embedding inputs, estimating its input tokens, and turning a schema
violation into the one problem shown for a body: its JSON path as ``param`` and a message
a person can act on (values quoted short, sizes in words, the best alternative of an
``anyOf``). It knows
nothing of files or lines.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .errors import Problem, quote
from .jsonl import json_type
from .schemas import CompiledSchema, SchemaViolation, format_param

#: The longest message a report carries.
MAX_MESSAGE = 300


def embedding_inputs(body: Mapping[str, Any]) -> int:
    """How many inputs an embeddings body counts for towards the per-file limit."""
    items = body.get("input")
    if isinstance(items, list):
        # A list of token ids is one input; a list of strings or token lists is many.
        if items and isinstance(items[0], int):
            return 1
        return len(items)
    return 1


def estimate_tokens(body: Mapping[str, Any]) -> int:
    """A dependency-free estimate of a request's input tokens.

    About four characters a token (the usual figure for English with OpenAI's tokenizers)
    over every string in the body except the model name, plus four tokens of overhead a
    message. An estimate for budgets, not a count: real tokenizers differ by language.
    """
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
    return math.ceil(characters / 4) + 4 * messages


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
    keyword, value, expected = violation.keyword, violation.instance, violation.expected
    where = param or "the body"
    if keyword == "type":
        types = expected if isinstance(expected, list) else [expected]
        message = (f"{where} is {_kind(value)} {quote(value)}; expected "
                   f"{' or '.join(str(kind) for kind in types)}")
    elif keyword in ("maxItems", "minItems") and isinstance(value, list):
        bound = "at most" if keyword == "maxItems" else "at least"
        message = f"{where} has {len(value):,} items; {bound} {expected:,}"
    elif keyword in ("maxLength", "minLength") and isinstance(value, str):
        bound = "at most" if keyword == "maxLength" else "at least"
        message = f"{where} has {len(value):,} characters; {bound} {expected:,}"
    elif keyword in ("maxProperties", "minProperties") and isinstance(value, dict):
        bound = "at most" if keyword == "maxProperties" else "at least"
        message = f"{where} has {len(value):,} fields; {bound} {expected:,}"
    elif keyword in ("maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum"):
        bound = {"maximum": "at most", "exclusiveMaximum": "less than",
                 "minimum": "at least", "exclusiveMinimum": "more than"}[keyword]
        message = f"{where} is {quote(value)}; it must be {bound} {expected}"
    elif keyword == "enum" and isinstance(expected, list):
        options = ", ".join(quote(option, 30) for option in expected[:8])
        message = f"{where} is {quote(value)}; expected one of {options}"
    elif keyword == "const":
        message = f"{where} is {quote(value)}; expected {quote(expected, 40)}"
    elif keyword == "required" and isinstance(value, dict) and isinstance(expected, list):
        missing = [name for name in expected if name not in value] or expected
        message = f"{where} has no {quote(missing[0], 60)}, which is required"
    elif keyword == "pattern":
        message = f"{where} is {quote(value)}, which does not match {quote(expected, 60)}"
    elif keyword == "not":
        message = f"{where} holds something it must not ({violation.message[:120]})"
    else:
        message = f"{where}: {violation.message}"
    return message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE - 1] + "…"


def _kind(value: object) -> str:
    name = json_type(value)
    return name if name == "null" else ("an " if name[0] in "ao" else "a ") + name

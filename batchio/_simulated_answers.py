"""The answers a simulation writes: usage from the request's own text, and answers to
structured-output requests with chosen shares of faults.

Owns :class:`AnswerMaker`. Input tokens follow a :class:`batchio.bodies.TokenCounter`
(with a tenth of noise either way), so that ``estimate --calibrate`` can be tried on a
simulated job. A request that asks for JSON (:func:`batchio.outputs.requested_output`) gets
a JSON value that fits its schema (:func:`instance_of`), unless a fault is drawn: invalid
JSON, a schema violation, a truncation at the token limit, or a refusal. Each answer is
labelled by construction with the verdict ``join --check-outputs`` should reach.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from .bodies import TokenCounter, output_cap
from .outputs import OutputCheck, SchemaCache, requested_output

#: The faults a simulation can inject into answers, in the order they are drawn.
ANSWER_FAULTS = ("refusal", "truncated", "invalid_json", "schema_violation")

Ending = Literal["stop", "length", "refusal"]

_WORDS = ("the", "batch", "result", "is", "ready", "and", "matches", "its", "request", "by",
          "custom", "id", "simulated", "answer", "text")


def words(rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(count)).capitalize() + "."


@dataclass(frozen=True, slots=True)
class Answer:
    """One simulated answer: its text (or a forced tool's input), how it ended, its tokens,
    and the verdict an output check should give it."""

    text: str | None
    tool_input: Any
    ending: Ending
    input_tokens: int
    output_tokens: int
    verdict: OutputCheck


class AnswerMaker:
    """Makes answers for succeeded requests (see the module docstring)."""

    def __init__(self, rng: random.Random, faults: Mapping[str, float], chars_per_token: float,
                 can_refuse: bool) -> None:
        self.rng = rng
        self.faults = {name: rate for name, rate in faults.items() if rate}
        self.counter = TokenCounter(chars_per_token)
        self.can_refuse = can_refuse
        self._schemas = SchemaCache()
        #: Faults drawn for answers they cannot apply to (JSON faults on a request that
        #: asks for no JSON, a refusal where the answer's shape cannot say it), per fault.
        self.unapplied: Counter[str] = Counter()

    def answer(self, body: Mapping[str, Any], generates: bool = True,
               refusable: bool = True) -> Answer:
        """The answer to ``body``; ``generates`` is False for endpoints with no text answer
        (embeddings, moderations), which get usage only; ``refusable`` is False where the
        answer's shape has no way to say it refused."""
        rng = self.rng
        prompt = max(1, round(self.counter(body) * rng.uniform(0.9, 1.1)))
        completion = rng.randint(5, 300)
        if not generates:
            return Answer(None, None, "stop", prompt, 0, "not_checked")
        cap = output_cap(body)
        fault = self._draw_fault()
        if fault == "refusal":
            # A refusal comes first: it is a few words, which no cap cuts.
            if self.can_refuse and refusable:
                return Answer(None, None, "refusal", prompt, min(completion, 20), "refusal")
            self.unapplied["refusal"] += 1
        if (type(cap) is int and 0 < cap <= completion) or fault == "truncated":
            # Cut off at the request's own cap (or, with no cap, where it was drawn).
            limit = cap if type(cap) is int and cap > 0 else completion
            if fault in ("invalid_json", "schema_violation"):
                self.unapplied[fault] += 1  # the cut comes first, as a real answer's does
            return Answer(words(rng, 6), None, "length", prompt, min(completion, limit),
                          "truncated")
        wanted = requested_output(body)
        if wanted is None:
            if fault in ("invalid_json", "schema_violation"):
                self.unapplied[fault] += 1
            return Answer(words(rng, 12), None, "stop", prompt, completion, "ok")
        value, verdict = self._structured(wanted.schema, wanted.object_only, fault)
        if fault in ("invalid_json", "schema_violation") and verdict != fault:
            self.unapplied[fault] += 1
        if wanted.tool:
            if verdict == "invalid_json":  # a tool's input is always JSON
                self.unapplied["invalid_json"] += 1
                value, verdict = self._structured(wanted.schema, True, None)
            return Answer(None, value, "stop", prompt, completion, verdict)
        if verdict == "invalid_json":
            return Answer('{"answer": ' + words(rng, 3), None, "stop", prompt, completion,
                          "invalid_json")
        return Answer(orjson.dumps(value).decode(), None, "stop", prompt, completion, verdict)

    def _draw_fault(self) -> str | None:
        if not self.faults:
            return None
        roll = self.rng.random()
        for name in ANSWER_FAULTS:
            rate = self.faults.get(name, 0.0)
            if roll < rate:
                return name
            roll -= rate
        return None

    def _structured(self, schema: Mapping[str, Any] | None, object_only: bool,
                    fault: str | None) -> tuple[Any, OutputCheck]:
        if fault == "invalid_json":
            return None, "invalid_json"
        value = instance_of(schema, rng=self.rng) if schema is not None else {
            "answer": words(self.rng, 4)}
        if object_only and not isinstance(value, dict):
            value = {"answer": value}
        if fault == "schema_violation" and schema is not None:
            broken = _violation_of(schema, value)
            if broken is not _NONE:
                value = broken
        if schema is None:
            return value, "ok"
        # The join's own cache: a schema it cannot use is one this label cannot either.
        try:
            compiled = self._schemas.get(schema)
        except RecursionError:
            return value, "not_checked"
        if isinstance(compiled, str):
            return value, "not_checked"
        if fault != "schema_violation" and not compiled.is_valid(value):
            # A drawn value the schema refuses (a pattern, a format): the smallest one.
            value = instance_of(schema)
        return value, "ok" if compiled.is_valid(value) else "schema_violation"


_NONE = object()


def instance_of(schema: Any, root: Any = None, depth: int = 0,
                rng: random.Random | None = None) -> Any:
    """A JSON value that fits ``schema``: with ``rng``, drawn (words, numbers within the
    schema's bounds, any enum value or anyOf branch, arrays of a few items), so that rows
    differ as real answers do; without, the smallest (objects with every listed property,
    the first of an enum or anyOf, minimal sizes). A best effort for the usual
    structured-output schemas, which the caller checks."""
    root = schema if root is None else root
    if not isinstance(schema, dict) or depth > 32:
        return None
    chosen = _chosen(schema, root, depth, rng)
    if chosen is not _NONE:
        return chosen
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((item for item in kind if item != "null"), "null")
    if kind is None and "properties" in schema:
        kind = "object"
    make = _OF_TYPE.get(kind) if isinstance(kind, str) else None
    return None if make is None else make(schema, root, depth, rng)


def _chosen(schema: Mapping[str, Any], root: Any, depth: int,
            rng: random.Random | None) -> Any:
    """The value a schema names outright (its ``$ref``'s, its ``const``, one of its
    ``enum`` or of its ``anyOf``/``oneOf`` (the first without ``rng``), its ``allOf``'s
    first), or ``_NONE``."""
    reference = schema.get("$ref")
    if isinstance(reference, str) and reference.startswith("#/"):
        target: Any = root
        for part in reference[2:].split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        return instance_of(target, root, depth + 1, rng)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return rng.choice(schema["enum"]) if rng is not None else schema["enum"][0]
    for combinator in ("anyOf", "oneOf", "allOf"):
        options = schema.get(combinator)
        if isinstance(options, list) and options:
            pick = rng.choice(options) if rng is not None and combinator != "allOf" \
                else options[0]
            return instance_of(pick, root, depth + 1, rng)
    return _NONE


# One function per JSON type: a value the schema's own bounds allow, drawn with ``rng``,
# else the smallest.

def _object_of(schema: Mapping[str, Any], root: Any, depth: int,
               rng: random.Random | None) -> Any:
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return {}
    return {name: instance_of(sub, root, depth + 1, rng) for name, sub in properties.items()}


def _array_of(schema: Mapping[str, Any], root: Any, depth: int,
              rng: random.Random | None) -> Any:
    low = schema.get("minItems")
    low = min(low, 64) if type(low) is int and low > 0 else 0
    count = low
    if rng is not None:
        high = schema.get("maxItems")
        high = min(high, low + 3) if type(high) is int else low + 3
        count = rng.randint(low, max(low, high))
    return [instance_of(schema.get("items"), root, depth + 1, rng) for _ in range(count)]


def _string_of(schema: Mapping[str, Any], root: Any, depth: int,
               rng: random.Random | None) -> Any:
    size = schema.get("minLength")
    low = min(max(size, 1), 4096) if type(size) is int else 1
    if rng is None:
        return "x" * low
    text = words(rng, rng.randint(1, 4))
    high = schema.get("maxLength")
    if type(high) is int:
        text = text[:max(high, 0)]
    return text if len(text) >= low else text + "x" * (low - len(text))


def _number_of(schema: Mapping[str, Any], root: Any, depth: int,
               rng: random.Random | None) -> Any:
    low = schema.get("minimum")
    low = low if isinstance(low, (int, float)) and not isinstance(low, bool) else None
    if rng is None:
        return low if low is not None else 0
    high = schema.get("maximum")
    high = high if isinstance(high, (int, float)) and not isinstance(high, bool) else None
    start = low if low is not None else 0
    end = high if high is not None else start + 1000
    if schema.get("type") == "integer" or (isinstance(schema.get("type"), list)
                                           and "integer" in schema["type"]):
        return rng.randint(math.ceil(start), max(math.ceil(start), math.floor(end)))
    return round(rng.uniform(start, end), 2)


_OF_TYPE: dict[str, Any] = {
    "object": _object_of, "array": _array_of, "string": _string_of, "integer": _number_of,
    "number": _number_of,
    "boolean": lambda schema, root, depth, rng: True if rng is None else rng.random() < 0.5,
}


def _violation_of(schema: Mapping[str, Any], value: Any) -> Any:
    """``value`` broken against ``schema``: a required property dropped, or the wrong
    type at the root; ``_NONE`` when the schema leaves no way to break it."""
    required = schema.get("required")
    if isinstance(value, dict) and isinstance(required, list) and required \
            and required[0] in value:
        return {key: item for key, item in value.items() if key != required[0]}
    if schema.get("type") == "object":
        return ["not", "an", "object"]
    if schema.get("type") in ("string", "array"):
        return 0
    return _NONE


__all__ = ["ANSWER_FAULTS", "Answer", "AnswerMaker", "instance_of", "words"]

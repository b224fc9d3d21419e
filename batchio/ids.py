"""custom_id strategies: how a writer names each request it writes.

Owns :class:`IdStrategy` and the strategies batchio ships: :class:`SequenceIds` (the
default), :class:`UuidIds`, :class:`ContentHashIds` and :class:`CallerKeys`. Any object with
a ``make_id(body, *, url, index)`` method will do. Also what a request with no id is known
by where its result repeats it (Vertex AI, Bedrock): :func:`echo_key` and
:func:`synthetic_id`.
"""

from __future__ import annotations

import functools
import hashlib
import re
import sys
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import msgspec
import orjson

from .errors import LineError
from .jsonl import MAX_NESTING

if TYPE_CHECKING:
    from .providers import Profile


class IdStrategy(Protocol):
    """Makes the custom_id of the ``index``-th request (0-based) of a writer."""

    def make_id(self, body: Mapping[str, Any], *, url: str, index: int) -> str: ...


@dataclass(frozen=True, slots=True)
class SequenceIds:
    """``prefix`` plus a zero-padded sequence number: ``request-0000001`` (the default)."""

    prefix: str = "request-"
    width: int = 7
    start: int = 1

    def make_id(self, body: Mapping[str, Any], *, url: str, index: int) -> str:
        # zfill rather than a nested format spec: a third of the time, once per request.
        return self.prefix + str(index + self.start).zfill(self.width)


@dataclass(frozen=True, slots=True)
class UuidIds:
    """A random UUID4 per request (hex, no dashes, so it fits every provider's charset)."""

    prefix: str = ""

    def make_id(self, body: Mapping[str, Any], *, url: str, index: int) -> str:
        return f"{self.prefix}{uuid.uuid4().hex}"


@dataclass(frozen=True, slots=True)
class ContentHashIds:
    """A hash of the request (url and body, keys sorted): the same rows give the same ids,
    so re-running a pipeline makes resubmission and de-duplication idempotent."""

    prefix: str = "req-"
    length: int = 32

    def make_id(self, body: Mapping[str, Any], *, url: str, index: int) -> str:
        canonical = orjson.dumps({"url": url, "body": body}, option=orjson.OPT_SORT_KEYS)
        return f"{self.prefix}{hashlib.sha256(canonical).hexdigest()[: self.length]}"


@dataclass(frozen=True, slots=True)
class CallerKeys:
    """The caller's own key, given to every ``add`` as ``custom_id``; none is made up."""

    def make_id(self, body: Mapping[str, Any], *, url: str, index: int) -> str:
        raise LineError("this writer uses the caller's keys: pass custom_id= to add()",
                        code="missing_custom_id", line=index + 1)




def echo_key(body: Any) -> bytes:
    """The key a request body is matched by where its result repeats it instead of naming
    it (Vertex AI's Gemini results; Bedrock records without a recordId): a digest of its
    normal form, so that the service's copy of the body matches the line's own. The
    service writes the copy again: it adds null for fields left unset, drops empty ones,
    and may spell a field name in camelCase or snake_case (docs/formats.md), so the normal
    form drops nulls and empty objects and lists, spells every field name in snake_case,
    and writes a whole float as an integer. What the request holds as data (a JSON
    Schema's property names, a function's arguments: :data:`VERBATIM`) is kept as it is,
    so two requests that differ there are two. Two bodies that differ only in the normal
    form's liberties are one request to the join (a match group, ``ambiguous_match``)."""
    normal = _with_room(_normal_form, body, False)
    # msgspec, not orjson: a request may hold an integer past 64 bits, which JSON allows.
    encoded = _with_room(msgspec.json.encode, normal, order="sorted")
    return hashlib.blake2b(encoded, digest_size=16).digest()


_T = TypeVar("_T")


def _with_room(function: Callable[..., _T], *arguments: Any, **options: Any) -> _T:
    """``function(*arguments, **options)``; where a body nested within the reader's limit
    is past this stack, again with room made, as the reader makes it
    (batchio.jsonl._decode)."""
    try:
        return function(*arguments, **options)
    except RecursionError:
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(limit + 2 * MAX_NESTING)
        try:
            return function(*arguments, **options)
        finally:
            sys.setrecursionlimit(limit)


#: Fields (in snake_case) whose values are the request's own data, not the API's fields:
#: a JSON Schema's properties and definitions, a JSON Schema given whole, a function's
#: arguments and response, labels. Their names are kept as written.
VERBATIM = frozenset({"properties", "pattern_properties", "$defs", "definitions",
                      "response_json_schema", "parameters_json_schema", "input_schema",
                      "json_schema", "schema", "args", "arguments", "response", "labels",
                      "metadata", "enum", "const", "default", "example", "examples"})

_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


@functools.lru_cache(maxsize=4096)
def snake_case(name: str) -> str:
    """A field name in snake_case. Cached: the same few names fill every request (a join
    of 100,000 Vertex AI requests by their echo took 7.0 s with a substitution a key,
    2026-12-06)."""
    return _CAMEL.sub(r"_\1", name).lower()


def _normal_form(value: Any, verbatim: bool) -> Any:
    if type(value) is dict:
        normal = {}
        for key, item in value.items():
            name = key if verbatim or type(key) is not str else snake_case(key)
            if type(item) is dict or type(item) is list or type(item) is float:
                item = _normal_form(item, verbatim or name in VERBATIM)
            if not verbatim and (item is None or item == {} or item == []):
                continue
            normal[name] = item
        return normal
    if type(value) is list:
        return [_normal_form(item, verbatim) if type(item) is dict or type(item) is list
                or type(item) is float else item for item in value]
    if type(value) is float and value.is_integer() and abs(value) < 2 ** 63:
        return int(value)
    return value


def synthetic_id(key: bytes, repeat: int) -> str:
    """The ``custom_id`` of a row whose request has no id and whose result names none: its
    body's key (the same in every round that asks it again), and its place among identical
    requests of the file."""
    name = f"request-{key.hex()[:16]}"
    return name if repeat == 1 else f"{name}-{repeat}"


_SYNTHETIC = re.compile(r"(request-[0-9a-f]{16})(?:-([0-9]+))?")


def synthetic_place(custom_id: str) -> tuple[str, int] | None:
    """A :func:`synthetic_id`'s key part and its place among identical requests (1 for
    the first); None for an id of another form."""
    found = _SYNTHETIC.fullmatch(custom_id)
    if found is None:
        return None
    return found.group(1), int(found.group(2) or 1)


#: The mapping file written beside a file whose ids were changed to ones the provider
#: takes: ``OUT.ids.json``, new id -> original.
MAPPING_SUFFIX = ".ids.json"


def valid_id(custom_id: str, profile: Profile, taken: set[str]) -> str:
    """``custom_id`` if ``profile`` accepts it and it is not ``taken``, else a valid id
    derived from it (its characters the rule allows, and a digest of it): how ``convert``
    and ``build`` carry an id a provider refuses, with a mapping file back to it."""
    if profile.ids.problem(custom_id) is None and custom_id not in taken:
        return custom_id
    digest = hashlib.sha256(custom_id.encode()).hexdigest()[:10]
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", custom_id)[:50].strip("_") or "id"
    candidate = f"{stem}-{digest}"
    while candidate in taken:
        digest = hashlib.sha256(candidate.encode()).hexdigest()[:10]
        candidate = f"{stem}-{digest}"
    return candidate


__all__ = ["MAPPING_SUFFIX", "CallerKeys", "ContentHashIds", "IdStrategy", "SequenceIds",
           "UuidIds", "echo_key", "snake_case", "synthetic_id", "synthetic_place",
           "valid_id"]

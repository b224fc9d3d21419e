"""Results handed over by the providers' SDKs, written as the result lines batchio reads.

Owns :func:`write_results`. batchio does not download batches; some SDKs hand results
over as objects rather than a file: Anthropic's ``client.messages.batches.results(id)``
yields ``MessageBatchIndividualResponse`` objects, and a Gemini batch of inline requests
ends with ``dest.inlined_responses`` (each an ``InlinedResponse``: its ``response`` or
``error``, in the order of the requests, with no key). Each becomes the line the
provider's own result file holds, so that :func:`batchio.join` (and a campaign) read it as
they read a downloaded file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import orjson

from .errors import LineError, UsageError
from .jsonl import JsonlWriter
from .providers import get_profile


def _as_dict(item: Any, number: int, *, by_alias: bool = False) -> dict[str, Any]:
    """An SDK object (pydantic: ``model_dump``) or a mapping as a plain dict, with only the
    fields it was given (an SDK fills absent optional fields with nulls the file lacks)."""
    dump = getattr(item, "model_dump", None)
    if callable(dump):
        value = dump(mode="json", exclude_unset=True, by_alias=by_alias)
    elif isinstance(item, Mapping):
        value = dict(item)
    else:
        raise LineError(f"result {number} is a {type(item).__name__}, not an SDK result "
                        "object or a dict", line=number, code="not_an_object")
    if not isinstance(value, dict):
        raise LineError(f"result {number} is not an object", line=number, code="not_an_object")
    return value


def _keyed(value: dict[str, Any], field: str, number: int) -> dict[str, Any]:
    key = value.get(field)
    if not isinstance(key, str) or not key:
        raise LineError(f"result {number} has no {field}: it could not be joined to its "
                        "request", line=number, code="missing_custom_id")
    return value


def _anthropic_line(item: Any, number: int, key: str | None) -> dict[str, Any]:
    """``{"custom_id", "result": {"type": succeeded|errored|canceled|expired, ...}}``, as
    Anthropic's results file (and ``to_json()`` of the SDK's object) has it."""
    return _keyed(_as_dict(item, number), "custom_id", number)


def _openai_line(item: Any, number: int, key: str | None) -> dict[str, Any]:
    """An output or error file's line, as the SDK's ``files.content()`` gives it."""
    return _keyed(_as_dict(item, number), "custom_id", number)


def _gemini_line(item: Any, number: int, key: str | None) -> dict[str, Any]:
    """``{"key", "response"}`` or ``{"key", "error"}``: a line of Gemini's results file.
    An inline response carries no key: ``keys`` gives each its request's, in order."""
    value = _as_dict(item, number, by_alias=True)
    if "key" in value or key is None:
        return _keyed(value, "key", number)
    line: dict[str, Any] = {"key": key}
    if value.get("error") is not None:
        line["error"] = value["error"]
    if value.get("response") is not None:
        line["response"] = value["response"]
    if "response" not in line and "error" not in line:
        raise LineError(f"result {number} (key {key!r}) has neither a response nor an error",
                        line=number, code="invalid_result_line")
    return line


_LINES: dict[str, Callable[[Any, int, str | None], dict[str, Any]]] = {
    "anthropic": _anthropic_line,
    "openai": _openai_line,
    "gemini": _gemini_line,
}


def write_results(results: Iterable[Any], target: str | os.PathLike[str], *,
                  provider: str, keys: Sequence[str] | None = None) -> int:
    """Write result objects from a provider's SDK (or their dicts) to ``target`` as the
    provider's result lines, atomically and one at a time (bounded memory); returns the
    lines written.

    ``provider``: whose results they are: ``anthropic`` (``messages.batches.results(id)``
    items), ``gemini`` (``dest.inlined_responses``, with ``keys`` the requests' keys in
    order, as inline responses carry none; or lines that have their ``key``), and the
    OpenAI-shaped providers (lines as dicts). A result without its id is refused
    (:class:`LineError` naming its number): it could not be joined.
    """
    profile = get_profile(provider)
    line_of = _LINES[profile.result_shape]
    given = None if keys is None else list(keys)
    if given is not None and profile.result_shape != "gemini":
        raise UsageError("keys= is for Gemini's inline responses, which carry no key",
                         code="invalid_argument")
    count = 0
    with JsonlWriter(target) as writer:
        for number, item in enumerate(results, 1):
            key = None
            if given is not None:
                if number > len(given):
                    raise UsageError(f"more results than keys: result {number} has no key "
                                     f"({len(given)} keys given)", code="invalid_argument")
                key = given[number - 1]
            writer.write_raw(orjson.dumps(line_of(item, number, key),
                                          option=orjson.OPT_APPEND_NEWLINE))
            count += 1
        if given is not None and count != len(given):
            # Raised before the file is committed: nothing is written.
            raise UsageError(f"{len(given)} keys for {count} results: an inline response "
                             "per request, in order", code="invalid_argument")
    return count


__all__ = ["write_results"]

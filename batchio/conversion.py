"""Converting batch files between providers, offline.

Owns :func:`convert` for request files (OpenAI-shaped chat completions <-> Anthropic
messages, and between OpenAI-shaped providers) and :func:`convert_results` (a provider's
result file -> OpenAI output lines, so downstream code reads one format). A request that
cannot be converted faithfully is reported with its line and left out, never altered;
ids the target does not accept are mapped to valid ones, with a mapping file beside the
output to restore them.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from .bodies import explain_body
from .errors import BatchioError, DuplicateIdError, LineError, Problem, UsageError, quote
from .jsonl import (
    JsonlWriter,
    check_distinct_paths,
    check_source,
    check_target,
    read_lines,
    write_file_atomically,
)
from .providers import Profile, get_profile, profile_for
from .schemas import compiled

#: Anthropic requires max_tokens; a request without one gets this.
DEFAULT_MAX_TOKENS = 1024
MAPPING_SUFFIX = ".ids.json"

# Anthropic error types and the HTTP status the Messages API answers them with.
_ANTHROPIC_HTTP_STATUS = {
    "invalid_request_error": 400, "authentication_error": 401, "permission_error": 403,
    "not_found_error": 404, "request_too_large": 413, "rate_limit_error": 429,
    "api_error": 500, "overloaded_error": 529,
}
_FINISH_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length",
                   "tool_use": "tool_calls", "refusal": "content_filter"}


class Unconvertible(Exception):
    """A request uses something the target lacks; ``param`` says what."""

    def __init__(self, param: str, reason: str) -> None:
        super().__init__(reason)
        self.param = param
        self.reason = reason


@dataclass
class Conversion:
    """What :func:`convert` did: lines written, lines left out (with why), ids remapped."""

    converted: int = 0
    skipped: list[Problem] = field(default_factory=list)
    #: New id -> original id, for the ids the target's rules made batchio change.
    remapped: dict[str, str] = field(default_factory=dict)
    mapping_path: str | None = None

    @property
    def ok(self) -> bool:
        return not self.skipped

    def to_dict(self) -> dict[str, Any]:
        return {"converted": self.converted, "skipped": len(self.skipped),
                "remapped": len(self.remapped), "mapping": self.mapping_path,
                "problems": [problem.to_dict() for problem in self.skipped]}


# --- chat completions <-> messages ----------------------------------------------------------


def _text_of(content: Any, param: str) -> str:
    """The text of a system message's content (a string or text parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(
            isinstance(part, dict) and part.get("type") == "text" for part in content):
        return "\n".join(str(part.get("text", "")) for part in content)
    raise Unconvertible(param, "a system message with non-text content")


_DATA_URL = re.compile(r"data:(image/[a-z+.-]+);base64,(.*)", re.DOTALL)


def _part_to_anthropic(part: Any, param: str) -> dict[str, Any]:
    kind = part.get("type") if isinstance(part, dict) else None
    if kind == "text":
        return {"type": "text", "text": part.get("text", "")}
    if kind == "image_url":
        image = part.get("image_url") or {}
        url = image.get("url", "") if isinstance(image, dict) else ""
        if image.get("detail") not in (None, "auto"):
            raise Unconvertible(f"{param}.image_url.detail", "image detail has no equivalent")
        match = _DATA_URL.fullmatch(url)
        if match:
            return {"type": "image", "source": {"type": "base64", "media_type": match[1],
                                                "data": match[2]}}
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise Unconvertible(param, f"content part of type {kind!r}")


def _part_to_openai(part: Any, param: str) -> dict[str, Any]:
    kind = part.get("type") if isinstance(part, dict) else None
    if kind == "text":
        return {"type": "text", "text": part.get("text", "")}
    if kind == "image":
        source = part.get("source") or {}
        if source.get("type") == "base64":
            url = f"data:{source.get('media_type')};base64,{source.get('data')}"
        elif source.get("type") == "url":
            url = source.get("url", "")
        else:
            raise Unconvertible(f"{param}.source", "an image source other than base64 or url")
        return {"type": "image_url", "image_url": {"url": url}}
    raise Unconvertible(param, f"content block of type {kind!r}")


_CHAT_TO_MESSAGES_KEYS = {"model", "messages", "max_tokens", "max_completion_tokens",
                          "temperature", "top_p", "stop", "user", "stream"}


def chat_to_messages(body: Mapping[str, Any], *, model: str | None = None,
                     max_tokens: int = DEFAULT_MAX_TOKENS) -> dict[str, Any]:
    """An OpenAI chat completions body as Anthropic Messages params.

    Raises :class:`Unconvertible` for what Messages lacks: tools, n > 1, response formats,
    logprobs, temperatures above 1, system messages after the conversation began.
    """
    for key in body:
        if key not in _CHAT_TO_MESSAGES_KEYS:
            raise Unconvertible(key, f"{key} has no Anthropic equivalent")
    if body.get("stream"):
        raise Unconvertible("stream", "streaming is not available in a batch")
    params: dict[str, Any] = {"model": model or body.get("model")}
    params["max_tokens"] = body.get("max_tokens") or body.get("max_completion_tokens") \
        or max_tokens
    system, messages = _split_system(body.get("messages") or [])
    if system:
        params["system"] = "\n\n".join(system)
    params["messages"] = messages
    temperature = body.get("temperature")
    if temperature is not None:
        if temperature > 1:
            raise Unconvertible("temperature", "Anthropic's temperature stops at 1")
        params["temperature"] = temperature
    if body.get("top_p") is not None:
        params["top_p"] = body["top_p"]
    stop = body.get("stop")
    if stop is not None:
        params["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    if body.get("user") is not None:
        params["metadata"] = {"user_id": body["user"]}
    return params


def _split_system(chat_messages: Sequence[Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """Chat messages as Anthropic's system texts (the leading system or developer messages)
    and its user and assistant messages."""
    system: list[str] = []
    messages: list[dict[str, Any]] = []
    for index, message in enumerate(chat_messages):
        param = f"messages[{index}]"
        role = message.get("role")
        unknown = set(message) - {"role", "content", "name"}
        if unknown or "name" in message:
            key = sorted(unknown)[0] if unknown else "name"
            raise Unconvertible(f"{param}.{key}", f"message field {key} has no equivalent")
        if role in ("system", "developer"):
            if messages:
                raise Unconvertible(param, "a system message after the conversation began")
            system.append(_text_of(message.get("content"), f"{param}.content"))
        elif role in ("user", "assistant"):
            messages.append({"role": role,
                             "content": _content_to_anthropic(message.get("content"), param)})
        else:
            raise Unconvertible(f"{param}.role", f"role {role!r} has no equivalent")
    return system, messages


def _content_to_anthropic(content: Any, param: str) -> str | list[dict[str, Any]]:
    if isinstance(content, list):
        return [_part_to_anthropic(part, f"{param}.content[{number}]")
                for number, part in enumerate(content)]
    if not isinstance(content, str):
        raise Unconvertible(f"{param}.content", "a message without content")
    return content


_MESSAGES_TO_CHAT_KEYS = {"model", "messages", "max_tokens", "system", "temperature", "top_p",
                          "stop_sequences", "metadata", "stream"}


def messages_to_chat(params: Mapping[str, Any], *, model: str | None = None
                     ) -> dict[str, Any]:
    """Anthropic Messages params as an OpenAI chat completions body.

    Raises :class:`Unconvertible` for what chat completions lacks here: top_k, tools,
    thinking, more than four stop sequences, metadata other than user_id.
    """
    for key in params:
        if key not in _MESSAGES_TO_CHAT_KEYS:
            raise Unconvertible(key, f"{key} has no chat completions equivalent")
    if params.get("stream"):
        raise Unconvertible("stream", "streaming is not available in a batch")
    body: dict[str, Any] = {"model": model or params.get("model")}
    messages: list[dict[str, Any]] = []
    system = params.get("system")
    if system is not None:
        messages.append({"role": "system", "content": _text_of(system, "system")})
    for index, message in enumerate(params.get("messages") or []):
        param = f"messages[{index}]"
        content = message.get("content")
        if isinstance(content, list):
            content = [_part_to_openai(part, f"{param}.content[{number}]")
                       for number, part in enumerate(content)]
        messages.append({"role": message.get("role"), "content": content})
    body["messages"] = messages
    body["max_tokens"] = params.get("max_tokens")
    for key in ("temperature", "top_p"):
        if params.get(key) is not None:
            body[key] = params[key]
    stop = params.get("stop_sequences")
    if stop:
        if len(stop) > 4:
            raise Unconvertible("stop_sequences", "chat completions takes at most 4 stops")
        body["stop"] = list(stop)
    metadata = params.get("metadata")
    if metadata:
        if set(metadata) != {"user_id"}:
            raise Unconvertible("metadata", "metadata other than user_id")
        body["user"] = metadata["user_id"]
    return body


# --- request files --------------------------------------------------------------------------


def _kind(profile: Profile) -> str:
    if profile.body_field == "params":
        return "messages"
    if profile.body_field == "body":
        return "chat"
    return profile.name


def _valid_id(custom_id: str, profile: Profile, taken: set[str]) -> str:
    """``custom_id`` if the target accepts it, else a valid id derived from it."""
    if profile.ids.problem(custom_id) is None and custom_id not in taken:
        return custom_id
    digest = hashlib.sha256(custom_id.encode()).hexdigest()[:10]
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", custom_id)[:50].strip("_") or "id"
    candidate = f"{stem}-{digest}"
    while candidate in taken:
        digest = hashlib.sha256(candidate.encode()).hexdigest()[:10]
        candidate = f"{stem}-{digest}"
    return candidate


def convert(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    *,
    from_provider: str | Profile | None = None,
    to_provider: str | Profile = "anthropic",
    strict: bool = False,
    model: str | None = None,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    mapping: str | os.PathLike[str] | None = None,
) -> Conversion:
    """Convert a request file from one provider's format to another's.

    Chat completions requests convert to Anthropic messages and back; OpenAI-shaped
    providers convert into each other by their envelopes. ``model`` renames the model on
    every request. A request that cannot be converted faithfully is reported with its line
    and left out; with ``strict=True`` it raises :class:`LineError` instead and nothing is
    written. Ids the target rejects are replaced, and ``OUT.ids.json`` (or ``mapping``)
    maps each new id to the original. Given an existing mapping file from an earlier
    conversion, ids found in it are restored to their originals.
    """
    check_source(source)
    check_target(target, "target")
    source_profile = profile_for(from_provider, source)
    target_profile = get_profile(to_provider)
    kinds = (_kind(source_profile), _kind(target_profile))
    if kinds not in {("chat", "chat"), ("chat", "messages"), ("messages", "chat"),
                     ("messages", "messages")}:
        raise UsageError(f"batchio cannot convert requests from {source_profile.name} to "
                         f"{target_profile.name}", code="unconvertible_request")
    mapping_path = Path(mapping) if mapping else Path(f"{os.fspath(target)}{MAPPING_SUFFIX}")
    check_distinct_paths([source], [target, mapping_path])
    restore = _load_mapping(mapping) if mapping and Path(mapping).exists() else {}
    result = Conversion()
    taken: set[str] = set()
    # Each source id's line: a repeated id would give two requests whose results could not
    # be told apart (the mapping sends both back to it).
    first_lines: dict[str, int] = {}
    endpoint = target_profile.default_endpoint
    with JsonlWriter(target) as writer:
        for line in read_lines(source):
            value = line.value
            original = value.get(source_profile.id_field)
            body = value.get(source_profile.body_field)
            if not isinstance(original, str) or not isinstance(body, dict):
                raise LineError("not a request line of the source provider", line=line.number,
                                path=os.fspath(source), code="missing_body")
            first = first_lines.setdefault(original, line.number)
            if first != line.number:
                raise DuplicateIdError(
                    f"{source_profile.id_field} {quote(original)} was already used on line "
                    f"{first}: the results of the two could not be told apart",
                    path=os.fspath(source), line=line.number, custom_id=original)
            try:
                if source_profile.carries_url and value.get("url") not in (
                        None, "/v1/chat/completions", "/chat/completions"):
                    raise Unconvertible("url", f"endpoint {quote(value.get('url'), 60)}: only "
                                        "chat completions convert")
                _check_body(source_profile, source_profile.default_endpoint, body,
                            "the body is not a valid request")
                converted = _convert_body(kinds, body, model, max_tokens)
                _check_body(target_profile, endpoint, converted,
                            f"{target_profile.title} would refuse the converted request")
            except Unconvertible as exc:
                problem = Problem(code="unconvertible_request", line=line.number,
                                  param=".".join(filter(None, (source_profile.body_field,
                                                               exc.param))).replace(".[", "["),
                                  message=exc.reason, custom_id=original,
                                  path=os.fspath(source))
                if strict:
                    raise problem.error() from None
                result.skipped.append(problem)
                continue
            wanted = restore.get(original, original)
            new_id = _valid_id(wanted, target_profile, taken)
            taken.add(new_id)
            if new_id != original and original not in restore:
                result.remapped[new_id] = original
            line_out: dict[str, Any] = {target_profile.id_field: new_id}
            if target_profile.carries_url:
                line_out.update(method="POST", url=endpoint)
            line_out[target_profile.body_field] = converted
            writer.write(line_out)
            result.converted += 1
        if result.remapped:
            write_file_atomically(mapping_path, orjson.dumps(
                result.remapped, option=orjson.OPT_INDENT_2) + b"\n")
            result.mapping_path = os.fspath(mapping_path)
        elif mapping is None:
            # An earlier conversion's ids file beside this output is not this one's: it
            # would give results back under ids this file does not have.
            with contextlib.suppress(FileNotFoundError):
                os.unlink(mapping_path)
    return result


def _check_body(profile: Profile, endpoint: str, body: Mapping[str, Any], what: str) -> None:
    """A body that breaks its provider's schema is :class:`Unconvertible`: a source body
    cannot be converted faithfully, and a converted one would be refused by its target
    (a chat of only a system message has no Anthropic message). It is reported (as the
    validator explains it) and left out, never half converted."""
    name = profile.schema_for(endpoint)
    if name is None:
        return
    schema = compiled(name)
    if schema.is_valid(body):
        return
    problem = explain_body(schema, body, "", "invalid_body")
    param = problem.param if problem is not None and problem.param else ""
    reason = problem.message if problem is not None else "the body breaks its schema"
    raise Unconvertible(param, f"{what}: {reason}")


def _convert_body(kinds: tuple[str, str], body: Mapping[str, Any], model: str | None,
                  max_tokens: int) -> dict[str, Any]:
    if kinds == ("chat", "messages"):
        return chat_to_messages(body, model=model, max_tokens=max_tokens)
    if kinds == ("messages", "chat"):
        return messages_to_chat(body, model=model)
    converted = dict(body)
    if model is not None:
        converted["model"] = model
    return converted


def _load_mapping(path: str | os.PathLike[str]) -> dict[str, str]:
    try:
        data = orjson.loads(Path(path).read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise BatchioError(f"cannot read id mapping {path}: {exc}",
                           code="unreadable_file") from None
    if not isinstance(data, dict):
        raise BatchioError(f"id mapping {path} is not an object", code="unreadable_file")
    return {str(key): str(value) for key, value in data.items()}


# --- result files ---------------------------------------------------------------------------


def _openai_usage(usage: Mapping[str, Any]) -> dict[str, Any]:
    """Anthropic's usage in OpenAI's terms: prompt tokens count the cache reads and writes
    (which Anthropic's ``input_tokens`` leaves out), the reads also as cached tokens."""
    read = usage.get("cache_read_input_tokens") or 0
    written = usage.get("cache_creation_input_tokens") or 0
    prompt = (usage.get("input_tokens") or 0) + read + written
    completion = usage.get("output_tokens") or 0
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": read}}


def anthropic_result_to_openai(line: Mapping[str, Any], custom_id: str) -> dict[str, Any]:
    """One Anthropic results line as an OpenAI output line with the same meaning."""
    result = line["result"]
    kind = result["type"]
    if kind == "succeeded":
        message = result["message"]
        blocks = message.get("content", [])
        text = "".join(block.get("text", "") for block in blocks
                       if block.get("type") == "text")
        answer: dict[str, Any] = {"role": "assistant", "content": text}
        # Tool calls: Anthropic's input object is OpenAI's arguments as JSON text.
        calls = [{"id": block.get("id"), "type": "function", "function": {
                     "name": block.get("name"),
                     "arguments": orjson.dumps(block.get("input", {})).decode()}}
                 for block in blocks if block.get("type") == "tool_use"]
        if calls:
            answer["tool_calls"] = calls
        return {"id": f"batch_req_{message.get('id', custom_id)}", "custom_id": custom_id,
                "response": {"status_code": 200, "request_id": message.get("id"), "body": {
                    "id": message.get("id"), "object": "chat.completion",
                    "model": message.get("model"),
                    "choices": [{"index": 0, "message": answer,
                                 "finish_reason": _FINISH_REASONS.get(
                                     message.get("stop_reason"), "stop")}],
                    "usage": _openai_usage(message.get("usage") or {})}},
                "error": None}
    if kind == "errored":
        wrapper = result.get("error") or {}
        inner = wrapper.get("error", wrapper) if isinstance(wrapper, dict) else {}
        error_type = inner.get("type", "api_error")
        return {"id": None, "custom_id": custom_id, "response": {
            "status_code": _ANTHROPIC_HTTP_STATUS.get(error_type, 500), "request_id": None,
            "body": {"error": {"message": inner.get("message"), "type": error_type,
                               "param": None, "code": error_type}}}, "error": None}
    code = {"canceled": "batch_cancelled", "expired": "batch_expired"}.get(kind)
    if code is None:
        raise ValueError(f"unknown result.type {kind!r}")
    return {"id": None, "custom_id": custom_id, "response": None,
            "error": {"code": code, "message": f"This request was {kind}."}}


def convert_results(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    *,
    from_provider: str | Profile = "anthropic",
    mapping: str | os.PathLike[str] | None = None,
) -> Conversion:
    """Convert a provider's result file into OpenAI output lines (one file).

    ``mapping`` (the ids file :func:`convert` wrote) restores the original custom_ids.
    OpenAI-shaped result files are copied with their ids restored.
    """
    profile = get_profile(from_provider)
    check_distinct_paths([source, mapping], [target])
    restore = _load_mapping(mapping) if mapping else {}
    result = Conversion()
    with JsonlWriter(target) as writer:
        for line in read_lines(source):
            value = line.value
            try:
                custom_id = profile.classify_result(value).custom_id
                original = restore.get(custom_id, custom_id)
                if profile.result_shape == "anthropic":
                    writer.write(anthropic_result_to_openai(value, original))
                elif profile.result_shape == "openai":
                    writer.write({**value, "custom_id": original})
                else:
                    raise Unconvertible("result", f"{profile.name} results do not convert")
            except (KeyError, TypeError, ValueError, AttributeError, Unconvertible) as exc:
                result.skipped.append(Problem(
                    code="unconvertible_request", line=line.number, path=os.fspath(source),
                    message=f"not a convertible result line: {exc}"))
                continue
            result.converted += 1
    return result

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
import os
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from .bodies import explain_body
from .errors import BatchioError, DuplicateIdError, LineError, Problem, UsageError, quote
from .ids import MAPPING_SUFFIX, VERBATIM, echo_key, snake_case, synthetic_id, valid_id
from .jsonl import (
    JsonlWriter,
    check_distinct_paths,
    check_source,
    check_target,
    is_stdout,
    read_lines,
    reads_once,
    reported,
    write_file_atomically,
)
from .kinds import not_results
from .pricing import foreign_model
from .providers import Profile, first_request, get_profile, profile_for
from .schemas import compiled

#: Anthropic requires max_tokens; a request without one gets this.
DEFAULT_MAX_TOKENS = 1024

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
                          "temperature", "top_p", "stop", "user", "stream", "response_format",
                          "tools", "tool_choice", "parallel_tool_calls"}

#: The name a chat ``json_schema`` format gets where the source has none (Anthropic's
#: output_config.format is unnamed).
SCHEMA_NAME = "answer"


def _only(body: Mapping[str, Any], allowed: AbstractSet[str], target: str) -> None:
    """A body whose every field ``target`` can state (:class:`Unconvertible` naming the
    first it cannot), and that does not stream (a batch never does)."""
    for key in body:
        if key not in allowed:
            raise Unconvertible(key, f"{key} has no {target} equivalent")
    if body.get("stream"):
        raise Unconvertible("stream", "streaming is not available in a batch")


def _renamed(value: Any, names: Mapping[str, str], param: str, target: str
             ) -> dict[str, Any]:
    """``value``'s fields under the target's names (``names``: source name -> target
    name), those that are null left out; a field ``names`` lacks is
    :class:`Unconvertible` (the one rule for every tool and declaration mapped)."""
    if not isinstance(value, Mapping):
        raise Unconvertible(param, "not an object")
    unknown = sorted(set(value) - set(names))
    if unknown:
        raise Unconvertible(f"{param}.{unknown[0]}", f"{unknown[0]} has no {target} "
                            "equivalent")
    return {names[key]: value[key] for key in names
            if value.get(key) is not None and names[key]}


#: A chat function's fields, as Anthropic's tools, Gemini's declarations and Responses'
#: flat tools name them.
_FUNCTION_TO = {
    "Anthropic": {"name": "name", "description": "description", "parameters": "input_schema",
                  "strict": "strict"},
    "Gemini": {"name": "name", "description": "description",
               "parameters": "parametersJsonSchema"},
    "Responses": {"name": "name", "description": "description", "parameters": "parameters",
                  "strict": "strict"},
    "Converse": {"name": "name", "description": "description", "parameters": "parameters"},
}
#: The other way: each of them to a chat function ("" drops a field that only says what
#: kind of tool it is).
_FUNCTION_FROM = {kind: {target: source for source, target in names.items()}
                  for kind, names in _FUNCTION_TO.items()}
_FUNCTION_FROM["Anthropic"]["type"] = ""
_FUNCTION_FROM["Responses"]["type"] = ""


def _chat_functions(tools: Any, target: str) -> list[dict[str, Any]]:
    """Chat function tools as ``target``'s function fields (:data:`_FUNCTION_TO`)."""
    functions = []
    for index, tool in enumerate(tools if isinstance(tools, list) else [None]):
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(tool, dict) or tool.get("type") != "function" or \
                not isinstance(function, dict):
            raise Unconvertible(f"tools[{index}]", "a tool other than a function")
        functions.append(_renamed(function, _FUNCTION_TO[target],
                                  f"tools[{index}].function", target))
    return functions


def _format_to_anthropic(spec: Any) -> dict[str, Any]:
    """A chat ``response_format`` as Anthropic's ``output_config`` (structured outputs)."""
    kind = spec.get("type") if isinstance(spec, dict) else None
    if kind == "text":
        return {}
    wrapped = spec.get("json_schema") if kind == "json_schema" else None
    schema = wrapped.get("schema") if isinstance(wrapped, dict) else None
    if not isinstance(schema, dict):
        raise Unconvertible("response_format", "a JSON answer without a schema (json_object) "
                            "has no Anthropic equivalent: give a json_schema")
    return {"output_config": {"format": {"type": "json_schema", "schema": schema}}}


def _format_to_chat(params: Mapping[str, Any]) -> dict[str, Any]:
    """Anthropic's ``output_config.format`` (or the beta's ``output_format``) as a chat
    ``response_format``: named :data:`SCHEMA_NAME`, strict (Anthropic's structured
    outputs always keep the schema)."""
    config = params.get("output_config")
    if config is not None and (not isinstance(config, dict) or set(config) - {"format"}):
        extra = sorted(set(config) - {"format"}) if isinstance(config, dict) else []
        raise Unconvertible(f"output_config.{extra[0]}" if extra else "output_config",
                            "output_config other than format has no chat equivalent")
    spec = config.get("format") if isinstance(config, dict) else params.get("output_format")
    if spec is None:
        return {}
    schema = spec.get("schema") if isinstance(spec, dict) else None
    if not isinstance(spec, dict) or spec.get("type") != "json_schema" or \
            not isinstance(schema, dict):
        raise Unconvertible("output_config.format", "a format other than json_schema")
    return {"response_format": {"type": "json_schema", "json_schema": {
        "name": SCHEMA_NAME, "strict": True, "schema": schema}}}


def _tools_to_anthropic(body: Mapping[str, Any]) -> dict[str, Any]:
    """Chat function tools, tool_choice and parallel_tool_calls as Anthropic's."""
    converted: dict[str, Any] = {}
    tools = body.get("tools")
    if tools is not None:
        # Anthropic requires input_schema; a function without parameters takes none.
        converted["tools"] = [{**item, "input_schema": item.get("input_schema") or {
            "type": "object", "properties": {}}} for item in _chat_functions(tools, "Anthropic")]
    choice = body.get("tool_choice")
    parallel = body.get("parallel_tool_calls")
    if choice is not None or parallel is False:
        if choice is None or choice == "auto":
            mapped: dict[str, Any] = {"type": "auto"}
        elif choice == "required":
            mapped = {"type": "any"}
        elif choice == "none":
            mapped = {"type": "none"}
        elif isinstance(choice, dict) and choice.get("type") == "function" and isinstance(
                choice.get("function"), dict):
            mapped = {"type": "tool", "name": choice["function"].get("name")}
        else:
            raise Unconvertible("tool_choice", f"tool_choice {quote(choice, 60)}")
        if parallel is False:
            if mapped["type"] == "none":
                raise Unconvertible("parallel_tool_calls", "parallel_tool_calls with no tool")
            mapped["disable_parallel_tool_use"] = True
        converted["tool_choice"] = mapped
    return converted


def _tools_to_chat(params: Mapping[str, Any]) -> dict[str, Any]:
    """Anthropic's client tools and tool_choice as chat function tools."""
    converted: dict[str, Any] = {}
    tools = params.get("tools")
    if tools is not None:
        out = []
        for index, tool in enumerate(tools if isinstance(tools, list) else [None]):
            if not isinstance(tool, dict) or tool.get("type") not in (None, "custom"):
                kind = tool.get("type") if isinstance(tool, dict) else tool
                raise Unconvertible(f"tools[{index}]", f"a server tool (type {quote(kind, 40)})")
            out.append({"type": "function", "function": _renamed(
                tool, _FUNCTION_FROM["Anthropic"], f"tools[{index}]", "chat")})
        converted["tools"] = out
    choice = params.get("tool_choice")
    if choice is not None:
        kind = choice.get("type") if isinstance(choice, dict) else None
        if not isinstance(choice, dict) or set(choice) - {"type", "name",
                                                          "disable_parallel_tool_use"}:
            raise Unconvertible("tool_choice", f"tool_choice {quote(choice, 60)}")
        if kind == "tool":
            converted["tool_choice"] = {"type": "function",
                                        "function": {"name": choice.get("name")}}
        elif kind in ("auto", "any", "none"):
            mapped = {"auto": "auto", "any": "required", "none": "none"}[kind]
            # "auto" is chat's default where tools are given: said only where it was.
            converted["tool_choice"] = mapped
        else:
            raise Unconvertible("tool_choice.type", f"tool_choice type {quote(kind, 40)}")
        if choice.get("disable_parallel_tool_use") is True:
            converted["parallel_tool_calls"] = False
    return converted


def chat_to_messages(body: Mapping[str, Any], *, model: str | None = None,
                     max_tokens: int = DEFAULT_MAX_TOKENS) -> dict[str, Any]:
    """An OpenAI chat completions body as Anthropic Messages params.

    Raises :class:`Unconvertible` for what Messages lacks: tools, n > 1, response formats,
    logprobs, temperatures above 1, system messages after the conversation began.
    """
    _only(body, _CHAT_TO_MESSAGES_KEYS, "Anthropic")
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
    if body.get("response_format") is not None:
        params.update(_format_to_anthropic(body["response_format"]))
    params.update(_tools_to_anthropic(body))
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
                          "stop_sequences", "metadata", "stream", "output_config",
                          "output_format", "tools", "tool_choice"}


def messages_to_chat(params: Mapping[str, Any], *, model: str | None = None
                     ) -> dict[str, Any]:
    """Anthropic Messages params as an OpenAI chat completions body.

    Raises :class:`Unconvertible` for what chat completions lacks here: top_k, tools,
    thinking, more than four stop sequences, metadata other than user_id.
    """
    _only(params, _MESSAGES_TO_CHAT_KEYS, "chat completions")
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
    body.update(_format_to_chat(params))
    body.update(_tools_to_chat(params))
    return body


# --- chat completions <-> Gemini generateContent ---------------------------------------------

_CHAT_TO_GEMINI_KEYS = {"model", "messages", "max_tokens", "max_completion_tokens",
                        "temperature", "top_p", "stop", "stream", "response_format", "tools",
                        "tool_choice", "seed"}
_GEMINI_MODES = {"auto": "AUTO", "required": "ANY", "none": "NONE"}


def _parts_to_gemini(content: Any, param: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"text": content}]
    if not isinstance(content, list):
        raise Unconvertible(f"{param}.content", "a message without content")
    parts = []
    for number, part in enumerate(content):
        where = f"{param}.content[{number}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            parts.append({"text": part.get("text", "")})
            continue
        if kind == "image_url":
            image = part.get("image_url") or {}
            match = _DATA_URL.fullmatch(image.get("url", "") if isinstance(image, dict)
                                        else "")
            if match and image.get("detail") in (None, "auto"):
                parts.append({"inlineData": {"mimeType": match[1], "data": match[2]}})
                continue
            raise Unconvertible(where, "an image by URL (Gemini takes inline data or a "
                                "file it stores)")
        raise Unconvertible(where, f"content part of type {kind!r}")
    return parts


def chat_to_gemini(body: Mapping[str, Any], *, model: str | None = None) -> dict[str, Any]:
    """An OpenAI chat completions body as a Gemini ``GenerateContentRequest``: system
    messages as ``systemInstruction``, assistant as ``model``, limits and sampling and
    structured output in ``generationConfig``, function tools as ``functionDeclarations``
    (``parametersJsonSchema``) and tool choice as ``toolConfig``."""
    _only(body, _CHAT_TO_GEMINI_KEYS, "Gemini")
    request: dict[str, Any] = {}
    if model or body.get("model"):
        request["model"] = model or body.get("model")
    system: list[str] = []
    contents: list[dict[str, Any]] = []
    for index, message in enumerate(body.get("messages") or []):
        param = f"messages[{index}]"
        unknown = set(message) - {"role", "content"}
        if unknown:
            key = sorted(unknown)[0]
            raise Unconvertible(f"{param}.{key}", f"message field {key} has no equivalent")
        role = message.get("role")
        if role in ("system", "developer"):
            if contents:
                raise Unconvertible(param, "a system message after the conversation began")
            system.append(_text_of(message.get("content"), f"{param}.content"))
        elif role in ("user", "assistant"):
            contents.append({"role": "user" if role == "user" else "model",
                             "parts": _parts_to_gemini(message.get("content"), param)})
        else:
            raise Unconvertible(f"{param}.role", f"role {role!r} has no equivalent")
    if system:
        request["systemInstruction"] = {"parts": [{"text": "\n\n".join(system)}]}
    request["contents"] = contents
    config: dict[str, Any] = {}
    limit = body.get("max_tokens") or body.get("max_completion_tokens")
    for name, value in (("maxOutputTokens", limit), ("temperature", body.get("temperature")),
                        ("topP", body.get("top_p")), ("seed", body.get("seed"))):
        if value is not None:
            config[name] = value
    stop = body.get("stop")
    if stop is not None:
        config["stopSequences"] = [stop] if isinstance(stop, str) else list(stop)
    spec = body.get("response_format")
    spec = spec if isinstance(spec, dict) else {"type": spec} if spec is not None else None
    kind = None if spec is None else spec.get("type")
    if spec is not None and kind in ("json_object", "json_schema"):
        config["responseMimeType"] = "application/json"
        wrapped = spec.get("json_schema") if kind == "json_schema" else None
        if isinstance(wrapped, dict) and isinstance(wrapped.get("schema"), dict):
            config["responseJsonSchema"] = wrapped["schema"]
    elif spec is not None and kind != "text":
        raise Unconvertible("response_format", f"response_format {quote(kind, 40)}")
    if config:
        request["generationConfig"] = config
    _gemini_tools(body, request)
    return request


def _gemini_tools(body: Mapping[str, Any], request: dict[str, Any]) -> None:
    tools = body.get("tools")
    if tools is not None:
        request["tools"] = [{"functionDeclarations": _chat_functions(tools, "Gemini")}]
    choice = body.get("tool_choice")
    if choice is not None:
        if isinstance(choice, str) and choice in _GEMINI_MODES:
            calling: dict[str, Any] = {"mode": _GEMINI_MODES[choice]}
        elif isinstance(choice, dict) and choice.get("type") == "function" and isinstance(
                choice.get("function"), dict):
            calling = {"mode": "ANY", "allowedFunctionNames": [choice["function"].get("name")]}
        else:
            raise Unconvertible("tool_choice", f"tool_choice {quote(choice, 60)}")
        request["toolConfig"] = {"functionCallingConfig": calling}


_GEMINI_TO_CHAT_KEYS = {"model", "contents", "systemInstruction", "generationConfig", "tools",
                        "toolConfig"}
_GEMINI_CONFIG_TO_CHAT = {"maxOutputTokens": "max_tokens", "temperature": "temperature",
                          "topP": "top_p", "seed": "seed", "stopSequences": "stop"}


def _camel_fields(value: Any, verbatim: bool = False) -> Any:
    """A Gemini request with its field names in camelCase (the API reads snake_case too:
    protobuf JSON), what it holds as data (:data:`batchio.ids.VERBATIM`) as written."""
    if isinstance(value, list):
        return [_camel_fields(item, verbatim) for item in value]
    if not isinstance(value, dict) or verbatim:
        return value
    camel = {}
    for key, item in value.items():
        name = re.sub(r"_([a-z0-9])", lambda found: found.group(1).upper(), key) \
            if isinstance(key, str) else key
        camel[name] = _camel_fields(item, isinstance(key, str) and snake_case(key) in VERBATIM)
    return camel


def gemini_to_chat(request: Mapping[str, Any], *, model: str | None = None
                   ) -> dict[str, Any]:
    """A Gemini ``GenerateContentRequest`` (camelCase or snake_case) as an OpenAI chat
    completions body (the inverse of :func:`chat_to_gemini`)."""
    request = _camel_fields(request)
    for key in request:
        if key not in _GEMINI_TO_CHAT_KEYS:
            raise Unconvertible(key, f"{key} has no chat completions equivalent")
    body: dict[str, Any] = {}
    if model or request.get("model"):
        body["model"] = model or request.get("model")
    messages: list[dict[str, Any]] = []
    instruction = request.get("systemInstruction")
    if instruction is not None:
        messages.append({"role": "system", "content": _gemini_text(instruction,
                                                                   "systemInstruction")})
    for index, content in enumerate(request.get("contents") or []):
        param = f"contents[{index}]"
        role = content.get("role", "user") if isinstance(content, dict) else None
        if role not in ("user", "model"):
            raise Unconvertible(f"{param}.role", f"role {role!r} has no equivalent")
        parts = content.get("parts") or []
        chat_parts: list[dict[str, Any]] = []
        for number, part in enumerate(parts):
            where = f"{param}.parts[{number}]"
            if isinstance(part, dict) and set(part) == {"text"}:
                chat_parts.append({"type": "text", "text": part["text"]})
            elif isinstance(part, dict) and set(part) == {"inlineData"} and isinstance(
                    part["inlineData"], dict) and str(
                    part["inlineData"].get("mimeType", "")).startswith("image/"):
                data = part["inlineData"]
                chat_parts.append({"type": "image_url", "image_url": {
                    "url": f"data:{data.get('mimeType')};base64,{data.get('data')}"}})
            else:
                kind = sorted(part)[0] if isinstance(part, dict) and part else "part"
                raise Unconvertible(where, f"a {kind} part has no chat equivalent")
        text_only = [part["text"] for part in chat_parts if part["type"] == "text"]
        messages.append({"role": "user" if role == "user" else "assistant",
                         "content": text_only[0] if len(chat_parts) == 1 and text_only
                         else chat_parts})
    body["messages"] = messages
    config = request.get("generationConfig") or {}
    for key in config:
        if key not in (*_GEMINI_CONFIG_TO_CHAT, "responseMimeType", "responseJsonSchema"):
            raise Unconvertible(f"generationConfig.{key}",
                                f"generationConfig.{key} has no chat equivalent")
    for key, name in _GEMINI_CONFIG_TO_CHAT.items():
        if config.get(key) is not None:
            body[name] = list(config[key]) if key == "stopSequences" else config[key]
    if config.get("responseMimeType") == "application/json":
        schema = config.get("responseJsonSchema")
        body["response_format"] = {"type": "json_schema", "json_schema": {
            "name": SCHEMA_NAME, "strict": True, "schema": schema}} if isinstance(
            schema, dict) else {"type": "json_object"}
    elif config.get("responseMimeType") not in (None, "text/plain"):
        raise Unconvertible("generationConfig.responseMimeType",
                            f"responseMimeType {quote(config['responseMimeType'], 40)}")
    _chat_tools_from_gemini(request, body)
    return body


def _gemini_text(content: Any, param: str) -> str:
    parts = content.get("parts") if isinstance(content, dict) else None
    if not isinstance(parts, list) or not all(isinstance(part, dict) and set(part) == {"text"}
                                              for part in parts):
        raise Unconvertible(param, "a system instruction with non-text parts")
    return "\n".join(str(part["text"]) for part in parts)


def _chat_tools_from_gemini(request: Mapping[str, Any], body: dict[str, Any]) -> None:
    tools = request.get("tools")
    if tools is not None:
        functions = []
        for index, tool in enumerate(tools if isinstance(tools, list) else [None]):
            if not isinstance(tool, dict) or set(tool) != {"functionDeclarations"}:
                raise Unconvertible(f"tools[{index}]", "a tool other than function "
                                    "declarations (search, code execution)")
            for number, declaration in enumerate(tool["functionDeclarations"] or []):
                functions.append({"type": "function", "function": _renamed(
                    declaration, _FUNCTION_FROM["Gemini"],
                    f"tools[{index}].functionDeclarations[{number}]", "chat")})
        body["tools"] = functions
    config = request.get("toolConfig")
    if config is not None:
        calling = config.get("functionCallingConfig") if isinstance(config, dict) else None
        mode = calling.get("mode") if isinstance(calling, dict) else None
        names = calling.get("allowedFunctionNames") if isinstance(calling, dict) else None
        if mode == "ANY" and isinstance(names, list) and len(names) == 1:
            body["tool_choice"] = {"type": "function", "function": {"name": names[0]}}
        elif mode in ("AUTO", "ANY", "NONE") and not names:
            body["tool_choice"] = {"AUTO": "auto", "ANY": "required", "NONE": "none"}[mode]
        else:
            raise Unconvertible("toolConfig", "a function calling config chat cannot state")


# --- chat completions <-> Responses ---------------------------------------------------------

_RESPONSES_TO_CHAT_KEYS = {"model", "input", "instructions", "max_output_tokens",
                           "temperature", "top_p", "text", "tools", "tool_choice",
                           "parallel_tool_calls", "stream"}
_CHAT_TO_RESPONSES_KEYS = {"model", "messages", "max_tokens", "max_completion_tokens",
                           "temperature", "top_p", "response_format", "tools", "tool_choice",
                           "parallel_tool_calls", "stream"}


def responses_to_chat(body: Mapping[str, Any], *, model: str | None = None
                      ) -> dict[str, Any]:
    """An OpenAI Responses body as a chat completions body: ``instructions`` as a system
    message, ``input`` items as messages, ``text.format`` as ``response_format``, flat
    function tools as chat's."""
    _only(body, _RESPONSES_TO_CHAT_KEYS, "chat completions")
    chat: dict[str, Any] = {}
    if model or body.get("model"):
        chat["model"] = model or body.get("model")
    messages: list[dict[str, Any]] = []
    if body.get("instructions") is not None:
        messages.append({"role": "system", "content": _text_of(body["instructions"],
                                                               "instructions")})
    given = body.get("input")
    items = [{"role": "user", "content": given}] if isinstance(given, str) else given or []
    for index, item in enumerate(items):
        param = f"input[{index}]"
        if not isinstance(item, dict) or set(item) - {"role", "content", "type"} or \
                item.get("type", "message") != "message":
            raise Unconvertible(param, "an input item other than a message (a tool call, "
                                "its output, a reference)")
        role = item.get("role")
        if role not in ("user", "assistant", "system", "developer"):
            raise Unconvertible(f"{param}.role", f"role {role!r} has no equivalent")
        content = item.get("content")
        if isinstance(content, list):
            parts = []
            for number, part in enumerate(content):
                kind = part.get("type") if isinstance(part, dict) else None
                if kind in ("input_text", "output_text") and set(part) == {"type", "text"}:
                    parts.append({"type": "text", "text": part["text"]})
                elif kind == "input_image" and isinstance(part.get("image_url"), str) and \
                        part.get("detail") in (None, "auto"):
                    parts.append({"type": "image_url", "image_url": {"url": part["image_url"]}})
                else:
                    raise Unconvertible(f"{param}.content[{number}]",
                                        f"content part of type {kind!r}")
            content = parts
        messages.append({"role": role, "content": content})
    chat["messages"] = messages
    if body.get("max_output_tokens") is not None:
        chat["max_tokens"] = body["max_output_tokens"]
    for key in ("temperature", "top_p", "parallel_tool_calls"):
        if body.get(key) is not None:
            chat[key] = body[key]
    text = body.get("text")
    if text is not None:
        spec = text.get("format") if isinstance(text, dict) else None
        if not isinstance(text, dict) or set(text) - {"format"}:
            raise Unconvertible("text", "text options other than format (verbosity)")
        kind = spec.get("type") if isinstance(spec, dict) else None
        if kind == "json_schema" and isinstance(spec, dict):
            chat["response_format"] = {"type": "json_schema", "json_schema": {
                key: spec[key] for key in ("name", "description", "strict", "schema")
                if key in spec}}
        elif kind == "json_object":
            chat["response_format"] = {"type": "json_object"}
        elif kind not in (None, "text"):
            raise Unconvertible("text.format", f"format {quote(kind, 40)}")
    tools = body.get("tools")
    if tools is not None:
        converted = []
        for index, tool in enumerate(tools if isinstance(tools, list) else [None]):
            if not isinstance(tool, dict) or tool.get("type") != "function":
                raise Unconvertible(f"tools[{index}]", "a tool other than a function "
                                    "(a built-in tool has no chat equivalent)")
            converted.append({"type": "function", "function": _renamed(
                tool, _FUNCTION_FROM["Responses"], f"tools[{index}]", "chat")})
        chat["tools"] = converted
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") == "function" and set(choice) == {
            "type", "name"}:
        chat["tool_choice"] = {"type": "function", "function": {"name": choice["name"]}}
    elif choice in ("auto", "required", "none"):
        chat["tool_choice"] = choice
    elif choice is not None:
        raise Unconvertible("tool_choice", f"tool_choice {quote(choice, 60)}")
    return chat


def chat_to_responses(body: Mapping[str, Any], *, model: str | None = None
                      ) -> dict[str, Any]:
    """A chat completions body as an OpenAI Responses body (the inverse of
    :func:`responses_to_chat`)."""
    _only(body, _CHAT_TO_RESPONSES_KEYS, "Responses")
    request: dict[str, Any] = {}
    if model or body.get("model"):
        request["model"] = model or body.get("model")
    system, messages = _split_system(body.get("messages") or [])
    if system:
        request["instructions"] = "\n\n".join(system)
    items = []
    for index, message in enumerate(messages):
        content = message["content"]
        if isinstance(content, list):
            parts = []
            for number, part in enumerate(content):
                if part.get("type") == "text":
                    parts.append({"type": "output_text" if message["role"] == "assistant"
                                  else "input_text", "text": part.get("text", "")})
                elif part.get("type") == "image":
                    source = part.get("source") or {}
                    url = (f"data:{source.get('media_type')};base64,{source.get('data')}"
                           if source.get("type") == "base64" else source.get("url"))
                    parts.append({"type": "input_image", "image_url": url})
                else:
                    raise Unconvertible(f"messages[{index}].content[{number}]",
                                        f"content part of type {part.get('type')!r}")
            content = parts
        items.append({"role": message["role"], "content": content})
    request["input"] = items
    limit = body.get("max_tokens") or body.get("max_completion_tokens")
    if limit is not None:
        request["max_output_tokens"] = limit
    for key in ("temperature", "top_p", "parallel_tool_calls"):
        if body.get(key) is not None:
            request[key] = body[key]
    spec = body.get("response_format")
    kind = spec.get("type") if isinstance(spec, dict) else None
    if kind == "json_schema" and isinstance(spec, dict) and isinstance(
            spec.get("json_schema"), dict):
        request["text"] = {"format": {"type": "json_schema", **spec["json_schema"]}}
    elif kind == "json_object":
        request["text"] = {"format": {"type": "json_object"}}
    elif spec is not None and kind != "text":
        raise Unconvertible("response_format", f"response_format {quote(kind, 40)}")
    tools = body.get("tools")
    if tools is not None:
        request["tools"] = [{"type": "function", **function}
                            for function in _chat_functions(tools, "Responses")]
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        request["tool_choice"] = {"type": "function", "name": choice["function"].get("name")}
    elif choice is not None:
        request["tool_choice"] = choice
    return request


# --- chat completions <-> Bedrock Claude, Claude on Vertex AI, Converse (and Nova) ---------

#: The ``anthropic_version`` each cloud's Claude body carries (the model is the job's).
_CLAUDE_VERSIONS = {"bedrock-claude": "bedrock-2023-05-31",
                    "vertex-claude": "vertex-2023-10-16"}


def chat_to_cloud_claude(body: Mapping[str, Any], version: str, *,
                         max_tokens: int = DEFAULT_MAX_TOKENS) -> dict[str, Any]:
    """A chat completions body as a Claude body on Bedrock or Vertex AI: Anthropic's
    Messages params (:func:`chat_to_messages`) with ``anthropic_version`` and no model."""
    params = chat_to_messages(body, max_tokens=max_tokens)
    del params["model"]
    return {"anthropic_version": version, **params}


def cloud_claude_to_chat(params: Mapping[str, Any], *, model: str | None = None
                         ) -> dict[str, Any]:
    """A Claude body on Bedrock or Vertex AI as a chat completions body (``model`` names
    the model: the body does not, the job did)."""
    rest = {key: value for key, value in params.items() if key != "anthropic_version"}
    return messages_to_chat(rest, model=model)


_CHAT_TO_CONVERSE_KEYS = {"model", "messages", "max_tokens", "max_completion_tokens",
                          "temperature", "top_p", "stop", "stream", "tools", "tool_choice"}
_CONVERSE_TO_CHAT_KEYS = {"schemaVersion", "system", "messages", "inferenceConfig",
                          "toolConfig"}
_CONVERSE_CONFIG = {"maxTokens": "max_tokens", "temperature": "temperature", "topP": "top_p",
                    "stopSequences": "stop"}


def chat_to_converse(body: Mapping[str, Any]) -> dict[str, Any]:
    """A chat completions body as a Bedrock Converse request (also Amazon Nova's
    InvokeModel body): ``system`` and message content as text blocks, ``inferenceConfig``
    (``maxTokens``, ``temperature``, ``topP``, ``stopSequences``), function tools as
    ``toolConfig``. Raises :class:`Unconvertible` for what it lacks here (images, tool
    call history, response formats)."""
    _only(body, _CHAT_TO_CONVERSE_KEYS, "Converse")
    system, messages = _split_system(body.get("messages") or [])
    request: dict[str, Any] = {}
    if system:
        request["system"] = [{"text": text} for text in system]
    request["messages"] = [
        {"role": message["role"],
         "content": [{"text": _text_of(message["content"], f"messages[{index}].content")}]}
        for index, message in enumerate(messages)]
    config: dict[str, Any] = {}
    limit = body.get("max_tokens") or body.get("max_completion_tokens")
    if limit is not None:
        config["maxTokens"] = limit
    for source, target in (("temperature", "temperature"), ("top_p", "topP")):
        if body.get(source) is not None:
            config[target] = body[source]
    stop = body.get("stop")
    if stop is not None:
        config["stopSequences"] = [stop] if isinstance(stop, str) else list(stop)
    if config:
        request["inferenceConfig"] = config
    if body.get("tools") is not None:
        tools = [{"toolSpec": {"name": function["name"],
                               **({"description": function["description"]}
                                  if "description" in function else {}),
                               "inputSchema": {"json": function.get("parameters",
                                                                    {"type": "object"})}}}
                 for function in _chat_functions(body["tools"], "Converse")]
        request["toolConfig"] = {"tools": tools, **_choice_to_converse(body.get("tool_choice"))}
    elif body.get("tool_choice") is not None:
        raise Unconvertible("tool_choice", "a tool choice without tools")
    return request


def _choice_to_converse(choice: Any) -> dict[str, Any]:
    if choice is None or choice == "auto":
        return {}
    if choice == "required":
        return {"toolChoice": {"any": {}}}
    function = choice.get("function") if isinstance(choice, dict) else None
    if isinstance(function, dict) and isinstance(function.get("name"), str):
        return {"toolChoice": {"tool": {"name": function["name"]}}}
    raise Unconvertible("tool_choice", f"tool_choice {quote(choice, 40)} has no Converse "
                        "equivalent")


def converse_to_chat(request: Mapping[str, Any], *, model: str | None = None
                     ) -> dict[str, Any]:
    """A Bedrock Converse request (or Amazon Nova body) as a chat completions body: text
    blocks only (:class:`Unconvertible` for images, documents, tool use history)."""
    _only(request, _CONVERSE_TO_CHAT_KEYS, "chat completions")
    body: dict[str, Any] = {"model": model}
    messages: list[dict[str, Any]] = []
    system = request.get("system")
    if system is not None:
        texts = [_converse_text(block, f"system[{index}]")
                 for index, block in enumerate(system if isinstance(system, list) else [None])]
        messages.append({"role": "system", "content": "\n\n".join(texts)})
    for index, message in enumerate(request.get("messages") or []):
        param = f"messages[{index}]"
        blocks = message.get("content") if isinstance(message, dict) else None
        texts = [_converse_text(block, f"{param}.content[{number}]")
                 for number, block in enumerate(blocks if isinstance(blocks, list) else [None])]
        messages.append({"role": message.get("role"), "content": "".join(texts)})
    body["messages"] = messages
    config = request.get("inferenceConfig") or {}
    names = {**_CONVERSE_CONFIG, "max_new_tokens": "max_tokens"}
    body.update(_renamed(config, names, "inferenceConfig", "chat completions"))
    tool_config = request.get("toolConfig")
    if tool_config is not None:
        _only(tool_config, {"tools", "toolChoice"}, "chat completions")
        body["tools"] = [_converse_tool(tool, f"toolConfig.tools[{index}]")
                         for index, tool in enumerate(tool_config.get("tools") or [])]
        choice = tool_config.get("toolChoice")
        if isinstance(choice, dict) and "any" in choice:
            body["tool_choice"] = "required"
        elif isinstance(choice, dict) and isinstance(choice.get("tool"), dict):
            body["tool_choice"] = {"type": "function",
                                   "function": {"name": choice["tool"].get("name")}}
        elif choice is not None and not (isinstance(choice, dict) and "auto" in choice):
            raise Unconvertible("toolConfig.toolChoice", "a tool choice chat lacks")
    return body


def _converse_text(block: Any, param: str) -> str:
    if isinstance(block, dict) and set(block) == {"text"} and isinstance(block["text"], str):
        return block["text"]
    kind = next(iter(block), "") if isinstance(block, dict) and block else "not a block"
    raise Unconvertible(param, f"a {kind} block: only text blocks convert")


def _converse_tool(tool: Any, param: str) -> dict[str, Any]:
    spec = tool.get("toolSpec") if isinstance(tool, dict) else None
    if not isinstance(spec, dict) or set(tool) != {"toolSpec"}:
        raise Unconvertible(param, "a tool other than a toolSpec")
    schema = spec.get("inputSchema")
    if not isinstance(schema, dict) or set(schema) != {"json"}:
        raise Unconvertible(f"{param}.toolSpec.inputSchema", "an input schema other than json")
    function = _renamed({key: value for key, value in spec.items() if key != "inputSchema"},
                        {"name": "name", "description": "description"},
                        f"{param}.toolSpec", "chat completions")
    return {"type": "function", "function": {**function, "parameters": schema["json"]}}


#: The kinds of request body that convert.
_KINDS = frozenset({"chat", "responses", "messages", "gemini", "bedrock-claude",
                    "vertex-claude", "converse"})

#: Each request kind read into chat completions, and written from it: every conversion
#: goes through chat's words.
_TO_CHAT = {"messages": messages_to_chat, "gemini": gemini_to_chat,
            "responses": responses_to_chat, "bedrock-claude": cloud_claude_to_chat,
            "vertex-claude": cloud_claude_to_chat, "converse": converse_to_chat}


def _from_chat(kind: str, body: Mapping[str, Any], model: str | None,
               max_tokens: int) -> dict[str, Any]:
    if kind in _CLAUDE_VERSIONS:
        return chat_to_cloud_claude(body, _CLAUDE_VERSIONS[kind], max_tokens=max_tokens)
    if kind == "converse":
        return chat_to_converse(body)
    if kind == "messages":
        return chat_to_messages(body, model=model, max_tokens=max_tokens)
    if kind == "gemini":
        return chat_to_gemini(body, model=model)
    if kind == "responses":
        return chat_to_responses(body, model=model)
    converted = dict(body)
    if model is not None:
        converted["model"] = model
    return converted


# --- request files --------------------------------------------------------------------------


#: The kind of body each shipped schema describes, where it converts.
_SCHEMA_KINDS = {"anthropic/messages": "messages", "gemini/generate-content": "gemini",
                 "openai/responses": "responses", "bedrock/anthropic-claude": "bedrock-claude",
                 "vertex/claude": "vertex-claude", "bedrock/amazon-nova": "converse",
                 "bedrock/converse": "converse"}


def _kind(profile: Profile, endpoint: str | None = None) -> str:
    """The kind of request body a provider's endpoint takes: chat, responses, messages,
    gemini, bedrock-claude, vertex-claude or converse (another: none converts)."""
    schema = profile.schema_for(endpoint or profile.default_endpoint) or ""
    if profile.body_field == "body" and schema != "openai/responses":
        return "chat"
    return _SCHEMA_KINDS.get(schema, schema)


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
    model_map: Mapping[str, str] | None = None,
    endpoint: str | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> Conversion:
    """Convert a request file from one provider's format to another's.

    Chat completions, Responses, Anthropic messages and Gemini generateContent requests
    convert into each other (messages, system, limits, sampling, structured output,
    function tools and tool choice), through chat completions' words; ``endpoint`` is the
    target's (``/v1/responses`` for Responses; default: the target's chat endpoint).
    OpenAI-shaped providers convert into each other by their envelopes. ``model`` names the model of
    every request, ``model_map`` the target's model for each source model; a request whose
    model only another provider serves (``gpt-4o-mini`` to Anthropic) is left out unless
    one of them names its model. A request that cannot be converted faithfully is reported
    with its line and left out; with ``strict=True`` it raises :class:`LineError` instead
    and nothing is written. When no request converts, no file is written. Ids the target
    rejects are replaced, and ``OUT.ids.json`` (or ``mapping``) maps each new id to the
    original. Given an existing mapping file from an earlier
    conversion, ids found in it are restored to their originals.
    """
    check_source(source)
    check_target(target, "target")
    source_profile = profile_for(from_provider, source)
    target_profile = get_profile(to_provider)
    # Where the job sets the model (Bedrock, Vertex AI), the model names the target's body
    # family: the one given, else the source's own (claude-haiku-4-5 is Claude on Vertex).
    named_model = model
    if named_model is None and endpoint is None and target_profile.endpoint_of_model:
        opening = first_request(source)
        asked = opening.get(source_profile.body_field) if opening is not None else None
        found = asked.get("model") if isinstance(asked, dict) else None
        named_model = found if isinstance(found, str) else None
    endpoint = target_profile.endpoint_named(endpoint, named_model) or endpoint \
        or target_profile.default_endpoint
    if endpoint not in target_profile.endpoints:
        raise UsageError(f"{target_profile.title} has no endpoint {quote(endpoint, 60)}",
                         code="unsupported_url")
    target_kind = _kind(target_profile, endpoint)
    if target_kind not in _KINDS or (
            source_profile.endpoint_of_body is None
            and _kind(source_profile) not in _KINDS) or (
            target_profile.body_field == "body"
            and target_profile.endpoints[endpoint].split("/")[-1] not in (
                "chat-completions", "responses")):
        hint = ""
        if target_profile.endpoint_of_model is not None and model is None:
            hint = (f"; {target_profile.title} sets the model on the job: name it (--model, "
                    "model= in Python) or the target's endpoint, one of "
                    f"{target_profile.endpoint_list()}")
        elif target_profile.endpoint_of_model is not None:
            # The model was named: its family's body is one batchio does not write.
            convertible = [name for name in target_profile.endpoints
                           if _kind(target_profile, name) in _KINDS]
            hint = (f" (the body of model {quote(named_model, 80)}); it writes the "
                    f"{', '.join(convertible)} bodies")
        raise UsageError(f"batchio cannot convert requests from {source_profile.name} to "
                         f"{target_profile.name}'s {endpoint}{hint}",
                         code="unconvertible_request", path=os.fspath(source))
    # Requests written to stdout have no file name for a mapping file beside them.
    mapping_path = Path(mapping) if mapping else None if is_stdout(target) else Path(
        f"{os.fspath(target)}{MAPPING_SUFFIX}")
    check_distinct_paths([source], [target, mapping_path])
    # A mapping file on stdout is written, never read back (reading it would wait on this
    # process's own output).
    restore = _load_mapping(mapping) if mapping and not is_stdout(mapping) and Path(
        mapping).exists() else {}
    result = Conversion()
    taken: set[str] = set()
    # Each source id's line: a repeated id would give two requests whose results could not
    # be told apart (the mapping sends both back to it).
    first_lines: dict[str, int] = {}
    repeats: Counter[bytes] = Counter()
    with JsonlWriter(target) as writer:
        for line in reported(read_lines(source), on_progress):
            value = line.value
            original = value.get(source_profile.id_field)
            body = value.get(source_profile.body_field)
            if not isinstance(body, dict):
                raise LineError(f"not a request line of {source_profile.title}: no "
                                f"{source_profile.body_field} object", line=line.number,
                                path=os.fspath(source), code="missing_body")
            if original is None and source_profile.echo_field is not None:
                # A request without an id (Vertex AI's Gemini lines): the id a join gives it.
                key = echo_key(body)
                repeats[key] += 1
                original = synthetic_id(key, repeats[key])
            if not isinstance(original, str):
                raise LineError(f"the line has no string {source_profile.id_field}",
                                line=line.number, path=os.fspath(source),
                                code="missing_custom_id")
            first = first_lines.setdefault(original, line.number)
            if first != line.number:
                raise DuplicateIdError(
                    f"{source_profile.id_field} {quote(original)} was already used on line "
                    f"{first}: the results of the two could not be told apart",
                    path=os.fspath(source), line=line.number, custom_id=original)
            try:
                url = value.get("url") if source_profile.carries_url else None
                source_kind = _kind(source_profile, url or source_profile.endpoint_of_line(
                    value))
                chat_url = source_profile.endpoints.get(url or "", "").endswith(
                    "chat-completions")
                if url is not None and source_kind != "responses" and not chat_url:
                    raise Unconvertible("url", f"endpoint {quote(url, 60)}: only chat "
                                        "completions and Responses convert")
                _check_body(source_profile, url or source_profile.endpoint_of_line(value)
                            or source_profile.default_endpoint, body,
                            "the body is not a valid request")
                converted = _convert_body((source_kind, target_kind), body, _target_model(
                    body.get("model"), model, model_map, target_profile), max_tokens)
                if "model" in target_profile.misplaced.get(endpoint, {}):
                    converted.pop("model", None)  # the model is the target job's
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
            new_id = valid_id(wanted, target_profile, taken)
            taken.add(new_id)
            if new_id != original and original not in restore:
                if mapping_path is None:
                    refused = target_profile.ids.problem(original, target_profile.id_field)
                    raise UsageError(
                        f"{target_profile.id_field} {quote(original, 60)}: "
                        f"{refused[1] if refused else 'its replacement needs a mapping'}; "
                        "written to stdout, no mapping file could give it back: write to a "
                        "file (-o PATH), or name the mapping file (--mapping PATH, mapping= "
                        "in Python)", code=refused[0] if refused else "custom_id_charset",
                        line=line.number, path=os.fspath(source))
                result.remapped[new_id] = original
            line_out: dict[str, Any] = {target_profile.id_field: new_id}
            if target_profile.carries_url:
                line_out.update(method="POST", url=endpoint)
            line_out[target_profile.body_field] = converted
            try:
                writer.write(line_out)
            except LineError as exc:
                # A value the line cannot hold (an integer past 64 bits): said at the
                # request it came from.
                exc.path, exc.line = os.fspath(source), line.number
                exc.custom_id = exc.custom_id or (original if isinstance(original, str)
                                                  else None)
                raise
            result.converted += 1
        if not result.converted:
            # Nothing to upload: no file where an upload script would find one.
            writer.abort()
            return result
        if result.remapped:
            assert mapping_path is not None  # none is refused above
            write_file_atomically(mapping_path, orjson.dumps(
                result.remapped, option=orjson.OPT_INDENT_2) + b"\n")
            result.mapping_path = os.fspath(mapping_path)
        elif mapping is None and mapping_path is not None:
            # An earlier conversion's ids file beside this output is not this one's: it
            # would give results back under ids this file does not have.
            with contextlib.suppress(FileNotFoundError):
                os.unlink(mapping_path)
    return result


def _target_model(source: Any, model: str | None, model_map: Mapping[str, str] | None,
                  target: Profile) -> str | None:
    """The model a converted request names: ``model``, else the source model's entry in
    ``model_map``, else the source model where the target serves it (an
    :class:`Unconvertible` where only another provider does)."""
    if model is not None:
        return model
    if model_map and isinstance(source, str) and source in model_map:
        return model_map[source]
    if isinstance(source, str):
        serving = foreign_model(target.name, source)
        if serving is not None:
            raise Unconvertible("model", f"model {quote(source, 60)} is served by "
                                f"{', '.join(serving)}, not {target.title}: name the target's "
                                "model with --model or --model-map (model=, model_map=)")
    return None


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
    """A body of one kind as the other's (through chat completions' words)."""
    source, target = kinds
    if source == target:
        converted = dict(body)
        if model is not None:
            converted["model"] = model
        return converted
    chat = dict(body) if source == "chat" else _TO_CHAT[source](body)
    return _from_chat(target, chat, model, max_tokens)


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
    if mapping is not None and is_stdout(mapping):
        raise UsageError(f"the id mapping is read, and {os.fspath(mapping)} is stdout: name "
                         "the mapping file convert wrote", code="invalid_argument",
                         path=os.fspath(mapping))
    check_distinct_paths([source, mapping], [target])
    if not reads_once(source):
        wrong = not_results(os.fspath(source))
        if wrong is not None:
            raise UsageError(wrong, code="wrong_file_kind", path=os.fspath(source))
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

"""Structured output in each provider's own words: the body fragment that asks for a JSON
answer keeping a schema.

Owns :func:`structured_output` (the fragment a request body gets, by endpoint), its name
rule, and :func:`with_structured_output` (a body with the fragment merged in, keeping what
the body already configures). :func:`batchio.outputs.requested_output` reads every form
written here back (a round trip the tests hold), so a request built by batchio is checked
by ``join --check-outputs`` as it was meant.

The forms, from each provider's documentation:

- OpenAI-shaped chat completions (OpenAI, Azure, Groq, Together, vLLM's server, Mistral):
  ``response_format: {"type": "json_schema", "json_schema": {"name", "strict",
  "schema"}}`` (platform.openai.com/docs/guides/structured-outputs; Mistral's
  docs.mistral.ai/capabilities/structured-output/custom_structured_output);
- OpenAI Responses: ``text.format: {"type": "json_schema", "name", "strict", "schema"}``
  (platform.openai.com/docs/api-reference/responses/create);
- Anthropic Messages: ``output_config.format: {"type": "json_schema", "schema"}``
  (docs.claude.com/en/docs/build-with-claude/structured-outputs);
- Gemini generateContent: ``generationConfig.responseMimeType: "application/json"`` with
  ``responseJsonSchema`` (ai.google.dev/gemini-api/docs/structured-output).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from .errors import UsageError, quote
from .jsonl import json_type
from .providers import Profile, get_profile

#: The name of a chat or Responses ``json_schema`` format: letters, digits, ``_`` and
#: ``-``, at most 64 characters (OpenAI's API reference, ``response_format.json_schema``).
SCHEMA_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _chat(schema: Mapping[str, Any], name: str, strict: bool) -> dict[str, Any]:
    return {"response_format": {"type": "json_schema", "json_schema": {
        "name": name, "strict": strict, "schema": dict(schema)}}}


def _responses(schema: Mapping[str, Any], name: str, strict: bool) -> dict[str, Any]:
    return {"text": {"format": {"type": "json_schema", "name": name, "strict": strict,
                                "schema": dict(schema)}}}


def _anthropic(schema: Mapping[str, Any], name: str, strict: bool) -> dict[str, Any]:
    return {"output_config": {"format": {"type": "json_schema", "schema": dict(schema)}}}


def _gemini(schema: Mapping[str, Any], name: str, strict: bool) -> dict[str, Any]:
    return {"generationConfig": {"responseMimeType": "application/json",
                                 "responseJsonSchema": dict(schema)}}


#: The fragment by endpoint kind (:attr:`Profile.endpoints`' values).
_FORMS = {
    "openai/chat-completions": _chat,
    "mistral/chat-completions": _chat,
    "openai/responses": _responses,
    "anthropic/messages": _anthropic,
    "gemini/generate-content": _gemini,
}


def structured_output(schema: Mapping[str, Any], *, provider: str | Profile = "openai",
                      endpoint: str | None = None, name: str = "answer",
                      strict: bool = True) -> dict[str, Any]:
    """The body fragment that asks ``provider``'s ``endpoint`` (default: its usual one) for
    a JSON answer keeping ``schema``; ``name`` and ``strict`` where the provider's form
    has them (OpenAI-shaped chat and Responses). A :class:`UsageError` for an endpoint
    with no structured output (embeddings), a name the provider refuses, or a schema that
    is not a JSON object."""
    profile = get_profile(provider)
    url = endpoint or profile.default_endpoint
    kind = profile.endpoints.get(url)
    form = _FORMS.get(kind or "")
    if form is None:
        raise UsageError(f"{profile.title}'s {url} takes no structured output (it does on: "
                         f"{', '.join(u for u, k in profile.endpoints.items() if k in _FORMS)})",
                         code="invalid_argument")
    if not isinstance(schema, Mapping):
        raise UsageError(f"a structured output's schema must be a JSON object, not "
                         f"{json_type(schema)}", code="invalid_json_schema")
    if not SCHEMA_NAME.fullmatch(name):
        raise UsageError(f"schema name {quote(name, 80)} must be 1 to 64 letters, digits, _ "
                         "or -", code="invalid_argument")
    return form(schema, name, strict)


def with_structured_output(body: Mapping[str, Any], fragment: Mapping[str, Any]
                           ) -> dict[str, Any]:
    """``body`` with ``fragment`` merged in: objects merge key by key (a Gemini body's own
    ``generationConfig`` keeps its temperature), the fragment's values win elsewhere."""
    merged = dict(body)
    for key, value in fragment.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = with_structured_output(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


__all__ = ["SCHEMA_NAME", "structured_output", "with_structured_output"]

"""Provider profiles: each provider's line format, id rules, limits and result shape as data.

One module per provider holds its :class:`Profile`; :func:`get_profile` looks one up by
name. Adding a provider is one new module plus its tests, and its name in ``_MODULES``.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import BatchioWarning, UsageError
from ._profile import STATUSES, IdRule, Limits, Outcome, Policy, Profile, Status

_MODULES = ("openai", "azure", "anthropic", "gemini", "mistral", "groq", "together", "vllm",
            "bedrock", "vertex", "xai", "fireworks", "dashscope")

#: Every provider batchio knows, by name.
PROVIDERS: tuple[str, ...] = _MODULES


@dataclass(frozen=True, slots=True)
class Detection:
    """Which provider a request line's shape names, and the others it may be, in the order
    a check tries them, where the shape is shared."""

    provider: str
    #: Set where the shape fits more than one provider: the likely ``--provider`` values.
    hint: str | None = None
    #: The other providers whose lines have this shape (``hint`` names them all).
    alternatives: tuple[str, ...] = ()

    @classmethod
    def among(cls, *providers: str) -> Detection:
        """A shape several providers share: the first, with the rest as alternatives."""
        return cls(providers[0], " or ".join(providers), providers[1:])


def detect_provider(line: Mapping[str, Any] | None) -> Detection:
    """The provider family a request line's top-level fields name.

    ``recordId``/``modelInput`` is Bedrock's; ``params`` Anthropic's; ``key``/``request``
    (or a bare ``contents``) Gemini's, and ``request`` without a ``key`` (alone, or with a
    ``custom_id``) Vertex AI's, Gemini's too where it has no id;
    ``method``/``url``/``body`` the OpenAI family's, refined by the url where it says more:
    a url ending in ``/score`` or ``/rerank`` is vLLM's, an audio request naming its audio by
    ``file_url`` vLLM's and by ``url`` Groq's, a url without ``/v1`` Azure's, and a model
    named as a repository (``org/name``, which no OpenAI model id is) vLLM's or Groq's.
    A ``custom_id``/``body`` line with no url and no method is Mistral's, Together's or
    Fireworks' (the endpoint is set on their jobs; OpenAI's lines must carry one). An
    OpenAI-shaped line naming a ``grok-`` model is xAI's first, a ``qwen`` model (or the
    ``/v1/chat/ds-test`` url) Alibaba Cloud Model Studio's, OpenAI's after.
    """
    if not line:
        return Detection("openai")
    if "modelInput" in line or "recordId" in line:
        return Detection("bedrock")
    if "params" in line:
        return Detection("anthropic")
    if "request" in line and "key" not in line:
        return Detection("vertex") if "custom_id" in line else Detection.among("vertex",
                                                                                "gemini")
    if "request" in line or "key" in line or "contents" in line:
        return Detection("gemini")
    url = line.get("url")
    if isinstance(url, str):
        body = line.get("body")
        body = body if isinstance(body, dict) else {}
        if url.endswith(("/score", "/rerank")):
            return Detection("vllm")
        if url == "/v1/chat/ds-test":
            return Detection("dashscope")
        if url.startswith("/v1/audio/"):
            return Detection("vllm" if "file_url" in body else "groq")
        if url.startswith("/") and not url.startswith("/v1/"):
            return Detection("azure")
        model = body.get("model")
        # Models only one OpenAI-compatible service names so: its rules first, OpenAI's
        # after (the shape is OpenAI's).
        if isinstance(model, str) and model.startswith("grok-"):
            return Detection.among("xai", "openai")
        if isinstance(model, str) and model.startswith(("qwen", "batch-test-model")):
            return Detection.among("dashscope", "openai")
        if isinstance(model, str) and "/" in model:
            # Hugging Face repository names: vLLM serves them, and Groq names some models
            # so. vLLM's rules first: they take what Groq's take but its per-file limits,
            # and its result reader reads Groq's result lines too (and vLLM's older ones).
            return Detection.among("vllm", "groq") if url == "/v1/chat/completions" \
                else Detection("vllm")
        return Detection("openai")
    if "body" in line and "method" not in line:
        return Detection.among("mistral", "together", "fireworks")
    return Detection("openai")


def first_request(source: Any) -> Mapping[str, Any] | None:
    """The first request line's object of a file given by path (None for a stream, which
    cannot be read twice, or a file with no readable request line). Only a regular file is
    read for it: a pipe or FIFO (``<(cat f)``, ``mkfifo``) gives its lines once, to the
    reader that follows."""
    from ..jsonl import Line, can_read_twice, read_lines

    if not can_read_twice(source):
        return None
    lines = read_lines(source, errors="collect")
    try:
        for item in lines:
            if isinstance(item, Line):
                return item.value
    finally:
        lines.close()  # type: ignore[attr-defined]
    return None


def profile_for(provider: str | Profile | None, source: Any) -> Profile:
    """The profile named, or (``provider=None``) the one the first request of ``source``
    (a path) names by its shape: see :func:`detect_provider`."""
    if provider is not None:
        return get_profile(provider)
    from ..jsonl import reads_once, source_name

    if source is not None and reads_once(source):
        # Its lines are for the reader that follows: none can be spent on detection.
        warnings.warn(BatchioWarning(
            "read once (stdin, a pipe or a FIFO), so its provider is not detected: openai is "
            "assumed; give --provider (provider= in Python) to choose", code="provider_assumed",
            path=source_name(source)), stacklevel=3)
    return get_profile(detect_provider(first_request(source)).provider)


def get_profile(provider: str | Profile) -> Profile:
    """The profile for a provider name (a Profile is returned as it is)."""
    if isinstance(provider, Profile):
        return provider
    if provider not in _MODULES:
        raise UsageError(
            f"unknown provider {provider!r}; known: {', '.join(_MODULES)}",
            code="unknown_provider")
    profile: Profile = importlib.import_module(f"{__name__}.{provider}").PROFILE
    return profile


__all__ = ["PROVIDERS", "STATUSES", "Detection", "IdRule", "Limits", "Outcome", "Policy",
           "Profile", "Status", "detect_provider", "first_request", "get_profile",
           "profile_for"]

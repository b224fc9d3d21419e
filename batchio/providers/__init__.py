"""Provider profiles: each provider's line format, id rules, limits and result shape as data.

One module per provider holds its :class:`Profile`; :func:`get_profile` looks one up by
name. Adding a provider is one new module plus its tests, and its name in ``_MODULES``.
"""

from __future__ import annotations

import importlib

from ..errors import BatchioError
from ._profile import STATUSES, IdRule, Limits, Outcome, Profile, Status

_MODULES = ("openai", "azure", "anthropic", "gemini", "mistral", "groq", "together", "vllm")

#: Every provider batchio knows, by name.
PROVIDERS: tuple[str, ...] = _MODULES


def get_profile(provider: str | Profile) -> Profile:
    """The profile for a provider name (a Profile is returned as it is)."""
    if isinstance(provider, Profile):
        return provider
    if provider not in _MODULES:
        raise BatchioError(
            f"unknown provider {provider!r}; known: {', '.join(_MODULES)}",
            code="unknown_provider")
    profile: Profile = importlib.import_module(f"{__name__}.{provider}").PROFILE
    return profile


__all__ = ["PROVIDERS", "STATUSES", "IdRule", "Limits", "Outcome", "Profile", "Status",
           "get_profile"]

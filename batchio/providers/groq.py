"""Groq batch: the OpenAI line format, with audio endpoints; one file may mix them.

Source (read 2026-11): https://console.groq.com/docs/batch. Its "mixed batch" example
holds chat completions for two models, a /v1/audio/transcriptions and a
/v1/audio/translations request in one file; audio bodies name the audio by a URL in the
body's own ``url`` field. Limits: "up to 50,000 lines and 200MB" per file (the guide; an
API reference figure of 100 MB is reported, so the bytes figure is uncertain). The
completion window runs from 24 hours up to 7 days.
"""

from ._profile import IdRule, Limits, Profile
from .openai import OPENAI_RESULTS

PROFILE = Profile(
    name="groq",
    title="Groq batch",
    docs_url="https://console.groq.com/docs/batch",
    id_field="custom_id",
    body_field="body",
    carries_url=True,
    endpoints={
        "/v1/chat/completions": "openai/chat-completions",
        "/v1/audio/transcriptions": "groq/audio",
        "/v1/audio/translations": "groq/audio",
    },
    default_endpoint="/v1/chat/completions",
    ids=IdRule(description="any non-empty string"),
    limits=Limits(max_requests=50_000, max_file_bytes=200_000_000,
                  uncertain=("max_file_bytes",)),
    model_required=frozenset({"/v1/chat/completions", "/v1/audio/transcriptions",
                              "/v1/audio/translations"}),
    mixed_urls="allowed",
    mixed_models="allowed",
    blank_lines="warning",
    # Expired and cancelled codes are not documented; OpenAI's are assumed (uncertain).
    **OPENAI_RESULTS,
)
